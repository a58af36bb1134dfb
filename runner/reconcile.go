package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/postform/postform/postmark"
	"github.com/postform/postform/state"
)

// Reconciling asks Postmark whether messages of unknown outcome were
// accepted. A message carries its pf_id in metadata, and Postmark allows one
// metadata filter per search, so the exact question costs one search per
// message. Messages that share a tag and a stream are first looked up in
// bulk: one search by tag, stream and the time window of their attempts
// returns up to 500 messages per page with their metadata, and the pf_ids
// are matched locally. What the bulk search finds is adopted; only the rest
// need a search each. After a crash mid-run, most uncertain messages were
// accepted, so thousands of searches become a handful.

// bulkMin is the smallest group worth a bulk search.
const bulkMin = 10

// searchLimit is Postmark's bound on count+offset for outbound search.
const searchLimit = 10_000

// reconcile settles messages whose outcome is unknown: found → adopted as
// sent (the oldest copy if there are several); not found once the attempt
// is older than the grace period → unsent, to be sent again. Messages still
// inside the grace period are searched again after it ends.
func (a *applier) reconcile(ctx context.Context, recs []state.Record) error {
	sort.Slice(recs, func(i, j int) bool { return recs[i].LastAttemptAt.Before(recs[j].LastAttemptAt) })
	pending := recs
	for round := 0; len(pending) > 0; round++ {
		rest, later, err := a.reconcileBulk(ctx, pending)
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted: leave the rest uncertain
			}
			return err
		}
		var mu sync.Mutex
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(a.parallelism)
		for _, r := range rest {
			g.Go(func() error {
				settled, err := a.reconcileOne(gctx, r)
				if err != nil {
					return err
				}
				if !settled {
					mu.Lock()
					later = append(later, r)
					mu.Unlock()
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(later) == 0 {
			return nil
		}
		// Wait until the youngest remaining attempt is past the grace
		// period, then look once more: after that, "not found" is final.
		var until time.Time
		for _, r := range later {
			if t := r.LastAttemptAt.Add(a.opts.ReconcileGrace); t.After(until) {
				until = t
			}
		}
		if d := until.Sub(a.now()); d > 0 {
			if !sleep(ctx, d+50*time.Millisecond) {
				return nil
			}
		}
		if round > 6 {
			a.h.Warn(fmt.Sprintf("%d messages could not be reconciled; they stay uncertain and will be reconciled by the next apply", len(later)))
			return nil
		}
		sort.Slice(later, func(i, j int) bool { return later[i].LastAttemptAt.Before(later[j].LastAttemptAt) })
		pending = later
	}
	return nil
}

// reconcileBulk searches groups of messages that share a tag and a stream
// and adopts those it finds. Finding is proof; not finding is not (the time
// window comes from this host's clock), so everything not found is returned
// in rest, to be searched one by one by pf_id.
func (a *applier) reconcileBulk(ctx context.Context, recs []state.Record) (rest, later []state.Record, err error) {
	type groupKey struct{ stream, tag string }
	groups := map[groupKey][]state.Record{}
	var order []groupKey
	for _, r := range recs {
		if r.Tag == "" || r.PFID == "" {
			rest = append(rest, r)
			continue
		}
		k := groupKey{r.Stream, r.Tag}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		group := groups[k]
		if len(group) < bulkMin {
			rest = append(rest, group...)
			continue
		}
		from, to := group[0].FirstAttemptAt, group[0].LastAttemptAt
		for _, r := range group {
			if !r.FirstAttemptAt.IsZero() && r.FirstAttemptAt.Before(from) {
				from = r.FirstAttemptAt
			}
			if r.LastAttemptAt.After(to) {
				to = r.LastAttemptAt
			}
		}
		// A margin for clock skew between this host and Postmark.
		found, ok, err := a.searchWindow(ctx, k.stream, k.tag, from.Add(-2*time.Minute), to.Add(2*time.Minute))
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			rest = append(rest, group...)
			continue
		}
		for _, r := range group {
			copies := found[r.PFID]
			switch {
			case len(copies) > 0:
				oldest := copies[0]
				for _, m := range copies[1:] {
					if m.ReceivedAt.Before(oldest.ReceivedAt) {
						oldest = m
					}
				}
				if err := a.settle(r, &oldest, len(copies)-1); err != nil {
					return nil, nil, err
				}
			default:
				// Not found in the window is not proof: the window rests
				// on this host's clock. The exact pf_id search decides.
				rest = append(rest, r)
			}
		}
	}
	return rest, later, nil
}

// searchWindow lists every message with tag in stream accepted in
// [from, to], keyed by pf_id. ok is false when the window holds more than
// Postmark lets one search page through, or a search kept failing: the
// caller then searches message by message.
func (a *applier) searchWindow(ctx context.Context, stream, tag string, from, to time.Time) (map[string][]postmark.OutboundMessage, bool, error) {
	found := map[string][]postmark.OutboundMessage{}
	const page = 500
	for offset := 0; ; offset += page {
		list, err := a.search(ctx, postmark.OutboundSearch{
			Count: page, Offset: offset, Tag: tag, MessageStream: stream, FromDate: from, ToDate: to,
		})
		if err != nil {
			var fatal *FatalError
			if errors.As(err, &fatal) || ctx.Err() != nil {
				return nil, false, err
			}
			return nil, false, nil
		}
		if list.TotalCount > searchLimit {
			return nil, false, nil
		}
		for _, m := range list.Messages {
			if id := m.Metadata[PFIDKey]; id != "" {
				found[id] = append(found[id], m)
			}
		}
		if len(list.Messages) < page || offset+2*page > searchLimit || offset+page >= list.TotalCount {
			return found, true, nil
		}
	}
}

// reconcileOne searches one message by its pf_id. It reports settled=false
// when the message was not found but the grace period has not passed, or
// the search itself kept failing.
func (a *applier) reconcileOne(ctx context.Context, r state.Record) (bool, error) {
	if r.PFID == "" {
		// Should never happen: every row that reached the wire has a pf_id.
		return true, a.settle(r, nil, 0)
	}
	list, err := a.search(ctx, postmark.OutboundSearch{
		Count:         50,
		MessageStream: r.Stream,
		MetadataKey:   PFIDKey,
		MetadataValue: r.PFID,
	})
	if err != nil {
		var fatal *FatalError
		if errors.As(err, &fatal) || ctx.Err() != nil {
			return false, err
		}
		a.h.Warn(fmt.Sprintf("reconciling %s: %v", r.Address, err))
		return false, nil
	}
	if list.TotalCount > 0 && len(list.Messages) > 0 {
		oldest := list.Messages[0]
		for _, m := range list.Messages[1:] {
			if m.ReceivedAt.Before(oldest.ReceivedAt) {
				oldest = m
			}
		}
		return true, a.settle(r, &oldest, list.TotalCount-1)
	}
	if a.now().Sub(r.LastAttemptAt) < a.opts.ReconcileGrace {
		return false, nil
	}
	return true, a.settle(r, nil, 0)
}

// search runs one outbound search through the shared limiter, retrying
// throttled and failed searches with backoff. A 401 is fatal.
func (a *applier) search(ctx context.Context, s postmark.OutboundSearch) (*postmark.OutboundList, error) {
	for attempt := 1; ; attempt++ {
		if err := a.pacer.Wait(ctx); err != nil {
			return nil, err
		}
		if err := a.hard.Err(); err != nil {
			return nil, err
		}
		list, err := a.pm.ListOutboundMessages(a.hard, s)
		a.count(func(p *Progress) { p.Requests++ })
		if err == nil {
			a.pacer.Succeeded()
			return list, nil
		}
		if postmark.IsAuth(err) {
			return nil, &FatalError{Err: err}
		}
		var apiErr *postmark.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests {
			a.pacer.Throttled()
		}
		if attempt >= a.opts.MaxAttempts {
			return nil, err
		}
		if !sleep(ctx, backoff(attempt, a.opts.BackoffBase, a.opts.BackoffMax)) {
			return nil, ctx.Err()
		}
	}
}
