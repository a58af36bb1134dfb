package command

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/cmd/postform/internal/views"
)

// runValidate parses, evaluates and renders every message offline and
// reports every problem found.
func (m *meta) runValidate(args []string) int {
	opts, err := arguments.ParseValidate(args)
	if err != nil {
		return m.usageError("validate", err)
	}
	l, diags := m.loadDir(opts.Vars)
	messages, batches := 0, 0
	if l != nil && l.ev != nil && !diags.HasErrors() {
		for _, b := range l.ev.Batches {
			batches++
			for _, mdiags := range b.Messages() {
				messages++
				diags = append(diags, mdiags...)
			}
		}
		m.files = l.parser.Files()
	}
	errs, warns := 0, 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	if opts.JSON {
		out := map[string]any{
			"format_version": "1.0",
			"valid":          errs == 0,
			"error_count":    errs,
			"warning_count":  warns,
			"messages":       messages,
			"batches":        batches,
			"diagnostics":    views.JSONDiagnostics(diags, m.files),
		}
		enc := json.NewEncoder(m.streams.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		_ = enc.Encode(out)
	} else {
		shown, repeats := groupRepeats(diags)
		m.showDiags(shown)
		for _, r := range repeats {
			fmt.Fprintf(m.streams.Err, "The problem %q at %s also affects %s more message(s); validate -json lists each one.\n", r.summary, r.where, views.Commas(r.more))
		}
		if errs == 0 {
			fmt.Fprintf(m.streams.Out, "Success! The configuration is valid: %s messages in %s batches.\n", views.Commas(messages), views.Commas(batches))
		} else {
			fmt.Fprintf(m.streams.Err, "Validation failed: %s error(s), %s warning(s).\n", views.Commas(errs), views.Commas(warns))
		}
	}
	if errs > 0 {
		return ExitError
	}
	return ExitOK
}

// repeat is a diagnostic that recurs for many messages at the same place
// (a template typo hits every message that renders it).
type repeat struct {
	summary, where string
	more           int
}

// groupRepeats keeps the first few diagnostics for each (summary, source
// range) and counts the rest, so one mistake in a template does not print
// a million near-identical blocks. The JSON output keeps every one.
func groupRepeats(diags hcl.Diagnostics) (hcl.Diagnostics, []repeat) {
	const keep = 3
	type key struct{ summary, where string }
	seen := map[key]int{}
	var order []key
	var shown hcl.Diagnostics
	for _, d := range diags {
		k := key{summary: d.Summary}
		if d.Subject != nil {
			k.where = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		seen[k]++
		if seen[k] == keep+1 {
			order = append(order, k)
		}
		if seen[k] <= keep || k.where == "" {
			shown = append(shown, d)
		}
	}
	var repeats []repeat
	for _, k := range order {
		repeats = append(repeats, repeat{summary: k.summary, where: k.where, more: seen[k] - keep})
	}
	return shown, repeats
}
