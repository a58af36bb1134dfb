package runner

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
)

// PlanOptions select and steer what a plan (or an apply) considers.
type PlanOptions struct {
	// Targets limits the run to these addresses: an exact message address
	// (batch.digest["ann@example.com"]) or a whole batch (batch.digest).
	// Empty means everything.
	Targets []string
	// Replace lists message addresses to send again even though state says
	// they were sent.
	Replace []string
	// Planned, when set, is the plan file being applied: every message must
	// appear in it, in order, with the same content digest.
	Planned PlannedSource
	// NoDigests lets Plan skip encoding and digesting messages when state
	// is empty, so no digest could matter (the preview pass of an apply
	// without a saved plan). Entries then have an empty Digest, except the
	// one previewed per batch. Messages are still rendered and validated.
	NoDigests bool
}

// PlannedSource yields a saved plan's entries in plan order. Next returns
// io.EOF after the last entry.
type PlannedSource interface {
	Next() (PlannedEntry, error)
}

// PlannedEntry is one message of a saved plan.
type PlannedEntry struct {
	Address string
	Digest  string
}

// StalePlanError reports that the configuration or its data no longer
// produce what a saved plan recorded.
type StalePlanError struct {
	Address string
	Reason  string
}

func (e *StalePlanError) Error() string {
	if e.Address == "" {
		return "the saved plan is stale: " + e.Reason + "; run postform plan again"
	}
	return fmt.Sprintf("the saved plan is stale: %s %s; run postform plan again", e.Address, e.Reason)
}

// Plan classifies every message of the configuration against state and
// reports each decision through h. It sends nothing and contacts nothing
// but the state store. st may be nil (no state yet).
func Plan(ctx context.Context, ev *config.Evaluated, st state.Store, opts PlanOptions, h Hook) (PlanSummary, error) {
	if h == nil {
		h = NopHook{}
	}
	lineage := ""
	if st != nil {
		meta, err := st.Meta(ctx)
		if err != nil {
			return PlanSummary{}, err
		}
		lineage = meta.Lineage
	}
	w := newWalker(ev, st, lineage, opts, h)
	empty, err := stateIsEmpty(ctx, st)
	if err != nil {
		return PlanSummary{}, fmt.Errorf("reading state: %w", err)
	}
	w.empty = empty
	var sum PlanSummary
	err = w.walk(ctx, func(d *decision) error {
		sum.add(d.entry.Action)
		return nil
	})
	if err != nil {
		return sum, err
	}
	h.PlanDone(sum)
	return sum, nil
}

// decision is a classified message. p is set when the message will be
// sent; rec is its existing state row, if any.
type decision struct {
	entry PlanEntry
	p     *payload
	rec   *state.Record
}

// walker walks the configuration's messages in order, a window at a time,
// and classifies each against state. Only one window of rendered messages is
// held at once.
type walker struct {
	ev      *config.Evaluated
	st      state.Store
	lineage string
	opts    PlanOptions
	h       Hook

	targetAll     bool
	targetBatches map[string]bool
	targetAddrs   map[string]bool
	replace       map[string]bool
	// only, when set, restricts the walk to these addresses (later passes of
	// an apply, which resend only what reconciliation proved unsent).
	only map[string]bool
	// quiet suppresses PlannedMessage/PlannedPreview (later passes).
	quiet bool
	// empty is true when state held no record and no suppression when the
	// walk began. Messages are unique within a walk, so nothing this run
	// writes can match a later message: lookups can be skipped.
	empty bool
}

// stateIsEmpty reports whether st holds no message record and no
// suppression, with two cheap queries.
func stateIsEmpty(ctx context.Context, st state.Store) (bool, error) {
	if st == nil {
		return true, nil
	}
	page, err := st.Page(ctx, state.Filter{}, "", 1)
	if err != nil || len(page) > 0 {
		return false, err
	}
	n, err := st.CountSuppressions(ctx)
	return n == 0, err
}

const windowSize = 500

