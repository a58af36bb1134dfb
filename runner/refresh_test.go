package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postform/postform/postmark"
	"github.com/postform/postform/postmark/postmarktest"
	"github.com/postform/postform/state"
	"github.com/postform/postform/state/pebblestate"
)

// testClock is a virtual clock shared by the simulator and the refresh:
// time moves only when a test says so.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 11, 5, 16, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// refreshEnv is a simulator, a client for it and an empty state store.
type refreshEnv struct {
	sim   *postmarktest.Server
	pm    *postmark.Client
	st    *pebblestate.Store
	clock *testClock
	sent  int // messages sent so far: numbers the next message's address
}

// testDelay is the simulated delivery delay: long, so that only the
// virtual clock moves events forward.
const testDelay = 10 * time.Minute

func newRefreshEnv(t *testing.T, opts postmarktest.Options) *refreshEnv {
	t.Helper()
	e := &refreshEnv{clock: newTestClock()}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	if opts.DeliveryDelay == 0 {
		opts.DeliveryDelay = testDelay
	}
	e.sim = postmarktest.NewServer(t, opts)
	pm, err := postmark.NewClient(e.sim.Token(), postmark.WithBaseURL(e.sim.URL()))
	if err != nil {
		t.Fatal(err)
	}
	e.pm = pm
	st, err := pebblestate.Open(context.Background(), filepath.Join(t.TempDir(), "state"), pebblestate.Options{Target: "simulator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	return e
}

// send sends one message per entry of tos (each a To list) through the
// client, tagged tag, and records each as sent, the way apply does. It
// returns the records in the order of tos. Addresses are numbered across
// calls.
func (e *refreshEnv) send(t *testing.T, tag string, tos ...string) []state.Record {
	t.Helper()
	ctx := context.Background()
	var recs []state.Record
	for start := 0; start < len(tos); start += 500 {
		end := min(start+500, len(tos))
		msgs := make([]postmark.Message, 0, end-start)
		for _, to := range tos[start:end] {
			msgs = append(msgs, postmark.Message{
				From: "news@acme.example", To: to, Subject: "Hello", TextBody: "Hi.",
				Tag: tag, MessageStream: "outbound",
			})
		}
		res, err := e.pm.SendBatch(ctx, msgs)
		if err != nil {
			t.Fatal(err)
		}
		batch := make([]state.Record, 0, len(res))
		for i, r := range res {
			if r.ErrorCode != 0 {
				t.Fatalf("sending to %s: ErrorCode %d: %s", tos[start+i], r.ErrorCode, r.Message)
			}
			n := e.sent
			e.sent++
			batch = append(batch, state.Record{
				Address:     fmt.Sprintf(`batch.%s["%06d"]`, tag, n),
				Batch:       tag,
				Key:         fmt.Sprintf("%06d", n),
				Recipients:  tos[start+i],
				Stream:      "outbound",
				Tag:         tag,
				PFID:        fmt.Sprintf("pf-%s-%d", tag, n),
				Status:      state.StatusSent,
				MessageID:   r.MessageID,
				SubmittedAt: r.SubmittedAt.UTC(),
				Attempts:    1,
				Delivery:    state.DeliveryPending,
			})
		}
		if err := e.st.Put(ctx, batch); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, batch...)
	}
	return recs
}

func (e *refreshEnv) get(t *testing.T, addr string) state.Record {
	t.Helper()
	r, err := e.st.Get(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// calls returns the simulator's request count for an endpoint pattern
// such as "GET /bounces".
func (e *refreshEnv) calls(endpoint string) int {
	return e.sim.Stats().RequestsByEndpoint[endpoint]
}

const (
	epDetails = "GET /messages/outbound/{id}/details"
	epBounces = "GET /bounces"
	epBounce  = "GET /bounces/{id}"
)

// recHook records what a refresh reports.
type recHook struct {
	NopHook
	mu       sync.Mutex
	progress []RefreshProgress
	warnings []string
	onProg   func(RefreshProgress)
}

func (h *recHook) RefreshProgress(p RefreshProgress) {
	h.mu.Lock()
	h.progress = append(h.progress, p)
	f := h.onProg
	h.mu.Unlock()
	if f != nil {
		f(p)
	}
}

func (h *recHook) Warn(msg string) {
	h.mu.Lock()
	h.warnings = append(h.warnings, msg)
	h.mu.Unlock()
}

func (h *recHook) maxRound() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, p := range h.progress {
		n = max(n, p.Round)
	}
	return n
}

const (
	hardAddr = "hardbounce@bounce-testing.postmarkapp.com"
	softAddr = "softbounce@bounce-testing.postmarkapp.com"
)

func refresh(t *testing.T, e *refreshEnv, opts RefreshOptions, h Hook) *RefreshSummary {
	t.Helper()
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	sum, err := Refresh(context.Background(), e.st, e.pm, opts, h)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return sum
}

// TestRefreshOutcomes sends to bounce-testing addresses and ordinary ones
// and checks every recorded outcome, the suppression of the hard bounce,
// and that bounced messages are settled by the sweep without a details
// call.
func TestRefreshOutcomes(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{})
	recs := e.send(t, "digest",
		hardAddr,
		softAddr,
		"ann@example.com",
		"bob+open@example.com",
		"cat@example.com, "+strings.ToUpper(hardAddr),
	)
	e.clock.Advance(2*testDelay + time.Second) // delivered, bounced, opened
	h := &recHook{}
	sum := refresh(t, e, RefreshOptions{}, h)

	hard := e.get(t, recs[0].Address)
	if hard.Delivery != state.DeliveryBounced || hard.BounceType != "HardBounce" || !hard.Inactive || hard.BounceID == 0 {
		t.Errorf("hard bounce recorded as %q type %q inactive %v id %d; want bounced HardBounce inactive with an id", hard.Delivery, hard.BounceType, hard.Inactive, hard.BounceID)
	}
	if hard.Status != state.StatusSent || hard.CheckedAt.IsZero() || hard.LastEventAt.IsZero() {
		t.Errorf("hard bounce: status %q, CheckedAt %v, LastEventAt %v", hard.Status, hard.CheckedAt, hard.LastEventAt)
	}
	if want := recs[0].SubmittedAt.Add(testDelay); !hard.LastEventAt.Equal(want) {
		t.Errorf("hard bounce LastEventAt = %v, want the bounce time %v", hard.LastEventAt, want)
	}
	soft := e.get(t, recs[1].Address)
	if soft.Delivery != state.DeliveryBounced || soft.BounceType != "SoftBounce" || soft.Inactive {
		t.Errorf("soft bounce recorded as %q type %q inactive %v; want bounced SoftBounce active", soft.Delivery, soft.BounceType, soft.Inactive)
	}
	ann := e.get(t, recs[2].Address)
	if ann.Delivery != state.DeliveryDelivered {
		t.Errorf("ann: delivery %q, want delivered", ann.Delivery)
	}
	if want := recs[2].SubmittedAt.Add(testDelay); !ann.DeliveredAt.Equal(want) || !ann.LastEventAt.Equal(want) {
		t.Errorf("ann: DeliveredAt %v LastEventAt %v, want both %v", ann.DeliveredAt, ann.LastEventAt, want)
	}
	bob := e.get(t, recs[3].Address)
	if bob.Delivery != state.DeliveryOpened {
		t.Errorf("bob+open: delivery %q, want opened", bob.Delivery)
	}
	if want := recs[3].SubmittedAt.Add(testDelay); !bob.DeliveredAt.Equal(want) || !bob.LastEventAt.After(want) {
		t.Errorf("bob+open: DeliveredAt %v (want %v), LastEventAt %v (want the later open)", bob.DeliveredAt, want, bob.LastEventAt)
	}
	mixed := e.get(t, recs[4].Address)
	if mixed.Delivery != state.DeliveryBounced || !mixed.Inactive {
		t.Errorf("message with one hard-bounced recipient: delivery %q inactive %v; want bounced, inactive", mixed.Delivery, mixed.Inactive)
	}

	sups, err := e.st.Suppressed(context.Background(), "outbound", []string{hardAddr, softAddr, "cat@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sups) != 1 {
		t.Fatalf("suppressions = %v, want only %s", sups, hardAddr)
	}
	if s := sups[hardAddr]; s.Reason != "HardBounce" || s.Email != hardAddr {
		t.Errorf("suppression = %+v, want %s for HardBounce", s, hardAddr)
	}

	want := RefreshSummary{Total: 5, Delivered: 2, Bounced: 3, Pending: 0, Checked: 2, Rounds: 1, Suppressions: 2}
	got := *sum
	got.Requests, got.SweepCalls, got.Elapsed = 0, 0, 0
	if got != want {
		t.Errorf("summary = %+v\nwant      %+v", got, want)
	}
	// The sweep settled the three bounced messages: details only for the
	// other two, and no single-bounce lookups.
	if n := e.calls(epDetails); n != 2 {
		t.Errorf("details calls = %d, want 2", n)
	}
	if n := e.calls(epBounce); n != 0 {
		t.Errorf("GET /bounces/{id} calls = %d, want 0", n)
	}
	if n := e.calls(epBounces); n != sum.SweepCalls || n != 1 {
		t.Errorf("bounce list calls = %d (summary says %d), want 1", n, sum.SweepCalls)
	}
	if sum.Requests != 3 {
		t.Errorf("summary requests = %d, want 3", sum.Requests)
	}
	last := h.progress[len(h.progress)-1]
	if last != (RefreshProgress{Round: 1, Checked: 2, Delivered: 2, Bounced: 3, Pending: 0, Total: 5, Requests: 3}) {
		t.Errorf("last progress = %+v", last)
	}

	// Everything is final: a second refresh has nothing to do.
	before := e.sim.Stats().RequestsByEndpoint
	sum2 := refresh(t, e, RefreshOptions{}, nil)
	if sum2.Total != 0 || sum2.Requests != 0 {
		t.Errorf("second refresh: %+v, want nothing to do", sum2)
	}
	if after := e.sim.Stats().RequestsByEndpoint; after[epDetails] != before[epDetails] || after[epBounces] != before[epBounces] {
		t.Errorf("second refresh made requests: %v -> %v", before, after)
	}
}

// TestRefreshDetailsPathFetchesBounces checks bounces learnt from the
// details (the sweep skipped): each Bounced event's BounceID is looked up
// for its type and Inactive flag.
func TestRefreshDetailsPathFetchesBounces(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{})
	recs := e.send(t, "digest", hardAddr, softAddr)
	e.clock.Advance(testDelay)
	sum := refresh(t, e, RefreshOptions{noSweep: true}, nil)

	hard := e.get(t, recs[0].Address)
	if hard.Delivery != state.DeliveryBounced || hard.BounceType != "HardBounce" || !hard.Inactive {
		t.Errorf("hard: %q %q inactive %v", hard.Delivery, hard.BounceType, hard.Inactive)
	}
	soft := e.get(t, recs[1].Address)
	if soft.Delivery != state.DeliveryBounced || soft.BounceType != "SoftBounce" || soft.Inactive {
		t.Errorf("soft: %q %q inactive %v", soft.Delivery, soft.BounceType, soft.Inactive)
	}
	if n := e.calls(epBounce); n != 2 {
		t.Errorf("GET /bounces/{id} calls = %d, want 2", n)
	}
	if n := e.calls(epBounces); n != 0 {
		t.Errorf("bounce list calls = %d, want 0 (no sweep)", n)
	}
	sups, err := e.st.Suppressed(context.Background(), "outbound", []string{hardAddr, softAddr})
	if err != nil {
		t.Fatal(err)
	}
	if len(sups) != 1 || sups[hardAddr].Reason != "HardBounce" || sups[hardAddr].MessageID != recs[0].MessageID {
		t.Errorf("suppressions = %+v, want %s (HardBounce, %s)", sups, hardAddr, recs[0].MessageID)
	}
	if sum.Bounced != 2 || sum.Suppressions != 1 {
		t.Errorf("summary: %+v", sum)
	}
}

// TestRefreshTransientThenDelivered polls a deferred message: one round
// records it as transient; with Wait, rounds go on until it is delivered.
func TestRefreshTransientThenDelivered(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{})
	recs := e.send(t, "digest", "ann+transient@example.com")
	addr := recs[0].Address

	e.clock.Advance(testDelay + testDelay/2) // Transient at 1×, Delivered at 3×
	sum := refresh(t, e, RefreshOptions{}, nil)
	if r := e.get(t, addr); r.Delivery != state.DeliveryTransient || r.Status != state.StatusSent {
		t.Fatalf("after one round: %q/%q, want sent/transient", r.Status, r.Delivery)
	}
	if sum.Pending != 1 || sum.Transient != 1 || sum.Delivered != 0 {
		t.Errorf("summary after one round: %+v", sum)
	}

	// With Wait, the clock moves half a delay at every progress report, so
	// the message is delivered in a later round.
	h := &recHook{}
	h.onProg = func(RefreshProgress) { e.clock.Advance(testDelay / 2) }
	sum = refresh(t, e, RefreshOptions{Wait: 100 * testDelay, PollInterval: time.Millisecond}, h)
	r := e.get(t, addr)
	if r.Delivery != state.DeliveryDelivered {
		t.Fatalf("after waiting: delivery %q, want delivered", r.Delivery)
	}
	if want := recs[0].SubmittedAt.Add(3 * testDelay); !r.DeliveredAt.Equal(want) {
		t.Errorf("DeliveredAt = %v, want %v", r.DeliveredAt, want)
	}
	if sum.Rounds < 2 || h.maxRound() != sum.Rounds {
		t.Errorf("rounds = %d (hook saw %d), want at least 2", sum.Rounds, h.maxRound())
	}
	if sum.Pending != 0 || sum.Delivered != 1 || sum.Transient != 0 {
		t.Errorf("summary after waiting: %+v", sum)
	}
}

