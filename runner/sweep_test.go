package runner

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/postform/postform/postmark"
	"github.com/postform/postform/postmark/postmarktest"
	"github.com/postform/postform/state"
)

// sendOnly sends n messages through the client in batches of size,
// moving the clock step forward after each batch, so that the run spans
// some time; to(i) names the recipient of message i. Nothing is recorded
// in state: it returns the MessageIDs in order.
func sendOnly(t *testing.T, e *refreshEnv, n, size int, step time.Duration, to func(i int) string) []string {
	t.Helper()
	ids := make([]string, 0, n)
	for start := 0; start < n; start += size {
		msgs := make([]postmark.Message, 0, size)
		for i := start; i < min(start+size, n); i++ {
			msgs = append(msgs, postmark.Message{From: "news@acme.example", To: to(i), Subject: "Hi", TextBody: "Hi.", Tag: "digest", MessageStream: "outbound"})
		}
		res, err := e.pm.SendBatch(context.Background(), msgs)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.ErrorCode != 0 {
				t.Fatalf("send: ErrorCode %d: %s", r.ErrorCode, r.Message)
			}
			ids = append(ids, r.MessageID)
		}
		e.clock.Advance(step)
	}
	return ids
}

// runStats describes n unsettled messages of stream outbound, tagged
// digest, the first sent at first.
func runStats(n int, first time.Time) *pendingStats {
	return &pendingStats{streams: map[string]*streamStats{
		"outbound": {count: n, minSubmitted: first, tag: "digest"},
	}}
}

// TestSweepTenThousand measures the bounce sweep of a 10,000-message run
// with 5% bounces, from the simulator's counters: SPEC §7 allows one call
// per 400 messages; we aim at one per 500 or fewer.
func TestSweepTenThousand(t *testing.T) {
	const n = 10000
	e := newRefreshEnv(t, postmarktest.Options{MaxBodyBytes: -1})
	first := e.clock.Now()
	bounced := func(i int) string {
		switch i % 40 {
		case 0:
			return hardAddr
		case 20:
			return softAddr
		}
		return ""
	}
	ids := sendOnly(t, e, n, 500, 3*time.Second, func(i int) string {
		if a := bounced(i); a != "" {
			return a
		}
		return fmt.Sprintf("user%d@example.com", i)
	})
	e.clock.Advance(testDelay)

	rf := newRefresher(e.st, e.pm, RefreshOptions{Now: e.clock.Now}, NopHook{})
	swept, err := rf.sweep(context.Background(), runStats(n, first))
	if err != nil {
		t.Fatal(err)
	}
	calls := e.calls(epBounces)
	t.Logf("sweep of %d messages (%d bounced): %d GET /bounces calls", n, n/20, calls)
	if calls > n/500 || calls != rf.sum.SweepCalls {
		t.Errorf("GET /bounces calls = %d (counted %d), want at most %d", calls, rf.sum.SweepCalls, n/500)
	}
	if len(swept) != n/20 {
		t.Errorf("swept %d messages, want %d", len(swept), n/20)
	}
	for i, id := range ids {
		bs := swept[id]
		switch bounced(i) {
		case "":
			if len(bs) != 0 {
				t.Fatalf("message %d (delivered) swept as bounced: %+v", i, bs)
			}
		case hardAddr:
			if len(bs) != 1 || bs[0].typ != "HardBounce" || !bs[0].inactive || bs[0].id == 0 {
				t.Fatalf("message %d: swept %+v, want one inactive HardBounce", i, bs)
			}
		case softAddr:
			if len(bs) != 1 || bs[0].typ != "SoftBounce" || bs[0].inactive {
				t.Fatalf("message %d: swept %+v, want one active SoftBounce", i, bs)
			}
		}
	}
}

// TestSweepNarrowsLargeWindows: a window with more bounces than Postmark
// pages through (count+offset ≤ 10,000; lowered here to 1,000 to keep the
// test small) is narrowed until every bounce is found, within the call
// budget of one call per 400 messages. The bisecting fallback finds them
// all too.
func TestSweepNarrowsLargeWindows(t *testing.T) {
	old := sweepPageEnd
	sweepPageEnd = 1000
	t.Cleanup(func() { sweepPageEnd = old })

	const n = 2400
	e := newRefreshEnv(t, postmarktest.Options{MaxBodyBytes: -1})
	first := e.clock.Now()
	ids := sendOnly(t, e, n, 100, time.Second, func(int) string { return softAddr })
	e.clock.Advance(testDelay)

	rf := newRefresher(e.st, e.pm, RefreshOptions{Now: e.clock.Now}, NopHook{})
	swept, err := rf.sweep(context.Background(), runStats(n, first))
	if err != nil {
		t.Fatal(err)
	}
	calls := e.calls(epBounces)
	t.Logf("sweep of %d bounced messages, at most %d per search: %d GET /bounces calls", n, sweepPageEnd, calls)
	for _, id := range ids {
		if len(swept[id]) != 1 {
			t.Fatalf("message %s: swept %+v, want its one bounce", id, swept[id])
		}
	}
	if calls > n/400 {
		t.Errorf("GET /bounces calls = %d, want at most %d (one per 400 messages)", calls, n/400)
	}
	if got := e.sim.Stats().Requests[epBounces+" 422"]; got != 0 {
		t.Errorf("%d bounce searches were refused", got)
	}

	// The order-independent fallback: halve the window by time.
	sw := &sweeper{rf: rf, byMsg: map[string][]sweptBounce{}}
	now := e.clock.Now()
	if err := sw.bisect(context.Background(), postmark.BounceSearch{MessageStream: "outbound", Tag: "digest"}, first.Add(-time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if sw.kept != n || len(sw.byMsg) != n {
		t.Errorf("bisecting sweep kept %d bounces of %d messages, want %d", sw.kept, len(sw.byMsg), n)
	}
}

// TestSweepWindowFilters checks the search a sweep sends: the stream, the
// shared tag, and a window from a minute before the first send to now.
func TestSweepWindowFilters(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{})
	e.send(t, "digest", softAddr)
	e.clock.Advance(testDelay)
	rf := newRefresher(e.st, e.pm, RefreshOptions{Now: e.clock.Now}, NopHook{})
	stats, err := rf.scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Mixed tags: the tag filter is dropped.
	mixed := newPendingStats()
	for _, r := range []state.Record{{Stream: "outbound", Tag: "a", SubmittedAt: e.clock.Now()}, {Stream: "outbound", Tag: "b"}} {
		mixed.add(&r)
	}
	if s := mixed.streams["outbound"]; !s.mixedTags || s.count != 2 {
		t.Errorf("mixed stats = %+v", s)
	}
	s := stats.streams["outbound"]
	if s == nil || s.mixedTags || s.tag != "digest" || s.count != 1 {
		t.Fatalf("stats = %+v", s)
	}
	swept, err := rf.sweep(context.Background(), stats)
	if err != nil {
		t.Fatal(err)
	}
	if len(swept) != 1 {
		t.Errorf("swept = %v, want the one bounce", swept)
	}
	if got := rf.lastSweep["outbound"]; !got.After(e.clock.Now()) {
		t.Errorf("lastSweep = %v, want after now %v", got, e.clock.Now())
	}

	// A tag that matches nothing finds nothing: the filter is applied.
	stats.streams["outbound"].tag = "other"
	rf.lastSweep = map[string]time.Time{}
	swept, err = rf.sweep(context.Background(), stats)
	if err != nil {
		t.Fatal(err)
	}
	if len(swept) != 0 {
		t.Errorf("swept with another tag = %v, want nothing", swept)
	}
}
