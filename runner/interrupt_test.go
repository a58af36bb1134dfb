package runner

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/postform/postform/postmark/postmarktest"
	"github.com/postform/postform/state"
)

// cancelAfter cancels a context once n messages have been accepted.
type cancelAfter struct {
	NopHook
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (h *cancelAfter) MessageResult(r MessageResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Outcome == OutcomeSent {
		h.n--
		if h.n == 0 {
			h.cancel()
		}
	}
}

// TestInterruptFinishesRequestsInFlight is the first Ctrl-C: requests
// already on the wire finish and are recorded (nothing is left uncertain),
// no new request starts, and the next apply sends the rest exactly once.
func TestInterruptFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	const n = 1000
	f := newFixture(t, n, 4, 25, postmarktest.Options{Seed: 9, Latency: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hook := &cancelAfter{n: 100, cancel: cancel}
	sum, err := Apply(ctx, f.ev, f.st, f.pm, fastOptions(), hook)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if sum.Stopped != "interrupted" {
		t.Fatalf("summary %+v, want an interrupted run", sum)
	}
	accepted := f.sim.AcceptedCount()
	if accepted >= n || accepted < 100 {
		t.Fatalf("accepted %d of %d before the interrupt took effect", accepted, n)
	}
	counts, err := f.st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts.ByStatus[state.StatusSent] != accepted {
		t.Errorf("state records %d sent, simulator accepted %d: in-flight requests were not recorded", counts.ByStatus[state.StatusSent], accepted)
	}
	if counts.ByStatus[state.StatusSending]+counts.ByStatus[state.StatusUncertain] != 0 {
		t.Errorf("interrupt left unsettled rows: %v", counts.ByStatus)
	}
	if got := f.sim.Stats().Requests["POST /email/batch canceled"]; got != 0 {
		t.Errorf("%d requests were cancelled mid-flight", got)
	}

	// The next apply sends the rest.
	sum, err = Apply(context.Background(), f.ev, f.st, f.pm, fastOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != n-accepted {
		t.Errorf("resumed apply sent %d, want %d", sum.Sent, n-accepted)
	}
	f.assertExactlyOnce(t, n)
}

// TestAbortCancelsInFlightAndReconciles is the second Ctrl-C: requests in
// flight are cancelled, their messages stay unsettled, and the next apply
// reconciles them before sending anything again.
func TestAbortCancelsInFlightAndReconciles(t *testing.T) {
	t.Parallel()
	const n = 400
	f := newFixture(t, n, 4, 25, postmarktest.Options{Seed: 10, Latency: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	abort := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel()
		close(abort)
	}()
	opts := fastOptions()
	opts.Abort = abort
	if _, err := Apply(ctx, f.ev, f.st, f.pm, opts, nil); err != nil {
		t.Fatalf("apply: %v", err)
	}
	counts, _ := f.st.Counts(context.Background())
	t.Logf("after abort: %v, simulator accepted %d", counts.ByStatus, f.sim.AcceptedCount())
	sum, err := Apply(context.Background(), f.ev, f.st, f.pm, fastOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts.ByStatus[state.StatusUncertain] > 0 && sum.Adopted+sum.Resent == 0 {
		t.Errorf("resumed apply did not reconcile the %d uncertain messages", counts.ByStatus[state.StatusUncertain])
	}
	if sum.Uncertain != 0 || sum.Unsent != 0 {
		t.Errorf("resumed apply left work: %+v", sum)
	}
	f.assertExactlyOnce(t, n)
}
