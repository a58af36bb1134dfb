package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/postform/postform/config"
	"github.com/postform/postform/postmark"
	"github.com/postform/postform/state"
)

// ApplyOptions steer an apply. Zero values take the configuration's or the
// documented defaults.
type ApplyOptions struct {
	PlanOptions

	// Parallelism overrides runner.parallelism when > 0.
	Parallelism int
	// ReconcileGrace is how long after an attempt a "not found" answer from
	// the outbound search is trusted to mean "not accepted" (Postmark's
	// search lags acceptance). Default 2 minutes.
	ReconcileGrace time.Duration
	// MaxAttempts bounds the attempts per message for retryable
	// rejections (429, 503, refused connection) within one run. Default 8.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the retry delays (defaults 500 ms
	// and 30 s).
	BackoffBase, BackoffMax time.Duration
	// MaxPasses bounds how many times one run resends messages that
	// reconciliation proved unsent. Default 5.
	MaxPasses int
	// Abort, when closed, cancels requests in flight (a second Ctrl-C).
	// Cancelling ctx only stops new work: requests in flight finish and are
	// recorded.
	Abort <-chan struct{}
	// ExpectedTotal is the number of messages the caller's plan said would
	// be sent, for progress; 0 when unknown.
	ExpectedTotal int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// FatalError stops a whole run: the token was refused, the account may not
// send, or a request is malformed in a way every request would be.
type FatalError struct {
	Err error
}

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// StateError is a failure to read or write state. The run stops: nothing
// may be sent that could not be recorded.
type StateError struct {
	Op  string
	Err error
}

func (e *StateError) Error() string { return "state " + e.Op + ": " + e.Err.Error() }
func (e *StateError) Unwrap() error { return e.Err }

// ErrMaxErrors stops a run whose permanent failures exceeded max_errors.
var ErrMaxErrors = errors.New("too many permanent failures (runner.max_errors reached); the run was stopped")

// SendWindowError refuses a run outside runner.send_window.
type SendWindowError struct {
	Now                 time.Time
	NotBefore, NotAfter time.Time
}

func (e *SendWindowError) Error() string {
	if !e.NotBefore.IsZero() && e.Now.Before(e.NotBefore) {
		return fmt.Sprintf("outside the send window: it opens at %s (now %s); nothing was sent", e.NotBefore.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("outside the send window: it closed at %s (now %s); nothing was sent", e.NotAfter.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
}

// Apply sends every message the plan marks for sending, exactly once, and
// records each outcome in st. It returns a summary even when it also returns
// an error (a fatal condition or a stop).
func Apply(ctx context.Context, ev *config.Evaluated, st state.Store, pm *postmark.Client, opts ApplyOptions, h Hook) (*RunSummary, error) {
	if h == nil {
		h = NopHook{}
	}
	a, err := newApplier(ctx, ev, st, pm, opts, h)
	if err != nil {
		return &RunSummary{FailedBy: map[string]int{}}, err
	}
	defer a.release()
	err = a.run(ctx)
	return a.summary(), err
}

type applier struct {
	ev      *config.Evaluated
	st      state.Store
	pm      *postmark.Client
	opts    ApplyOptions
	h       Hook
	lineage string
	pacer   *pacer
	now     func() time.Time
	start   time.Time

	// hard is the context of HTTP requests: cancelled only by Abort, so a
	// soft stop lets requests in flight finish and be recorded.
	hard    context.Context
	release context.CancelFunc

	parallelism int
	batchSize   int
	maxErrors   int

	mu        sync.Mutex
	sum       RunSummary
	prog      Progress
	uncertain map[string]bool // addresses left uncertain by this pass
	slots     chan struct{}   // request slots: at most parallelism requests in flight
	halt      atomic.Bool     // a run-fatal answer arrived: start no new request
}

func newApplier(ctx context.Context, ev *config.Evaluated, st state.Store, pm *postmark.Client, opts ApplyOptions, h Hook) (*applier, error) {
	a := &applier{ev: ev, st: st, pm: pm, opts: opts, h: h, now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	if a.opts.ReconcileGrace <= 0 {
		a.opts.ReconcileGrace = 2 * time.Minute
	}
	if a.opts.MaxAttempts <= 0 {
		a.opts.MaxAttempts = 8
	}
	if a.opts.BackoffBase <= 0 {
		a.opts.BackoffBase = 500 * time.Millisecond
	}
	if a.opts.BackoffMax <= 0 {
		a.opts.BackoffMax = 30 * time.Second
	}
	if a.opts.MaxPasses <= 0 {
		a.opts.MaxPasses = 5
	}
	a.parallelism = ev.Runner.Parallelism
	if opts.Parallelism > 0 {
		a.parallelism = opts.Parallelism
	}
	a.parallelism = max(a.parallelism, 1)
	a.batchSize = ev.Runner.BatchSize
	if a.batchSize <= 0 || a.batchSize > 500 {
		a.batchSize = 500
	}
	a.maxErrors = ev.Runner.MaxErrors
	a.slots = make(chan struct{}, a.parallelism)
	a.pacer = newPacer(ev.Runner.RateLimit, a.parallelism)
	a.sum.FailedBy = map[string]int{}
	a.start = a.now()

	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.hard = hard
	stopWatch := make(chan struct{})
	a.release = func() { close(stopWatch); cancel() }
	if opts.Abort != nil {
		go func() {
			select {
			case <-opts.Abort:
				cancel()
			case <-stopWatch:
			}
		}()
	}

	meta, err := st.Meta(ctx)
	if err != nil {
		a.release()
		return nil, &StateError{Op: "read", Err: err}
	}
	a.lineage = meta.Lineage
	if w := ev.Runner.SendWindow; w != nil {
		now := a.now()
		if (!w.NotBefore.IsZero() && now.Before(w.NotBefore)) || (!w.NotAfter.IsZero() && now.After(w.NotAfter)) {
			a.release()
			return nil, &SendWindowError{Now: now, NotBefore: w.NotBefore, NotAfter: w.NotAfter}
		}
	}
	return a, nil
}

func (a *applier) summary() *RunSummary {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sum
	s.Elapsed = a.now().Sub(a.start)
	s.Requests = a.prog.Requests
	return &s
}

func (a *applier) run(ctx context.Context) error {
	// A crash or an earlier ambiguous outcome may have left messages whose
	// fate is unknown: settle them before anything could be sent twice.
	leftovers, err := a.collect(ctx, state.Filter{Statuses: []state.Status{state.StatusSending, state.StatusUncertain}})
	if err != nil {
		return err
	}
	if len(leftovers) > 0 {
		a.h.Reconciling(len(leftovers))
		if err := a.reconcile(ctx, leftovers); err != nil {
			return err
		}
	}

	a.prog.Total = a.opts.ExpectedTotal
	var only map[string]bool
	for pass := 1; ; pass++ {
		a.mu.Lock()
		a.uncertain = map[string]bool{}
		a.mu.Unlock()

		if err := a.sendPass(ctx, pass, only); err != nil {
			return err
		}
		if ctx.Err() != nil {
			a.stopped("interrupted")
			break
		}
		a.mu.Lock()
		n := len(a.uncertain)
		a.mu.Unlock()
		if n == 0 {
			break
		}
		recs, err := a.collect(ctx, state.Filter{Statuses: []state.Status{state.StatusUncertain}})
		if err != nil {
			return err
		}
		a.h.Reconciling(len(recs))
		if err := a.reconcile(ctx, recs); err != nil {
			return err
		}
		if ctx.Err() != nil {
			a.stopped("interrupted")
			break
		}
		if pass >= a.opts.MaxPasses {
			break
		}
		// Resend what reconciliation proved was not accepted.
		unsent, err := a.collect(ctx, state.Filter{Statuses: []state.Status{state.StatusUnsent}})
		if err != nil {
			return err
		}
		only = map[string]bool{}
		for _, r := range unsent {
			only[r.Address] = true
		}
		if len(only) == 0 {
			break
		}
	}
	return a.finish(ctx)
}

// finish counts what is left unsettled for the summary.
func (a *applier) finish(ctx context.Context) error {
	left, err := a.collect(context.WithoutCancel(ctx), state.Filter{Statuses: []state.Status{state.StatusUncertain, state.StatusSending}})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.sum.Uncertain = len(left)
	a.mu.Unlock()
	return nil
}

func (a *applier) stopped(reason string) {
	a.mu.Lock()
	if a.sum.Stopped == "" {
		a.sum.Stopped = reason
	}
	a.mu.Unlock()
}

// collect reads every record matching f. Used for the (small) sets of
// unsettled messages, which the store finds through its unsettled index.
func (a *applier) collect(ctx context.Context, f state.Filter) ([]state.Record, error) {
	var out []state.Record
	err := state.Each(ctx, a.st, f, func(r state.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, &StateError{Op: "read", Err: err}
	}
	return out, nil
}

// item is one message of a request together with its state row.
type item struct {
	p   *payload
	rec state.Record
}

// sendPass walks the configuration once and sends every message the plan
// marks for sending (restricted to only when set), in requests of up to
// batch_size messages with at most parallelism requests in flight.
func (a *applier) sendPass(ctx context.Context, pass int, only map[string]bool) error {
	g, gctx := errgroup.WithContext(ctx)
	// Twice as many workers as request slots: while one worker commits a
	// response, another can have its request on the wire.
	g.SetLimit(2 * a.parallelism)

	w := newWalker(a.ev, a.st, a.lineage, a.opts.PlanOptions, a.h)
	if pass > 1 {
		w.only = only
		w.quiet = true
	} else {
		empty, err := stateIsEmpty(ctx, a.st)
		if err != nil {
			return &StateError{Op: "read", Err: err}
		}
		w.empty = empty
	}
	var plain, tmpl []item
	var plainSize, tmplSize int
	const maxRequestBytes = 45 << 20 // stay well under Postmark's 50 MB per batch call

	dispatch := func(items []item) {
		g.Go(func() error { return a.sendItems(gctx, items, 1) })
	}
	walkErr := w.walk(gctx, func(d *decision) error {
		if pass == 1 {
			a.mu.Lock()
			a.sum.Plan.add(d.entry.Action)
			a.mu.Unlock()
		}
		if d.p == nil || d.entry.Action == ActionReconcile {
			return nil
		}
		it := item{p: d.p, rec: a.newRecord(d)}
		d.p.setPFID(it.rec.PFID)
		if d.p.templated() {
			if len(tmpl) > 0 && (len(tmpl) == a.batchSize || tmplSize+d.p.size > maxRequestBytes) {
				dispatch(tmpl)
				tmpl, tmplSize = nil, 0
			}
			tmpl = append(tmpl, it)
			tmplSize += d.p.size
		} else {
			if len(plain) > 0 && (len(plain) == a.batchSize || plainSize+d.p.size > maxRequestBytes) {
				dispatch(plain)
				plain, plainSize = nil, 0
			}
			plain = append(plain, it)
			plainSize += d.p.size
		}
		return nil
	})
	if walkErr == nil && gctx.Err() == nil {
		if len(plain) > 0 {
			dispatch(plain)
		}
		if len(tmpl) > 0 {
			dispatch(tmpl)
		}
	}
	gerr := g.Wait()
	if gerr != nil {
		if errors.Is(gerr, ErrMaxErrors) {
			a.stopped("max_errors reached")
		} else if !errors.Is(gerr, context.Canceled) {
			a.stopped("error")
		}
		if !errors.Is(gerr, context.Canceled) || ctx.Err() == nil {
			return gerr
		}
	}
	if walkErr != nil && !errors.Is(walkErr, context.Canceled) {
		return walkErr
	}
	return nil
}

// newRecord builds the state row for a message about to be sent, keeping
// what an earlier row knew (first attempt, attempts, pf_id).
func (a *applier) newRecord(d *decision) state.Record {
	r := state.Record{
		Address:    d.entry.Address,
		Batch:      d.entry.Batch,
		Key:        d.entry.Key,
		Recipients: d.p.recipients,
		Stream:     d.p.stream,
		Tag:        d.p.tag,
		Digest:     d.p.digest,
	}
	switch {
	case d.rec == nil:
		r.PFID = pfID(a.lineage, r.Address, "")
	case d.entry.Action == ActionReplace:
		// A new generation: reconciling the replacement must never find
		// the original.
		r.PFID = pfID(a.lineage, r.Address, d.rec.MessageID)
	default:
		// unsent or failed before: nothing carrying this pf_id was
		// accepted, so it stays.
		r.PFID = d.rec.PFID
		r.Attempts = d.rec.Attempts
		r.FirstAttemptAt = d.rec.FirstAttemptAt
		if r.PFID == "" {
			r.PFID = pfID(a.lineage, r.Address, "")
		}
	}
	return r
}

// sendItems sends one request's messages and records the outcome, retrying
// what was provably not accepted. It returns an error only for conditions
// that must stop the whole run.
func (a *applier) sendItems(ctx context.Context, items []item, attempt int) error {
	for {
		if err := a.pacer.Wait(ctx); err != nil {
			return a.leave(items, ctx.Err())
		}
		stamp := func() {
			now := a.now()
			for i := range items {
				r := &items[i].rec
				r.LastAttemptAt = now
				if r.FirstAttemptAt.IsZero() {
					r.FirstAttemptAt = now
				}
			}
		}
		for i := range items {
			r := &items[i].rec
			r.Status = state.StatusSending
			r.Attempts++
			r.ErrorCode, r.ErrorMessage = 0, ""
		}
		stamp()
		// Durable before the wire: if this commit fails, nothing is sent.
		if err := a.put(items); err != nil {
			return err
		}
		// The body is encoded before taking a request slot too, so a slot is
		// held only while a request is on the wire.
		pb, perr := a.prepare(items)
		// A request slot bounds the requests in flight to parallelism. The
		// commit above happens before taking one.
		select {
		case a.slots <- struct{}{}:
		case <-ctx.Done():
			pb.Release()
			// Stopping: these never left. Say so, rather than leave them
			// for the next apply to reconcile.
			if err := a.markUnsent(items, ctx.Err()); err != nil {
				return err
			}
			return a.leave(items, ctx.Err())
		}
		if a.halt.Load() {
			<-a.slots
			pb.Release()
			if err := a.markUnsent(items, context.Canceled); err != nil {
				return err
			}
			return a.leave(items, nil) // the worker that halted the run reports why
		}
		if a.now().Sub(items[0].rec.LastAttemptAt) > a.opts.ReconcileGrace/10 {
			// Reconciliation counts its grace period from the recorded
			// attempt time: keep it close to when the request leaves.
			stamp()
			if err := a.put(items); err != nil {
				<-a.slots
				pb.Release()
				return err
			}
		}
		var results []postmark.SendResult
		err := perr
		if perr == nil {
			results, err = a.pm.SendPrepared(a.hard, pb)
		}
		if err != nil && postmark.Classify(err) == postmark.ClassRejected && !postmark.IsRetryable(err) && !tooLarge(err) {
			// About to stop the run: make sure no worker starts another
			// request with the slot this one gives back.
			a.halt.Store(true)
		}
		<-a.slots
		a.count(func(p *Progress) { p.Requests++ })
		if err != nil && a.hard.Err() != nil {
			// Aborted (second Ctrl-C): record what is known and stop at once.
			a.stopped("aborted")
			if postmark.Classify(err) == postmark.ClassAmbiguous {
				if err := a.markUncertain(items, err); err != nil {
					return err
				}
			} else if err := a.markUnsent(items, err); err != nil {
				return err
			}
			return a.hard.Err()
		}

		switch postmark.Classify(err) {
		case postmark.ClassAccepted:
			a.pacer.Succeeded()
			retry, err := a.recordResults(items, results)
			if err != nil {
				return err
			}
			if len(retry) == 0 {
				return nil
			}
			items = retry
		case postmark.ClassAmbiguous:
			a.pacer.Succeeded()
			return a.markUncertain(items, err)
		default: // rejected: nothing was accepted
			var apiErr *postmark.APIError
			isAPI := errors.As(err, &apiErr)
			if isAPI && apiErr.StatusCode == http.StatusTooManyRequests {
				a.pacer.Throttled()
			}
			if isAPI && apiErr.StatusCode == http.StatusRequestEntityTooLarge && len(items) > 1 {
				if err := a.markUnsent(items, err); err != nil {
					return err
				}
				half := len(items) / 2
				if err := a.sendItems(ctx, items[:half], attempt); err != nil {
					return err
				}
				return a.sendItems(ctx, items[half:], attempt)
			}
			if !postmark.IsRetryable(err) {
				if isAPI && apiErr.StatusCode == http.StatusRequestEntityTooLarge {
					// A single message over the limit: permanent for it.
					_, err := a.recordResults(items, []postmark.SendResult{{ErrorCode: 413, Message: apiErr.Message}})
					return err
				}
				if merr := a.markUnsent(items, err); merr != nil {
					return merr
				}
				return &FatalError{Err: err}
			}
			if err := a.markUnsent(items, err); err != nil {
				return err
			}
		}
		attempt++
		if attempt > a.opts.MaxAttempts {
			_ = a.leave(items, nil)
			return nil
		}
		a.count(func(p *Progress) { p.Retried += len(items) })
		if !sleep(ctx, backoff(attempt-1, a.opts.BackoffBase, a.opts.BackoffMax)) {
			return a.leave(items, ctx.Err())
		}
	}
}

// leave gives up on items for this run: retries are exhausted, the run is
// stopping, or it was halted. State already has them as absent or unsent;
// they count as unsent in the summary.
func (a *applier) leave(items []item, err error) error {
	a.mu.Lock()
	a.sum.Unsent += len(items)
	a.mu.Unlock()
	for _, it := range items {
		if it.rec.Status == state.StatusUnsent {
			a.h.MessageResult(MessageResult{Address: it.rec.Address, Outcome: OutcomeUnsent, Attempts: it.rec.Attempts, ErrorCode: it.rec.ErrorCode, Error: it.rec.ErrorMessage})
		}
	}
	return err
}

// prepare encodes the request for items, which are all plain or all
// templated. A failure is the request's outcome (nothing was sent).
func (a *applier) prepare(items []item) (*postmark.PreparedBatch, error) {
	if items[0].p.templated() {
		ms := make([]postmark.TemplatedMessage, len(items))
		for i, it := range items {
			ms[i] = *it.p.tmpl
		}
		return a.pm.PrepareBatchWithTemplates(ms)
	}
	ms := make([]postmark.Message, len(items))
	for i, it := range items {
		ms[i] = *it.p.plain
	}
	return a.pm.PrepareBatch(ms)
}

// put commits the items' records in one transaction. The state write is
// never cancelled by an interrupt: what happened must be recorded.
func (a *applier) put(items []item) error {
	recs := make([]state.Record, len(items))
	for i, it := range items {
		recs[i] = it.rec
	}
	if err := a.st.Put(context.WithoutCancel(a.hard), recs); err != nil {
		return &StateError{Op: "write", Err: err}
	}
	return nil
}

// permanentItemCodes are per-item ErrorCodes that will not change by
// retrying the same message.
var permanentItemCodes = map[int]bool{
	300: true, 402: true, 403: true, 406: true, 411: true, 413: true,
	1101: true, 1109: true, 1120: true, 1121: true, 1122: true, 1123: true,
	1235: true, 1236: true,
}

// fatalItemCodes are per-item ErrorCodes that mean the account cannot send
// at all (405: not allowed to send / out of credits; 412: pending
// approval; 10: token): stop the run.
var fatalItemCodes = map[int]bool{10: true, 405: true, 412: true, 1480: true}

// recordResults commits a 200 response in one transaction and returns the
// items to retry (per-item codes that are neither accepted nor permanent).
func (a *applier) recordResults(items []item, results []postmark.SendResult) ([]item, error) {
	var retry []item
	var fatal error
	var failed, sent int
	outcomes := make([]MessageResult, 0, len(items))
	for i := range items {
		r := &items[i].rec
		res := results[i]
		switch {
		case res.ErrorCode == 0 && res.MessageID != "":
			r.Status = state.StatusSent
			r.MessageID = res.MessageID
			r.SubmittedAt = res.SubmittedAt.UTC()
			if r.SubmittedAt.IsZero() {
				r.SubmittedAt = a.now().UTC()
			}
			r.Delivery = state.DeliveryPending
			r.BounceType, r.BounceID, r.Inactive = "", 0, false
			r.DeliveredAt, r.LastEventAt, r.CheckedAt = time.Time{}, time.Time{}, time.Time{}
			sent++
			outcomes = append(outcomes, MessageResult{Address: r.Address, Outcome: OutcomeSent, MessageID: r.MessageID, Attempts: r.Attempts})
		case permanentItemCodes[res.ErrorCode]:
			r.Status = state.StatusFailed
			r.ErrorCode, r.ErrorMessage = res.ErrorCode, res.Message
			failed++
			outcomes = append(outcomes, MessageResult{Address: r.Address, Outcome: OutcomeFailed, ErrorCode: r.ErrorCode, Error: r.ErrorMessage, Attempts: r.Attempts})
		default:
			r.Status = state.StatusUnsent
			r.ErrorCode, r.ErrorMessage = res.ErrorCode, res.Message
			if fatalItemCodes[res.ErrorCode] && fatal == nil {
				fatal = &FatalError{Err: fmt.Errorf("postmark refused %s with ErrorCode %d: %s", r.Address, res.ErrorCode, res.Message)}
			}
			retry = append(retry, items[i])
		}
	}
	if err := a.put(items); err != nil {
		return nil, err
	}
	for _, o := range outcomes {
		a.h.MessageResult(o)
	}
	a.mu.Lock()
	a.sum.Sent += sent
	a.sum.Failed += failed
	for _, o := range outcomes {
		if o.Outcome == OutcomeFailed {
			a.sum.FailedBy[failureReason(o.ErrorCode, o.Error)]++
		}
	}
	totalFailed := a.sum.Failed
	a.mu.Unlock()
	a.count(func(p *Progress) { p.Sent += sent; p.Failed += failed })
	if fatal != nil {
		_ = a.leave(retry, nil)
		return nil, fatal
	}
	if a.maxErrors > 0 && totalFailed >= a.maxErrors {
		_ = a.leave(retry, nil)
		return nil, ErrMaxErrors
	}
	return retry, nil
}

// markUncertain records an ambiguous outcome: reconcile before any resend.
func (a *applier) markUncertain(items []item, cause error) error {
	for i := range items {
		items[i].rec.Status = state.StatusUncertain
		items[i].rec.ErrorCode, items[i].rec.ErrorMessage = errorCode(cause), cause.Error()
	}
	if err := a.put(items); err != nil {
		return err
	}
	a.mu.Lock()
	for _, it := range items {
		a.uncertain[it.rec.Address] = true
	}
	a.mu.Unlock()
	a.count(func(p *Progress) { p.Uncertain += len(items) })
	return nil
}

// markUnsent records a response that proved nothing was accepted.
func (a *applier) markUnsent(items []item, cause error) error {
	for i := range items {
		items[i].rec.Status = state.StatusUnsent
		items[i].rec.ErrorCode, items[i].rec.ErrorMessage = errorCode(cause), cause.Error()
	}
	return a.put(items)
}

func errorCode(err error) int {
	var apiErr *postmark.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return 0
}

func (a *applier) count(f func(p *Progress)) {
	a.mu.Lock()
	f(&a.prog)
	a.prog.Elapsed = a.now().Sub(a.start)
	p := a.prog
	a.mu.Unlock()
	a.h.Progress(p)
}

// failureReason groups failures for the summary.
func failureReason(code int, msg string) string {
	switch code {
	case 406:
		return "406 inactive recipient"
	case 300:
		return "300 invalid email request"
	case 411:
		return "411 attachment type not allowed"
	case 413:
		return "413 message too large"
	case 1101:
		return "1101 template not found"
	}
	if code == 0 {
		return "error: " + msg
	}
	return strconv.Itoa(code) + " " + truncate(msg, 60)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// settle records a reconciliation verdict.
func (a *applier) settle(r state.Record, found *postmark.OutboundMessage, dups int) error {
	var res MessageResult
	if found != nil {
		r.Status = state.StatusSent
		r.MessageID = found.MessageID
		r.SubmittedAt = found.ReceivedAt.UTC()
		r.Delivery = state.DeliveryPending
		r.ErrorCode, r.ErrorMessage = 0, ""
		r.Duplicates = dups
		res = MessageResult{Address: r.Address, Outcome: OutcomeAdopted, MessageID: r.MessageID, Attempts: r.Attempts}
	} else {
		r.Status = state.StatusUnsent
		res = MessageResult{Address: r.Address, Outcome: OutcomeResend, Attempts: r.Attempts}
	}
	if err := a.st.Put(context.WithoutCancel(a.hard), []state.Record{r}); err != nil {
		return &StateError{Op: "write", Err: err}
	}
	a.mu.Lock()
	if found != nil {
		a.sum.Adopted++
		a.sum.Duplicates += dups
	} else {
		a.sum.Resent++
	}
	a.mu.Unlock()
	if dups > 0 {
		a.h.Warn(fmt.Sprintf("%s: Postmark holds %d copies with the same pf_id; adopted the oldest (%s)", r.Address, dups+1, r.MessageID))
	}
	a.h.MessageResult(res)
	if found != nil {
		a.count(func(p *Progress) { p.Sent++ })
	}
	return nil
}

// tooLarge reports a 413: the request is split, not the run stopped.
func tooLarge(err error) bool {
	var apiErr *postmark.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusRequestEntityTooLarge
}
