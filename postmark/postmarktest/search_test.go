package postmarktest

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sendBatch sends msgs and returns the MessageIDs of the results in order
// ("" for failed items).
func sendBatch(t *testing.T, s *Server, msgs []map[string]any) []string {
	t.Helper()
	r := call(t, s, "POST", "/email/batch", msgs)
	if r.status != 200 {
		t.Fatalf("batch status %d: %s", r.status, r.body)
	}
	var res []sendResult
	r.decode(t, &res)
	ids := make([]string, len(res))
	for i, x := range res {
		ids[i] = x.MessageID
	}
	return ids
}

func search(t *testing.T, s *Server, params string) (response, wireSearchResult) {
	t.Helper()
	r := call(t, s, "GET", "/messages/outbound?"+params, nil)
	var res wireSearchResult
	if r.status == 200 {
		r.decode(t, &res)
	}
	return r, res
}

func ids(list []wireSummary) []string {
	out := []string{}
	for _, m := range list {
		out = append(out, m.MessageID)
	}
	return out
}

func TestSearchPagingRules(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	for _, tc := range []struct {
		params string
		ok     bool
	}{
		{"count=500&offset=0", true},
		{"count=100&offset=9900", true},
		{"COUNT=1&Offset=0", true},
		{"offset=0", false},
		{"count=10", false},
		{"count=501&offset=0", false},
		{"count=0&offset=0", false},
		{"count=x&offset=0", false},
		{"count=10&offset=-1", false},
		{"count=101&offset=9900", false},
		{"count=1&offset=0&metadata_a=1&metadata_b=2", false},
		{"count=1&offset=0&status=bogus", false},
		{"count=1&offset=0&fromdate=yesterday", false},
	} {
		r, _ := search(t, s, tc.params)
		if tc.ok && r.status != 200 {
			t.Errorf("%s: status %d %s", tc.params, r.status, r.body)
		}
		if !tc.ok {
			if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeQueryInvalid {
				t.Errorf("%s: got %d %+v, want 422/700", tc.params, r.status, e)
			}
		}
	}
}

func TestSearchFiltersAndOrder(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := NewServer(t, Options{Now: clock.Now})
	var all []string
	for i := 0; i < 5; i++ {
		m := with(msg(fmt.Sprintf("r%d@example.com", i)), "Metadata", map[string]string{"pf_id": fmt.Sprint("id-", i), "Color": "blue"})
		if i%2 == 0 {
			m["Tag"] = "even"
		}
		all = append(all, sendBatch(t, s, []map[string]any{m})...)
		clock.Advance(time.Minute)
	}
	bc := sendBatch(t, s, []map[string]any{with(with(msg("r9@example.com"), "MessageStream", "broadcast"), "Metadata", map[string]string{"pf_id": "id-b"})})[0]
	rev := func(in ...string) []string {
		out := make([]string, len(in))
		for i, x := range in {
			out[len(in)-1-i] = x
		}
		return out
	}
	for _, tc := range []struct {
		params string
		want   []string
		total  int
	}{
		{"count=10&offset=0", rev(all...), 5},
		{"count=2&offset=1", []string{all[3], all[2]}, 5},
		{"count=10&offset=0&tag=even", []string{all[4], all[2], all[0]}, 3},
		{"count=10&offset=0&recipient=R3@example.com", []string{all[3]}, 1},
		{"count=10&offset=0&fromemail=news@acme.example", rev(all...), 5},
		{"count=10&offset=0&fromemail=other@acme.example", []string{}, 0},
		{"count=10&offset=0&subject=hel", rev(all...), 5},
		{"count=10&offset=0&status=sent", rev(all...), 5},
		{"count=10&offset=0&status=queued", []string{}, 0},
		{"count=10&offset=0&metadata_pf_id=id-3", []string{all[3]}, 1},
		{"count=10&offset=0&METADATA_PF_ID=id-3", []string{all[3]}, 1},
		{"count=10&offset=0&metadata_color=blue", rev(all...), 5},
		{"count=2&offset=1&metadata_color=blue", []string{all[3], all[2]}, 5},
		{"count=10&offset=0&metadata_color=Blue", []string{}, 0},
		{"count=10&offset=0&metadata_pf_id=id-b", []string{}, 0}, // search is per stream
		{"count=10&offset=0&metadata_pf_id=id-b&messagestream=broadcast", []string{bc}, 1},
		{"count=10&offset=0&messageStream=broadcast", []string{bc}, 1},
		{"count=10&offset=0&metadata_pf_id=id-3&tag=even", []string{}, 0},
		// The clock started at 16:00 UTC = 11:00 Eastern (EST); messages are a minute apart.
		{"count=10&offset=0&fromdate=" + url.QueryEscape("2026-11-05T11:02:00"), rev(all[2:]...), 3},
		{"count=10&offset=0&todate=" + url.QueryEscape("2026-11-05T11:01:00"), rev(all[:2]...), 2},
		{"count=10&offset=0&fromdate=2026-11-05&todate=2026-11-05", rev(all...), 5},
		{"count=10&offset=0&todate=2026-11-04", []string{}, 0},
	} {
		r, res := search(t, s, tc.params)
		if r.status != 200 {
			t.Errorf("%s: status %d %s", tc.params, r.status, r.body)
			continue
		}
		if diff := cmp.Diff(tc.want, ids(res.Messages)); diff != "" || res.TotalCount != tc.total {
			t.Errorf("%s: total %d (want %d), ids (-want +got):\n%s", tc.params, res.TotalCount, tc.total, diff)
		}
	}
}

