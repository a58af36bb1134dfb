package config

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/postform/postform/config/funcs"
)

// Messages returns an iterator over the batch's messages, each evaluated and
// rendered when the iterator reaches it; nothing is retained between
// messages, so a batch streamed from csvfile uses memory independent of its
// number of rows (apart from the set of keys seen, kept to detect
// duplicates).
//
// Messages come in key order for a map or set for_each, and in row order for a
// csvfile source. A message whose data is invalid is still yielded, with its
// Address set and error diagnostics whose Detail starts with the address;
// iteration then continues, so that every problem is reported. When the key
// itself cannot be computed (for example a data row whose key expression
// fails), the message has an empty Key and Address names the batch. A
// malformed data file ends the iteration after a final diagnostic.
//
// The iterator may be run more than once, and several iterators may run at
// the same time; each starts from the beginning. It yields nothing for a
// batch whose errors were reported by Evaluate.
func (b *Batch) Messages() iter.Seq2[*Message, hcl.Diagnostics] {
	return b.messages(false)
}

// Check is Messages for a pass that only checks messages: every message
// after the first is Measured, its HTML and text bodies rendered only to
// count and check them, not kept. Everything else (the diagnostics above
// all) is exactly as Messages gives it; the first message is complete, for
// a preview.
func (b *Batch) Check() iter.Seq2[*Message, hcl.Diagnostics] {
	return b.messages(true)
}

func (b *Batch) messages(check bool) iter.Seq2[*Message, hcl.Diagnostics] {
	return func(yield func(*Message, hcl.Diagnostics) bool) {
		if b.broken {
			return
		}
		r := b.newRenderer()
		r.check = check
		switch {
		case b.csv != nil:
			r.streamCSV(yield)
		case b.hasForEach:
			isSet := b.forEach.Type().IsSetType()
			for it := b.forEach.ElementIterator(); it.Next(); {
				k, v := it.Element()
				key := k
				if isSet {
					key = v
				}
				r.env.value = v
				if !yield(r.render(key.AsString(), nil)) {
					return
				}
				r.measureBodies = check
			}
		default:
			yield(r.render("", nil))
		}
	}
}

// renderer evaluates one batch's messages. Its evaluation contexts are reused
// from message to message, so a renderer belongs to a single iteration.
type renderer struct {
	b *Batch
	// ctx is the context of batch arguments: each, over the global var,
	// local and functions.
	ctx *hcl.EvalContext
	// cctx is the context of subject and bodies: the data attributes as
	// top-level variables, over ctx.
	cctx *hcl.EvalContext
	row  *csvRow
	// plain renders subjects and text bodies; html escapes interpolations.
	plain, html templateRenderer
	// validNames caches which data attribute names are identifiers.
	validNames map[string]bool

	// env is the current message's key and value for compiled expressions;
	// eachSet and iterSet say whether the each object (in ctx) and the
	// for expression's variables (in ictx) have been built for it.
	env     fastEnv
	ictx    *hcl.EvalContext
	index   int
	eachSet bool
	iterSet bool
	// validFrom is the last sender address found valid.
	validFrom string
	// check is set for Batch.Check; measureBodies makes render measure
	// the bodies instead of keeping them (every message after the first).
	check, measureBodies bool
	// ensureEachFn and ensureIterFn are the method values of ensureEach and
	// ensureIter, made once instead of once per evaluation.
	ensureEachFn, ensureIterFn func()
}

// csvRow locates the data row of the message being rendered.
type csvRow struct {
	src    *csvSource
	record []string
	rng    hcl.Range
}

func (b *Batch) newRenderer() *renderer {
	ctx := b.s.global.NewChild()
	ctx.Variables = map[string]cty.Value{}
	cctx := ctx.NewChild()
	cctx.Variables = map[string]cty.Value{}
	r := &renderer{b: b, ctx: ctx, cctx: cctx, html: templateRenderer{escape: true}, validNames: map[string]bool{}}
	r.ensureEachFn, r.ensureIterFn = r.ensureEach, r.ensureIter
	if b.csv != nil {
		r.env.columns = b.csv.columns
		r.env.header = b.csv.header
		r.ictx = b.s.global.NewChild()
		r.ictx.Variables = make(map[string]cty.Value, 2)
	}
	return r
}