// TestRefreshWaitEnds checks that a wait gives up when its time is over
// and reports what is still pending.
func TestRefreshWaitEnds(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{})
	e.send(t, "digest", "ann@example.com")
	h := &recHook{}
	h.onProg = func(RefreshProgress) { e.clock.Advance(time.Second) }
	sum := refresh(t, e, RefreshOptions{Wait: 10 * time.Second, PollInterval: time.Millisecond}, h)
	if sum.Pending != 1 || sum.Delivered != 0 {
		t.Errorf("summary: %+v, want 1 pending", sum)
	}
	if sum.Rounds < 2 || sum.Rounds > 10 {
		t.Errorf("rounds = %d, want several, bounded by the wait", sum.Rounds)
	}
}

// TestRefreshNotVisibleYet: 701 shortly after a send leaves the message
// pending, never failed; after the grace it is still pending but reported.
func TestRefreshNotVisibleYet(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{SearchLag: 5 * time.Minute})
	recs := e.send(t, "digest", "ann@example.com")
	addr := recs[0].Address

	e.clock.Advance(time.Second)
	sum := refresh(t, e, RefreshOptions{VisibilityGrace: time.Minute}, nil)
	r := e.get(t, addr)
	if r.Status != state.StatusSent || r.Delivery != state.DeliveryPending || r.CheckedAt.IsZero() {
		t.Errorf("within grace: %q/%q checked %v, want sent/pending and checked", r.Status, r.Delivery, r.CheckedAt)
	}
	if sum.NotVisible != 1 || sum.NotFound != 0 || sum.Errors != 0 || sum.Pending != 1 {
		t.Errorf("within grace: %+v", sum)
	}

	e.clock.Advance(2 * time.Minute) // past the grace, still inside the lag
	h := &recHook{}
	sum = refresh(t, e, RefreshOptions{VisibilityGrace: time.Minute}, h)
	if len(h.warnings) != 1 || !strings.Contains(h.warnings[0], "701") {
		t.Errorf("warnings = %q, want one about the unknown message", h.warnings)
	}
	r = e.get(t, addr)
	if r.Status != state.StatusSent || r.Delivery != state.DeliveryPending {
		t.Errorf("after grace: %q/%q, want sent/pending", r.Status, r.Delivery)
	}
	if sum.NotFound != 1 || sum.NotVisible != 0 || sum.Pending != 1 {
		t.Errorf("after grace: %+v", sum)
	}

	e.clock.Advance(testDelay)
	refresh(t, e, RefreshOptions{VisibilityGrace: time.Minute}, nil)
	if r := e.get(t, addr); r.Delivery != state.DeliveryDelivered {
		t.Errorf("once visible: %q, want delivered", r.Delivery)
	}
}

