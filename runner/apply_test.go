package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/postmark"
	"github.com/postform/postform/postmark/postmarktest"
	"github.com/postform/postform/state"
	"github.com/postform/postform/state/pebblestate"
)

// recipientsCSV returns a CSV of n recipients r0000@example.com, ….
func recipientsCSV(n int) string {
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&b, "r%05d@example.com,Name %d\n", i, i)
	}
	return b.String()
}

// newsConfig is a plain batch streamed from r.csv.
const newsConfig = `
postmark {
  base_url = env("SIM_URL")
}
runner {
  parallelism = %d
  batch_size  = %d
  rate_limit  = 0
  max_errors  = 0
}
batch "news" {
  for_each = { for r in csvfile("r.csv") : r.email => r }
  from     = "News <news@acme.example>"
  to       = each.value.email
  subject  = "Hello ${each.value.name}"
  text     = "Hi ${each.value.name}, here is the news."
  tag      = "news"
}
`

// evaluate loads a configuration from an in-memory directory.
func evaluate(t *testing.T, files map[string]string, env map[string]string) *config.Evaluated {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	p := config.NewParser(fsys)
	cfg, diags := p.LoadConfig()
	if diags.HasErrors() {
		t.Fatalf("loading: %v", diags)
	}
	ev, diags := cfg.Evaluate(config.Inputs{Env: env})
	if diags.HasErrors() {
		t.Fatalf("evaluating: %v", diags)
	}
	return ev
}

type fixture struct {
	sim *postmarktest.Server
	pm  *postmark.Client
	st  state.Store
	ev  *config.Evaluated
}

func newFixture(t *testing.T, n, parallelism, batchSize int, simOpts postmarktest.Options) *fixture {
	t.Helper()
	sim := postmarktest.NewServer(t, simOpts)
	pm, err := postmark.NewClient(sim.Token(), postmark.WithBaseURL(sim.URL()))
	if err != nil {
		t.Fatal(err)
	}
	st, err := pebblestate.Open(context.Background(), t.TempDir()+"/state", pebblestate.Options{Target: "simulator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ev := evaluate(t, map[string]string{
		"main.pf.hcl": fmt.Sprintf(newsConfig, parallelism, batchSize),
		"r.csv":       recipientsCSV(n),
	}, map[string]string{"SIM_URL": sim.URL()})
	return &fixture{sim: sim, pm: pm, st: st, ev: ev}
}

// fastOptions shrink delays so fault tests run in seconds.
func fastOptions() ApplyOptions {
	return ApplyOptions{
		ReconcileGrace: 300 * time.Millisecond,
		MaxAttempts:    40,
		BackoffBase:    5 * time.Millisecond,
		BackoffMax:     40 * time.Millisecond,
		MaxPasses:      20,
	}
}

