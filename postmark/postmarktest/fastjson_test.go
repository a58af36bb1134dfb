package postmarktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fastAccepted are send bodies the fast decoder must decode itself: the
// common shapes.
var fastAccepted = []string{
	`[]`,
	` [ ] `,
	`[{}]`,
	`[{"From":"a@b.c","To":"x@y.z","Subject":"Hi","HtmlBody":"<p>\u00e9\n\"q\"\\ \/</p>","TextBody":"t","Tag":"t1",` +
		`"TrackOpens":true,"TrackLinks":"HtmlAndText","MessageStream":"outbound","Metadata":{"a":"1","B":"2"}}]`,
	`[{"From":"Zoë <z@b.c>","To":"x@y.z, Ann <a@b.c>","Cc":"c@d.e","Bcc":"f@g.h","ReplyTo":"r@s.t","TextBody":"héllo ✓","TrackOpens":false}]`,
	`[{"From":null,"To":null,"TextBody":null,"HtmlBody":null,"TrackOpens":null,"Metadata":null,"Headers":null,"Attachments":null,"MessageStream":null,"TrackLinks":null}]`,
	`[{"From":"a@b.c","To":"x@y.z","TextBody":"t","Headers":[{"Name":"X-A","Value":"1"},{"Name":"X-B"}],"Attachments":[{"Name":"a.txt","Content":"aGk=","ContentType":"text/plain","ContentID":"cid:1"}]}]`,
	`[{"From":"a@b.c","To":"x@y.z","TextBody":"t","Headers":[],"Attachments":[],"Metadata":{}}]`,
	`[{"From":"a@b.c","To":"x@y.z","TextBody":"t","Metadata":{"k":"v","K":"w"}}]`,
	`[{"From":"a@b.c","To":"x@y.z","TextBody":"t","Metadata":{"k\u0041":"v\n"}}]`,
	`[{"From":"a@b.c","To":"x@y.z","TextBody":"t","MessageStream":"nope","TrackLinks":"Sometimes"}]`,
}

// fastDeclined are send bodies the fast decoder must leave to
// encoding/json.
var fastDeclined = []string{
	``,
	`null`,
	`{}`,
	`[null]`,
	`[{"from":"a@b.c"}]`,
	`[{"From":"a@b.c","From":"d@e.f"}]`,
	`[{"Frm":"a@b.c"}]`,
	`[{"From":1}]`,
	`[{"TrackOpens":"yes"}]`,
	`[{"Metadata":{"a":1}}]`,
	`[{"Metadata":"x"}]`,
	`[{"Metadata":{"a":null}}]`,
	`[{"TextBody":"\ud83d\ude00 \ud800"}]`,
	"[{\"TextBody\":\"\xff\"}]",
	"[{\"TextBody\":\"a\tb\"}]",
	`[{"TextBody":"\x"}]`,
	`[{"TextBody":"a"}] x`,
	`[{"TextBody":"a"}] []`,
	`[{"TextBody":"a"},]`,
	`[{"TextBody":"a"}`,
	`[{"Headers":[{"Name":"a","Name":"b"}]}]`,
	`[{"Headers":[{"name":"a"}]}]`,
	`[{"Attachments":[{"Name":"a","Size":1}]}]`,
	`[{"Unknown":1,"From":2}]`,
}

// normalize turns a fast-decoded message into what encoding/json yields.
func normalize(m wireMessage) wireMessage {
	if m.htmlRaw != nil {
		m.HtmlBody = string(m.htmlRaw)
	}
	if m.textRaw != nil {
		m.TextBody = string(m.textRaw)
	}
	m.htmlRaw, m.textRaw, m.packed = nil, nil, false
	return m
}

// wireCmp compares decoded messages; the handlers treat nil and empty
// slices alike.
var wireCmp = cmp.Options{cmp.AllowUnexported(wireMessage{}, metadata{}), cmpopts.EquateEmpty()}

// fastCases are all the bodies above.
var fastCases = append(append([]string(nil), fastAccepted...), fastDeclined...)

