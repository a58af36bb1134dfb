package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/postform/postform/postmark"
	"github.com/postform/postform/state"
)

// DetailsMode says which messages Refresh polls one by one with
// GET /messages/outbound/{id}/details. Every mode first sweeps the bounce
// list (GET /bounces, 500 bounces per call), which settles bounced
// messages in bulk.
type DetailsMode string

const (
	// DetailsAll (the default) polls the details of every message that
	// the sweep did not find bounced. It is the only mode that learns
	// about deliveries, deferrals and engagement: one call per message and
	// round.
	DetailsAll DetailsMode = "all"
	// DetailsBouncedOnly polls the details of the messages the sweep found
	// bounced, to record the events of their other recipients and their
	// event times. Messages without a bounce stay pending: the absence of a
	// bounce is not a delivery.
	DetailsBouncedOnly DetailsMode = "bounced-only"
	// DetailsNone only sweeps: bounced messages are settled from the
	// bounce list, every other message stays pending. It is the cheapest
	// way to find bounces in a large run.
	DetailsNone DetailsMode = "none"
)

// ParseDetailsMode returns the mode named s ("" is DetailsAll).
func ParseDetailsMode(s string) (DetailsMode, error) {
	switch DetailsMode(s) {
	case "", DetailsAll:
		return DetailsAll, nil
	case DetailsBouncedOnly, DetailsNone:
		return DetailsMode(s), nil
	}
	return "", fmt.Errorf("unknown details mode %q (want %q, %q or %q)", s, DetailsAll, DetailsBouncedOnly, DetailsNone)
}

// Refresh defaults.
const (
	DefaultPollInterval    = 5 * time.Second
	DefaultVisibilityGrace = 10 * time.Minute
	defaultRefreshWorkers  = 4
	refreshMaxAttempts     = 5
	refreshFlushSize       = 500
)

// RefreshOptions steer a refresh. Zero values take the documented
// defaults.
type RefreshOptions struct {
	// Parallelism bounds the API requests in flight (default 4).
	Parallelism int
	// RateLimit is the request rate in requests per second shared by
	// every request of the refresh (0 = unlimited). It is lowered on 429
	// and recovers additively.
	RateLimit float64
	// Wait > 0 keeps polling messages without a final outcome, round after
	// round, until all have one or Wait has passed. Zero polls once.
	Wait time.Duration
	// PollInterval is the pause between rounds (default 5 s). The command
	// line enforces a minimum of one second; tests may go lower.
	PollInterval time.Duration
	// VisibilityGrace is how long after SubmittedAt an "unknown message"
	// answer (422, ErrorCode 701) means "not visible yet" rather than
	// "not found" (default 10 minutes). Either way the message stays
	// pending: a 701 never fails a message.
	VisibilityGrace time.Duration
	// Details says which messages are polled one by one (default
	// DetailsAll).
	Details DetailsMode
	// Now is the clock; default time.Now.
	Now func() time.Time

	// pacer, when set, is shared with the caller (apply -wait uses the
	// pacer of its sends).
	pacer *pacer
	// backoffBase and backoffMax shape the per-message retry delays
	// (defaults 250 ms and 5 s).
	backoffBase, backoffMax time.Duration
	// noSweep skips the bounce sweep (tests of the details path).
	noSweep bool
}

// RefreshProgress is a snapshot of a refresh's counters.
type RefreshProgress struct {
	Round     int // 1-based polling round
	Checked   int // messages whose details were read (every round counts)
	Delivered int // messages that reached delivered (or opened, clicked) in this refresh
	Bounced   int // messages found bounced in this refresh
	Pending   int // messages still without a final outcome (Total - Delivered - Bounced)
	Total     int // sent messages without a final outcome when the refresh started
	Requests  int // API requests made
}

