package runner

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/postform/postform/postmark"
)

// The bounce sweep finds the bounces of a whole run with the bounce list
// (GET /bounces, 500 per call) instead of one details call per message.
//
// Postmark answers at most count+offset = 10,000 results per search, so a
// date window holding more bounces is narrowed until each part fits. The
// date filters are inclusive and have a resolution of one second, so
// adjacent parts share their boundary second (nothing can fall between
// them) and a bounce listed twice is merged by its ID.
//
// The sweep keeps the bounces it lists, keyed by MessageID, and the round
// that follows matches each unsettled record against them while it walks
// state. Memory therefore grows with the number of bounces in the window,
// not with the number of messages in the run.

const (
	sweepPageSize = 500 // Postmark's maximum count
	// sweepSkew widens the window before the earliest send: clocks differ.
	sweepSkew = time.Minute
)

// sweepPageEnd is Postmark's maximum count+offset. A variable so that
// tests can exercise the narrowing of windows with fewer bounces.
var sweepPageEnd = 10000

// sweepMaxBounces bounds the bounces one sweep keeps in memory. Beyond it
// the sweep stops; details polling (DetailsAll) still finds the rest. A
// variable so that tests can lower it.
var sweepMaxBounces = 1_000_000

// sweptBounce is what the sweep keeps of a bounce.
type sweptBounce struct {
	id       int64
	typ      string
	email    string
	inactive bool
	at       time.Time
}

func sweptFrom(b *postmark.Bounce) sweptBounce {
	return sweptBounce{id: b.ID, typ: b.Type, email: b.Email, inactive: b.Inactive, at: b.BouncedAt}
}

// sweeper holds one sweep's results.
type sweeper struct {
	rf    *refresher
	byMsg map[string][]sweptBounce
	kept  int
	full  bool
}

// sweep lists the bounces of every stream with unsettled messages, from a
// minute before the earliest unsettled send (or, after the first round,
// from VisibilityGrace before the previous sweep's end) until now. The
// search is filtered by stream, and by tag when every unsettled message of
// the stream carries the same one. A failed sweep is reported as a
// warning; only run-stopping errors are returned.
func (rf *refresher) sweep(ctx context.Context, stats *pendingStats) (map[string][]sweptBounce, error) {
	sw := &sweeper{rf: rf, byMsg: map[string][]sweptBounce{}}
	streams := make([]string, 0, len(stats.streams))
	for name := range stats.streams {
		streams = append(streams, name)
	}
	sort.Strings(streams)
	for _, stream := range streams {
		s := stats.streams[stream]
		if s.count == 0 || s.minSubmitted.IsZero() {
			continue // no send time to start from: the details polls find its bounces
		}
		now := rf.now()
		from := s.minSubmitted.Add(-sweepSkew)
		if last, ok := rf.lastSweep[stream]; ok {
			if t := last.Add(-rf.opts.VisibilityGrace); t.After(from) {
				from = t
			}
		}
		// The search drops fractions of a second: end on the next whole
		// second so that a bounce of the current second is included.
		to := now.Truncate(time.Second).Add(time.Second)
		search := postmark.BounceSearch{MessageStream: stream}
		if !s.mixedTags && s.tag != "" {
			search.Tag = s.tag
		}
		err := sw.window(ctx, search, from, to)
		if err != nil {
			if stop := rf.stopping(ctx, err); stop != nil {
				return nil, stop
			}
			rf.h.Warn(fmt.Sprintf("bounce sweep of stream %s failed (%v); bounces are found by polling details instead", stream, err))
			continue
		}
		if sw.full {
			rf.h.Warn(fmt.Sprintf("bounce sweep stopped after %d bounces; the rest are found by polling details", sw.kept))
			break
		}
		rf.lastSweep[stream] = to
	}
	return sw.byMsg, nil
}

