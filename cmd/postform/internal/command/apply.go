package command

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/cmd/postform/internal/views"
	"github.com/postform/postform/config"
	"github.com/postform/postform/planfile"
	"github.com/postform/postform/runner"
	"github.com/postform/postform/state"
)

// runApply sends what the plan shows, exactly once, then optionally waits
// for delivery outcomes and writes the configured reports.
func (m *meta) runApply(args []string) int {
	opts, err := arguments.ParseApply(args)
	if err != nil {
		return m.usageError("apply", err)
	}
	var j *views.JSONLines
	if opts.JSON {
		j = views.NewJSONLines(m.streams.Out, Version)
	}

	// The configuration: from the saved plan's snapshot, or the directory.
	var l *loaded
	var diags hcl.Diagnostics
	var saved *planfile.Plan
	if opts.PlanFile != "" {
		saved, err = planfile.Open(m.path(opts.PlanFile))
		if err != nil {
			return m.failView(j, "Cannot read the plan file", err)
		}
		defer saved.Close()
		l, diags = m.loadConfig(snapshotOf(saved).FS(), m.planInputs(saved))
		opts.Targets, opts.Replace = saved.Header.Targets, saved.Header.Replace
	} else {
		l, diags = m.loadDir(opts.Vars)
	}
	if diags.HasErrors() {
		return m.configFailed(j, diags)
	}
	ev := l.ev

	t, err := m.resolveTarget(ev, opts.Simulate)
	if err != nil {
		return m.failView(j, "Invalid Postmark target", err)
	}
	if saved != nil && saved.Header.Target != t.name {
		return m.failView(j, "The saved plan is for another target",
			fmt.Errorf("the plan was made for %s, but this run targets %s; plan again for this target", saved.Header.Target, t.name))
	}
	ctx := context.Background()
	lk, err := m.lock(ctx, t, "apply", opts.LockTimeout)
	if err != nil {
		return m.failView(j, "State is locked", err)
	}
	defer lk.Release()
	st, err := m.openState(ctx, t, true)
	if err != nil {
		return m.failView(j, "Cannot open state", err)
	}
	defer st.Close()
	if saved != nil {
		if err := checkPlanIdentity(ctx, st, saved.Header); err != nil {
			return m.failView(j, "The saved plan cannot be applied", err)
		}
	}
	pm, err := m.connect(t)
	if err != nil {
		return m.failView(j, "Cannot reach Postmark", err)
	}
	defer t.close()

	popts := runner.PlanOptions{Targets: opts.Targets, Replace: opts.Replace}
	var expected int
	if saved == nil {
		// Validate and classify everything before anything could be sent.
		var ph runner.Hook
		if j != nil {
			ph = views.NewPlanJSON(j, opts.Redact, m.files)
		} else {
			ph = views.NewPlanHuman(m.streams, views.PlanOptions{Redact: opts.Redact, MaxLines: opts.MaxLines, Files: m.files})
		}
		preview := popts
		preview.NoDigests = true // apply re-renders and digests as it sends
		sum, err := runner.Plan(ctx, ev, st, preview, ph)
		if err != nil {
			return m.failView(j, "Planning failed", err)
		}
		if sum.Invalid > 0 {
			return m.failView(j, "Invalid messages", fmt.Errorf("%s message(s) are invalid; nothing was sent. Fix them (postform validate lists every problem) or leave them out with -target", views.Commas(sum.Invalid)))
		}
		expected = sum.ToSend
		if !sum.ToChange() && j == nil {
			fmt.Fprintln(m.streams.Out, "\nNo changes: nothing to send.")
		}
		if sum.ToChange() && !opts.AutoApprove {
			if ok, err := m.confirm(); err != nil {
				return m.failView(j, "Apply needs approval", err)
			} else if !ok {
				fmt.Fprintln(m.streams.Err, "Apply cancelled: nothing was sent.")
				return ExitError
			}
		}
	} else {
		expected = saved.Header.Summary.ToSend
		entries, err := saved.Entries()
		if err != nil {
			return m.failView(j, "Cannot read the plan file", err)
		}
		defer entries.Close()
		popts.Planned = plannedSource{entries}
	}

	// Ctrl-C once: finish requests in flight and record them. Twice: stop now.
	soft, cancel := context.WithCancel(ctx)
	defer cancel()
	abort := make(chan struct{})
	stopSignals := m.onInterrupt(cancel, abort)
	defer stopSignals()

	var hook interface {
		runner.Hook
		Summary(*runner.RunSummary)
	}
	if j != nil {
		hook = views.NewApplyJSON(j, opts.Redact)
	} else {
		hook = views.NewApplyHuman(m.streams, views.PlanOptions{Redact: opts.Redact, MaxLines: opts.MaxLines, Files: m.files}, false)
	}
	sum, err := runner.Apply(soft, ev, st, pm, runner.ApplyOptions{
		PlanOptions:    popts,
		Parallelism:    opts.Parallelism,
		ReconcileGrace: opts.ReconcileGrace,
		Abort:          abort,
		ExpectedTotal:  expected,
	}, hook)
	hook.Summary(sum)
	if err != nil {
		return m.failView(j, "Apply failed", err)
	}
	code := ExitOK
	if sum.Stopped != "" || sum.Unsent > 0 || sum.Uncertain > 0 {
		code = ExitError
	}
	bounced := 0
	if opts.Wait > 0 && sum.Stopped == "" {
		rs, c := m.waitDelivery(soft, st, pm, ev, opts, j)
		if c > code {
			code = c
		}
		if rs != nil {
			bounced = rs.Bounced
		}
	}
	if err := m.writeReports(ctx, ev, st); err != nil {
		return m.failView(j, "Cannot write a report", err)
	}
	if code == ExitOK {
		code = m.deliveryExit(sum.Failed, bounced, opts.FailOn)
	}
	return code
}

