package command

import (
	"context"
	"time"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/report"
)

// runReport writes a delivery report from state.
func (m *meta) runReport(args []string) int {
	opts, err := arguments.ParseReport(args)
	if err != nil {
		return m.usageError("report", err)
	}
	f, err := report.ParseFormat(opts.Format)
	if err != nil {
		return m.usageError("report", err)
	}
	t, err := m.stateTarget(opts.Simulate)
	if err != nil {
		return m.fail("Invalid Postmark target", err)
	}
	if !t.stateExists() {
		return m.fail("No state", t.noState())
	}
	ctx := context.Background()
	st, err := m.openState(ctx, t, false)
	if err != nil {
		return m.fail("Cannot open state", err)
	}
	defer st.Close()
	ro := report.Options{Statuses: opts.Status, Redact: opts.Redact, Title: m.absDir(), Generated: time.Now().UTC().Truncate(time.Second), Version: Version}
	if opts.Out == "" || opts.Out == "-" {
		err = report.Write(ctx, m.streams.Out, f, storeSource(st), ro)
	} else {
		err = report.WriteFile(ctx, m.path(opts.Out), f, storeSource(st), ro)
	}
	if err != nil {
		return m.fail("Cannot write the report", err)
	}
	return ExitOK
}