// assertExactlyOnce checks the simulator's log against the n recipients:
// each accepted once, none missing, and state agrees.
func (f *fixture) assertExactlyOnce(t *testing.T, n int) {
	t.Helper()
	byTo := map[string]int{}
	byPFID := map[string]int{}
	for _, m := range f.sim.Accepted() {
		byTo[m.To]++
		byPFID[m.Metadata[PFIDKey]]++
	}
	for to, c := range byTo {
		if c > 1 {
			t.Errorf("%s accepted %d times", to, c)
		}
	}
	for id, c := range byPFID {
		if id == "" {
			t.Errorf("%d accepted messages carry no pf_id", c)
		} else if c > 1 {
			t.Errorf("pf_id %s accepted %d times", id, c)
		}
	}
	for i := range n {
		if to := fmt.Sprintf("r%05d@example.com", i); byTo[to] == 0 {
			t.Errorf("%s never accepted", to)
		}
	}
	if len(byTo) != n {
		t.Errorf("simulator accepted %d distinct recipients, want %d", len(byTo), n)
	}
	counts, err := f.st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts.ByStatus[state.StatusSent] != n || counts.Total != n {
		t.Errorf("state: %d sent of %d records, want %d sent: %v", counts.ByStatus[state.StatusSent], counts.Total, n, counts.ByStatus)
	}
	// Every MessageID in state is one the simulator issued.
	issued := map[string]bool{}
	for _, m := range f.sim.Accepted() {
		issued[m.MessageID] = true
	}
	err = state.Each(context.Background(), f.st, state.Filter{}, func(r state.Record) error {
		if !issued[r.MessageID] {
			t.Errorf("%s: state has MessageID %q which the simulator never issued", r.Address, r.MessageID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestApplySendsEveryMessageOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1234, 4, 100, postmarktest.Options{Seed: 1})
	sum, err := Apply(context.Background(), f.ev, f.st, f.pm, fastOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 1234 || sum.Failed != 0 || sum.Unsent != 0 || sum.Uncertain != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if got := f.sim.Stats().RequestsByEndpoint["POST /email/batch"]; got != 13 {
		t.Errorf("requests = %d, want ceil(1234/100) = 13", got)
	}
	if peak := f.sim.Stats().PeakConcurrency; peak > 4 {
		t.Errorf("peak concurrency %d exceeds parallelism 4", peak)
	}
	f.assertExactlyOnce(t, 1234)

	// A second apply finds everything sent and sends nothing.
	sum, err = Apply(context.Background(), f.ev, f.st, f.pm, fastOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 0 || sum.Plan.Sent != 1234 {
		t.Fatalf("second apply: %+v", sum)
	}
	f.assertExactlyOnce(t, 1234)
}

// TestApplyExactlyOnceUnderFaults is invariant (a) of the apply issue: with
// 10% 429, 5% 500, 5% 503 and 3% accepted-then-dropped (plus search lag),
// every message is accepted exactly once; the simulator's log is the judge.
func TestApplyExactlyOnceUnderFaults(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 2000, 4, 20, postmarktest.Options{
				Seed:             seed,
				Rate429:          0.10,
				Rate500:          0.03,
				Rate500Accepted:  0.02,
				Rate503:          0.05,
				RateAcceptedDrop: 0.03,
				SearchLag:        100 * time.Millisecond,
			})
			sum, err := Apply(context.Background(), f.ev, f.st, f.pm, fastOptions(), nil)
			if err != nil {
				t.Fatal(err)
			}
			faults := f.sim.Stats().Faults
			t.Logf("summary: sent %d, adopted %d, resent %d, requests %d; faults %v", sum.Sent, sum.Adopted, sum.Resent, sum.Requests, faults)
			if sum.Unsent != 0 || sum.Uncertain != 0 || sum.Failed != 0 {
				t.Fatalf("run left work: %+v", sum)
			}
			if sum.Adopted == 0 || sum.Resent == 0 {
				t.Errorf("faults did not exercise reconciliation (adopted %d, resent %d)", sum.Adopted, sum.Resent)
			}
			f.assertExactlyOnce(t, 2000)
		})
	}
}

// TestApplyReconcilesLeftovers simulates a crash: state holds "sending"
// rows, some of which Postmark accepted before the crash. Apply adopts
// those without resending and sends the rest.
func TestApplyReconcilesLeftovers(t *testing.T) {
	t.Parallel()
	const n = 300
	f := newFixture(t, n, 2, 50, postmarktest.Options{Seed: 7})
	ctx := context.Background()
	// The first 100 messages were recorded as "sending" an hour ago; 60
	// of them reached Postmark before the crash, the other 40 never left.
	simulateCrash(t, f, 100, 60, time.Now().Add(-time.Hour))

	var reconciling int
	hook := &countingHook{onReconcile: func(n int) { reconciling += n }}
	sum, err := Apply(ctx, f.ev, f.st, f.pm, fastOptions(), hook)
	if err != nil {
		t.Fatal(err)
	}
	if reconciling != 100 || sum.Adopted != 60 || sum.Resent != 40 {
		t.Errorf("reconciling %d, adopted %d, resent %d; want 100, 60, 40", reconciling, sum.Adopted, sum.Resent)
	}
	if sum.Sent != n-60 {
		t.Errorf("sent %d, want %d", sum.Sent, n-60)
	}
	f.assertExactlyOnce(t, n)
}

type countingHook struct {
	NopHook
	mu          sync.Mutex
	onReconcile func(int)
	results     []MessageResult
}

func (h *countingHook) Reconciling(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.onReconcile != nil {
		h.onReconcile(n)
	}
}

func (h *countingHook) MessageResult(r MessageResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.results = append(h.results, r)
}

// TestApplyRecordsPerItemFailures is (c): a per-item 406 inside HTTP 200
// is recorded for that message and not retried; its neighbours are sent.
func TestApplyRecordsPerItemFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 50, 1, 50, postmarktest.Options{Seed: 3})
	f.sim.Suppress("outbound", "r00007@example.com")
	f.sim.Suppress("outbound", "r00031@example.com")
	ctx := context.Background()
	sum, err := Apply(ctx, f.ev, f.st, f.pm, fastOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 48 || sum.Failed != 2 || sum.FailedBy["406 inactive recipient"] != 2 {
		t.Fatalf("summary: %+v", sum)
	}
	if got := f.sim.Stats().RequestsByEndpoint["POST /email/batch"]; got != 1 {
		t.Errorf("requests = %d, want 1 (no retry of a permanent per-item failure)", got)
	}
	r, err := f.st.Get(ctx, `batch.news["r00007@example.com"]`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != state.StatusFailed || r.ErrorCode != 406 || r.MessageID != "" {
		t.Errorf("record %+v", r)
	}
	// The next apply does not try again: same content, refused before.
	sum, err = Apply(ctx, f.ev, f.st, f.pm, fastOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Plan.Failed != 2 || sum.Sent != 0 {
		t.Errorf("second apply: %+v", sum)
	}
	if got := f.sim.Stats().RequestsByEndpoint["POST /email/batch"]; got != 1 {
		t.Errorf("second apply made requests: %d", got)
	}
}

// TestApplyStopsOnAuthFailure is (d): a 401 stops the run; nothing is sent.
func TestApplyStopsOnAuthFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 500, 4, 10, postmarktest.Options{Seed: 4})
	bad, err := postmark.NewClient("not-the-token", postmark.WithBaseURL(f.sim.URL()))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Apply(context.Background(), f.ev, f.st, bad, fastOptions(), nil)
	var fatal *FatalError
	if !errors.As(err, &fatal) || !postmark.IsAuth(err) {
		t.Fatalf("err = %v, want a fatal 401", err)
	}
	if strings.Contains(err.Error(), "not-the-token") {
		t.Errorf("error leaks the token: %v", err)
	}
	if n := f.sim.AcceptedCount(); n != 0 {
		t.Errorf("simulator accepted %d messages", n)
	}
	reqs := f.sim.Stats().RequestsByEndpoint["POST /email/batch"]
	if reqs > 4 {
		t.Errorf("%d requests after the first 401; want at most the %d already in flight", reqs, 4)
	}
	if sum.Sent != 0 || sum.Stopped == "" {
		t.Errorf("summary %+v", sum)
	}
	counts, _ := f.st.Counts(context.Background())
	if counts.ByStatus[state.StatusSent] != 0 || counts.ByStatus[state.StatusSending] != 0 || counts.ByStatus[state.StatusUncertain] != 0 {
		t.Errorf("state after 401: %v", counts.ByStatus)
	}
}

