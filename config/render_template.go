package config

import (
	"fmt"
	"html"
	"math/big"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/postform/postform/config/funcs"
)

// templateRenderer renders a subject or body template into a string. It
// walks the template's syntax tree itself instead of calling its Value
// method, for two reasons: every interpolated value of an HTML body must be
// HTML-escaped (unless marked raw) while literal template text must not, and
// rendering millions of messages must be cheap.
//
// It follows HCL's template semantics: literal text, ${ interpolations },
// %{ if } / %{ else } / %{ endif } and %{ for } / %{ endfor } directives.
// The marks of every value used (funcs.Sensitive in particular) are
// collected, so a rendered field derived from a sensitive value is reported
// as sensitive.
type templateRenderer struct {
	escape bool
	sb     strings.Builder
	marks  cty.ValueMarks
	diags  hcl.Diagnostics
	// loopCtx keeps the child context of each %{ for } directive, reused
	// from message to message while its parent stays the same.
	loopCtx map[*hclsyntax.ForExpr]*hcl.EvalContext
	// lastLen is the length of the previous rendering, to size the buffer.
	lastLen int
	// measure makes render count the output's bytes (in n) instead of
	// building it: checking a message needs the size, not the text.
	measure bool
	n       int
}

// write appends s to the output, or counts it when measuring.
func (t *templateRenderer) write(s string) {
	if t.measure {
		t.n += len(s)
	} else {
		t.sb.WriteString(s)
	}
}

// writeEscaped is write of html.EscapeString(s), which when measuring
// counts the escaped length without building it.
func (t *templateRenderer) writeEscaped(s string) {
	if !t.measure {
		t.sb.WriteString(html.EscapeString(s))
		return
	}
	t.n += len(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>':
			t.n += 3 // &lt; &gt;
		case '&', '\'', '"':
			t.n += 4 // &amp; &#39; &#34;
		}
	}
}

// size renders expr in ctx in measuring mode and returns the length the
// rendering would have. ok is false when there were errors.
func (t *templateRenderer) size(expr hcl.Expression, ctx *hcl.EvalContext) (int, bool) {
	t.measure, t.n = true, 0
	defer func() { t.measure = false }()
	_, ok := t.render(expr, ctx)
	return t.n, ok
}

// render renders expr in ctx. ok is false when there were errors.
func (t *templateRenderer) render(expr hcl.Expression, ctx *hcl.EvalContext) (string, bool) {
	t.sb.Reset()
	if !t.measure {
		t.sb.Grow(t.lastLen)
	}
	t.diags = nil
	clear(t.marks)
	defer func() {
		if !t.measure {
			t.lastLen = t.sb.Len()
		}
	}()
	if e, ok := expr.(hclsyntax.Expression); ok {
		t.node(e, ctx, true)
	} else {
		// should never happen because configuration files and templates
		// are parsed with hclsyntax; evaluate generically just in case.
		t.interpolate(expr, ctx)
	}
	return t.sb.String(), !t.diags.HasErrors()
}

func (t *templateRenderer) addMarks(marks cty.ValueMarks) {
	for m := range marks {
		if m == funcs.Raw {
			continue
		}
		if t.marks == nil {
			t.marks = cty.ValueMarks{}
		}
		t.marks[m] = struct{}{}
	}
}

// node renders one node of a template. top is set for the root of an
// attribute expression, where a non-template expression is treated as one
// interpolation.
func (t *templateRenderer) node(e hclsyntax.Expression, ctx *hcl.EvalContext, top bool) {
	switch n := e.(type) {
	case *hclsyntax.TemplateExpr:
		for _, part := range n.Parts {
			t.part(part, ctx)
		}
	case *hclsyntax.TemplateWrapExpr:
		t.interpolate(n.Wrapped, ctx)
	default:
		t.part(e, ctx)
	}
}

func (t *templateRenderer) part(part hclsyntax.Expression, ctx *hcl.EvalContext) {
	switch p := part.(type) {
	case *hclsyntax.LiteralValueExpr:
		if p.Val.Type() == cty.String {
			t.write(p.Val.AsString()) // literal template text
			return
		}
	case *hclsyntax.ConditionalExpr:
		// An %{ if } directive's range starts at "%{", before its
		// condition; an interpolated ${ a ? b : c } starts at the condition.
		if p.SrcRange.Start.Byte != p.Condition.Range().Start.Byte {
			tr, tOK := p.TrueResult.(*hclsyntax.TemplateExpr)
			fr, fOK := p.FalseResult.(*hclsyntax.TemplateExpr)
			if tOK && fOK {
				t.ifDirective(p, tr, fr, ctx)
				return
			}
		}
	case *hclsyntax.TemplateJoinExpr:
		// Only %{ for } directives produce a TemplateJoinExpr.
		if fe, ok := p.Tuple.(*hclsyntax.ForExpr); ok {
			if body, ok := fe.ValExpr.(*hclsyntax.TemplateExpr); ok {
				t.forDirective(fe, body, ctx)
				return
			}
		}
	}
	t.interpolate(part, ctx)
}