// TestFastDecoderMatchesEncodingJSON checks that whatever the fast decoder
// accepts decodes exactly as encoding/json decodes it, that it accepts
// the common shapes, and that it declines what it must leave to
// encoding/json.
func TestFastDecoderMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	for _, body := range fastCases {
		checkFastDecoder(t, s, []byte(body))
	}
	for want, bodies := range map[bool][]string{true: append(fastAccepted, string(digestBatch(0, 3))), false: fastDeclined} {
		for _, body := range bodies {
			d := fastDecoder{in: []byte(body), scratch: make([]byte, 0, len(body)), s: s}
			if _, ok := d.messages(nil); ok != want {
				t.Errorf("fast decoder on %.80q: accepted = %v, want %v", body, ok, want)
			}
		}
	}
}

func checkFastDecoder(t *testing.T, s *Server, body []byte) {
	t.Helper()
	in := bytes.Clone(body)
	d := fastDecoder{in: in, scratch: make([]byte, 0, len(in)), s: s}
	got, ok := d.messages(nil)
	if !bytes.Equal(in, body) {
		t.Fatalf("%q: the fast decoder changed its input", body)
	}
	if !ok {
		return
	}
	var want []wireMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("%q: fast decoder accepted what encoding/json refuses: %v", body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%q: fast decoder accepted trailing data", body)
	}
	for i := range got {
		got[i] = normalize(got[i])
	}
	if diff := cmp.Diff(want, got, wireCmp); diff != "" {
		t.Errorf("%q: fast decoder differs from encoding/json (-want +got):\n%s", body, diff)
	}
	// The same messages sent one by one (POST /email).
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		t.Fatal(err)
	}
	for i, one := range raws {
		d := fastDecoder{in: one, scratch: make([]byte, 0, len(one)), s: s}
		var fm wireMessage
		if !d.message(&fm) || !d.end() {
			t.Errorf("%s: accepted in a batch, refused alone", one)
			continue
		}
		if diff := cmp.Diff(want[i], normalize(fm), wireCmp); diff != "" {
			t.Errorf("%s: single message differs (-want +got):\n%s", one, diff)
		}
	}
}

func FuzzFastDecoder(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c))
	}
	s := New(Options{})
	f.Fuzz(func(t *testing.T, body []byte) { checkFastDecoder(t, s, body) })
}

// TestSendResultsJSON checks the hand-written encoder against
// encoding/json with HTML escaping off.
func TestSendResultsJSON(t *testing.T) {
	t.Parallel()
	rs := sendResults{
		{To: "a@b.c", SubmittedAt: "2026-11-05T11:00:00.0000000-05:00", MessageID: "0a1b", ErrorCode: 0, Message: "OK"},
		{ErrorCode: 300, Message: "Invalid 'To' address: 'x\"<y>&\\ \n\t\x01 é \u2028 \xff'."},
		{To: "Zoë <z@b.c>", ErrorCode: 406, Message: ""},
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	for _, v := range []any{[]sendResult(rs), []sendResult{}, rs[1]} {
		want.Reset()
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		var got []byte
		switch v := v.(type) {
		case []sendResult:
			got = sendResults(v).appendJSON(nil)
		case sendResult:
			got = v.appendJSON(nil)
		}
		if string(got)+"\n" != want.String() {
			t.Errorf("appendJSON = %s\nencoding/json = %s", got, want.String())
		}
	}
}

// TestLatencyOverlapsDecoding checks the latency contract: no answer
// before Latency has passed since arrival, and nothing accepted from a
// request whose client gave up meanwhile, although its body was read.
func TestLatencyOverlapsDecoding(t *testing.T) {
	t.Parallel()
	const latency = 300 * time.Millisecond
	s := NewServer(t, Options{Latency: latency})
	body := digestBatch(0, 50)
	post := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", s.URL()+"/email/batch", bytes.NewReader(body))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Postmark-Server-Token", s.Token())
		return http.DefaultClient.Do(req)
	}

	start := time.Now()
	resp, err := post(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); took < latency || resp.StatusCode != 200 {
		t.Fatalf("status %d after %v, want 200 no sooner than %v", resp.StatusCode, took, latency)
	}

	ctx, cancel := context.WithTimeout(context.Background(), latency/3)
	defer cancel()
	if _, err := post(ctx); err == nil {
		t.Fatal("request with a short deadline succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Requests["POST /email/batch canceled"] == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := s.Stats()
	if st.Requests["POST /email/batch canceled"] != 1 || st.Accepted != 50 {
		t.Errorf("after a cancelled request: requests %v, accepted %d (want 50)", st.Requests, st.Accepted)
	}
	if got := strings.Count(string(body), `"From"`); got != 50 {
		t.Fatalf("body has %d messages", got)
	}
}
