package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/cmd/postform/internal/views"
	"github.com/postform/postform/planfile"
	"github.com/postform/postform/runner"
	"github.com/postform/postform/state"
)

// runShow renders a saved plan, or the state when no file is given.
func (m *meta) runShow(args []string) int {
	opts, err := arguments.ParseShow(args)
	if err != nil {
		return m.usageError("show", err)
	}
	if opts.File == "" {
		return m.state(&arguments.State{Target: opts.Target, Sub: "list", JSON: opts.JSON})
	}
	p, err := planfile.Open(m.path(opts.File))
	if err != nil {
		return m.fail("Cannot read the plan file", err)
	}
	defer p.Close()
	entries, err := p.Entries()
	if err != nil {
		return m.fail("Cannot read the plan file", err)
	}
	defer entries.Close()
	red := func(s string) string {
		if opts.Redact {
			return views.Redact(s)
		}
		return s
	}
	if opts.JSON {
		// One document: the header, then every entry.
		w := m.streams.Out
		h := p.Header
		hdr, _ := json.Marshal(map[string]any{
			"format_version": h.FormatVersion, "tool_version": h.ToolVersion, "lineage": h.Lineage,
			"serial": h.Serial, "target": h.Target, "targets": h.Targets, "replace": h.Replace, "summary": h.Summary,
		})
		fmt.Fprintf(w, "{\"plan\":%s,\"messages\":[", hdr)
		n := 0
		for {
			e, err := entries.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return m.fail("Cannot read the plan file", err)
			}
			e.Address, e.To = red(e.Address), red(e.To)
			b, _ := json.Marshal(map[string]any{"address": e.Address, "action": e.Action, "digest": e.Digest, "to": e.To, "subject": e.Subject})
			if n > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, "\n%s", b)
			n++
		}
		fmt.Fprint(w, "\n]}\n")
		return ExitOK
	}
	v := views.NewPlanHuman(m.streams, views.PlanOptions{Redact: opts.Redact, MaxLines: opts.MaxLines})
	fmt.Fprintf(m.streams.Out, "Saved plan (format %s, postform %s) for %s, state lineage %q serial %d.\n",
		p.Header.FormatVersion, p.Header.ToolVersion, p.Header.Target, p.Header.Lineage, p.Header.Serial)
	var sum runner.PlanSummary
	for {
		e, err := entries.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m.fail("Cannot read the plan file", err)
		}
		batch, key := splitAddress(e.Address)
		pe := runner.PlanEntry{Address: e.Address, Batch: batch, Key: key, Action: runner.Action(e.Action), To: e.To, Subject: e.Subject, Digest: e.Digest}
		v.PlannedMessage(pe)
	}
	h := p.Header.Summary
	sum = runner.PlanSummary{ToSend: h.ToSend, Sent: h.Sent, Changed: h.Changed, Invalid: h.Invalid, Suppressed: h.Suppressed, Failed: h.Failed, Reconcile: h.Reconcile, Total: h.Total}
	v.PlanDone(sum)
	return ExitOK
}

// splitAddress splits batch.NAME["key"] into NAME and the quoted key.
func splitAddress(addr string) (batch, key string) {
	rest := addr
	if len(rest) > 6 && rest[:6] == "batch." {
		rest = rest[6:]
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] == '[' {
			return rest[:i], rest[i:]
		}
	}
	return rest, ""
}

// runState is `postform state list|show|rm`.
func (m *meta) runState(args []string) int {
	opts, err := arguments.ParseState(args)
	if err != nil {
		return m.usageError("state", err)
	}
	return m.state(opts)
}