// RefreshSummary is the result of a refresh.
type RefreshSummary struct {
	Total        int // sent messages without a final outcome when the refresh started
	Delivered    int // reached delivered, opened or clicked in this refresh
	Bounced      int // found bounced in this refresh
	Pending      int // still without a final outcome at the end (Transient included)
	Transient    int // of Pending: last seen deferred (Postmark keeps trying)
	NotVisible   int // in the last round: messages answered 701 within VisibilityGrace of the send
	NotFound     int // in the last round: messages answered 701 after VisibilityGrace (left pending)
	Errors       int // checks that failed after their retries, all rounds (left as they were)
	Suppressions int // inactive recipients recorded in state
	Checked      int // details read
	Requests     int // API requests made, all endpoints
	SweepCalls   int // of Requests: GET /bounces list calls
	Rounds       int
	Elapsed      time.Duration
	Stopped      string // "interrupted" when the context ended first
}

// Refresh polls the delivery outcome of every sent message of st that has
// none yet (Delivery pending, transient or empty) and records what it
// learns. It sends nothing.
//
// Each round first sweeps the bounce list in bulk (see [DetailsMode]),
// then, depending on opts.Details, reads each remaining message's details
// with at most opts.Parallelism requests in flight, paced by one shared
// AIMD limiter and retried with backoff per message. Records are read a
// page at a time and written in transactions of up to 500. Per recipient,
// Delivered is success and Bounced failure; a message is delivered when
// every recipient was delivered and bounced when any recipient bounced. A
// bounce's type and Inactive flag are recorded, and an inactive recipient
// becomes a state suppression, so later plans show it as suppressed.
//
// Refresh returns an error only for conditions that stop it: a refused
// token (*FatalError) or a state failure (*StateError). When ctx ends, it
// records what it learned and returns with Stopped set and a nil error.
func Refresh(ctx context.Context, st state.Store, pm *postmark.Client, opts RefreshOptions, h Hook) (*RefreshSummary, error) {
	if h == nil {
		h = NopHook{}
	}
	rf := newRefresher(st, pm, opts, h)
	err := rf.run(ctx)
	return rf.summary(), err
}

type refresher struct {
	st    state.Store
	pm    *postmark.Client
	opts  RefreshOptions
	h     Hook
	pacer *pacer
	now   func() time.Time
	start time.Time

	// lastSweep is the upper end of the latest sweep window per stream,
	// so that later rounds sweep only recent bounces.
	lastSweep map[string]time.Time

	mu       sync.Mutex
	sum      RefreshSummary
	round    int
	firstErr error
}

func newRefresher(st state.Store, pm *postmark.Client, opts RefreshOptions, h Hook) *refresher {
	if opts.Parallelism <= 0 {
		opts.Parallelism = defaultRefreshWorkers
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.VisibilityGrace <= 0 {
		opts.VisibilityGrace = DefaultVisibilityGrace
	}
	if opts.Details == "" {
		opts.Details = DetailsAll
	}
	if opts.backoffBase <= 0 {
		opts.backoffBase = 250 * time.Millisecond
	}
	if opts.backoffMax <= 0 {
		opts.backoffMax = 5 * time.Second
	}
	rf := &refresher{st: st, pm: pm, opts: opts, h: h, now: opts.Now, pacer: opts.pacer, lastSweep: map[string]time.Time{}}
	if rf.now == nil {
		rf.now = time.Now
	}
	if rf.pacer == nil {
		rf.pacer = newPacer(opts.RateLimit, opts.Parallelism)
	}
	rf.start = rf.now()
	return rf
}

func (rf *refresher) summary() *RefreshSummary {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	s := rf.sum
	s.Elapsed = rf.now().Sub(rf.start)
	return &s
}

func (rf *refresher) run(ctx context.Context) error {
	if rf.opts.Details != DetailsAll && rf.opts.Details != DetailsBouncedOnly && rf.opts.Details != DetailsNone {
		return fmt.Errorf("unknown details mode %q", rf.opts.Details)
	}
	stats, err := rf.scan(ctx)
	if err != nil {
		return rf.stopOr(ctx, err)
	}
	rf.mu.Lock()
	rf.sum.Total = stats.total()
	rf.sum.Pending = stats.total()
	rf.mu.Unlock()
	deadline := rf.start.Add(rf.opts.Wait)
	for stats.total() > 0 {
		rf.mu.Lock()
		rf.round++
		rf.sum.Rounds = rf.round
		rf.sum.NotVisible, rf.sum.NotFound = 0, 0
		rf.mu.Unlock()

		next, err := rf.pollRound(ctx, stats)
		if err != nil {
			return rf.stopOr(ctx, err)
		}
		stats = next
		rf.mu.Lock()
		rf.sum.Pending = stats.total()
		rf.sum.Transient = stats.transient
		rf.mu.Unlock()
		rf.progress()
		if rf.opts.Wait <= 0 || stats.total() == 0 || !rf.now().Add(rf.opts.PollInterval).Before(deadline) {
			break
		}
		if !sleep(ctx, rf.opts.PollInterval) {
			return rf.stopOr(ctx, ctx.Err())
		}
	}
	if s := rf.summary(); s.NotFound > 0 {
		rf.h.Warn(fmt.Sprintf("Postmark does not know %d sent messages (ErrorCode 701) more than %s after sending; they stay pending (past retention, or the account's sending is paused?)", s.NotFound, rf.opts.VisibilityGrace))
	}
	return nil
}

// stopOr turns the end of ctx into a clean stop; other errors pass.
func (rf *refresher) stopOr(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ctx.Err())) {
		rf.mu.Lock()
		rf.sum.Stopped = "interrupted"
		rf.mu.Unlock()
		return nil
	}
	return err
}