func TestSearchSummaryShape(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	m := with(with(msg(`"Ann A." <ann@example.com>`), "Bcc", "bob@example.com"), "Tag", "t")
	m["TrackOpens"] = true
	m["Attachments"] = []map[string]string{{"Name": "invoice.pdf", "Content": "AA==", "ContentType": "application/pdf"}}
	id := sendBatch(t, s, []map[string]any{m})[0]
	_, res := search(t, s, "count=1&offset=0")
	name := "Ann A."
	want := wireSummary{
		Tag: "t", MessageID: id, MessageStream: "outbound",
		To: []wireAddress{{Email: "ann@example.com", Name: &name}}, Cc: []wireAddress{}, Bcc: []wireAddress{{Email: "bob@example.com"}},
		Recipients: []string{"ann@example.com", "bob@example.com"}, From: "Acme <news@acme.example>", Subject: "Hello",
		Attachments: []string{"invoice.pdf"}, Status: "Sent", TrackOpens: true, TrackLinks: "None", Metadata: map[string]string{},
	}
	if len(res.Messages) != 1 {
		t.Fatalf("messages = %+v", res.Messages)
	}
	got := res.Messages[0]
	if !submittedAtRE.MatchString(got.ReceivedAt) {
		t.Errorf("ReceivedAt = %q", got.ReceivedAt)
	}
	got.ReceivedAt = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func TestSearchLagHidesMessages(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := NewServer(t, Options{Now: clock.Now, SearchLag: 10 * time.Second})
	id := sendBatch(t, s, []map[string]any{with(msg("a@example.com"), "Metadata", map[string]string{"pf_id": "x"})})[0]
	_, res := search(t, s, "count=10&offset=0&metadata_pf_id=x")
	if res.TotalCount != 0 {
		t.Errorf("visible before the lag: %+v", res)
	}
	r := call(t, s, "GET", "/messages/outbound/"+id+"/details", nil)
	if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeMessageNotFound {
		t.Errorf("details before the lag: %d %+v", r.status, e)
	}
	clock.Advance(10 * time.Second)
	if _, res = search(t, s, "count=10&offset=0&metadata_pf_id=x"); res.TotalCount != 1 {
		t.Errorf("invisible after the lag: %+v", res)
	}
	if r = call(t, s, "GET", "/messages/outbound/"+id+"/details", nil); r.status != 200 {
		t.Errorf("details after the lag: %d %s", r.status, r.body)
	}
}

func TestMetadataIndexAndDuplicates(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	const n = 5000
	var batch []map[string]any
	for i := 0; i < n; i++ {
		batch = append(batch, with(msg(fmt.Sprintf("u%d@example.com", i)), "Metadata", map[string]string{"pf_id": fmt.Sprintf("pf-%d", i)}))
		if len(batch) == 500 {
			sendBatch(t, s, batch)
			batch = nil
		}
	}
	if d := s.Duplicates("pf_id"); len(d) != 0 {
		t.Fatalf("duplicates before resend: %v", d)
	}
	// Resend two of them: the index returns both copies, newest first.
	again := sendBatch(t, s, []map[string]any{
		with(msg("u7@example.com"), "Metadata", map[string]string{"pf_id": "pf-7"}),
		with(msg("u8@example.com"), "Metadata", map[string]string{"PF_ID": "pf-8"}),
	})
	_, res := search(t, s, "count=10&offset=0&metadata_pf_id=pf-7")
	acc := s.Accepted()
	if diff := cmp.Diff([]string{again[0], acc[7].MessageID}, ids(res.Messages)); diff != "" {
		t.Errorf("pf-7 hits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"pf-7": 2, "pf-8": 2}, s.Duplicates("PF_ID")); diff != "" {
		t.Errorf("duplicates (-want +got):\n%s", diff)
	}
	_, res = search(t, s, "count=10&offset=0&metadata_pf_id=pf-4999")
	if res.TotalCount != 1 || res.Messages[0].MessageID != acc[4999].MessageID || res.Messages[0].Metadata["pf_id"] != "pf-4999" {
		t.Errorf("pf-4999 = %+v", res)
	}
}
