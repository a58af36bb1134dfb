package views

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/postform/postform/runner"
)

// ApplyHuman renders an apply for people: the plan (when shown), then
// progress — a bar on a terminal, a line every few seconds otherwise — and a
// final summary.
type ApplyHuman struct {
	*PlanHuman
	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	every    time.Duration
	lastLine time.Time
	now      func() time.Time
	quiet    bool // plan lines already shown (saved plan or a prompt)
}

var _ runner.Hook = (*ApplyHuman)(nil)

// NewApplyHuman returns the human apply view. showPlan=false skips the
// per-message plan lines (they were shown before the prompt, or come from
// a saved plan).
func NewApplyHuman(s Streams, opts PlanOptions, showPlan bool) *ApplyHuman {
	return &ApplyHuman{PlanHuman: NewPlanHuman(s, opts), every: 5 * time.Second, now: time.Now, quiet: !showPlan}
}

// PlannedMessage prints plan lines unless quiet.
func (v *ApplyHuman) PlannedMessage(e runner.PlanEntry) {
	if !v.quiet {
		v.PlanHuman.PlannedMessage(e)
	} else if e.Action == runner.ActionInvalid {
		v.invalid = append(v.invalid, e)
	}
}

// PlannedPreview prints previews unless quiet.
func (v *ApplyHuman) PlannedPreview(p runner.Preview) {
	if !v.quiet {
		v.PlanHuman.PlannedPreview(p)
	}
}

// PlanDone is silent during apply: the run summary follows.
func (v *ApplyHuman) PlanDone(runner.PlanSummary) {}

// Reconciling announces a reconciliation.
func (v *ApplyHuman) Reconciling(n int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clearBar()
	fmt.Fprintf(v.w, "Reconciling %s message(s) whose outcome is unknown (searching Postmark by pf_id)…\n", Commas(n))
}

// Warn prints a warning.
func (v *ApplyHuman) Warn(msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clearBar()
	fmt.Fprintf(v.w, "Warning: %s\n", msg)
}

func (v *ApplyHuman) clearBar() {
	if v.bar != nil {
		_ = v.bar.Clear()
	}
}