// streamStats describes the unsettled messages of one stream: what the
// bounce sweep needs to choose its filters.
type streamStats struct {
	count        int
	minSubmitted time.Time // zero when no message has a SubmittedAt
	tag          string
	mixedTags    bool
}

// pendingStats describes the messages without a final outcome.
type pendingStats struct {
	streams   map[string]*streamStats
	transient int
}

func newPendingStats() *pendingStats { return &pendingStats{streams: map[string]*streamStats{}} }

func (p *pendingStats) total() int {
	n := 0
	for _, s := range p.streams {
		n += s.count
	}
	return n
}

func (p *pendingStats) add(r *state.Record) {
	stream := streamOf(r)
	s := p.streams[stream]
	if s == nil {
		s = &streamStats{tag: r.Tag}
		p.streams[stream] = s
	}
	s.count++
	if s.tag != r.Tag {
		s.mixedTags = true
	}
	if !r.SubmittedAt.IsZero() && (s.minSubmitted.IsZero() || r.SubmittedAt.Before(s.minSubmitted)) {
		s.minSubmitted = r.SubmittedAt
	}
	if r.Delivery == state.DeliveryTransient {
		p.transient++
	}
}

func streamOf(r *state.Record) string {
	if r.Stream == "" {
		return "outbound"
	}
	return r.Stream
}

// refreshable reports whether r is a sent message without a final outcome.
func refreshable(r *state.Record) bool {
	return r.Status == state.StatusSent && r.MessageID != "" && !r.Delivery.Terminal()
}