// window lists every bounce of search between from and to (inclusive).
//
// A window holding more than Postmark pages through is narrowed from the
// top: Postmark lists bounces newest first, so after paging through the
// first 10,000 the window's end moves back to the second of the oldest
// bounce seen, and paging starts again (that second is listed twice and
// merged by ID). This costs no call beyond the pages themselves. Should a
// page ever not be in newest-first order, the window is bisected by time
// instead, which does not depend on order.
func (sw *sweeper) window(ctx context.Context, search postmark.BounceSearch, from, to time.Time) error {
	for {
		first, err := sw.list(ctx, search, from, to, 0)
		if err != nil {
			return err
		}
		sw.keep(first.Bounces)
		if sw.full {
			return nil
		}
		total := first.TotalCount
		end := min(total, sweepPageEnd)
		ordered := newestFirst(first.Bounces, time.Time{})
		last := first.Bounces // the latest page that held bounces
		for offset := len(first.Bounces); offset < end && !sw.full; {
			page, err := sw.list(ctx, search, from, to, offset)
			if err != nil {
				return err
			}
			if len(page.Bounces) == 0 {
				break // fewer than TotalCount said (bounces expired meanwhile)
			}
			sw.keep(page.Bounces)
			var after time.Time // no bound when the first page was empty
			if len(last) > 0 {
				after = last[len(last)-1].BouncedAt
			}
			ordered = ordered && newestFirst(page.Bounces, after)
			last = page.Bounces
			offset += len(page.Bounces)
		}
		if total <= sweepPageEnd || sw.full {
			return nil
		}
		if !ordered {
			return sw.bisect(ctx, search, from, to)
		}
		if len(last) == 0 {
			return sw.bisect(ctx, search, from, to)
		}
		oldest := last[len(last)-1].BouncedAt
		next := oldest.Truncate(time.Second).Add(time.Second)
		if !next.Before(to) {
			// Should never happen in practice: more than 10,000 bounces
			// within one second. Details polling finds the rest.
			sw.rf.h.Warn(fmt.Sprintf("more than %d bounces around %s; only %d of them were swept", sweepPageEnd, oldest.UTC().Format(time.RFC3339), sweepPageEnd))
			return nil
		}
		to = next
	}
}

// newestFirst reports whether bounces are in newest-first order and no
// newer than after (zero: no bound).
func newestFirst(bounces []postmark.Bounce, after time.Time) bool {
	for i := range bounces {
		t := bounces[i].BouncedAt
		if !after.IsZero() && t.After(after) {
			return false
		}
		after = t
	}
	return true
}

// bisect sweeps [from, to] as two halves that share their middle second.
func (sw *sweeper) bisect(ctx context.Context, search postmark.BounceSearch, from, to time.Time) error {
	mid := from.Add(to.Sub(from) / 2).Truncate(time.Second)
	if to.Sub(from) <= 2*time.Second || !mid.After(from) {
		sw.rf.h.Warn(fmt.Sprintf("more than %d bounces between %s and %s; only %d of them were swept", sweepPageEnd, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), sweepPageEnd))
		return nil
	}
	if err := sw.window(ctx, search, from, mid); err != nil {
		return err
	}
	return sw.window(ctx, search, mid, to)
}

// list fetches one page of bounces.
func (sw *sweeper) list(ctx context.Context, search postmark.BounceSearch, from, to time.Time, offset int) (*postmark.BounceList, error) {
	search.Count = sweepPageSize
	search.Offset = offset
	search.FromDate, search.ToDate = from, to
	var list *postmark.BounceList
	err := sw.rf.call(ctx, func(ctx context.Context) error {
		sw.rf.count(func(s *RefreshSummary) { s.SweepCalls++ })
		var err error
		list, err = sw.rf.pm.ListBounces(ctx, search)
		return err
	})
	sw.rf.progress()
	return list, err
}

// keep records bounces by MessageID, once per bounce ID.
func (sw *sweeper) keep(bounces []postmark.Bounce) {
	for i := range bounces {
		b := &bounces[i]
		if b.MessageID == "" {
			continue
		}
		if hasBounce(sw.byMsg[b.MessageID], b.ID, b.Email) {
			continue
		}
		if sw.kept >= sweepMaxBounces {
			sw.full = true
			return
		}
		sw.byMsg[b.MessageID] = append(sw.byMsg[b.MessageID], sweptFrom(b))
		sw.kept++
	}
}