// ensureEach puts the each object into the batch context, once per message.
func (r *renderer) ensureEach() {
	if r.eachSet || !r.b.hasForEach {
		return
	}
	r.ctx.Variables["each"] = cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(r.env.key), "value": r.env.rowObject()})
	r.eachSet = true
}

// ensureIter puts the for expression's variables into its context, once per
// row.
func (r *renderer) ensureIter() {
	if r.iterSet {
		return
	}
	fe := r.b.csv.forExpr
	r.ictx.Variables[fe.ValVar] = r.env.rowObject()
	if fe.KeyVar != "" {
		r.ictx.Variables[fe.KeyVar] = cty.NumberIntVal(int64(r.index))
	}
	r.iterSet = true
}

// evalIter evaluates a compiled part of the for expression for the current
// row.
func (r *renderer) evalIter(fx *fastExpr) (cty.Value, hcl.Diagnostics) {
	r.env.ensure = r.ensureIterFn
	return fx.eval(&r.env, r.ictx)
}

// evalBatch evaluates a batch argument for the current message.
func (r *renderer) evalBatch(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	if fx, ok := r.b.fast[expr]; ok {
		r.env.ensure = r.ensureEachFn
		return fx.eval(&r.env, r.ctx)
	}
	r.ensureEach()
	return expr.Value(r.ctx)
}

// address formats a message address: batch.NAME["key"].
func address(batch, key string, keyed bool) string {
	if !keyed {
		return "batch." + batch
	}
	return "batch." + batch + "[" + hclQuote(key) + "]"
}

// hclQuote quotes s as an HCL string literal, escaping template sequences.
func hclQuote(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c != 0x7f && c != '"' && c != '\\' && c != '$' && c != '%'
	}
	if plain {
		return `"` + s + `"`
	}
	var sb strings.Builder
	sb.Grow(len(s) + 2)
	sb.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case (r == '$' || r == '%') && i+1 < len(s) && s[i+1] == '{':
			sb.WriteRune(r)
			sb.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// streamCSV yields the messages of a csvfile for_each, evaluating the for
// expression's condition, key and value for one row at a time.
func (r *renderer) streamCSV(yield func(*Message, hcl.Diagnostics) bool) {
	r.streamCSVWith(nil, yield)
}

// streamCSVWith is streamCSV with a hook to adjust the duplicate-key set,
// for tests.
//
// Rows are read, filtered and keyed in order on one goroutine; rendering,
// the bulk of the work, is spread over renderWorkers goroutines, each with
// its own renderer; messages are yielded in row order, and duplicate keys
// are detected in that order too. With one worker everything happens on
// the calling goroutine.
func (r *renderer) streamCSVWith(adjust func(*keySet), yield func(*Message, hcl.Diagnostics) bool) {
	// The key set recomputes earlier keys with a renderer of its own, so
	// that it never disturbs a row being read or rendered.
	seen := newKeySet(r.b.newRenderer().keyAt)
	if adjust != nil {
		adjust(seen)
	}
	emit := func(it *csvItem) bool {
		if it.render {
			if first, dup := seen.add(it.key, it.ref); dup {
				it.diags = append(it.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate for_each key",
					Detail:   fmt.Sprintf("%s: row %d of %s produces the key %s, which row %d already produced. Keys identify messages across runs, so each must be unique: key on a unique column, or filter the duplicates out with the for expression's if clause.", it.msg.Address, it.ref.line, r.b.csv.path, hclQuote(it.key), first.line),
					Subject:  it.row.rng.Ptr(),
				})
			}
		}
		return yield(it.msg, it.diags)
	}
	workers := renderWorkers()
	if workers <= 1 {
		r.readRows(func(it *csvItem) bool {
			if it.render {
				r.renderItem(it)
			}
			return emit(it)
		})
		return
	}

	// chunk is a run of consecutive rows, rendered by one worker.
	type chunk struct {
		items []*csvItem
		done  chan struct{}
	}
	const chunkRows = 128
	stop := make(chan struct{})
	order := make(chan *chunk, 2*workers) // chunks in row order, for the collector
	work := make(chan *chunk, 2*workers)  // the same chunks, for the workers
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(order)
		c := &chunk{done: make(chan struct{})}
		send := func() bool {
			select {
			case order <- c:
			case <-stop:
				return false
			}
			select {
			case work <- c:
			case <-stop:
				return false
			}
			c = &chunk{done: make(chan struct{}), items: make([]*csvItem, 0, chunkRows)}
			return true
		}
		r.readRows(func(it *csvItem) bool {
			c.items = append(c.items, it)
			return len(c.items) < chunkRows || send()
		})
		if len(c.items) > 0 {
			send()
		}
	}()
	for range workers {
		wr := r.b.newRenderer()
		go func() {
			defer wg.Done()
			for c := range work {
				select {
				case <-stop:
				default:
					for _, it := range c.items {
						if it.render {
							wr.renderItem(it)
						}
					}
				}
				close(c.done)
			}
		}()
	}
	defer wg.Wait()
	defer close(stop)
	for c := range order {
		<-c.done
		for _, it := range c.items {
			if !emit(it) {
				return
			}
		}
	}
}