func (t *templateRenderer) ifDirective(p *hclsyntax.ConditionalExpr, tr, fr *hclsyntax.TemplateExpr, ctx *hcl.EvalContext) {
	cond, diags := p.Condition.Value(ctx)
	t.diags = append(t.diags, diags...)
	if diags.HasErrors() {
		return
	}
	cond, marks := cond.Unmark()
	t.addMarks(marks)
	conv, err := convert.Convert(cond, cty.Bool)
	if err != nil || conv.IsNull() || !conv.IsKnown() {
		t.diags = append(t.diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Incorrect condition type",
			Detail:      "The condition of an if directive must be true or false.",
			Subject:     p.Condition.Range().Ptr(),
			Expression:  p.Condition,
			EvalContext: ctx,
		})
		return
	}
	if conv.True() {
		t.node(tr, ctx, false)
	} else {
		t.node(fr, ctx, false)
	}
}

func (t *templateRenderer) forDirective(fe *hclsyntax.ForExpr, body *hclsyntax.TemplateExpr, ctx *hcl.EvalContext) {
	coll, diags := fe.CollExpr.Value(ctx)
	t.diags = append(t.diags, diags...)
	if diags.HasErrors() {
		return
	}
	coll, marks := coll.Unmark()
	t.addMarks(marks)
	if coll.IsNull() || !coll.IsKnown() || !coll.CanIterateElements() {
		t.diags = append(t.diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Iteration over non-iterable value",
			Detail:      "A for directive needs a list, set, map or object to iterate over.",
			Subject:     fe.CollExpr.Range().Ptr(),
			Expression:  fe.CollExpr,
			EvalContext: ctx,
		})
		return
	}
	child := t.loopCtx[fe]
	if child == nil || child.Parent() != ctx {
		child = ctx.NewChild()
		child.Variables = make(map[string]cty.Value, 2)
		if t.loopCtx == nil {
			t.loopCtx = map[*hclsyntax.ForExpr]*hcl.EvalContext{}
		}
		t.loopCtx[fe] = child
	}
	for it := coll.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if fe.KeyVar != "" {
			child.Variables[fe.KeyVar] = k
		}
		child.Variables[fe.ValVar] = v
		t.node(body, child, false)
		if t.diags.HasErrors() {
			return
		}
	}
}

// interpolate renders the value of expr, escaped for HTML bodies unless it is
// marked raw.
func (t *templateRenderer) interpolate(expr hcl.Expression, ctx *hcl.EvalContext) {
	v, found := lookupTraversal(expr, ctx)
	if !found {
		var diags hcl.Diagnostics
		v, diags = expr.Value(ctx)
		t.diags = append(t.diags, diags...)
		if diags.HasErrors() {
			return
		}
	}
	var raw bool
	if v.IsMarked() {
		var marks cty.ValueMarks
		v, marks = v.Unmark()
		_, raw = marks[funcs.Raw]
		t.addMarks(marks)
	}
	if v.IsNull() || !v.Type().IsPrimitiveType() {
		what := "is null"
		if !v.IsNull() {
			what = "is " + v.Type().FriendlyName()
		}
		t.diags = append(t.diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Invalid template interpolation value",
			Detail:      fmt.Sprintf("The expression result %s; only strings, numbers and bools can be included in a template.", what),
			Subject:     expr.Range().Ptr(),
			Expression:  expr,
			EvalContext: ctx,
		})
		return
	}
	if !v.IsKnown() {
		return // from an earlier error, reported already
	}
	s, err := interpolatedString(v)
	if err != nil {
		t.diags = append(t.diags, errorDiag("Invalid template interpolation value", err.Error()+".", expr.Range().Ptr()))
		return
	}
	if t.escape && !raw {
		t.writeEscaped(s)
	} else {
		t.write(s)
	}
}

// interpolatedString converts a known, non-null primitive value to a string
// the way a template would, formatting whole numbers quickly (cty's general
// number formatting costs tens of microseconds).
func interpolatedString(v cty.Value) (string, error) {
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number:
		if bf := v.AsBigFloat(); bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				return strconv.FormatInt(i, 10), nil
			}
		}
	case cty.Bool:
		return strconv.FormatBool(v.True()), nil
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", err
	}
	return s.AsString(), nil
}

// lookupTraversal evaluates the most common interpolation, a variable name
// possibly followed by attribute names (${first_name}, ${item.title}),
// directly from the context, which costs much less than HCL's general
// traversal. found is false when expr has another shape or anything is
// unusual (a missing name, marks, nulls); HCL then evaluates it and reports
// any problem.
func lookupTraversal(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, bool) {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return cty.NilVal, false
	}
	root, ok := st.Traversal[0].(hcl.TraverseRoot)
	if !ok {
		return cty.NilVal, false
	}
	var v cty.Value
	found := false
	for c := ctx; c != nil && !found; c = c.Parent() {
		v, found = c.Variables[root.Name]
	}
	if !found {
		return cty.NilVal, false
	}
	for _, step := range st.Traversal[1:] {
		attr, ok := step.(hcl.TraverseAttr)
		if !ok || v.IsMarked() || v.IsNull() || !v.IsKnown() {
			return cty.NilVal, false
		}
		ty := v.Type()
		if !ty.IsObjectType() || !ty.HasAttribute(attr.Name) {
			return cty.NilVal, false
		}
		v = v.GetAttr(attr.Name)
	}
	return v, true
}