// TestRefreshDetailsModes checks what each mode polls.
func TestRefreshDetailsModes(t *testing.T) {
	for _, tc := range []struct {
		mode        DetailsMode
		wantDetails int
		wantAnn     state.Delivery
	}{
		{DetailsNone, 0, state.DeliveryPending},
		{DetailsBouncedOnly, 1, state.DeliveryPending},
		{DetailsAll, 1, state.DeliveryDelivered},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			e := newRefreshEnv(t, postmarktest.Options{})
			recs := e.send(t, "digest", hardAddr, "ann@example.com")
			e.clock.Advance(testDelay)
			sum := refresh(t, e, RefreshOptions{Details: tc.mode}, nil)
			if r := e.get(t, recs[0].Address); r.Delivery != state.DeliveryBounced || r.BounceType != "HardBounce" || !r.Inactive {
				t.Errorf("bounce: %q %q %v", r.Delivery, r.BounceType, r.Inactive)
			}
			if r := e.get(t, recs[1].Address); r.Delivery != tc.wantAnn {
				t.Errorf("ann: %q, want %q (no bounce is not a delivery)", r.Delivery, tc.wantAnn)
			}
			if n := e.calls(epDetails); n != tc.wantDetails {
				t.Errorf("details calls = %d, want %d", n, tc.wantDetails)
			}
			if n := e.calls(epBounce); n != 0 {
				t.Errorf("single bounce calls = %d, want 0", n)
			}
			sups, err := e.st.Suppressed(context.Background(), "outbound", []string{hardAddr})
			if err != nil || len(sups) != 1 {
				t.Errorf("suppressions = %v, %v; want %s", sups, err, hardAddr)
			}
			if sum.Bounced != 1 {
				t.Errorf("summary: %+v", sum)
			}
		})
	}
	if _, err := ParseDetailsMode("some"); err == nil {
		t.Error(`ParseDetailsMode("some") succeeded`)
	}
	if m, err := ParseDetailsMode(""); err != nil || m != DetailsAll {
		t.Errorf(`ParseDetailsMode("") = %q, %v`, m, err)
	}
}