// renderWorkers is the number of goroutines that render a data file's
// messages: one per processor, at most 4.
func renderWorkers() int {
	return min(runtime.GOMAXPROCS(0), 4)
}

// csvItem is one row of a data file on its way to a message. A row to
// render has render set and carries what rendering needs; a row that failed
// before rendering (bad CSV, a failing for expression) carries its message
// and diagnostics already.
type csvItem struct {
	render  bool
	measure bool // Batch.Check after the first message: measure the bodies
	key     string
	value   cty.Value // the for expression's value, or cty.NilVal for the row itself
	index   int
	ref     rowRef
	row     csvRow // with a copy of the record

	msg   *Message
	diags hcl.Diagnostics
}

// renderItem renders it with r.
func (r *renderer) renderItem(it *csvItem) {
	r.env.key, r.env.value, r.env.record = "", it.value, it.row.record
	r.index, r.iterSet, r.eachSet = it.index, false, false
	r.row = &it.row
	r.measureBodies = it.measure
	it.msg, it.diags = r.render(it.key, &it.row)
	r.row = nil
}

// readRows reads the data file in order, evaluates each row's for
// expression (condition, key and value) and passes the rows to emit until
// it returns false or the file ends. An unreadable file ends with an item
// for the row where reading stopped.
func (r *renderer) readRows(emit func(*csvItem) bool) {
	cs := r.b.csv
	fe := cs.forExpr
	rd := csv.NewReader(bytes.NewReader(cs.src))
	rd.ReuseRecord = true
	rd.FieldsPerRecord = len(cs.header)
	if _, err := rd.Read(); err != nil {
		return // should never happen because prepareCSV read the header
	}
	rowErr := func(rng hcl.Range, diags hcl.Diagnostics) *csvItem {
		m := &Message{Address: address(r.b.Name, "", false), Batch: r.b.Name, Range: rng, MessageStream: r.b.Stream}
		for _, d := range diags {
			d.Detail = fmt.Sprintf("%s row %d: %s", cs.path, rng.Start.Line, d.Detail)
		}
		return &csvItem{msg: m, diags: diags}
	}
	first := true // no message to render yet
	for index := 0; ; index++ {
		start := rd.InputOffset()
		record, err := rd.Read()
		if err == io.EOF {
			return
		}
		for start < int64(len(cs.src)) && (cs.src[start] == '\n' || cs.src[start] == '\r') {
			start++ // blank lines, which the CSV reader skips
		}
		end := rd.InputOffset()
		for end > start && (cs.src[end-1] == '\n' || cs.src[end-1] == '\r') {
			end--
		}
		var pe *csv.ParseError
		if err != nil {
			line := 0
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			rng := hcl.Range{Filename: cs.path, Start: hcl.Pos{Line: line, Column: 1, Byte: int(start)}, End: hcl.Pos{Line: line, Column: int(end-start) + 1, Byte: int(end)}}
			if pe != nil && errors.Is(pe.Err, csv.ErrFieldCount) {
				if !emit(rowErr(rng, hcl.Diagnostics{errorDiag("Invalid data row", fmt.Sprintf("the row has %d fields but the header names %d columns. Quote fields that contain commas.", len(record), len(cs.header)), rng.Ptr())})) {
					return
				}
				continue
			}
			emit(rowErr(rng, hcl.Diagnostics{errorDiag("Invalid data file", fmt.Sprintf("the file is not valid CSV (%s), so reading stopped here. Fix the quoting of this row.", err), rng.Ptr())}))
			return
		}
		line, _ := rd.FieldPos(0)
		rng := hcl.Range{Filename: cs.path, Start: hcl.Pos{Line: line, Column: 1, Byte: int(start)}, End: hcl.Pos{Line: line, Column: int(end-start) + 1, Byte: int(end)}}

		r.env.key, r.env.value, r.env.record = "", cty.NilVal, record
		r.index, r.iterSet, r.eachSet = index, false, false
		if cs.cond != nil {
			include, diags := r.evalIter(cs.cond)
			if !diags.HasErrors() {
				include, _ = include.Unmark()
				if conv, err := convert.Convert(include, cty.Bool); err != nil || conv.IsNull() || !conv.IsKnown() {
					diags = append(diags, errorDiag("Invalid for_each condition", "the if clause of the for expression must be true or false.", fe.CondExpr.Range().Ptr()))
				} else {
					include = conv
				}
			}
			if diags.HasErrors() {
				if !emit(rowErr(rng, diags)) {
					return
				}
				continue
			}
			if include.False() {
				continue
			}
		}
		keyVal, diags := r.evalIter(cs.key)
		key := ""
		if !diags.HasErrors() {
			if containsMarked(keyVal) {
				diags = append(diags, errorDiag("Invalid for_each key", "the key is derived from a sensitive value, but keys become message addresses, which are shown in plans and reports.", fe.KeyExpr.Range().Ptr()))
			} else if conv, err := convert.Convert(keyVal, cty.String); err != nil || conv.IsNull() || !conv.IsKnown() {
				diags = append(diags, errorDiag("Invalid for_each key", "the key expression must produce a string.", fe.KeyExpr.Range().Ptr()))
			} else {
				key = conv.AsString()
			}
		}
		value := cty.NilVal
		if !cs.valueIsRow {
			v, moreDiags := r.evalIter(cs.value)
			diags = append(diags, moreDiags...)
			value = v
		}
		if diags.HasErrors() {
			if !emit(rowErr(rng, diags)) {
				return
			}
			continue
		}
		// The reader reuses its record slice (the strings are new for
		// every row): keep a copy.
		it := &csvItem{
			render:  true,
			measure: r.check && !first,
			key:     key,
			value:   value,
			index:   index,
			ref:     rowRef{off: start, line: int32(line), index: int32(index)},
			row:     csvRow{src: cs, rng: rng, record: slices.Clone(record)},
		}
		first = false
		if !emit(it) {
			return
		}
	}
}

