package config

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Evaluating a message with HCL alone costs several microseconds, much of it
// building cty objects for each and for the CSV row, and evaluating simple
// traversals and comparisons through the generic machinery. A million-row
// plan needs better, so the expressions of a batch are compiled into
// fastExprs that handle the most common shapes directly:
//
//	each.key, each.value, each.value.COLUMN   (r, r.COLUMN in the for expression)
//	literals, and == / != between two of the above
//
// Anything else is evaluated by HCL as usual, after the each and row objects
// have been built (lazily, once per message, only when needed). Results are
// the same either way: a fast path gives up and falls back to HCL whenever
// marks, nulls or unexpected types are involved, so HCL still produces every
// diagnostic.

// fastKind is the shape of a compiled expression.
type fastKind int

const (
	fastGeneric  fastKind = iota // evaluate with HCL
	fastLiteral                  // a constant
	fastKey                      // each.key, or the for expression's key variable
	fastValue                    // each.value (or the row variable) followed by attribute steps
	fastEqual                    // lhs == rhs
	fastNotEqual                 // lhs != rhs
	fastUnscoped                 // refers to neither each nor the row: HCL without building objects
)

// fastExpr is a compiled expression.
type fastExpr struct {
	kind     fastKind
	expr     hcl.Expression
	lit      cty.Value
	attrs    []string // attribute steps after each.value
	lhs, rhs *fastExpr
}

// compileFast compiles expr. In batch arguments (inFor nil) the message's
// key and value are each.key and each.value; inside a for_each for
// expression (inFor set) they are its key and value variables.
func compileFast(expr hcl.Expression, inFor *hclsyntax.ForExpr) *fastExpr {
	fx := &fastExpr{kind: fastGeneric, expr: expr}
	roots := []string{"each"}
	if inFor != nil {
		roots = []string{inFor.ValVar}
		if inFor.KeyVar != "" {
			roots = append(roots, inFor.KeyVar)
		}
	}
	scoped := slices.ContainsFunc(roots, func(root string) bool { return refersTo(expr, root) })
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		fx.kind, fx.lit = fastLiteral, e.Val
		return fx
	case *hclsyntax.TemplateExpr:
		// A quoted string without interpolations: "yes".
		if e.IsStringLiteral() {
			if v, diags := e.Value(nil); !diags.HasErrors() {
				fx.kind, fx.lit = fastLiteral, v
				return fx
			}
		}
	case *hclsyntax.TemplateWrapExpr:
		inner := compileFast(e.Wrapped, inFor)
		if inner.kind == fastKey || inner.kind == fastValue {
			// "${each.value.email}" is each.value.email converted to a
			// string; the value is already a string for CSV columns, and
			// callers convert otherwise.
			return inner
		}
	case *hclsyntax.ScopeTraversalExpr:
		if steps, ok := attrSteps(e.Traversal); ok {
			switch {
			case inFor == nil && steps[0] == "each" && len(steps) == 2 && steps[1] == "key":
				fx.kind = fastKey
				return fx
			case inFor == nil && steps[0] == "each" && len(steps) >= 2 && steps[1] == "value":
				fx.kind, fx.attrs = fastValue, steps[2:]
				return fx
			case inFor != nil && steps[0] == inFor.ValVar:
				fx.kind, fx.attrs = fastValue, steps[1:]
				return fx
			}
		}
	case *hclsyntax.BinaryOpExpr:
		if e.Op == hclsyntax.OpEqual || e.Op == hclsyntax.OpNotEqual {
			lhs, rhs := compileFast(e.LHS, inFor), compileFast(e.RHS, inFor)
			if lhs.kind != fastGeneric && rhs.kind != fastGeneric && lhs.kind != fastUnscoped && rhs.kind != fastUnscoped {
				fx.kind, fx.lhs, fx.rhs = fastEqual, lhs, rhs
				if e.Op == hclsyntax.OpNotEqual {
					fx.kind = fastNotEqual
				}
				return fx
			}
		}
	}
	if !scoped {
		fx.kind = fastUnscoped
	}
	return fx
}

// attrSteps returns the root and attribute names of a traversal made only of
// attribute steps.
func attrSteps(tr hcl.Traversal) ([]string, bool) {
	steps := make([]string, 0, len(tr))
	for i, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			if i != 0 {
				return nil, false
			}
			steps = append(steps, s.Name)
		case hcl.TraverseAttr:
			steps = append(steps, s.Name)
		default:
			return nil, false
		}
	}
	return steps, len(steps) > 0
}

