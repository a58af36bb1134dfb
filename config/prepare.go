package config

import (
	"bytes"
	"encoding/csv"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/config/funcs"
)

// Batch is one evaluated batch block. Its messages are produced on demand by
// [Batch.Messages].
type Batch struct {
	Name      string
	DeclRange hcl.Range
	// UsesServerTemplate is true when the batch has a postmark_template block:
	// its messages are sent with /email/batchWithTemplates.
	UsesServerTemplate bool
	// Stream is the batch's message_stream when it does not depend on each,
	// otherwise the postmark block's default stream.
	Stream string

	s          *evalState
	src        *batchBlock
	content    *content
	hasForEach bool
	forEach    cty.Value  // the for_each value when it is not streamed
	csv        *csvSource // the streamed for_each source, or nil
	// streamPerMessage is set when message_stream depends on each and is
	// evaluated for every message.
	streamPerMessage bool
	// dataItems and metadataItems are set when data and metadata are object
	// constructors with static keys (see staticObjectItems).
	dataItems, metadataItems []objectItem
	// metadataRanges locates the items of a metadata object constructor by
	// key, for diagnostics.
	metadataRanges map[string]objectItem
	// fast holds the compiled form of every expression of the batch's
	// arguments (see fastExpr); an argument that does not depend on each is
	// evaluated once by Evaluate and held as a literal.
	fast map[hcl.Expression]*fastExpr
	// contentNeedsEach is set when a subject or body refers to each
	// directly rather than through data.
	contentNeedsEach bool
	// broken is set when the batch had errors that make its messages
	// impossible to produce; they were reported by Evaluate.
	broken bool
}

// content holds the subject and bodies of a message, parsed once per
// Evaluate and rendered per message by a templateRenderer.
type content struct {
	subject, html, text hcl.Expression
}

// csvSource is a for_each of the form
//
//	{ for r in csvfile("path") : KEY => VALUE if COND }
//
// which is evaluated one CSV row at a time instead of as one value.
type csvSource struct {
	path    string // slash path within the configuration directory
	src     []byte
	header  []string
	forExpr *hclsyntax.ForExpr
	// valueIsRow is set when VALUE is the row itself, so that each.value.COL
	// can be traced back to a CSV field for diagnostics.
	valueIsRow bool
	columns    map[string]int
	// Compiled condition, key and value of the for expression.
	cond, key, value *fastExpr
}

func (s *evalState) prepareBatch(bb *batchBlock) (*Batch, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	b := &Batch{
		Name:               bb.Name,
		DeclRange:          bb.DeclRange,
		UsesServerTemplate: bb.ServerTemplate != nil,
		Stream:             s.defaultStream,
		s:                  s,
		src:                bb,
		hasForEach:         bb.ForEach != nil,
	}
	scope := refScope{each: b.hasForEach, inBatch: true}
	for _, expr := range []hcl.Expression{bb.From, bb.To, bb.Cc, bb.Bcc, bb.ReplyTo, bb.Tag, bb.Metadata,
		bb.Headers, bb.TrackOpens, bb.TrackLinks, bb.MessageStream, bb.Attachments, bb.Data} {
		if expr != nil {
			diags = append(diags, s.checkRefs(expr, scope)...)
		}
	}
	if st := bb.ServerTemplate; st != nil {
		for _, expr := range []hcl.Expression{st.Alias, st.ID, st.Model} {
			if expr != nil {
				diags = append(diags, s.checkRefs(expr, scope)...)
			}
		}
	}

	switch {
	case bb.TemplateName != "":
		t, ok := s.templates[bb.TemplateName]
		if !ok {
			var names []string
			for n := range s.templates {
				names = append(names, n)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared template",
				Detail:   fmt.Sprintf("No template named %q is declared.%s", bb.TemplateName, didYouMean(bb.TemplateName, names)),
				Subject:  bb.TemplateRange.Ptr(),
			})
			b.broken = true
			break
		}
		c, moreDiags := s.compileTemplate(t)
		diags = append(diags, moreDiags...)
		b.content = c
	case bb.ServerTemplate == nil:
		contentScope := refScope{each: b.hasForEach, inBatch: true, anyRoots: true}
		for _, expr := range []hcl.Expression{bb.Subject, bb.HTML, bb.Text} {
			if expr != nil {
				diags = append(diags, s.checkRefs(expr, contentScope)...)
			}
		}
		b.content = &content{subject: bb.Subject, html: bb.HTML, text: bb.Text}
	}

	if bb.MessageStream != nil {
		if refersTo(bb.MessageStream, "each") {
			b.streamPerMessage = true
		} else if !diags.HasErrors() {
			st, ok, moreDiags := evalString(bb.MessageStream, s.global, "message_stream")
			diags = append(diags, moreDiags...)
			switch {
			case !ok:
			case st == "":
			case !streamIDPattern.MatchString(st):
				diags = append(diags, errorDiag("Invalid message stream", streamDetail(st), bb.MessageStream.Range().Ptr()))
			default:
				b.Stream = st
			}
		}
	}

	if !diags.HasErrors() {
		diags = append(diags, s.prepareConstants(b)...)
	}

	if bb.ForEach != nil {
		moreDiags := s.prepareForEach(b)
		diags = append(diags, moreDiags...)
	}
	if diags.HasErrors() {
		b.broken = true
	}
	return b, diags
}