// fieldRange returns the source range of column col in the current row.
func (row *csvRow) fieldRange(col int) hcl.Range {
	// Only a diagnostic asks, so the row is read again here rather than
	// every field's position kept for every row.
	rd := csv.NewReader(bytes.NewReader(row.src.src[row.rng.Start.Byte:]))
	rd.FieldsPerRecord = len(row.src.header)
	if _, err := rd.Read(); err != nil {
		return row.rng
	}
	relLine, column := rd.FieldPos(col)
	if relLine != 1 {
		return row.rng // a quoted field spanning lines: point at the row
	}
	line := row.rng.Start.Line
	startByte := row.rng.Start.Byte + column - 1
	width := len(row.record[col])
	if startByte < len(row.src.src) && row.src.src[startByte] == '"' {
		width = len(row.record[col]) + 2 + strings.Count(row.record[col], `"`)
	}
	return hcl.Range{
		Filename: row.rng.Filename,
		Start:    hcl.Pos{Line: line, Column: column, Byte: startByte},
		End:      hcl.Pos{Line: line, Column: column + width, Byte: startByte + width},
	}
}

// subjectFor returns the tightest range for a problem with the value of expr:
// for a message from a CSV row, the field (each.value.COL) or the row when
// the value depends on each; otherwise the expression.
func (r *renderer) subjectFor(expr hcl.Expression) *hcl.Range {
	if r.row == nil || expr == nil {
		if expr == nil {
			return r.b.DeclRange.Ptr()
		}
		return expr.Range().Ptr()
	}
	if tr, ok := expr.(*hclsyntax.ScopeTraversalExpr); ok && r.row.src.valueIsRow && len(tr.Traversal) == 3 && tr.Traversal.RootName() == "each" {
		if a, ok := tr.Traversal[1].(hcl.TraverseAttr); ok && a.Name == "value" {
			if c, ok := tr.Traversal[2].(hcl.TraverseAttr); ok {
				if col, ok := r.row.src.columns[c.Name]; ok {
					return r.row.fieldRange(col).Ptr()
				}
			}
		}
	}
	if refersTo(expr, "each") {
		return r.row.rng.Ptr()
	}
	return expr.Range().Ptr()
}