// failingStore fails every Put after the first okPuts.
type failingStore struct {
	state.Store
	okPuts int32
	puts   atomic.Int32
}

var errDisk = errors.New("disk full")

func (s *failingStore) Put(ctx context.Context, recs []state.Record) error {
	if s.puts.Add(1) > s.okPuts {
		return errDisk
	}
	return s.Store.Put(ctx, recs)
}

// TestApplyStopsWhenStateCannotBeWritten is (e): when the "sending" record
// cannot be committed, the request never leaves and the run stops.
func TestApplyStopsWhenStateCannotBeWritten(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 400, 1, 20, postmarktest.Options{Seed: 5})
	fs := &failingStore{Store: f.st, okPuts: 5} // sending+result for 2 batches, then the 3rd sending commit
	sum, err := Apply(context.Background(), f.ev, fs, f.pm, fastOptions(), nil)
	var se *StateError
	if !errors.As(err, &se) || !errors.Is(err, errDisk) {
		t.Fatalf("err = %v, want a state write error", err)
	}
	// Five commits succeed: the sending and result commits of batches 1
	// and 2 and the sending commit of batch 3, in an order that depends on
	// timing (two workers: batch 3's sending commit may come before or after
	// batch 2's result). So batches 1 and 2 were sent, batch 3 was sent if
	// its slot came before the run stopped, and nothing after it: a batch
	// whose sending commit failed never left.
	if n := f.sim.AcceptedCount(); n != 40 && n != 60 {
		t.Errorf("simulator accepted %d, want 40 or 60", n)
	}
	recorded := map[string]bool{}
	_ = state.Each(context.Background(), f.st, state.Filter{}, func(r state.Record) error {
		recorded[r.PFID] = true
		return nil
	})
	for _, m := range f.sim.Accepted() {
		if !recorded[m.Metadata[PFIDKey]] {
			t.Errorf("%s was accepted but never recorded in state", m.To)
		}
	}
	if sum.Stopped == "" {
		t.Errorf("summary does not say the run stopped: %+v", sum)
	}
}