// fastEnv is the per-message state a fastExpr reads: the key and the value,
// where the value of a CSV message is its record, turned into a cty object
// only when something needs the whole object.
type fastEnv struct {
	key string
	// value is the message's value, or cty.NilVal while it is a CSV record
	// not yet turned into an object.
	value   cty.Value
	record  []string
	columns map[string]int
	header  []string
	// ensure puts the each (or row) object into the HCL context before a
	// generic evaluation.
	ensure func()
}

// rowObject returns the message's value, building the row object from the
// CSV record on first use.
func (env *fastEnv) rowObject() cty.Value {
	if env.value == cty.NilVal {
		attrs := make(map[string]cty.Value, len(env.header))
		for i, col := range env.header {
			attrs[col] = cty.StringVal(env.record[i])
		}
		env.value = cty.ObjectVal(attrs)
	}
	return env.value
}

// eval evaluates fx, taking a fast path when it can.
func (fx *fastExpr) eval(env *fastEnv, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	switch fx.kind {
	case fastLiteral:
		return fx.lit, nil
	case fastKey:
		return cty.StringVal(env.key), nil
	case fastValue:
		if v, diags, ok := fx.value(env); ok {
			return v, diags
		}
	case fastEqual, fastNotEqual:
		l, lDiags := fx.lhs.eval(env, ctx)
		r, rDiags := fx.rhs.eval(env, ctx)
		if !lDiags.HasErrors() && !rDiags.HasErrors() && plainString(l) && plainString(r) {
			return cty.BoolVal((l.AsString() == r.AsString()) == (fx.kind == fastEqual)), nil
		}
	case fastUnscoped:
		return fx.expr.Value(ctx)
	}
	env.ensure()
	return fx.expr.Value(ctx)
}

// value follows fx.attrs from the message's value without building objects
// where possible. ok is false when HCL should evaluate instead. A missing
// attribute of an object is reported here, with a suggestion, which HCL's
// own message lacks.
func (fx *fastExpr) value(env *fastEnv) (cty.Value, hcl.Diagnostics, bool) {
	attrs := fx.attrs
	if env.value == cty.NilVal {
		if len(attrs) == 0 {
			return env.rowObject(), nil, true
		}
		if len(attrs) > 1 {
			return cty.NilVal, nil, false
		}
		col, ok := env.columns[attrs[0]]
		if !ok {
			return cty.NilVal, fx.missingAttr(0, env.header), true
		}
		return cty.StringVal(env.record[col]), nil, true
	}
	v := env.value
	for i, name := range attrs {
		if v.IsMarked() || v.IsNull() || !v.IsKnown() {
			return cty.NilVal, nil, false
		}
		ty := v.Type()
		switch {
		case ty.IsObjectType() && ty.HasAttribute(name):
			v = v.GetAttr(name)
		case ty.IsObjectType():
			var names []string
			for n := range ty.AttributeTypes() {
				names = append(names, n)
			}
			return cty.NilVal, fx.missingAttr(i, names), true
		case ty.IsMapType():
			k := cty.StringVal(name)
			if !v.HasIndex(k).True() {
				return cty.NilVal, nil, false
			}
			v = v.Index(k)
		default:
			return cty.NilVal, nil, false
		}
	}
	return v, nil, true
}

// missingAttr reports that attribute step i of fx does not exist.
func (fx *fastExpr) missingAttr(i int, names []string) hcl.Diagnostics {
	st := fx.expr.(*hclsyntax.ScopeTraversalExpr)
	// The attribute steps follow the root (and, for each, the "value" step).
	step := st.Traversal[len(st.Traversal)-len(fx.attrs)+i]
	name := fx.attrs[i]
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Unsupported attribute",
		Detail:   fmt.Sprintf("This object does not have an attribute named %q.%s", name, didYouMean(name, names)),
		Subject:  step.SourceRange().Ptr(),
	}}
}

// plainString reports whether v is a known, non-null, unmarked string.
func plainString(v cty.Value) bool {
	return v.Type() == cty.String && !v.IsMarked() && !v.IsNull() && v.IsKnown()
}
