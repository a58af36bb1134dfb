package command

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/cmd/postform/internal/views"
	"github.com/postform/postform/config"
	"github.com/postform/postform/planfile"
	"github.com/postform/postform/runner"
	"github.com/postform/postform/state"
)

// runPlan evaluates the configuration, compares it with state and shows
// what apply would send. It never contacts Postmark.
func (m *meta) runPlan(args []string) int {
	opts, err := arguments.ParsePlan(args)
	if err != nil {
		return m.usageError("plan", err)
	}
	ctx := context.Background()
	var j *views.JSONLines
	if opts.JSON {
		j = views.NewJSONLines(m.streams.Out, Version)
	}
	l, diags := m.loadDir(opts.Vars)
	if diags.HasErrors() {
		return m.configFailed(j, diags)
	}
	t, err := m.resolveTarget(l.ev, opts.Simulate)
	if err != nil {
		return m.failView(j, "Invalid Postmark target", err)
	}
	st, err := m.openState(ctx, t, false)
	if err != nil {
		return m.failView(j, "Cannot read state", err)
	}
	if st != nil {
		defer st.Close()
	}
	var meta state.Meta
	if st != nil {
		if meta, err = st.Meta(ctx); err != nil {
			return m.failView(j, "Cannot read state", err)
		}
	}

	var hook runner.Hook
	if j != nil {
		hook = views.NewPlanJSON(j, opts.Redact, m.files)
	} else {
		hook = views.NewPlanHuman(m.streams, views.PlanOptions{Redact: opts.Redact, MaxLines: opts.MaxLines, Files: m.files})
	}
	var rec *planRecorder
	if opts.Out != "" {
		w, err := planfile.NewWriter(filepath.Dir(m.path(opts.Out)))
		if err != nil {
			return m.failView(j, "Cannot write the plan file", err)
		}
		defer w.Abort()
		rec = &planRecorder{Hook: hook, w: w}
		hook = rec
	}
	sum, err := runner.Plan(ctx, l.ev, st, runner.PlanOptions{Targets: opts.Targets, Replace: opts.Replace}, hook)
	if err == nil && rec != nil {
		err = rec.err
	}
	if err != nil {
		return m.failView(j, "Planning failed", err)
	}
	if sum.Invalid > 0 {
		if j == nil {
			fmt.Fprintf(m.streams.Err, "Error: %s message(s) are invalid; fix them (postform validate lists every problem) before applying.\n", views.Commas(sum.Invalid))
		}
		return ExitError
	}
	if rec != nil {
		snap := l.ev.FullSnapshot()
		h := planfile.Header{
			ToolVersion: Version, Lineage: meta.Lineage, Serial: meta.Serial, Target: t.name,
			Targets: opts.Targets, Replace: opts.Replace, Summary: fileSummary(sum),
		}
		if err := rec.w.Finish(m.path(opts.Out), h, snap.Files, toPlanInputs(snap), []string{l.ev.Postmark.ServerToken}); err != nil {
			return m.failView(j, "Cannot write the plan file", err)
		}
		if j == nil {
			fmt.Fprintf(m.streams.Out, "\nSaved the plan to %s. To send exactly this, run:\n    postform apply %s\n", opts.Out, opts.Out)
		}
	}
	if opts.DetailedExitcode && sum.ToChange() {
		return ExitChanges
	}
	return ExitOK
}

// planRecorder adds every planned message to a plan file as it streams by.
type planRecorder struct {
	runner.Hook
	w   *planfile.Writer
	err error
}

func (r *planRecorder) PlannedMessage(e runner.PlanEntry) {
	r.Hook.PlannedMessage(e)
	if r.err == nil {
		r.err = r.w.Add(planfile.Entry{Address: e.Address, Action: string(e.Action), Digest: e.Digest, To: e.To, Subject: e.Subject})
	}
}

func fileSummary(s runner.PlanSummary) planfile.Summary {
	return planfile.Summary{ToSend: s.ToSend, Sent: s.Sent, Changed: s.Changed, Invalid: s.Invalid,
		Suppressed: s.Suppressed, Failed: s.Failed, Reconcile: s.Reconcile, Total: s.Total}
}

func toPlanInputs(s config.Snapshot) planfile.Inputs {
	in := planfile.Inputs{Vars: s.Vars, Env: s.Env}
	for _, vf := range s.VarFiles {
		in.VarFiles = append(in.VarFiles, planfile.VarFile{Name: vf.Name, Src: string(vf.Src)})
	}
	return in
}

// configFailed renders configuration diagnostics through the chosen view.
func (m *meta) configFailed(j *views.JSONLines, diags hcl.Diagnostics) int {
	if j != nil {
		for _, d := range views.JSONDiagnostics(diags, m.files) {
			j.Emit("diagnostic", map[string]any{"diagnostic": d})
		}
	} else {
		m.showDiags(diags)
	}
	return ExitError
}

// failView renders a failure through the chosen view.
func (m *meta) failView(j *views.JSONLines, summary string, err error) int {
	return m.configFailed(j, hcl.Diagnostics{views.ErrorDiag(summary, err)})
}