// state runs a parsed state subcommand (also `show` without a plan file).
func (m *meta) state(opts *arguments.State) int {
	t, err := m.stateTarget(opts.Simulate)
	if err != nil {
		return m.fail("Invalid Postmark target", err)
	}
	if !t.stateExists() {
		if opts.Sub == "list" {
			if opts.JSON {
				fmt.Fprintln(m.streams.Out, `{"format_version":"1.0","messages":[]}`)
			} else {
				fmt.Fprintln(m.streams.Out, "No state: nothing has been sent from this directory yet.")
			}
			return ExitOK
		}
		return m.fail("No state", fmt.Errorf("no state at %s", t.statePath))
	}
	ctx := context.Background()
	if opts.Sub == "rm" {
		lk, err := m.lock(ctx, t, "state rm", opts.LockTimeout)
		if err != nil {
			return m.fail("State is locked", err)
		}
		defer lk.Release()
	}
	st, err := m.openState(ctx, t, false)
	if err != nil {
		return m.fail("Cannot open state", err)
	}
	defer st.Close()
	switch opts.Sub {
	case "list":
		w := m.streams.Out
		if opts.JSON {
			fmt.Fprint(w, `{"format_version":"1.0","messages":[`)
		}
		n := 0
		err := state.Each(ctx, st, state.Filter{}, func(r state.Record) error {
			if opts.JSON {
				b, _ := json.Marshal(recordJSON(r))
				if n > 0 {
					fmt.Fprint(w, ",")
				}
				fmt.Fprintf(w, "\n%s", b)
			} else {
				delivery := string(r.Delivery)
				if delivery == "" {
					delivery = "-"
				}
				id := r.MessageID
				if id == "" {
					id = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Address, r.Status, delivery, id)
			}
			n++
			return nil
		})
		if opts.JSON {
			fmt.Fprint(w, "\n]}\n")
		}
		if err != nil {
			return m.fail("Cannot read state", err)
		}
	case "show":
		r, err := st.Get(ctx, opts.Addresses[0])
		if errors.Is(err, state.ErrNotFound) {
			return m.fail("No such message", fmt.Errorf("%s is not in state", opts.Addresses[0]))
		}
		if err != nil {
			return m.fail("Cannot read state", err)
		}
		b, _ := json.MarshalIndent(recordJSON(r), "", "  ")
		fmt.Fprintln(m.streams.Out, string(b))
	case "rm":
		n, err := st.Delete(ctx, opts.Addresses)
		if err != nil {
			return m.fail("Cannot write state", err)
		}
		fmt.Fprintf(m.streams.Out, "Removed %d of %d message(s) from state. A removed message that was sent will be sent again by the next apply.\n", n, len(opts.Addresses))
		if n < len(opts.Addresses) {
			return ExitError
		}
	}
	return ExitOK
}

// stateTarget resolves the target for commands that only need state: from
// the configuration when it loads, else the default.
func (m *meta) stateTarget(simulate bool) (*target, error) {
	if simulate {
		return m.resolveTarget(nil, true)
	}
	if l, diags := m.loadDir(arguments.Vars{}); !diags.HasErrors() && l != nil {
		return m.resolveTarget(l.ev, false)
	}
	return m.resolveTarget(nil, false)
}

func recordJSON(r state.Record) map[string]any {
	t := func(v interface{ IsZero() bool }) any {
		if v.IsZero() {
			return nil
		}
		return v
	}
	return map[string]any{
		"address": r.Address, "batch": r.Batch, "key": r.Key, "recipients": r.Recipients, "stream": r.Stream,
		"tag": r.Tag, "digest": r.Digest, "pf_id": r.PFID, "status": r.Status, "message_id": r.MessageID,
		"submitted_at": t(r.SubmittedAt), "first_attempt_at": t(r.FirstAttemptAt), "last_attempt_at": t(r.LastAttemptAt),
		"attempts": r.Attempts, "error_code": r.ErrorCode, "error_message": r.ErrorMessage,
		"delivery_status": r.Delivery, "bounce_type": r.BounceType, "bounce_id": r.BounceID, "inactive": r.Inactive,
		"delivered_at": t(r.DeliveredAt), "last_event_at": t(r.LastEventAt), "checked_at": t(r.CheckedAt),
		"duplicates": r.Duplicates,
	}
}
