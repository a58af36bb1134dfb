package views

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/runner"
)

// PlanOptions shape plan output.
type PlanOptions struct {
	Redact   bool
	MaxLines int // per batch in human output; 0 = no limit
	Files    map[string]*hcl.File
}

// PlanHuman renders a plan for people, streaming: one line per message
// (collapsed after MaxLines per batch), a preview per batch and the summary.
type PlanHuman struct {
	runner.NopHook
	s    Streams
	opts PlanOptions
	w    io.Writer

	batch     string
	shown     int
	hidden    map[runner.Action]int
	preview   *runner.Preview
	invalid   []runner.PlanEntry
	anyOutput bool
}

var _ runner.Hook = (*PlanHuman)(nil)

// NewPlanHuman returns a human plan view writing to s.Out.
func NewPlanHuman(s Streams, opts PlanOptions) *PlanHuman {
	return &PlanHuman{s: s, opts: opts, w: s.Out, hidden: map[runner.Action]int{}}
}

var symbols = map[runner.Action]string{
	runner.ActionSend:       "+",
	runner.ActionReplace:    "±",
	runner.ActionSent:       "=",
	runner.ActionChanged:    "~",
	runner.ActionInvalid:    "!",
	runner.ActionSuppressed: "-",
	runner.ActionFailed:     "x",
	runner.ActionReconcile:  "?",
}