// confirm asks for "yes" on an interactive terminal.
func (m *meta) confirm() (bool, error) {
	f, ok := m.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, errors.New("apply asks for confirmation, but standard input is not a terminal; review the plan and add -auto-approve, or apply a saved plan (plan -out=FILE, then apply FILE)")
	}
	fmt.Fprint(m.streams.Out, "\nDo you want to send these messages?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
	line, err := bufio.NewReader(m.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return strings.TrimSpace(line) == "yes", nil
}

// onInterrupt cancels on the first signal and closes abort on the second.
func (m *meta) onInterrupt(cancel context.CancelFunc, abort chan struct{}) func() {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-ch:
				n++
				if n == 1 {
					fmt.Fprintln(m.streams.Err, "\nInterrupt received: finishing requests in flight and recording them. Press Ctrl-C again to stop now.")
					cancel()
				} else {
					fmt.Fprintln(m.streams.Err, "\nStopping now; the next apply reconciles what was in flight.")
					close(abort)
					return
				}
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// checkPlanIdentity refuses a plan made against other or older state.
func checkPlanIdentity(ctx context.Context, st state.Store, h planfile.Header) error {
	meta, err := st.Meta(ctx)
	if err != nil {
		return err
	}
	if h.Lineage == "" {
		if meta.Serial != 0 {
			return fmt.Errorf("the plan was made before any state existed, but state now has serial %d: the plan is stale; run postform plan again", meta.Serial)
		}
		return nil
	}
	if h.Lineage != meta.Lineage {
		return fmt.Errorf("the plan was made for state lineage %s, which does not match this state (%s); run postform plan again here", h.Lineage, meta.Lineage)
	}
	if h.Serial != meta.Serial {
		return fmt.Errorf("the plan is stale: state changed since it was made (serial %d, now %d); run postform plan again", h.Serial, meta.Serial)
	}
	return nil
}

func snapshotOf(p *planfile.Plan) config.Snapshot {
	s := config.Snapshot{Files: p.Files, Vars: p.Inputs.Vars, Env: p.Inputs.Env}
	for _, vf := range p.Inputs.VarFiles {
		s.VarFiles = append(s.VarFiles, config.VarFile{Name: vf.Name, Src: []byte(vf.Src)})
	}
	return s
}

// planInputs rebuilds the inputs of a saved plan. The environment is the
// real one (the token is read from it) overlaid with the values the
// configuration read at plan time, so every message evaluates identically.
func (m *meta) planInputs(p *planfile.Plan) config.Inputs {
	in := snapshotOf(p).Inputs()
	env := make(map[string]string, len(m.env)+len(in.Env))
	for k, v := range m.env {
		if !strings.HasPrefix(k, "PF_VAR_") {
			env[k] = v
		}
	}
	for k, v := range in.Env {
		env[k] = v
	}
	in.Env = env
	return in
}

// plannedSource adapts a plan file's entries for the runner.
type plannedSource struct{ r *planfile.EntryReader }

func (s plannedSource) Next() (runner.PlannedEntry, error) {
	e, err := s.r.Next()
	if err != nil {
		return runner.PlannedEntry{}, err
	}
	return runner.PlannedEntry{Address: e.Address, Digest: e.Digest}, nil
}
