package postmarktest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rawPost posts a batch with a fresh client (no connection reuse) and
// returns the status, or -1 with the transport error.
func rawPost(t *testing.T, s *Server, msgs []map[string]any) (int, error) {
	t.Helper()
	body := batchJSON(t, msgs)
	req, err := http.NewRequest("POST", s.URL()+"/email/batch", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Postmark-Server-Token", s.Token())
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func batchJSON(t *testing.T, msgs []map[string]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, m := range msgs {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"From":%q,"To":%q,"Subject":%q,"TextBody":%q}`, m["From"], m["To"], m["Subject"], m["TextBody"])
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func twoMessages() []map[string]any {
	return []map[string]any{msg("a@example.com"), msg("b@example.com")}
}

func TestEachFaultOnDemand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       Options
		wantStatus int // -1: connection dropped
		wantCode   int
		wantStored int
		fault      string
	}{
		{"429", Options{Rate429: 1}, 429, codeRateLimited, 0, Fault429},
		{"500 nothing accepted", Options{Rate500: 1}, 500, codeServerError, 0, Fault500},
		{"503", Options{Rate503: 1}, 503, codeMaintenance, 0, Fault503},
		{"accepted then 500", Options{Rate500Accepted: 1}, 500, codeServerError, 2, Fault500AfterAccept},
		{"accepted then dropped", Options{RateAcceptedDrop: 1}, -1, 0, 2, FaultAcceptedDrop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, tc.opts)
			status, err := rawPost(t, s, twoMessages())
			if status != tc.wantStatus {
				t.Fatalf("status = %d (err %v), want %d", status, err, tc.wantStatus)
			}
			if tc.wantStatus == -1 && err == nil {
				t.Fatal("the dropped connection gave no client error")
			}
			if got := s.AcceptedCount(); got != tc.wantStored {
				t.Errorf("accepted = %d, want %d", got, tc.wantStored)
			}
			st := s.Stats()
			if st.Faults[tc.fault] != 1 {
				t.Errorf("faults = %v, want one %q", st.Faults, tc.fault)
			}
			if tc.wantStatus == -1 {
				if st.Requests["POST /email/batch dropped"] != 1 {
					t.Errorf("requests = %v", st.Requests)
				}
				return
			}
			if st.Requests[fmt.Sprintf("POST /email/batch %d", tc.wantStatus)] != 1 {
				t.Errorf("requests = %v", st.Requests)
			}
			// The error envelope carries the code; read endpoints are unaffected.
			r := call(t, s, "POST", "/email", msg("c@example.com"))
			if e := r.apiErr(t); r.status != tc.wantStatus || e.ErrorCode != tc.wantCode || r.header.Get("X-PM-ApiErrorCode") != fmt.Sprint(tc.wantCode) {
				t.Errorf("single send: %d %+v", r.status, e)
			}
			if r := call(t, s, "GET", "/messages/outbound?count=1&offset=0", nil); r.status != 200 {
				t.Errorf("search hit by a send fault: %d", r.status)
			}
		})
	}
}

// faultTrace sends n single-message batches one after another and records
// each outcome and MessageID.
func faultTrace(t *testing.T, seed uint64, n int) []string {
	t.Helper()
	s := NewServer(t, Options{Seed: seed, Rate429: 0.2, Rate500: 0.1, Rate503: 0.1, RateAcceptedDrop: 0.1, Rate500Accepted: 0.1})
	var trace []string
	for i := 0; i < n; i++ {
		status, _ := rawPost(t, s, []map[string]any{msg(fmt.Sprintf("r%d@example.com", i))})
		trace = append(trace, fmt.Sprint(status))
	}
	for _, m := range s.Accepted() {
		trace = append(trace, m.MessageID)
	}
	return trace
}

func TestFaultsReproducibleFromSeed(t *testing.T) {
	t.Parallel()
	a, b := faultTrace(t, 42, 40), faultTrace(t, 42, 40)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different runs (-first +second):\n%s", diff)
	}
	kinds := map[string]bool{}
	for _, x := range a[:40] {
		kinds[x] = true
	}
	for _, want := range []string{"200", "429", "500", "503", "-1"} {
		if !kinds[want] {
			t.Errorf("outcome %s never drawn in 40 requests: %v", want, a[:40])
		}
	}
	if c := faultTrace(t, 43, 40); cmp.Equal(a, c) {
		t.Error("a different seed gave the same run")
	}
}

func TestRateLimitTokenBucket(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := NewServer(t, Options{Now: clock.Now, RateLimit: 2})
	var got []int
	for i := 0; i < 3; i++ {
		got = append(got, call(t, s, "GET", "/bounces?count=1&offset=0", nil).status)
	}
	clock.Advance(500 * time.Millisecond) // one token back
	for i := 0; i < 2; i++ {
		got = append(got, call(t, s, "GET", "/bounces?count=1&offset=0", nil).status)
	}
	if diff := cmp.Diff([]int{200, 200, 429, 200, 429}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if f := s.Stats().Faults[FaultRateLimit]; f != 2 {
		t.Errorf("rate-limit faults = %d, want 2", f)
	}
}

func TestPeakConcurrencyAndLatency(t *testing.T) {
	t.Parallel()
	// The latency keeps every request in flight long enough for all four to
	// overlap; the assertion is on the counter, not on durations.
	s := NewServer(t, Options{Latency: 500 * time.Millisecond})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = rawPost(t, s, twoMessages())
		}()
	}
	wg.Wait()
	st := s.Stats()
	if st.PeakConcurrency != 4 {
		t.Errorf("peak concurrency = %d, want 4", st.PeakConcurrency)
	}
	if st.RequestsByEndpoint["POST /email/batch"] != 4 || st.Accepted != 8 {
		t.Errorf("stats = %+v", st)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:80", "nonsense"} {
		if err := New(Options{}).Start(addr); err == nil {
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
	s := New(Options{})
	if s.URL() != "" {
		t.Errorf("URL before Start = %q", s.URL())
	}
	if err := s.Start("[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer s.Close()
	if err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestUnknownEndpoint(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	if r := call(t, s, "GET", "/nope", nil); r.status != 404 {
		t.Errorf("unknown path: %d", r.status)
	}
	if r := call(t, s, "GET", "/email", nil); r.status != 404 {
		t.Errorf("wrong method: %d", r.status)
	}
	if got := s.Stats().Requests["/ 404"]; got != 2 {
		t.Errorf("requests = %v", s.Stats().Requests)
	}
}

func TestThroughputSanity(t *testing.T) {
	// Not a timed assertion: it checks that 20,000 messages from 4
	// concurrent clients are all stored exactly once, and logs the rate.
	if testing.Short() {
		t.Skip("short mode")
	}
	s := NewServer(t, Options{})
	const total = 20000
	elapsed := pushBatches(t, s, 4, total)
	t.Logf("%d messages in %v: %.0f messages/s (peak concurrency %d)", total, elapsed, total/elapsed.Seconds(), s.Stats().PeakConcurrency)
	if s.AcceptedCount() != total {
		t.Fatalf("accepted %d, want %d", s.AcceptedCount(), total)
	}
	if d := s.Duplicates("pf_id"); len(d) != 0 {
		t.Errorf("duplicates: %d", len(d))
	}
	seen := make(map[string]bool, total)
	for _, m := range s.Accepted() {
		if seen[m.MessageID] {
			t.Fatalf("MessageID %s issued twice", m.MessageID)
		}
		seen[m.MessageID] = true
	}
}

func TestHandlerWithoutListener(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	req := httptest.NewRequest("POST", "/email", strings.NewReader(`{"From":"a@acme.example","To":"b@example.com","TextBody":"x"}`))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Postmark-Server-Token", DefaultToken)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || s.AcceptedCount() != 1 || s.URL() != "" {
		t.Errorf("status %d, accepted %d, URL %q", rec.Code, s.AcceptedCount(), s.URL())
	}
}
