package runner

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer is the one request limiter shared by every worker of a run
// (sending, reconciling and polling alike). It is additive-increase,
// multiplicative-decrease: each 429 halves the rate (at most once per
// cool-down, so a burst of 429s from requests already in flight counts
// once), and each success adds back a small step until the configured
// ceiling. Postmark publishes no rate and sends no Retry-After, so this is
// the only signal there is.
type pacer struct {
	mu        sync.Mutex
	lim       *rate.Limiter
	ceiling   rate.Limit // configured rate; rate.Inf when unlimited
	floor     rate.Limit
	step      rate.Limit
	lastCut   time.Time
	cooldown  time.Duration
	now       func() time.Time
	decreases int
}

// newPacer returns a pacer for rps requests per second (0 = unlimited).
func newPacer(rps float64, parallelism int) *pacer {
	ceiling := rate.Limit(rps)
	if rps <= 0 {
		ceiling = rate.Inf
	}
	burst := max(parallelism, 1)
	p := &pacer{
		lim:      rate.NewLimiter(ceiling, burst),
		ceiling:  ceiling,
		floor:    0.5,
		cooldown: time.Second,
		now:      time.Now,
	}
	p.step = 1
	if ceiling != rate.Inf && ceiling/20 > p.step {
		p.step = ceiling / 20
	}
	return p
}

// Wait blocks until a request may leave, or ctx ends.
func (p *pacer) Wait(ctx context.Context) error { return p.lim.Wait(ctx) }

// Limit returns the current rate.
func (p *pacer) Limit() rate.Limit { return p.lim.Limit() }

// Throttled is called on a 429: halve the current rate.
func (p *pacer) Throttled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.lastCut) < p.cooldown {
		return
	}
	p.lastCut = now
	p.decreases++
	cur := p.lim.Limit()
	if cur == rate.Inf {
		// Unlimited until now: start from a rate the burst can sustain.
		cur = rate.Limit(max(float64(p.lim.Burst())*10, 2))
	}
	next := cur / 2
	if next < p.floor {
		next = p.floor
	}
	p.lim.SetLimitAt(now, next)
}

// Succeeded is called after a request that was not throttled: recover
// additively towards the ceiling.
func (p *pacer) Succeeded() {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.lim.Limit()
	if cur == p.ceiling {
		return
	}
	next := cur + p.step
	if p.ceiling != rate.Inf && next > p.ceiling {
		next = p.ceiling
	}
	if p.ceiling == rate.Inf && next > 1000 {
		next = rate.Inf
	}
	p.lim.SetLimitAt(p.now(), next)
}

// backoff returns the delay before retry number attempt (1-based): capped
// exponential with full jitter.
func backoff(attempt int, base, ceiling time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	if d > ceiling {
		d = ceiling
	}
	// Full jitter in [d/2, d): never zero, never synchronised.
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// sleep waits d or until ctx ends, reporting whether it slept the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