func newWalker(ev *config.Evaluated, st state.Store, lineage string, opts PlanOptions, h Hook) *walker {
	w := &walker{ev: ev, st: st, lineage: lineage, opts: opts, h: h,
		targetBatches: map[string]bool{}, targetAddrs: map[string]bool{}, replace: map[string]bool{}}
	w.targetAll = len(opts.Targets) == 0
	for _, t := range opts.Targets {
		if !strings.HasPrefix(t, "batch.") {
			t = "batch." + t
		}
		if strings.Contains(t, "[") {
			w.targetAddrs[t] = true
			if b, _, ok := strings.Cut(t, "["); ok {
				w.targetBatches[strings.TrimPrefix(b, "batch.")] = true
			}
		} else {
			w.targetBatches[strings.TrimPrefix(t, "batch.")] = true
			w.targetAddrs[t] = true // a batch without for_each has this address
		}
	}
	for _, r := range opts.Replace {
		w.replace[r] = true
	}
	return w
}

// skipDigests reports whether messages need no payload in this walk.
func (w *walker) skipDigests() bool {
	return w.opts.NoDigests && w.empty && w.opts.Planned == nil
}

// wantBatch reports whether any message of the batch is selected.
func (w *walker) wantBatch(name string) bool {
	return w.targetAll || w.targetBatches[name]
}

// wantMessage reports whether the message is selected by -target.
func (w *walker) wantMessage(batch, addr string) bool {
	if w.targetAll || w.targetAddrs[addr] {
		return true
	}
	// "batch.x" selects every message of batch x.
	return w.targetAddrs["batch."+batch]
}

type pending struct {
	m      *config.Message
	diags  hcl.Diagnostics
	p      *payload
	emails []string // lower-cased recipients, parsed once when suppressions are looked up
}

