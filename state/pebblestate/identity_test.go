package pebblestate_test

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/pebblestate"
	"github.com/postform/postform/state/statetest"
)

// The binding, tombstones and named values survive a reopen.
func TestReopenKeepsBindingTombstonesValues(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state")
	s1 := open(t, path, pebblestate.Options{Target: "https://api.postmarkapp.com"})
	a, b := `batch.a["x"]`, `batch.a["y"]`
	ra := statetest.FullRecord(a, 1)
	ra.Generation = 2
	if err := s1.Put(ctx, []state.Record{ra, statetest.FullRecord(b, 2)}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Bind(ctx, state.Server{ID: 12, Name: "Twelve"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Delete(ctx, []string{a}); err != nil {
		t.Fatal(err)
	}
	if err := s1.SetValues(ctx, map[string]string{"recovered/x": "2026-12-04T00:00:00Z"}); err != nil {
		t.Fatal(err)
	}
	m1, err := s1.Meta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := open(t, path, pebblestate.Options{Target: "https://api.postmarkapp.com"})
	m2, err := s2.Meta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m2 != m1 || m2.Server != (state.Server{ID: 12, Name: "Twelve"}) {
		t.Fatalf("Meta after reopen = %+v, want %+v bound to server 12", m2, m1)
	}
	tombs, err := s2.Tombstones(ctx, []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{a: 3}, tombs); d != "" {
		t.Fatalf("Tombstones after reopen (-want +got):\n%s", d)
	}
	vals, err := s2.Values(ctx, []string{"recovered/x"})
	if err != nil {
		t.Fatal(err)
	}
	if vals["recovered/x"] != "2026-12-04T00:00:00Z" {
		t.Fatalf("Values after reopen = %v", vals)
	}
	if err := s2.Bind(ctx, state.Server{ID: 13, Name: "Other"}); err == nil {
		t.Fatal("a reopened store bound to server 12 accepted server 13")
	}
}

// A record written before format 2 (no optional fields) still reads.
func TestReadsFormat1Records(t *testing.T) {
	rec := statetest.FullRecord(`batch.a["x"]`, 3)
	rec.Generation, rec.PFBatch = 0, ""
	b := pebblestate.EncodeRecordForTest(&rec)
	b[0] = 1 // format 1 had no tail; with both optional fields zero the bytes are the same
	got, err := pebblestate.DecodeRecordForTest(rec.Address, b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Fatalf("format 1 record (-want +got):\n%s", d)
	}
	b = append(b, 1, 2) // a tail is not allowed in format 1
	if _, err := pebblestate.DecodeRecordForTest(rec.Address, b); err == nil {
		t.Fatal("a format 1 record with trailing bytes decoded")
	}
}