// TestRefreshThrottled runs against a rate-limited simulator: 429s are
// retried with backoff, the shared pacer slows down, and every message is
// settled.
func TestRefreshThrottled(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{Now: time.Now, RateLimit: 50, DeliveryDelay: -1})
	var tos []string
	for i := range 60 {
		tos = append(tos, fmt.Sprintf("user%d@example.com", i))
	}
	recs := e.send(t, "digest", tos...)
	p := newPacer(0, 8)
	sum, err := Refresh(context.Background(), e.st, e.pm, RefreshOptions{
		Parallelism: 8, Details: DetailsAll, pacer: p,
		backoffBase: 5 * time.Millisecond, backoffMax: 50 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Delivered != len(recs) || sum.Errors != 0 {
		t.Errorf("summary: %+v, want all %d delivered", sum, len(recs))
	}
	if e.sim.Stats().Faults[postmarktest.FaultRateLimit] == 0 {
		t.Fatal("the simulator never throttled: the test proves nothing")
	}
	p.mu.Lock()
	decreases := p.decreases
	p.mu.Unlock()
	if decreases == 0 {
		t.Error("the pacer never slowed down after 429s")
	}
}

// TestRefreshBadToken stops at once with a FatalError that does not show
// the token.
func TestRefreshBadToken(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{})
	e.send(t, "digest", "ann@example.com", "bob@example.com")
	const secret = "wrong-token-5d41402abc4b2a76"
	bad, err := postmark.NewClient(secret, postmark.WithBaseURL(e.sim.URL()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Refresh(context.Background(), e.st, bad, RefreshOptions{Now: e.clock.Now}, nil)
	var fatal *FatalError
	if !errors.As(err, &fatal) || !postmark.IsAuth(err) {
		t.Fatalf("err = %v, want a FatalError for 401", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the token: %v", err)
	}
}

// TestRefreshInterrupted records nothing wrong when the context ends.
func TestRefreshInterrupted(t *testing.T) {
	e := newRefreshEnv(t, postmarktest.Options{})
	recs := e.send(t, "digest", "ann@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := Refresh(ctx, e.st, e.pm, RefreshOptions{Now: e.clock.Now}, nil)
	if err != nil || sum.Stopped != "interrupted" {
		t.Errorf("Refresh = %+v, %v; want stopped, no error", sum, err)
	}
	if r := e.get(t, recs[0].Address); r.Status != state.StatusSent || r.Delivery != state.DeliveryPending {
		t.Errorf("record changed: %q/%q", r.Status, r.Delivery)
	}
}

// TestOutcomeOf maps event lists to delivery statuses.
func TestOutcomeOf(t *testing.T) {
	t0 := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	ev := func(rcpt, typ string, min int, details ...string) postmark.MessageEvent {
		e := postmark.MessageEvent{Recipient: rcpt, Type: typ, ReceivedAt: t0.Add(time.Duration(min) * time.Minute), Details: map[string]string{}}
		for i := 0; i+1 < len(details); i += 2 {
			e.Details[details[i]] = details[i+1]
		}
		return e
	}
	two := []string{"a@x.example", "B@x.example"}
	for _, tc := range []struct {
		name      string
		rcpts     []string
		events    []postmark.MessageEvent
		want      state.Delivery
		delivered int // minutes after t0; -1 for none
	}{
		{"no events", two, nil, state.DeliveryPending, -1},
		{"one of two delivered", two, []postmark.MessageEvent{ev("a@x.example", "Delivered", 1)}, state.DeliveryPending, -1},
		{"both delivered", two, []postmark.MessageEvent{ev("b@x.example", "Delivered", 3), ev("a@x.example", "Delivered", 1)}, state.DeliveryDelivered, 3},
		{"deferred", two, []postmark.MessageEvent{ev("a@x.example", "Delivered", 1), ev("b@x.example", "Transient", 2)}, state.DeliveryTransient, -1},
		{"deferred then delivered", two, []postmark.MessageEvent{ev("a@x.example", "Delivered", 1), ev("b@x.example", "Transient", 2), ev("b@x.example", "Delivered", 4)}, state.DeliveryDelivered, 4},
		{"one bounced", two, []postmark.MessageEvent{ev("a@x.example", "Delivered", 1), ev("b@x.example", "Bounced", 2, "BounceID", "77")}, state.DeliveryBounced, -1},
		{"opened", two, []postmark.MessageEvent{ev("a@x.example", "Delivered", 1), ev("b@x.example", "Delivered", 2), ev("a@x.example", "Opened", 5)}, state.DeliveryOpened, 2},
		{"clicked", two, []postmark.MessageEvent{ev("a@x.example", "Delivered", 1), ev("b@x.example", "Delivered", 2), ev("a@x.example", "Opened", 5), ev("b@x.example", "LinkClicked", 6)}, state.DeliveryClicked, 2},
		{"opened proves delivery", []string{"a@x.example"}, []postmark.MessageEvent{ev("a@x.example", "Opened", 5)}, state.DeliveryOpened, -1},
		{"subscription change only", []string{"a@x.example"}, []postmark.MessageEvent{ev("a@x.example", "SubscriptionChanged", 1, "SuppressSending", "True")}, state.DeliveryPending, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &postmark.MessageDetails{MessageEvents: tc.events}
			d.Recipients = tc.rcpts
			o := outcomeOf(d, "")
			if o.delivery != tc.want {
				t.Errorf("delivery = %q, want %q", o.delivery, tc.want)
			}
			var want time.Time
			if tc.delivered >= 0 {
				want = t0.Add(time.Duration(tc.delivered) * time.Minute)
			}
			if !o.deliveredAt.Equal(want) {
				t.Errorf("deliveredAt = %v, want %v", o.deliveredAt, want)
			}
			var last time.Time
			for _, e := range tc.events {
				if e.ReceivedAt.After(last) {
					last = e.ReceivedAt
				}
			}
			if !o.lastEvent.Equal(last) {
				t.Errorf("lastEvent = %v, want %v", o.lastEvent, last)
			}
		})
	}
}

// TestOutcomeOfFixture decodes the documented details example: one
// recipient delivered, opened and clicked, the Bcc bounced.
func TestOutcomeOfFixture(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "postmark", "testdata", "fixtures", "message-details.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d postmark.MessageDetails
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	o := outcomeOf(&d, "")
	if o.delivery != state.DeliveryBounced {
		t.Errorf("delivery = %q, want bounced", o.delivery)
	}
	if len(o.bounces) != 1 || o.bounces[0].id != 374814878 || o.bounces[0].email != "badrecipient@example.com" {
		t.Errorf("bounces = %+v, want BounceID 374814878 for badrecipient@example.com", o.bounces)
	}
	if want := time.Date(2014, 2, 14, 16, 21, 2, 805424200, time.UTC); !o.lastEvent.Equal(want) {
		t.Errorf("lastEvent = %v, want %v", o.lastEvent, want)
	}
	// Without the Bcc's bounce, every recipient was reached and one
	// clicked.
	var kept []postmark.MessageEvent
	for _, e := range d.MessageEvents {
		if e.Recipient != "badrecipient@example.com" {
			kept = append(kept, e)
		}
	}
	d.MessageEvents = kept
	d.Recipients = []string{"john.doe@yahoo.com"}
	if o := outcomeOf(&d, ""); o.delivery != state.DeliveryClicked {
		t.Errorf("delivery without the bounce = %q, want clicked", o.delivery)
	}
}