func TestPacerHalvesAndRecovers(t *testing.T) {
	now := time.Unix(0, 0)
	p := newPacer(40, 4)
	p.now = func() time.Time { return now }
	p.Throttled()
	if got := float64(p.Limit()); got != 20 {
		t.Fatalf("after one 429: %v, want 20", got)
	}
	p.Throttled() // within the cool-down: counts once
	if got := float64(p.Limit()); got != 20 {
		t.Fatalf("second 429 in the same second: %v, want 20", got)
	}
	now = now.Add(2 * time.Second)
	p.Throttled()
	if got := float64(p.Limit()); got != 10 {
		t.Fatalf("after another 429: %v, want 10", got)
	}
	for range 100 {
		p.Succeeded()
	}
	if got := float64(p.Limit()); got != 40 {
		t.Fatalf("recovered to %v, want the ceiling 40", got)
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 20; attempt++ {
		d := backoff(attempt, 100*time.Millisecond, 2*time.Second)
		if d < 50*time.Millisecond || d > 2*time.Second {
			t.Fatalf("attempt %d: %v out of bounds", attempt, d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("backoff shows little jitter: %d distinct delays in 20", len(seen))
	}
}

func TestPFIDIsShortStableAndGenerational(t *testing.T) {
	a := pfID("lin", `batch.x["a"]`, "")
	if a != pfID("lin", `batch.x["a"]`, "") {
		t.Fatal("pf_id not stable")
	}
	if len(a) > 80 || len(a) < 20 {
		t.Fatalf("pf_id length %d", len(a))
	}
	for _, other := range []string{pfID("lin2", `batch.x["a"]`, ""), pfID("lin", `batch.x["b"]`, ""), pfID("lin", `batch.x["a"]`, "msg-1")} {
		if other == a {
			t.Fatal("pf_id collides across lineage, address or generation")
		}
	}
}

// TestReconcileFindsAcceptedMessagesInBulk: after a crash, messages that
// share a tag are looked up by tag and time window, so each accepted one
// costs no search of its own; only those not found are searched by pf_id.
func TestReconcileFindsAcceptedMessagesInBulk(t *testing.T) {
	t.Parallel()
	const n = 300
	f := newFixture(t, n, 2, 50, postmarktest.Options{Seed: 8})
	ctx := context.Background()
	simulateCrash(t, f, 200, 150, time.Now())
	sum, err := Apply(ctx, f.ev, f.st, f.pm, fastOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Adopted != 150 || sum.Resent != 50 {
		t.Errorf("adopted %d, resent %d; want 150, 50", sum.Adopted, sum.Resent)
	}
	searches := f.sim.Stats().RequestsByEndpoint["GET /messages/outbound"]
	// One bulk page per round, and the 50 unsent ones searched by pf_id
	// (once, then again after the grace period).
	if searches > 2+2*50 {
		t.Errorf("%d searches; the 150 accepted messages should have been found in bulk", searches)
	}
	t.Logf("%d searches for 200 uncertain messages", searches)
	f.assertExactlyOnce(t, n)
}

// simulateCrash leaves state as a crash would: the first recorded messages
// of the plan are "sending" with attempts at the given time, and the first
// accepted of them were really accepted by the simulator.
func simulateCrash(t *testing.T, f *fixture, recorded, accepted int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	meta, err := f.st.Meta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := newWalker(f.ev, f.st, meta.Lineage, PlanOptions{}, NopHook{})
	var recs []state.Record
	var wire []postmark.Message
	err = w.walk(ctx, func(d *decision) error {
		if len(recs) == recorded {
			return nil
		}
		r := state.Record{Address: d.entry.Address, Batch: d.entry.Batch, Key: d.entry.Key, Stream: d.p.stream, Tag: d.p.tag,
			Digest: d.p.digest, PFID: pfID(meta.Lineage, d.entry.Address, ""), Status: state.StatusSending,
			Attempts: 1, FirstAttemptAt: at, LastAttemptAt: at}
		d.p.setPFID(r.PFID)
		recs = append(recs, r)
		if len(wire) < accepted {
			wire = append(wire, *d.p.plain)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for len(wire) > 0 {
		n := min(len(wire), 100)
		if _, err := f.pm.SendBatch(ctx, wire[:n]); err != nil {
			t.Fatal(err)
		}
		wire = wire[n:]
	}
}