// prepareConstants evaluates, once, the batch arguments that do not refer to
// each, and finds object constructors whose items can be evaluated one by
// one. Errors in constant arguments are reported here, once, instead of for
// every message.
func (s *evalState) prepareConstants(b *Batch) hcl.Diagnostics {
	var diags hcl.Diagnostics
	bb := b.src
	b.fast = map[hcl.Expression]*fastExpr{}
	constant := map[hcl.Expression]bool{}
	for _, expr := range []hcl.Expression{bb.From, bb.To, bb.Cc, bb.Bcc, bb.ReplyTo, bb.Tag, bb.Metadata,
		bb.Headers, bb.TrackOpens, bb.TrackLinks, bb.MessageStream} {
		if expr == nil || refersTo(expr, "each") {
			continue
		}
		v, moreDiags := expr.Value(s.global)
		diags = append(diags, moreDiags...)
		if !moreDiags.HasErrors() {
			b.fast[expr] = &fastExpr{kind: fastLiteral, expr: expr, lit: v}
			constant[expr] = true
		}
	}
	if bb.Data != nil && refersTo(bb.Data, "each") {
		b.dataItems = staticObjectItems(bb.Data)
		for _, item := range b.dataItems {
			switch {
			case item.name == "var" || item.name == "local" || item.name == "each":
				diags = append(diags, errorDiag("Reserved data attribute", fmt.Sprintf("The data attribute %q would hide the %s namespace in templates. Rename it.", item.name, item.name), item.expr.Range().Ptr()))
			case !hclsyntax.ValidIdentifier(item.name):
				diags = append(diags, errorDiag("Invalid data attribute", fmt.Sprintf("The data attribute %q is not a valid identifier, so templates cannot refer to it. Use letters, digits and underscores.", item.name), item.expr.Range().Ptr()))
			}
		}
	}
	if bb.Metadata != nil {
		items := staticObjectItems(bb.Metadata)
		if refersTo(bb.Metadata, "each") {
			b.metadataItems = items
		}
		b.metadataRanges = map[string]objectItem{}
		for _, item := range items {
			b.metadataRanges[item.name] = item
		}
	}
	compile := func(expr hcl.Expression) {
		if expr != nil {
			b.fast[expr] = compileFast(expr, nil)
		}
	}
	for _, expr := range []hcl.Expression{bb.From, bb.To, bb.Cc, bb.Bcc, bb.ReplyTo, bb.Tag, bb.Metadata,
		bb.Headers, bb.TrackOpens, bb.TrackLinks, bb.MessageStream, bb.Attachments, bb.Data} {
		if !constant[expr] {
			compile(expr)
		}
	}
	for _, item := range b.dataItems {
		compile(item.expr)
	}
	for _, item := range b.metadataItems {
		compile(item.expr)
	}
	if st := bb.ServerTemplate; st != nil {
		compile(st.Alias)
		compile(st.ID)
		compile(st.Model)
	}
	if c := b.content; c != nil {
		for _, expr := range []hcl.Expression{c.subject, c.html, c.text} {
			if expr != nil && refersTo(expr, "each") {
				b.contentNeedsEach = true
			}
		}
	}
	return diags
}

// refersTo reports whether expr refers to the root name.
func refersTo(expr hcl.Expression, root string) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() == root {
			return true
		}
	}
	return false
}

// compileTemplate evaluates a template's *_file paths and parses the files.
// The result is shared by every batch using the template.
func (s *evalState) compileTemplate(t *template) (*content, hcl.Diagnostics) {
	if c, ok := s.compiled[t.Name]; ok {
		return c, nil
	}
	var diags hcl.Diagnostics
	c := &content{}
	s.compiled[t.Name] = c
	contentScope := refScope{each: true, inBatch: true, anyRoots: true}
	part := func(inline, file hcl.Expression) hcl.Expression {
		if inline != nil {
			diags = append(diags, s.checkRefs(inline, contentScope)...)
			return inline
		}
		if file == nil {
			return nil
		}
		if moreDiags := s.checkRefs(file, refScope{}); moreDiags.HasErrors() {
			diags = append(diags, moreDiags...)
			return nil
		}
		name, ok, moreDiags := evalString(file, s.global, "template file path")
		diags = append(diags, moreDiags...)
		if !ok {
			return nil
		}
		if _, err := funcs.CleanPath(name); err != nil {
			diags = append(diags, errorDiag("Invalid template file path", "The template file path must be relative to the configuration directory and stay inside it: "+err.Error()+".", file.Range().Ptr()))
			return nil
		}
		if _, err := s.rec.readFile(name); err != nil {
			diags = append(diags, errorDiag("Unreadable template file", "The template file "+quoteName(name)+" could not be read: "+fsErrorText(err)+".", file.Range().Ptr()))
			return nil
		}
		expr, _, moreDiags := s.parser.parseTemplateFile(name, file.Range())
		diags = append(diags, moreDiags...)
		if expr == nil {
			return nil
		}
		diags = append(diags, s.checkRefs(expr, contentScope)...)
		return expr
	}
	c.subject = part(t.Subject, t.SubjectFile)
	c.html = part(t.HTML, t.HTMLFile)
	c.text = part(t.Text, t.TextFile)
	return c, diags
}