func (w *walker) walk(ctx context.Context, emit func(*decision) error) error {
	window := make([]pending, 0, windowSize)
	previewed := map[string]bool{}
	built := map[string]bool{} // batches with a payload built (for the preview)
	flush := func() error {
		if len(window) == 0 {
			return nil
		}
		decs, err := w.classify(ctx, window)
		if err != nil {
			return err
		}
		for _, d := range decs {
			if !w.quiet {
				w.h.PlannedMessage(d.entry)
				if d.p != nil && !previewed[d.entry.Batch] {
					previewed[d.entry.Batch] = true
					w.h.PlannedPreview(preview(d))
				}
			}
			if err := emit(d); err != nil {
				return err
			}
		}
		window = window[:0]
		return nil
	}
	for _, b := range w.ev.Batches {
		if !w.wantBatch(b.Name) {
			continue
		}
		messages := b.Messages
		if w.skipDigests() {
			// Only the first message of a batch is built (for its
			// preview): the others need checking, not their bodies.
			messages = b.Check
		}
		for m, diags := range messages() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !w.wantMessage(b.Name, m.Address) {
				continue
			}
			if w.only != nil && !w.only[m.Address] {
				continue
			}
			pe := pending{m: m, diags: diags}
			if !diags.HasErrors() && (!w.skipDigests() || !built[b.Name]) {
				pe.p = buildPayload(m)
				built[b.Name] = true
			}
			if w.opts.Planned != nil {
				if err := w.checkPlanned(&pe); err != nil {
					return err
				}
			}
			window = append(window, pe)
			if len(window) == windowSize {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if w.opts.Planned != nil && w.only == nil {
		if e, err := w.opts.Planned.Next(); err == nil {
			return &StalePlanError{Address: e.Address, Reason: "is in the plan but no longer in the configuration"}
		}
	}
	return nil
}

// checkPlanned compares a message with the next entry of the saved plan.
func (w *walker) checkPlanned(pe *pending) error {
	if w.only != nil {
		return nil // later passes resend only what the first pass vetted
	}
	e, err := w.opts.Planned.Next()
	if err != nil {
		return &StalePlanError{Address: pe.m.Address, Reason: "is new since the plan was made"}
	}
	if e.Address != pe.m.Address {
		return &StalePlanError{Address: e.Address, Reason: fmt.Sprintf("was planned where the configuration now has %s", pe.m.Address)}
	}
	digest := ""
	if pe.p != nil {
		digest = pe.p.digest
	}
	if e.Digest != digest {
		return &StalePlanError{Address: e.Address, Reason: "has different content than when it was planned"}
	}
	return nil
}

func (w *walker) classify(ctx context.Context, window []pending) ([]*decision, error) {
	var recs map[string]state.Record
	if w.st != nil && !w.empty {
		addrs := make([]string, 0, len(window))
		for _, pe := range window {
			addrs = append(addrs, pe.m.Address)
		}
		var err error
		recs, err = w.st.Lookup(ctx, addrs)
		if err != nil {
			return nil, fmt.Errorf("reading state: %w", err)
		}
	}
	suppressed, err := w.suppressions(ctx, window)
	if err != nil {
		return nil, err
	}
	out := make([]*decision, 0, len(window))
	for _, pe := range window {
		m := pe.m
		d := &decision{entry: PlanEntry{
			Address:   m.Address,
			Batch:     m.Batch,
			Key:       m.Key,
			To:        joinRecipients(m.To, m.Cc, m.Bcc),
			Subject:   m.Subject,
			Template:  templateName(m),
			Sensitive: m.Sensitive,
		}}
		out = append(out, d)
		if pe.diags.HasErrors() {
			d.entry.Action = ActionInvalid
			d.entry.Diags = pe.diags
			continue
		}
		if pe.p == nil {
			// skipDigests: state is empty, so the message is simply to send.
			d.entry.Action = ActionSend
			continue
		}
		d.entry.Digest = pe.p.digest
		rec, known := recs[m.Address]
		if known {
			d.rec = &rec
			d.entry.MessageID = rec.MessageID
			d.entry.SentAt = rec.SubmittedAt
		}
		switch {
		case known && (rec.Status == state.StatusSending || rec.Status == state.StatusUncertain):
			d.entry.Action = ActionReconcile
			d.p = pe.p
		case known && rec.Status == state.StatusSent:
			switch {
			case w.replace[m.Address]:
				d.entry.Action = ActionReplace
				d.p = pe.p
			case rec.Digest != pe.p.digest:
				d.entry.Action = ActionChanged
			default:
				d.entry.Action = ActionSent
			}
		case known && rec.Status == state.StatusFailed && rec.Digest == pe.p.digest && !w.replace[m.Address]:
			d.entry.Action = ActionFailed
			d.entry.ErrorCode = rec.ErrorCode
			d.entry.Error = rec.ErrorMessage
		case allSuppressed(suppressed[pe.p.stream], pe.emails) && !w.replace[m.Address]:
			d.entry.Action = ActionSuppressed
		default:
			d.entry.Action = ActionSend
			d.p = pe.p
		}
	}
	return out, nil
}

// suppressions returns, per stream, the known-inactive recipients among the
// window's messages.
func (w *walker) suppressions(ctx context.Context, window []pending) (map[string]map[string]state.Suppression, error) {
	if w.st == nil || w.empty {
		return nil, nil
	}
	byStream := map[string][]string{}
	for i := range window {
		pe := &window[i]
		if pe.p == nil {
			continue
		}
		pe.emails = emails(pe.m)
		byStream[pe.p.stream] = append(byStream[pe.p.stream], pe.emails...)
	}
	out := make(map[string]map[string]state.Suppression, len(byStream))
	for stream, list := range byStream {
		if len(list) == 0 {
			continue
		}
		s, err := w.st.Suppressed(ctx, stream, list)
		if err != nil {
			return nil, fmt.Errorf("reading suppressions: %w", err)
		}
		if len(s) > 0 {
			out[stream] = s
		}
	}
	return out, nil
}

// emails lists the lower-cased recipient addresses of m.
func emails(m *config.Message) []string {
	var out []string
	for _, l := range []string{m.To, m.Cc, m.Bcc} {
		if strings.TrimSpace(l) == "" {
			continue
		}
		list, err := mail.ParseAddressList(l)
		if err != nil {
			continue // config validated it; nothing to match
		}
		for _, a := range list {
			out = append(out, strings.ToLower(a.Address))
		}
	}
	return out
}

// allSuppressed reports whether every recipient in list is suppressed.
func allSuppressed(s map[string]state.Suppression, list []string) bool {
	if len(s) == 0 || len(list) == 0 {
		return false
	}
	for _, e := range list {
		if _, ok := s[e]; !ok {
			return false
		}
	}
	return true
}

func preview(d *decision) Preview {
	pv := Preview{Batch: d.entry.Batch, Address: d.entry.Address, Sensitive: d.entry.Sensitive, Template: d.entry.Template}
	if d.p.plain != nil {
		pv.From, pv.To, pv.Subject = d.p.plain.From, d.entry.To, d.p.plain.Subject
		pv.Text = d.p.plain.TextBody
		if pv.Text == "" {
			pv.Text = htmlToText(d.p.plain.HtmlBody)
		}
	} else {
		pv.From, pv.To = d.p.tmpl.From, d.entry.To
		pv.Text = string(d.p.tmpl.TemplateModel)
	}
	return pv
}

// htmlToText strips tags for a rough preview of an HTML-only message.
func htmlToText(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}
