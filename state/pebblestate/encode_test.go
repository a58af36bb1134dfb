package pebblestate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/statetest"
)

func TestRecordCodecRoundTrip(t *testing.T) {
	recs := []state.Record{{Address: "batch.a[\"x\"]"}}
	for i := range 20 {
		r := statetest.FullRecord(fmt.Sprintf("batch.b[\"%d\"]", i), i)
		r.ErrorMessage = "ünïcode \x00 and \xff bytes"
		r.Inactive = i%2 == 0
		r.BounceID = -int64(i) << 40
		recs = append(recs, r)
	}
	// The short forms, and near misses that must keep the long ones.
	t0 := time.Date(2026, 11, 25, 21, 0, 0, 123456789, time.UTC)
	for i, v := range []struct{ addr, batch, key, recips, digest, msgID string }{
		{`batch.news["ann@example.com"]`, "news", "ann@example.com", "ann@example.com", strings.Repeat("0f", 32), "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"},
		{`batch.news["ann@example.com"]`, "news", "other", "Ann <ann@example.com>", strings.Repeat("0F", 32), "B7BC2F4A-E38E-4336-AF7D-E6C392C2F817"},
		{`batch.news["a\"b"]`, "news", `a"b`, `a"b`, strings.Repeat("a", 63), "b7bc2f4a-e38e-4336-af7d-e6c392c2f81"},
		{`batch.news`, "news", "", "", "sha256:" + strings.Repeat("1", 64), "not-a-uuid-at-all-but-36-characters"},
		{`batch.x["k"]`, "y", "k", "", strings.Repeat("9", 64), "b7bc2f4a-e38e-4336-af7d-e6c392c2f81g"},
		{`batch.x["k"]`, "x", "k", "k", strings.Repeat("ab", 16), ""},
		{`batch.x["k"]`, "x", "k", "k", strings.Repeat("ab", 65), ""},
	} {
		r := state.Record{Address: v.addr, Batch: v.batch, Key: v.key, Recipients: v.recips, Digest: v.digest, MessageID: v.msgID,
			Status: state.StatusSent, SubmittedAt: t0, FirstAttemptAt: t0.Add(-time.Duration(i) * time.Second),
			LastAttemptAt: t0.Add(time.Millisecond), DeliveredAt: t0.Add(time.Hour), CheckedAt: time.Unix(0, 1).UTC()}
		recs = append(recs, r)
	}
	for _, r := range recs {
		got, err := decodeRecord(r.Address, encodeRecord(nil, &r))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(normalize(r), got); d != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", r.Address, d)
		}
	}
	back, err := decodeIntent(encodeIntent(recs))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]state.Record, len(recs))
	for i := range recs {
		want[i] = normalize(recs[i])
	}
	if d := cmp.Diff(want, back); d != "" {
		t.Errorf("intent round trip (-want +got):\n%s", d)
	}
}

// FuzzDecode: damaged bytes are refused with an error, never a panic, and
// whatever decodes re-encodes to bytes that decode to the same record.
func FuzzDecode(f *testing.F) {
	r := statetest.FullRecord("batch.a[\"x\"]", 3)
	enc := encodeRecord(nil, &r)
	f.Add(enc)
	// The last field (Duplicates, 0) as a two-byte varint: decodable but
	// not what encodeRecord writes, so the re-encoding differs.
	f.Add(append(enc[:len(enc)-1:len(enc)-1], 0x80, 0x00))
	f.Add([]byte{recordFormat})
	f.Add([]byte{})
	f.Add(encodeIntent([]state.Record{r}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := decodeRecord("a", b); err == nil {
			if again := encodeRecord(nil, &got); string(again) != string(b) {
				// Varints have one canonical form only when written by
				// us; a decodable non-canonical input is fine as long as
				// its meaning survives.
				back, err := decodeRecord("a", again)
				if err != nil || !cmp.Equal(back, got) {
					t.Fatalf("re-encoding changed the record: %v", err)
				}
			}
		}
		_, _ = decodeIntent(b)
	})
}