// sourceNote says which argument computed a value whose diagnostic points
// into a data file.
func (r *renderer) sourceNote(name string, expr hcl.Expression, subject *hcl.Range) string {
	if expr == nil || subject == nil || subject.Filename == expr.Range().Filename {
		return ""
	}
	return fmt.Sprintf(" The value comes from this data row through the %s argument at %s.", name, rangeString(expr.Range()))
}

// render evaluates and validates one message. The message's value is in
// r.env.
func (r *renderer) render(key string, row *csvRow) (*Message, hcl.Diagnostics) {
	b := r.b
	src := b.src
	m := &Message{
		Address:       address(b.Name, key, b.hasForEach),
		Batch:         b.Name,
		Key:           key,
		MessageStream: b.Stream,
		Range:         b.DeclRange,
	}
	if row != nil {
		m.Range = row.rng
	}
	r.env.key = key
	r.eachSet = false
	e := &msgEval{r: r, m: m}

	m.From = e.str("from", src.From)
	m.To = e.str("to", src.To)
	m.Cc = e.str("cc", src.Cc)
	m.Bcc = e.str("bcc", src.Bcc)
	m.ReplyTo = e.str("reply_to", src.ReplyTo)
	m.Tag = e.str("tag", src.Tag)
	m.TrackLinks = e.str("track_links", src.TrackLinks)
	if b.streamPerMessage {
		if st := e.str("message_stream", src.MessageStream); st != "" {
			m.MessageStream = st
		}
	}
	if src.TrackOpens != nil {
		if v, ok := e.value("track_opens", src.TrackOpens); ok {
			if conv, err := convert.Convert(v, cty.Bool); err != nil || !conv.IsKnown() {
				e.fail("Invalid value for track_opens", "track_opens must be true or false.", src.TrackOpens)
			} else if !conv.IsNull() {
				t := conv.True()
				m.TrackOpens = &t
			}
		}
	}
	m.Metadata = e.metadata(src.Metadata)
	m.Headers = e.headers(src.Headers)
	m.Attachments = e.attachments(src.Attachments)

	clear(r.cctx.Variables)
	dataOK := e.data(src.Data)
	if !dataOK {
		e.markFailed("data")
	}
	if st := src.ServerTemplate; st != nil {
		e.serverTemplate(st)
	} else if b.content != nil && dataOK {
		if b.contentNeedsEach {
			r.ensureEach()
		}
		m.Subject = e.content("subject", b.content.subject, &r.plain)
		if r.measureBodies {
			m.Measured = true
			m.HTMLSize = e.size("html", b.content.html, &r.html)
			m.TextSize = e.size("text", b.content.text, &r.plain)
		} else {
			m.HTMLBody = e.content("html", b.content.html, &r.html)
			m.TextBody = e.content("text", b.content.text, &r.plain)
		}
	}
	if !e.failed["from"] && !e.failed["to"] {
		e.validate()
	}
	for _, d := range e.diags {
		d.Detail = m.Address + ": " + d.Detail
	}
	return m, e.diags
}

// msgEval collects the values, sensitivity and diagnostics of one message.
type msgEval struct {
	r      *renderer
	m      *Message
	diags  hcl.Diagnostics
	failed map[string]bool
}

func (e *msgEval) fail(summary, detail string, expr hcl.Expression) {
	subject := e.r.subjectFor(expr)
	e.diags = append(e.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  subject,
	})
}

func (e *msgEval) markFailed(field string) {
	if e.failed == nil {
		e.failed = map[string]bool{}
	}
	e.failed[field] = true
}

// value evaluates expr, records whether it is sensitive, and returns it
// unmarked. ok is false when there were errors or the value is null.
func (e *msgEval) value(field string, expr hcl.Expression) (cty.Value, bool) {
	if expr == nil {
		return cty.NilVal, false
	}
	v, diags := e.r.evalBatch(expr)
	if diags.HasErrors() {
		e.diags = append(e.diags, diags...)
		e.markFailed(field)
		return cty.NilVal, false
	}
	if containsMarked(v) {
		var marks cty.ValueMarks
		v, marks = v.UnmarkDeep()
		if _, ok := marks[funcs.Sensitive]; ok {
			e.m.Sensitive = append(e.m.Sensitive, field)
		}
	}
	if v.IsNull() || !isWhollyKnown(v) {
		// Unknown values come only from earlier errors, reported already.
		return cty.NilVal, false
	}
	return v, true
}

