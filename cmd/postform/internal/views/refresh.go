package views

import (
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/postform/postform/runner"
)

// RefreshHuman renders a refresh for people: a progress bar on a terminal
// (messages with a final outcome of those pending at the start), a line every
// few seconds elsewhere, and a summary.
type RefreshHuman struct {
	runner.NopHook
	s    Streams
	mu   sync.Mutex
	last time.Time
	bar  *progressbar.ProgressBar
}

// NewRefreshHuman returns the human refresh view.
func NewRefreshHuman(s Streams) *RefreshHuman { return &RefreshHuman{s: s} }

// RefreshProgress updates the bar, or prints a line at most every two
// seconds.
func (v *RefreshHuman) RefreshProgress(p runner.RefreshProgress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.s.OutTTY && p.Total > 0 {
		if v.bar == nil {
			v.bar = progressbar.NewOptions(p.Total,
				progressbar.OptionSetWriter(v.s.Out),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(false),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionEnableColorCodes(v.s.Color),
				progressbar.OptionSetWidth(30),
			)
		}
		v.bar.Describe(fmt.Sprintf("Refreshing (round %d, %s bounced)", p.Round, Commas(p.Bounced)))
		_ = v.bar.Set(p.Delivered + p.Bounced)
		return
	}
	if time.Since(v.last) < 2*time.Second {
		return
	}
	v.last = time.Now()
	fmt.Fprintf(v.s.Out, "Refreshing (round %d): %s delivered, %s bounced, %s pending of %s; %s requests\n",
		p.Round, Commas(p.Delivered), Commas(p.Bounced), Commas(p.Pending), Commas(p.Total), Commas(p.Requests))
}

// Warn prints a warning.
func (v *RefreshHuman) Warn(msg string) { fmt.Fprintf(v.s.Out, "Warning: %s\n", msg) }

// RefreshSummary prints the summary.
func (v *RefreshHuman) RefreshSummary(s *runner.RefreshSummary) {
	v.mu.Lock()
	if v.bar != nil {
		_ = v.bar.Finish()
		fmt.Fprintln(v.s.Out)
		v.bar = nil
	}
	v.mu.Unlock()
	fmt.Fprintf(v.s.Out, "Refresh complete: %s delivered, %s bounced, %s still pending (%s deferred) of %s checked; %s requests (%s bounce-sweep calls) in %s.\n",
		Commas(s.Delivered), Commas(s.Bounced), Commas(s.Pending), Commas(s.Transient), Commas(s.Total),
		Commas(s.Requests), Commas(s.SweepCalls), s.Elapsed.Round(time.Millisecond))
	if s.NotVisible > 0 {
		fmt.Fprintf(v.s.Out, "%s message(s) are not visible in Postmark yet (recently sent); refresh again later.\n", Commas(s.NotVisible))
	}
	if s.Suppressions > 0 {
		fmt.Fprintf(v.s.Out, "%s recipient(s) are now inactive and will show as suppressed in the next plan.\n", Commas(s.Suppressions))
	}
	if s.Stopped != "" {
		fmt.Fprintf(v.s.Out, "The refresh stopped early: %s.\n", s.Stopped)
	}
}

// RefreshJSON streams a refresh as JSON lines.
type RefreshJSON struct {
	runner.NopHook
	j    *JSONLines
	mu   sync.Mutex
	last time.Time
}

// NewRefreshJSON returns the JSON refresh view.
func NewRefreshJSON(j *JSONLines) *RefreshJSON { return &RefreshJSON{j: j} }

// RefreshProgress emits refresh_progress at most once a second.
func (v *RefreshJSON) RefreshProgress(p runner.RefreshProgress) {
	v.mu.Lock()
	if time.Since(v.last) < time.Second {
		v.mu.Unlock()
		return
	}
	v.last = time.Now()
	v.mu.Unlock()
	v.j.Emit("refresh_progress", map[string]any{"round": p.Round, "checked": p.Checked, "delivered": p.Delivered,
		"bounced": p.Bounced, "pending": p.Pending, "total": p.Total, "requests": p.Requests})
}

// Warn emits a warning diagnostic.
func (v *RefreshJSON) Warn(msg string) {
	v.j.Emit("diagnostic", map[string]any{"severity": "warning", "summary": msg, "detail": ""})
}

// RefreshSummary emits refresh_summary.
func (v *RefreshJSON) RefreshSummary(s *runner.RefreshSummary) {
	v.j.Emit("refresh_summary", map[string]any{"total": s.Total, "delivered": s.Delivered, "bounced": s.Bounced,
		"pending": s.Pending, "transient": s.Transient, "not_visible": s.NotVisible, "suppressions": s.Suppressions,
		"requests": s.Requests, "sweep_calls": s.SweepCalls, "rounds": s.Rounds, "elapsed_seconds": s.Elapsed.Seconds(),
		"stopped": s.Stopped})
}