// eachUnsettled calls fn for every refreshable record, reading state a page
// at a time. It walks one delivery value at a time so that the store can
// use its delivery index, in an order that a record updated during the walk
// is never visited twice: a message only moves from "" to pending or
// transient, and from pending to transient, never back.
func (rf *refresher) eachUnsettled(ctx context.Context, fn func(state.Record) error) error {
	// Apply records every accepted message as pending, so a sent record
	// without delivery information does not occur; leaving "" out keeps
	// each round on the store's index of open deliveries.
	for _, d := range []state.Delivery{state.DeliveryTransient, state.DeliveryPending} {
		err := state.Each(ctx, rf.st, state.Filter{Deliveries: []state.Delivery{d}}, func(r state.Record) error {
			if !refreshable(&r) {
				return nil
			}
			return fn(r)
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &StateError{Op: "read", Err: err}
		}
	}
	return nil
}

// scan counts the unsettled messages before the first round.
func (rf *refresher) scan(ctx context.Context) (*pendingStats, error) {
	stats := newPendingStats()
	err := rf.eachUnsettled(ctx, func(r state.Record) error {
		stats.add(&r)
		return nil
	})
	return stats, err
}

// pollRound sweeps bounces, then walks the unsettled messages once,
// settling swept bounces and polling details as opts.Details says. It
// returns the statistics of the messages still unsettled afterwards.
func (rf *refresher) pollRound(ctx context.Context, stats *pendingStats) (*pendingStats, error) {
	var swept map[string][]sweptBounce
	if !rf.opts.noSweep {
		var err error
		swept, err = rf.sweep(ctx, stats)
		if err != nil {
			return nil, err
		}
	}

	w := &recordWriter{st: rf.st}
	next := newPendingStats()
	var nextMu sync.Mutex
	keep := func(r *state.Record) {
		nextMu.Lock()
		next.add(r)
		nextMu.Unlock()
	}
	finish := func(r state.Record, sups []state.Suppression) error {
		if !r.Delivery.Terminal() {
			keep(&r)
		}
		return w.add(ctx, r, sups)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(rf.opts.Parallelism)
	walkErr := rf.eachUnsettled(gctx, func(r state.Record) error {
		if err := gctx.Err(); err != nil {
			return err
		}
		bs := swept[r.MessageID]
		poll := rf.opts.Details == DetailsAll && len(bs) == 0 ||
			rf.opts.Details == DetailsBouncedOnly && len(bs) > 0
		if !poll {
			if len(bs) == 0 {
				keep(&r)
				return nil
			}
			// Settled by the sweep, without a call of its own.
			r, sups := rf.settleBounced(r, bs, nil)
			rf.count(func(s *RefreshSummary) { s.Bounced++; s.Suppressions += len(sups) })
			err := finish(r, sups)
			rf.progress()
			return err
		}
		g.Go(func() error {
			r, sups, err := rf.pollOne(gctx, r, bs)
			if err != nil {
				return err
			}
			err = finish(r, sups)
			rf.progress()
			return err
		})
		return nil
	})
	gErr := g.Wait()
	// What was learned is recorded even when the round stops early.
	flushErr := w.flush(context.WithoutCancel(ctx))
	rf.warnErrors()
	switch {
	case gErr != nil:
		return nil, gErr
	case walkErr != nil:
		return nil, walkErr
	case flushErr != nil:
		return nil, flushErr
	}
	return next, nil
}

// warnErrors reports the round's failed polls once.
func (rf *refresher) warnErrors() {
	rf.mu.Lock()
	first, n := rf.firstErr, rf.sum.Errors
	rf.firstErr = nil
	rf.mu.Unlock()
	if first != nil {
		rf.h.Warn(fmt.Sprintf("refresh: %d delivery checks failed so far and were left as they were (first: %v); the next round or refresh tries again", n, first))
	}
}

// pollOne reads one message's details and returns its updated record and
// the suppressions it revealed. A message Postmark does not know (701)
// stays as it was. Only run-stopping conditions are errors.
func (rf *refresher) pollOne(ctx context.Context, r state.Record, swept []sweptBounce) (state.Record, []state.Suppression, error) {
	var d *postmark.MessageDetails
	err := rf.call(ctx, func(ctx context.Context) error {
		var err error
		d, err = rf.pm.GetOutboundMessageDetails(ctx, r.MessageID)
		return err
	})
	now := rf.now().UTC()
	if err != nil {
		if stop := rf.stopping(ctx, err); stop != nil {
			return r, nil, stop
		}
		r.CheckedAt = now
		if isNotFound(err) {
			if !r.SubmittedAt.IsZero() && now.Sub(r.SubmittedAt) < rf.opts.VisibilityGrace {
				rf.count(func(s *RefreshSummary) { s.NotVisible++ })
			} else {
				rf.count(func(s *RefreshSummary) { s.NotFound++ })
			}
		} else {
			rf.failed(err)
		}
		if len(swept) > 0 {
			r, sups := rf.settleBounced(r, swept, nil)
			rf.count(func(s *RefreshSummary) { s.Bounced++; s.Suppressions += len(sups) })
			return r, sups, nil
		}
		return r, nil, nil
	}
	rf.count(func(s *RefreshSummary) { s.Checked++ })

	o := outcomeOf(d, r.Recipients)
	before := r.Delivery
	r.CheckedAt = now
	if o.lastEvent.After(r.LastEventAt) {
		r.LastEventAt = o.lastEvent.UTC()
	}
	if !o.deliveredAt.IsZero() {
		r.DeliveredAt = o.deliveredAt.UTC()
	}
	if o.delivery != state.DeliveryBounced && len(swept) == 0 {
		// Never step back from transient to pending.
		if !(o.delivery == state.DeliveryPending && before == state.DeliveryTransient) {
			r.Delivery = o.delivery
		}
		if r.Delivery.Terminal() {
			rf.count(func(s *RefreshSummary) { s.Delivered++ })
		}
		return r, nil, nil
	}

	// Bounced (by the events, or by the sweep when the details lag
	// behind): each bounce's type and Inactive flag come from the sweep
	// when it saw the bounce, from GET /bounces/{id} otherwise.
	bounces := append([]sweptBounce(nil), swept...)
	for _, ev := range o.bounces {
		if hasBounce(bounces, ev.id, ev.email) {
			continue
		}
		b, err := rf.lookupBounce(ctx, r.MessageID, ev)
		if err != nil {
			if stop := rf.stopping(ctx, err); stop != nil {
				return r, nil, stop
			}
			rf.failed(err)
			continue
		}
		bounces = append(bounces, b)
	}
	if len(bounces) == 0 {
		// Bounced, but no bounce record could be read: try again later
		// rather than record a bounce without its type and flag.
		return r, nil, nil
	}
	r, sups := rf.settleBounced(r, bounces, o.bouncedAt)
	rf.count(func(s *RefreshSummary) { s.Bounced++; s.Suppressions += len(sups) })
	return r, sups, nil
}

// lookupBounce reads the bounce behind a Bounced event: by its BounceID,
// or through the bounce list filtered by MessageID when the event has none.
func (rf *refresher) lookupBounce(ctx context.Context, messageID string, ev bounceEvent) (sweptBounce, error) {
	if ev.id != 0 {
		var b *postmark.Bounce
		err := rf.call(ctx, func(ctx context.Context) error {
			var err error
			b, err = rf.pm.GetBounce(ctx, ev.id)
			return err
		})
		if err != nil {
			return sweptBounce{}, err
		}
		return sweptFrom(b), nil
	}
	var list *postmark.BounceList
	err := rf.call(ctx, func(ctx context.Context) error {
		var err error
		list, err = rf.pm.ListBounces(ctx, postmark.BounceSearch{Count: 50, MessageID: messageID})
		return err
	})
	if err != nil {
		return sweptBounce{}, err
	}
	for i := range list.Bounces {
		if strings.EqualFold(list.Bounces[i].Email, ev.email) {
			return sweptFrom(&list.Bounces[i]), nil
		}
	}
	return sweptBounce{}, fmt.Errorf("message %s: no bounce record for %s yet", messageID, ev.email)
}

func hasBounce(bs []sweptBounce, id int64, email string) bool {
	for _, b := range bs {
		if (id != 0 && b.id == id) || (id == 0 && strings.EqualFold(b.email, email)) {
			return true
		}
	}
	return false
}

// settleBounced records r as bounced by bounces (at least one): the
// earliest bounce gives the type and ID, Inactive is set when any bounce
// deactivated its recipient, and every inactive recipient becomes a
// suppression on the message's stream. bouncedAt, when known from the
// details, holds event times per bounce ID.
func (rf *refresher) settleBounced(r state.Record, bounces []sweptBounce, bouncedAt map[int64]time.Time) (state.Record, []state.Suppression) {
	bounces = append([]sweptBounce(nil), bounces...) // the caller's slice may be the sweep's
	sort.SliceStable(bounces, func(i, j int) bool { return bounces[i].at.Before(bounces[j].at) })
	first := bounces[0]
	r.Delivery = state.DeliveryBounced
	r.BounceType = first.typ
	r.BounceID = first.id
	r.CheckedAt = rf.now().UTC()
	var sups []state.Suppression
	for _, b := range bounces {
		at := b.at
		if t, ok := bouncedAt[b.id]; ok && at.IsZero() {
			at = t
		}
		if at.After(r.LastEventAt) {
			r.LastEventAt = at.UTC()
		}
		if !b.inactive {
			continue
		}
		r.Inactive = true
		if b.email == "" {
			continue
		}
		sups = append(sups, state.Suppression{
			Email:     strings.ToLower(b.email),
			Stream:    streamOf(&r),
			Reason:    b.typ,
			MessageID: r.MessageID,
			At:        at.UTC(),
		})
	}
	return r, sups
}

// call makes one read request through the pacer, retrying 429, 5xx and
// transport failures with capped exponential backoff and jitter. Reads
// are safe to repeat, so ambiguity does not matter here.
func (rf *refresher) call(ctx context.Context, fn func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if err := rf.pacer.Wait(ctx); err != nil {
			return err
		}
		err := fn(ctx)
		rf.count(func(s *RefreshSummary) { s.Requests++ })
		if err == nil {
			rf.pacer.Succeeded()
			return nil
		}
		var apiErr *postmark.APIError
		isAPI := errors.As(err, &apiErr)
		if isAPI && apiErr.StatusCode == http.StatusTooManyRequests {
			rf.pacer.Throttled()
		}
		if ctx.Err() != nil || !retryableRead(err) || attempt >= refreshMaxAttempts {
			return err
		}
		if !sleep(ctx, backoff(attempt, rf.opts.backoffBase, rf.opts.backoffMax)) {
			return ctx.Err()
		}
	}
}

// retryableRead reports whether a failed read is worth repeating: a 429,
// a server-side failure, or no usable response at all.
func retryableRead(err error) bool {
	var apiErr *postmark.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var tErr *postmark.TransportError
	var rErr *postmark.ResponseError
	return errors.As(err, &tErr) || errors.As(err, &rErr)
}

// isNotFound reports a 422 with ErrorCode 701: Postmark does not know the
// message (not visible yet, or past retention).
func isNotFound(err error) bool {
	var apiErr *postmark.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity && apiErr.ErrorCode == 701
}

// stopping returns the error that must stop the refresh, or nil when err
// concerns only one message.
func (rf *refresher) stopping(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if postmark.IsAuth(err) {
		return &FatalError{Err: err}
	}
	return nil
}

func (rf *refresher) failed(err error) {
	rf.mu.Lock()
	rf.sum.Errors++
	if rf.firstErr == nil {
		rf.firstErr = err
	}
	rf.mu.Unlock()
}

func (rf *refresher) count(f func(s *RefreshSummary)) {
	rf.mu.Lock()
	f(&rf.sum)
	rf.mu.Unlock()
}

func (rf *refresher) progress() {
	rf.mu.Lock()
	p := RefreshProgress{
		Round:     rf.round,
		Checked:   rf.sum.Checked,
		Delivered: rf.sum.Delivered,
		Bounced:   rf.sum.Bounced,
		Pending:   max(rf.sum.Total-rf.sum.Delivered-rf.sum.Bounced, 0),
		Total:     rf.sum.Total,
		Requests:  rf.sum.Requests,
	}
	rf.mu.Unlock()
	rf.h.RefreshProgress(p)
}

// recordWriter collects updated records and writes them in transactions
// of up to refreshFlushSize records.
type recordWriter struct {
	st   state.Store
	mu   sync.Mutex
	recs []state.Record
	sups []state.Suppression
}

func (w *recordWriter) add(ctx context.Context, r state.Record, sups []state.Suppression) error {
	w.mu.Lock()
	w.recs = append(w.recs, r)
	w.sups = append(w.sups, sups...)
	full := len(w.recs) >= refreshFlushSize
	w.mu.Unlock()
	if !full {
		return nil
	}
	return w.flush(context.WithoutCancel(ctx))
}

// flush writes what was collected: suppressions first, so that a crash in
// between leaves the message unsettled (and polled again) rather than a
// bounce recorded without its suppression.
func (w *recordWriter) flush(ctx context.Context) error {
	w.mu.Lock()
	recs, sups := w.recs, w.sups
	w.recs, w.sups = nil, nil
	w.mu.Unlock()
	if len(sups) > 0 {
		if err := w.st.PutSuppressions(ctx, sups); err != nil {
			return &StateError{Op: "write", Err: err}
		}
	}
	if len(recs) > 0 {
		if err := w.st.Put(ctx, recs); err != nil {
			return &StateError{Op: "write", Err: err}
		}
	}
	return nil
}

// bounceEvent is a Bounced event of a message's details.
type bounceEvent struct {
	id    int64 // 0 when the event carried no usable BounceID
	email string
	at    time.Time
}

// outcome is what a message's events say.
type outcome struct {
	delivery    state.Delivery
	deliveredAt time.Time // when the last recipient was delivered
	lastEvent   time.Time
	bounces     []bounceEvent
	bouncedAt   map[int64]time.Time
}

// outcomeOf maps a message's events to a delivery status. Events are per
// recipient: the message is bounced when any recipient bounced, delivered
// when every recipient was delivered (then opened or clicked when some
// recipient opened it or clicked a link), transient when a recipient not
// yet delivered was deferred, and pending otherwise. An Opened or
// LinkClicked event also proves its recipient's delivery. recipients (as
// stored in state, ", "-joined) is the fallback when the details list
// none.
func outcomeOf(d *postmark.MessageDetails, recipients string) outcome {
	type rcpt struct{ delivered, transient, opened, clicked bool }
	var o outcome
	who := map[string]*rcpt{}
	for _, e := range d.Recipients {
		who[strings.ToLower(strings.TrimSpace(e))] = &rcpt{}
	}
	if len(who) == 0 {
		for _, lists := range [][]postmark.Recipient{d.To, d.Cc, d.Bcc} {
			for _, e := range lists {
				who[strings.ToLower(e.Email)] = &rcpt{}
			}
		}
	}
	if len(who) == 0 && recipients != "" {
		for _, e := range strings.Split(recipients, ",") {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
				who[addrOnly(e)] = &rcpt{}
			}
		}
	}
	events := append([]postmark.MessageEvent(nil), d.MessageEvents...)
	sort.SliceStable(events, func(i, j int) bool { return events[i].ReceivedAt.Before(events[j].ReceivedAt) })
	for _, e := range events {
		if e.ReceivedAt.After(o.lastEvent) {
			o.lastEvent = e.ReceivedAt
		}
		key := strings.ToLower(strings.TrimSpace(e.Recipient))
		rc := who[key]
		if rc == nil {
			// An event for an address the recipient list did not show:
			// it is a recipient all the same.
			rc = &rcpt{}
			who[key] = rc
		}
		switch e.Type {
		case "Delivered":
			rc.delivered = true
			if e.ReceivedAt.After(o.deliveredAt) {
				o.deliveredAt = e.ReceivedAt
			}
		case "Transient":
			rc.transient = true
		case "Opened":
			rc.delivered, rc.opened = true, true
		case "LinkClicked":
			rc.delivered, rc.clicked = true, true
		case "Bounced":
			id, _ := strconv.ParseInt(strings.TrimSpace(e.Details["BounceID"]), 10, 64)
			o.bounces = append(o.bounces, bounceEvent{id: id, email: e.Recipient, at: e.ReceivedAt})
			if id != 0 {
				if o.bouncedAt == nil {
					o.bouncedAt = map[int64]time.Time{}
				}
				o.bouncedAt[id] = e.ReceivedAt
			}
		}
	}
	if len(o.bounces) > 0 {
		o.delivery = state.DeliveryBounced
		o.deliveredAt = time.Time{}
		return o
	}
	all, transient, opened, clicked := len(who) > 0, false, false, false
	for _, rc := range who {
		if !rc.delivered {
			all = false
			transient = transient || rc.transient
		}
		opened = opened || rc.opened
		clicked = clicked || rc.clicked
	}
	switch {
	case all && clicked:
		o.delivery = state.DeliveryClicked
	case all && opened:
		o.delivery = state.DeliveryOpened
	case all:
		o.delivery = state.DeliveryDelivered
	case transient:
		o.delivery = state.DeliveryTransient
	default:
		o.delivery = state.DeliveryPending
	}
	if !all {
		o.deliveredAt = time.Time{}
	}
	return o
}

// addrOnly returns the address inside "Name <addr>", or s.
func addrOnly(s string) string {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return s
}