func (v *PlanHuman) color(a runner.Action, s string) string {
	if !v.s.Color {
		return s
	}
	code := ""
	switch a {
	case runner.ActionSend, runner.ActionReplace:
		code = "32"
	case runner.ActionInvalid, runner.ActionFailed:
		code = "31"
	case runner.ActionChanged, runner.ActionReconcile:
		code = "33"
	default:
		code = "2"
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (v *PlanHuman) red(s string) string {
	if v.opts.Redact {
		return Redact(s)
	}
	return s
}

// PlannedMessage prints one message line.
func (v *PlanHuman) PlannedMessage(e runner.PlanEntry) {
	if e.Batch != v.batch {
		v.endBatch()
		v.batch = e.Batch
		if !v.anyOutput {
			fmt.Fprintln(v.w, "postform will act on these messages:")
			v.anyOutput = true
		}
		fmt.Fprintf(v.w, "\nbatch.%s\n", e.Batch)
	}
	if e.Action == runner.ActionInvalid {
		v.invalid = append(v.invalid, e)
	}
	if v.opts.MaxLines > 0 && v.shown >= v.opts.MaxLines {
		v.hidden[e.Action]++
		return
	}
	v.shown++
	fmt.Fprintf(v.w, "  %s %s  %s\n", v.color(e.Action, symbols[e.Action]), v.red(e.Address), v.red(v.describe(e)))
}

// describe is the rest of a plan line; the caller redacts it whole.
func (v *PlanHuman) describe(e runner.PlanEntry) string {
	to := e.To
	if slices.Contains(e.Sensitive, "to") {
		to = "(sensitive)"
	}
	subject := fmt.Sprintf("%q", e.Subject)
	if e.Template != "" {
		subject = "template " + e.Template
	} else if slices.Contains(e.Sensitive, "subject") {
		subject = "(sensitive)"
	}
	switch e.Action {
	case runner.ActionSend:
		return fmt.Sprintf("to %s  %s", to, subject)
	case runner.ActionReplace:
		return fmt.Sprintf("to %s  %s  (replaces %s)", to, subject, e.MessageID)
	case runner.ActionSent:
		return fmt.Sprintf("already sent %s  %s", e.SentAt.UTC().Format("2006-01-02 15:04Z"), e.MessageID)
	case runner.ActionChanged:
		return fmt.Sprintf("changed since sent %s (%s); not resent without -replace", e.SentAt.UTC().Format("2006-01-02 15:04Z"), e.MessageID)
	case runner.ActionInvalid:
		if len(e.Diags) > 0 {
			return "invalid: " + e.Diags[0].Summary
		}
		return "invalid"
	case runner.ActionSuppressed:
		return fmt.Sprintf("suppressed: %s is inactive on this stream", to)
	case runner.ActionFailed:
		return fmt.Sprintf("refused before (ErrorCode %d: %s); not resent unless it changes or -replace", e.ErrorCode, truncate(e.Error, 80))
	case runner.ActionReconcile:
		return "outcome of an earlier attempt unknown; apply reconciles it before any resend"
	}
	return ""
}

func (v *PlanHuman) endBatch() {
	if v.batch == "" {
		return
	}
	n := 0
	for _, c := range v.hidden {
		n += c
	}
	if n > 0 {
		var parts []string
		for _, a := range []runner.Action{runner.ActionSend, runner.ActionReplace, runner.ActionSent, runner.ActionChanged, runner.ActionInvalid, runner.ActionSuppressed, runner.ActionFailed, runner.ActionReconcile} {
			if c := v.hidden[a]; c > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", Commas(c), actionWord(a)))
			}
		}
		fmt.Fprintf(v.w, "  … and %s more in batch.%s (%s); -max-lines=0 or -json lists them all\n", Commas(n), v.batch, strings.Join(parts, ", "))
	}
	if v.preview != nil && v.preview.Batch == v.batch {
		v.printPreview(*v.preview)
		v.preview = nil
	}
	v.shown = 0
	v.hidden = map[runner.Action]int{}
}

func actionWord(a runner.Action) string {
	switch a {
	case runner.ActionSend:
		return "to send"
	case runner.ActionReplace:
		return "to replace"
	case runner.ActionSent:
		return "already sent"
	case runner.ActionChanged:
		return "changed"
	case runner.ActionInvalid:
		return "invalid"
	case runner.ActionSuppressed:
		return "suppressed"
	case runner.ActionFailed:
		return "refused before"
	case runner.ActionReconcile:
		return "to reconcile"
	}
	return string(a)
}

// PlannedPreview keeps the batch's preview to print after its lines.
func (v *PlanHuman) PlannedPreview(p runner.Preview) { v.preview = &p }

func (v *PlanHuman) printPreview(p runner.Preview) {
	hide := func(field, val string) string {
		if slices.Contains(p.Sensitive, field) {
			return "(sensitive)"
		}
		return val
	}
	fmt.Fprintf(v.w, "\n  Preview of %s:\n", v.red(p.Address))
	fmt.Fprintf(v.w, "    From:    %s\n", hide("from", p.From))
	fmt.Fprintf(v.w, "    To:      %s\n", hide("to", v.red(p.To)))
	if p.Template != "" {
		fmt.Fprintf(v.w, "    Template: %s\n", p.Template)
		fmt.Fprintf(v.w, "    Model:   %s\n", hide("template_model", truncate(p.Text, 200)))
		return
	}
	fmt.Fprintf(v.w, "    Subject: %s\n", hide("subject", p.Subject))
	body := hide("text", p.Text)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	const previewLines = 6
	for i, l := range lines {
		if i == previewLines {
			fmt.Fprintf(v.w, "    │ … (%d more lines)\n", len(lines)-previewLines)
			break
		}
		fmt.Fprintf(v.w, "    │ %s\n", truncate(l, v.s.Width-8))
	}
}

// PlanDone prints the invalid messages' diagnostics and the summary.
func (v *PlanHuman) PlanDone(s runner.PlanSummary) {
	v.endBatch()
	if len(v.invalid) > 0 {
		fmt.Fprintln(v.w)
		const maxDiags = 20
		var diags hcl.Diagnostics
		for i, e := range v.invalid {
			if i == maxDiags {
				break
			}
			diags = append(diags, e.Diags...)
		}
		if v.opts.Redact {
			diags = redactDiags(diags)
		}
		WriteDiagnostics(v.w, diags, v.opts.Files, v.s.Width, v.s.Color)
		if len(v.invalid) > maxDiags {
			fmt.Fprintf(v.w, "… and %s more invalid messages; postform validate lists every problem.\n", Commas(len(v.invalid)-maxDiags))
		}
	}
	fmt.Fprintf(v.w, "\n%s\n", SummaryLine(s))
	if s.Changed > 0 {
		fmt.Fprintln(v.w, "Changed messages are not resent; use -replace=ADDRESS to send one again.")
	}
}

// SummaryLine is "Plan: 9,812 to send, 120 already sent, 2 invalid."
func SummaryLine(s runner.PlanSummary) string {
	parts := []string{Commas(s.ToSend) + " to send"}
	add := func(n int, word string) {
		if n > 0 {
			parts = append(parts, Commas(n)+" "+word)
		}
	}
	add(s.Sent, "already sent")
	add(s.Changed, "changed since sent")
	add(s.Reconcile, "to reconcile")
	add(s.Suppressed, "suppressed")
	add(s.Failed, "refused before")
	add(s.Invalid, "invalid")
	return "Plan: " + strings.Join(parts, ", ") + "."
}

func truncate(s string, n int) string {
	if n < 10 {
		n = 10
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// PlanJSON streams a plan as JSON lines: planned_message, planned_preview,
// plan_summary.
type PlanJSON struct {
	runner.NopHook
	j      *JSONLines
	redact bool
	files  map[string]*hcl.File
}

var _ runner.Hook = (*PlanJSON)(nil)

// NewPlanJSON returns a JSON plan view on an existing stream.
func NewPlanJSON(j *JSONLines, redact bool, files map[string]*hcl.File) *PlanJSON {
	return &PlanJSON{j: j, redact: redact, files: files}
}

func (v *PlanJSON) red(s string) string {
	if v.redact {
		return Redact(s)
	}
	return s
}

// PlannedMessage emits planned_message.
func (v *PlanJSON) PlannedMessage(e runner.PlanEntry) {
	ev := plannedMessageEvent{
		Action: string(e.Action), Address: v.red(e.Address), Batch: e.Batch, Key: v.red(e.Key),
		Subject: e.Subject, Template: e.Template, Digest: e.Digest, MessageID: e.MessageID,
		Type: "planned_message",
	}
	if slices.Contains(e.Sensitive, "to") {
		ev.To = "(sensitive)"
	} else {
		ev.To = v.red(e.To)
	}
	if slices.Contains(e.Sensitive, "subject") {
		ev.Subject = "(sensitive)"
	}
	if !e.SentAt.IsZero() {
		at := e.SentAt.UTC()
		ev.SubmittedAt = &at
	}
	if e.ErrorCode != 0 {
		msg := v.red(e.Error)
		ev.ErrorCode, ev.ErrorMessage = &e.ErrorCode, &msg
	}
	if len(e.Diags) > 0 {
		diags := e.Diags
		if v.redact {
			diags = redactDiags(diags)
		}
		ev.Diagnostics = JSONDiagnostics(diags, v.files)
	}
	v.j.emitPlannedMessage(&ev)
}

// PlannedPreview emits planned_preview.
func (v *PlanJSON) PlannedPreview(p runner.Preview) {
	v.j.Emit("planned_preview", map[string]any{
		"batch": p.Batch, "address": v.red(p.Address), "from": p.From, "to": v.red(p.To),
		"subject": p.Subject, "text": truncate(p.Text, 2000), "template": p.Template,
	})
}

// PlanDone emits plan_summary.
func (v *PlanJSON) PlanDone(s runner.PlanSummary) {
	v.j.Emit("plan_summary", SummaryFields(s))
}

// SummaryFields is the JSON form of a plan summary.
func SummaryFields(s runner.PlanSummary) map[string]any {
	return map[string]any{
		"to_send": s.ToSend, "already_sent": s.Sent, "changed": s.Changed, "invalid": s.Invalid,
		"suppressed": s.Suppressed, "failed": s.Failed, "reconcile": s.Reconcile, "total": s.Total,
	}
}

// redactDiags masks addresses in diagnostics' summaries and details (a bad
// recipient is quoted there). Source snippets are the user's own files.
func redactDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Summary, c.Detail = Redact(c.Summary), Redact(c.Detail)
		out[i] = &c
	}
	return out
}
