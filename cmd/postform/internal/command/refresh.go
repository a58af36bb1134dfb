package command

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/cmd/postform/internal/views"
	"github.com/postform/postform/config"
	"github.com/postform/postform/postmark"
	"github.com/postform/postform/report"
	"github.com/postform/postform/runner"
	"github.com/postform/postform/state"
)

// runRefresh polls delivery outcomes of sent messages into state. It sends
// nothing.
func (m *meta) runRefresh(args []string) int {
	opts, err := arguments.ParseRefresh(args)
	if err != nil {
		return m.usageError("refresh", err)
	}
	var j *views.JSONLines
	if opts.JSON {
		j = views.NewJSONLines(m.streams.Out, Version)
	}
	// The configuration is optional for refresh: it names the target and
	// the reports when it is there and valid.
	var ev *config.Evaluated
	if l, diags := m.loadDir(arguments.Vars{}); !diags.HasErrors() && l != nil {
		ev = l.ev
	}
	t, err := m.resolveTarget(ev, opts.Simulate)
	if err != nil {
		return m.failView(j, "Invalid Postmark target", err)
	}
	if !t.stateExists() {
		return m.failView(j, "No state", t.noState())
	}
	ctx := context.Background()
	lk, err := m.lock(ctx, t, "refresh", opts.LockTimeout)
	if err != nil {
		return m.failView(j, "State is locked", err)
	}
	defer lk.Release()
	st, err := m.openState(ctx, t, false)
	if err != nil {
		return m.failView(j, "Cannot open state", err)
	}
	defer st.Close()
	pm, err := m.connect(t)
	if err != nil {
		return m.failView(j, "Cannot reach Postmark", err)
	}
	defer t.close()
	soft, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := m.onInterrupt(cancel, make(chan struct{}))
	defer stop()

	sum, err := m.refresh(soft, st, pm, ev, refreshFlags{wait: opts.Wait, poll: opts.PollInterval, details: opts.Details, parallelism: opts.Parallelism, simulated: opts.Simulate}, j)
	if err != nil {
		return m.failView(j, "Refresh failed", err)
	}
	if err := m.writeReports(ctx, ev, st); err != nil {
		return m.failView(j, "Cannot write a report", err)
	}
	code := m.deliveryExit(0, sum.Bounced, opts.FailOn)
	if sum.Stopped != "" && code == ExitOK {
		code = ExitError
	}
	return code
}

type refreshFlags struct {
	wait, poll  time.Duration
	details     string
	parallelism int
	simulated   bool
}

// refresh runs the runner's refresh with the right view.
func (m *meta) refresh(ctx context.Context, st state.Store, pm *postmark.Client, ev *config.Evaluated, f refreshFlags, j *views.JSONLines) (*runner.RefreshSummary, error) {
	details, err := runner.ParseDetailsMode(f.details)
	if err != nil {
		return nil, err
	}
	ro := runner.RefreshOptions{Wait: f.wait, PollInterval: f.poll, Details: details, Parallelism: f.parallelism}
	if ro.PollInterval == 0 && f.simulated {
		// The in-process simulator delivers within a second: poll often.
		ro.PollInterval = 250 * time.Millisecond
	}
	if ev != nil {
		if ro.Parallelism == 0 {
			ro.Parallelism = ev.Runner.Parallelism
		}
		ro.RateLimit = ev.Runner.RateLimit
	}
	var hook interface {
		runner.Hook
		RefreshSummary(*runner.RefreshSummary)
	}
	if j != nil {
		hook = views.NewRefreshJSON(j)
	} else {
		hook = views.NewRefreshHuman(m.streams)
	}
	sum, err := runner.Refresh(ctx, st, pm, ro, hook)
	if sum != nil {
		hook.RefreshSummary(sum)
	}
	return sum, err
}

// waitDelivery is apply -wait: refresh until every message has an outcome
// or the wait is over.
func (m *meta) waitDelivery(ctx context.Context, st state.Store, pm *postmark.Client, ev *config.Evaluated, opts *arguments.Apply, j *views.JSONLines) (*runner.RefreshSummary, int) {
	sum, err := m.refresh(ctx, st, pm, ev, refreshFlags{wait: opts.Wait, poll: opts.PollInterval, details: opts.Details, parallelism: opts.Parallelism, simulated: opts.Simulate}, j)
	if err != nil {
		return nil, m.failView(j, "Waiting for delivery failed", err)
	}
	if sum.Stopped != "" {
		return sum, ExitError
	}
	return sum, ExitOK
}

// writeReports writes the configuration's report blocks from state.
func (m *meta) writeReports(ctx context.Context, ev *config.Evaluated, st state.Store) error {
	if ev == nil {
		return nil
	}
	for _, r := range ev.Reports {
		f, err := report.ParseFormat(r.Format)
		if err != nil {
			return err
		}
		path := m.path(filepath.FromSlash(r.Path))
		if err := report.WriteFile(ctx, path, f, storeSource(st), report.Options{Title: filepath.Base(m.absDir()), Generated: time.Now().UTC().Truncate(time.Second), Version: Version}); err != nil {
			return fmt.Errorf("report %s: %w", r.Path, err)
		}
		fmt.Fprintf(m.streams.Err, "Wrote the %s report to %s\n", f, r.Path)
	}
	return nil
}

func (m *meta) absDir() string {
	if abs, err := filepath.Abs(m.dir); err == nil {
		return abs
	}
	return m.dir
}

// storeSource streams every record of st for the report writers.
func storeSource(st state.Store) report.Source {
	return func(ctx context.Context, fn func(state.Record) error) error {
		return state.Each(ctx, st, state.Filter{}, fn)
	}
}

// deliveryExit is 2 when this run saw messages refused (failed) or found
// them bounced, as -fail-on asks. It judges the run, not the whole state:
// an old bounce does not fail every later cron run.
func (m *meta) deliveryExit(failed, bounced int, failOn arguments.FailOn) int {
	if failOn == arguments.FailOnNever {
		return ExitOK
	}
	if failed > 0 || (failOn == arguments.FailOnAny && bounced > 0) {
		fmt.Fprintf(m.streams.Err, "Delivery problems in this run: %s failed, %s bounced (exit code 2; -fail-on=never ignores them).\n", views.Commas(failed), views.Commas(bounced))
		return ExitChanges
	}
	return ExitOK
}
