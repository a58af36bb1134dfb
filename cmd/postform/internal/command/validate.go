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
		m.showDiags(diags)
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