// containsMarked is v.ContainsMarked without its walk (and allocations) for
// primitive values.
func containsMarked(v cty.Value) bool {
	if v.Type().IsPrimitiveType() {
		return v.IsMarked()
	}
	return v.ContainsMarked()
}

// isWhollyKnown is v.IsWhollyKnown without its walk for primitive values.
func isWhollyKnown(v cty.Value) bool {
	if v.Type().IsPrimitiveType() {
		return v.IsKnown()
	}
	return v.IsWhollyKnown()
}

func (e *msgEval) str(field string, expr hcl.Expression) string {
	v, ok := e.value(field, expr)
	if !ok {
		return ""
	}
	if v.Type() == cty.String {
		return v.AsString()
	}
	conv, err := convert.Convert(v, cty.String)
	if err != nil {
		e.markFailed(field)
		e.fail("Invalid value for "+field, fmt.Sprintf("%s must be a string, but this is %s.", field, v.Type().FriendlyName()), expr)
		return ""
	}
	return conv.AsString()
}

// data evaluates the data argument into the content context's variables.
// Marks are kept, so that a rendered field derived from a sensitive value is
// itself sensitive.
func (e *msgEval) data(expr hcl.Expression) bool {
	if expr == nil {
		return true
	}
	if items := e.r.b.dataItems; items != nil {
		// A static object constructor: evaluate its items straight into
		// the template variables, without building the object.
		ok := true
		for _, item := range items {
			v, diags := e.r.evalBatch(item.expr)
			e.diags = append(e.diags, diags...)
			if diags.HasErrors() {
				ok = false
				continue
			}
			e.r.cctx.Variables[item.name] = v
		}
		return ok
	}
	v, diags := e.r.evalBatch(expr)
	e.diags = append(e.diags, diags...)
	if diags.HasErrors() {
		return false
	}
	v, marks := v.Unmark()
	if v.IsNull() {
		return true
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		e.fail("Invalid value for data", fmt.Sprintf("data must be an object whose attributes become template variables, but this is %s.", ty.FriendlyName()), expr)
		return false
	}
	if !v.IsKnown() {
		return false // from an earlier error, reported already
	}
	ok := true
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		name := k.AsString()
		switch {
		case name == "var" || name == "local" || name == "each":
			e.fail("Reserved data attribute", fmt.Sprintf("the data attribute %q would hide the %s namespace in templates. Rename it.", name, name), expr)
			ok = false
		case !e.r.validName(name):
			e.fail("Invalid data attribute", fmt.Sprintf("the data attribute %q is not a valid identifier, so templates cannot refer to it. Use letters, digits and underscores.", name), expr)
			ok = false
		default:
			e.r.cctx.Variables[name] = val.WithMarks(marks)
		}
	}
	return ok
}

// validName reports whether a data attribute name is an identifier, caching
// the answer: hclsyntax.ValidIdentifier runs the lexer.
func (r *renderer) validName(name string) bool {
	ok, cached := r.validNames[name]
	if !cached {
		ok = hclsyntax.ValidIdentifier(name)
		if len(r.validNames) < 1000 {
			r.validNames[name] = ok
		}
	}
	return ok
}

// content renders a subject or body template with the data variables.
func (e *msgEval) content(field string, expr hcl.Expression, t *templateRenderer) string {
	if expr == nil {
		return ""
	}
	s, ok := t.render(expr, e.r.cctx)
	if !e.rendered(field, t, ok) {
		return ""
	}
	return s
}

// size is content for a measured body: it checks the rendering and returns
// its length.
func (e *msgEval) size(field string, expr hcl.Expression, t *templateRenderer) int {
	if expr == nil {
		return 0
	}
	n, ok := t.size(expr, e.r.cctx)
	if !e.rendered(field, t, ok) {
		return 0
	}
	return n
}

// rendered takes in t's diagnostics and marks for field after a
// rendering, and reports whether it succeeded.
func (e *msgEval) rendered(field string, t *templateRenderer, ok bool) bool {
	e.diags = append(e.diags, t.diags...)
	if !ok {
		e.markFailed(field)
		return false
	}
	if _, sensitive := t.marks[funcs.Sensitive]; sensitive {
		e.m.Sensitive = append(e.m.Sensitive, field)
	}
	return true
}