// Progress updates the bar or prints a periodic line.
func (v *ApplyHuman) Progress(p runner.Progress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	done := p.Sent + p.Failed
	if v.s.OutTTY {
		if v.bar == nil {
			max := p.Total
			if max <= 0 {
				max = -1
			}
			v.bar = progressbar.NewOptions(max,
				progressbar.OptionSetWriter(v.w),
				progressbar.OptionSetDescription("Sending"),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("msg"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionEnableColorCodes(v.s.Color),
				progressbar.OptionSetWidth(30),
			)
		}
		desc := "Sending"
		if p.Failed > 0 || p.Uncertain > 0 {
			desc = fmt.Sprintf("Sending (%d failed, %d uncertain)", p.Failed, p.Uncertain)
		}
		v.bar.Describe(desc)
		_ = v.bar.Set(done)
		return
	}
	now := v.now()
	if v.lastLine.IsZero() {
		v.lastLine = now
		return
	}
	if now.Sub(v.lastLine) < v.every {
		return
	}
	v.lastLine = now
	fmt.Fprintln(v.w, progressLine(p))
}

func progressLine(p runner.Progress) string {
	done := p.Sent + p.Failed
	rate := 0.0
	if p.Elapsed > 0 {
		rate = float64(done) / p.Elapsed.Seconds()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Sending: %s", Commas(p.Sent))
	if p.Total > 0 {
		fmt.Fprintf(&b, "/%s", Commas(p.Total))
	}
	fmt.Fprintf(&b, " sent, %s failed, %s uncertain, %.0f msg/s, %s requests", Commas(p.Failed), Commas(p.Uncertain), rate, Commas(p.Requests))
	if p.Total > 0 && rate > 0 && done < p.Total {
		eta := time.Duration(float64(p.Total-done)/rate) * time.Second
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

// Summary prints the run summary.
func (v *ApplyHuman) Summary(s *runner.RunSummary) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.bar != nil {
		_ = v.bar.Finish()
		fmt.Fprintln(v.w)
		v.bar = nil
	}
	WriteRunSummary(v.w, s)
}

// WriteRunSummary prints an apply's summary for people.
func WriteRunSummary(w io.Writer, s *runner.RunSummary) {
	if s.Plan.Invalid > 0 {
		fmt.Fprintf(w, "\n%s invalid message(s) were not sent; postform validate shows why.\n", Commas(s.Plan.Invalid))
	}
	fmt.Fprintf(w, "\nApply complete: %s sent", Commas(s.Sent))
	if s.Adopted > 0 {
		fmt.Fprintf(w, ", %s reconciled as already accepted", Commas(s.Adopted))
	}
	skipped := s.Plan.Sent + s.Plan.Changed + s.Plan.Suppressed + s.Plan.Failed
	fmt.Fprintf(w, ", %s failed, %s skipped", Commas(s.Failed), Commas(skipped))
	if skipped > 0 {
		var parts []string
		for _, p := range []struct {
			n    int
			word string
		}{{s.Plan.Sent, "already sent"}, {s.Plan.Changed, "changed"}, {s.Plan.Suppressed, "suppressed"}, {s.Plan.Failed, "refused before"}} {
			if p.n > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", p.word, Commas(p.n)))
			}
		}
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, " in %s, %s requests.\n", s.Elapsed.Round(time.Millisecond), Commas(s.Requests))
	if len(s.FailedBy) > 0 {
		reasons := make([]string, 0, len(s.FailedBy))
		for r := range s.FailedBy {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		fmt.Fprintln(w, "Failed by reason:")
		for _, r := range reasons {
			fmt.Fprintf(w, "  %6s  %s\n", Commas(s.FailedBy[r]), r)
		}
	}
	if s.Unsent > 0 {
		fmt.Fprintf(w, "%s message(s) were not accepted before the run ended; run apply again to send them.\n", Commas(s.Unsent))
	}
	if s.Uncertain > 0 {
		fmt.Fprintf(w, "%s message(s) have an unknown outcome; the next apply reconciles them before any resend.\n", Commas(s.Uncertain))
	}
	if s.Duplicates > 0 {
		fmt.Fprintf(w, "Warning: Postmark holds %s extra cop(ies) of messages with the same pf_id (sent outside this state); the oldest was adopted.\n", Commas(s.Duplicates))
	}
	if s.Stopped != "" {
		fmt.Fprintf(w, "The run stopped early: %s.\n", s.Stopped)
	}
}

// ApplyJSON streams an apply as JSON lines.
type ApplyJSON struct {
	*PlanJSON
	mu   sync.Mutex
	last time.Time
	now  func() time.Time
}

var _ runner.Hook = (*ApplyJSON)(nil)

// NewApplyJSON returns the JSON apply view.
func NewApplyJSON(j *JSONLines, redact bool) *ApplyJSON {
	return &ApplyJSON{PlanJSON: NewPlanJSON(j, redact, nil), now: time.Now}
}

// PlannedMessage emits only invalid messages: the runner walks the plan
// again while applying, and the plan's planned_message events were already
// written by the plan step before it (as the human view stays quiet too).
func (v *ApplyJSON) PlannedMessage(e runner.PlanEntry) {
	if e.Action == runner.ActionInvalid {
		v.PlanJSON.PlannedMessage(e)
	}
}

// PlannedPreview is silent during apply, for the same reason.
func (v *ApplyJSON) PlannedPreview(runner.Preview) {}

// PlanDone is silent during apply: run_summary carries the plan's counts.
func (v *ApplyJSON) PlanDone(runner.PlanSummary) {}

// MessageResult emits message_result.
func (v *ApplyJSON) MessageResult(r runner.MessageResult) {
	ev := messageResultEvent{Address: v.red(r.Address), Outcome: string(r.Outcome), Attempts: r.Attempts,
		MessageID: r.MessageID, Type: "message_result"}
	if r.ErrorCode != 0 || r.Error != "" {
		msg := v.red(r.Error)
		ev.ErrorCode, ev.ErrorMessage = &r.ErrorCode, &msg
	}
	v.j.emitMessageResult(&ev)
}

// Progress emits send_progress at most once a second.
func (v *ApplyJSON) Progress(p runner.Progress) {
	v.mu.Lock()
	now := v.now()
	if now.Sub(v.last) < time.Second {
		v.mu.Unlock()
		return
	}
	v.last = now
	v.mu.Unlock()
	v.j.Emit("send_progress", map[string]any{
		"total": p.Total, "sent": p.Sent, "failed": p.Failed, "uncertain": p.Uncertain,
		"retried": p.Retried, "requests": p.Requests, "elapsed_seconds": p.Elapsed.Seconds(),
	})
}

// Reconciling emits reconcile_start.
func (v *ApplyJSON) Reconciling(n int) { v.j.Emit("reconcile_start", map[string]any{"messages": n}) }

// Warn emits a warning diagnostic.
func (v *ApplyJSON) Warn(msg string) {
	v.j.Emit("diagnostic", map[string]any{"severity": "warning", "summary": msg, "detail": ""})
}

// Summary emits run_summary.
func (v *ApplyJSON) Summary(s *runner.RunSummary) {
	failedBy := s.FailedBy
	if failedBy == nil {
		failedBy = map[string]int{}
	}
	v.j.Emit("run_summary", map[string]any{
		"plan": SummaryFields(s.Plan), "sent": s.Sent, "adopted": s.Adopted, "resent": s.Resent,
		"failed": s.Failed, "failed_by": failedBy, "unsent": s.Unsent, "uncertain": s.Uncertain,
		"duplicates": s.Duplicates, "requests": s.Requests, "elapsed_seconds": s.Elapsed.Seconds(),
		"stopped": s.Stopped,
	})
}