// forEachDetail explains the for_each rule, for diagnostics.
const forEachDetail = "for_each takes a map (each key names a message), a set of strings, or a for expression that builds a map, such as { for s in csvfile(\"subscribers.csv\") : s.email => s }. A list has no keys: turn it into a map with a for expression."

// prepareForEach evaluates a batch's for_each, or, when it is a for
// expression over csvfile(...), sets up a streamed source.
func (s *evalState) prepareForEach(b *Batch) hcl.Diagnostics {
	expr := b.src.ForEach
	diags := s.checkRefs(expr, refScope{})
	if diags.HasErrors() {
		return diags
	}
	if call, ok := expr.(*hclsyntax.FunctionCallExpr); ok && call.Name == "csvfile" {
		return append(diags, errorDiag("Invalid for_each argument", "csvfile returns a list of rows, which has no keys. "+forEachDetail, expr.Range().Ptr()))
	}
	if fe, ok := expr.(*hclsyntax.ForExpr); ok && fe.KeyExpr != nil && !fe.Group {
		if call, ok := fe.CollExpr.(*hclsyntax.FunctionCallExpr); ok && call.Name == "csvfile" && len(call.Args) == 1 && !call.ExpandFinal {
			src, moreDiags := s.prepareCSV(fe, call)
			b.csv = src
			return append(diags, moreDiags...)
		}
	}
	val, moreDiags := expr.Value(s.global)
	diags = append(diags, moreDiags...)
	if moreDiags.HasErrors() {
		return diags
	}
	if val.HasMark(funcs.Sensitive) {
		return append(diags, errorDiag("Invalid for_each argument", "The for_each value is derived from a sensitive variable. Its keys become message addresses, which are shown in plans and reports, so they cannot be sensitive.", expr.Range().Ptr()))
	}
	val, _ = val.Unmark()
	ty := val.Type()
	switch {
	case val.IsNull():
		return append(diags, errorDiag("Invalid for_each argument", "The for_each value is null. "+forEachDetail, expr.Range().Ptr()))
	case !val.IsWhollyKnown():
		// An earlier error (for example in a local value) left it unknown;
		// that error has been reported already.
		return diags
	case ty.IsMapType() || ty.IsObjectType():
	case ty.IsSetType() && ty.ElementType() == cty.String:
	case ty.IsSetType():
		return append(diags, errorDiag("Invalid for_each argument", fmt.Sprintf("A set used as for_each must contain strings, not %s. ", ty.ElementType().FriendlyName())+forEachDetail, expr.Range().Ptr()))
	default:
		return append(diags, errorDiag("Invalid for_each argument", fmt.Sprintf("The for_each value is %s. ", ty.FriendlyName())+forEachDetail, expr.Range().Ptr()))
	}
	b.forEach = val
	return diags
}

func (s *evalState) prepareCSV(fe *hclsyntax.ForExpr, call *hclsyntax.FunctionCallExpr) (*csvSource, hcl.Diagnostics) {
	name, ok, diags := evalString(call.Args[0], s.global, "csvfile path")
	if !ok {
		return nil, diags
	}
	clean, err := funcs.CleanPath(name)
	if err != nil {
		return nil, append(diags, errorDiag("Invalid data file path", "The csvfile path must be relative to the configuration directory and stay inside it: "+err.Error()+".", call.Args[0].Range().Ptr()))
	}
	data, err := s.rec.readFile(clean)
	if err != nil {
		return nil, append(diags, errorDiag("Unreadable data file", "The file "+quoteName(name)+" could not be read: "+fsErrorText(err)+".", call.Args[0].Range().Ptr()))
	}
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, append(diags, errorDiag("Invalid data file", fmt.Sprintf("The file %s must start with a header line naming its columns: %s.", clean, err), call.Args[0].Range().Ptr()))
	}
	src := &csvSource{path: clean, src: data, header: header, forExpr: fe, columns: map[string]int{}}
	for i, col := range header {
		if _, dup := src.columns[col]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid data file",
				Detail:   fmt.Sprintf("The header of %s names the column %q twice. Column names must be unique.", clean, col),
				Subject:  &hcl.Range{Filename: clean, Start: hcl.InitialPos, End: hcl.InitialPos},
			})
		}
		src.columns[col] = i
	}
	if tr, ok := fe.ValExpr.(*hclsyntax.ScopeTraversalExpr); ok && len(tr.Traversal) == 1 && tr.Traversal.RootName() == fe.ValVar {
		src.valueIsRow = true
	}
	if fe.CondExpr != nil {
		src.cond = compileFast(fe.CondExpr, fe)
	}
	src.key = compileFast(fe.KeyExpr, fe)
	src.value = compileFast(fe.ValExpr, fe)
	return src, diags
}
