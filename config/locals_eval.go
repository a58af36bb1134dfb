package config

import (
	"fmt"
	"maps"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// localRefs returns the names of the local values expr refers to.
func localRefs(expr hcl.Expression) []string {
	var names []string
	for _, tr := range expr.Variables() {
		if tr.RootName() != "local" || len(tr) < 2 {
			continue
		}
		if attr, ok := tr[1].(hcl.TraverseAttr); ok {
			names = append(names, attr.Name)
		}
	}
	return names
}

// sortLocals orders local values so that each comes after the locals it
// refers to (a depth-first topological sort over Expression.Variables). A
// cycle is reported once, naming the local where it was found and the local
// that closes it; the locals on the cycle are returned in cyclic so that they
// can be given an unknown value instead of being evaluated.
func sortLocals(locals []*local) (order []*local, cyclic map[string]bool, diags hcl.Diagnostics) {
	byName := make(map[string]*local, len(locals))
	for _, l := range locals {
		byName[l.Name] = l
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[string]int, len(locals))
	cyclic = map[string]bool{}
	var stack []*local
	var visit func(l *local)
	visit = func(l *local) {
		switch state[l.Name] {
		case done:
			return
		case visiting:
			// l is on the stack: the stack from l onwards is a cycle.
			start := 0
			for i, s := range stack {
				if s == l {
					start = i
				}
			}
			cycle := stack[start:]
			reported := false
			for _, s := range cycle {
				reported = reported || cyclic[s.Name]
				cyclic[s.Name] = true
			}
			if reported {
				return
			}
			last := cycle[len(cycle)-1]
			var chain []string
			for _, s := range cycle {
				chain = append(chain, "local."+s.Name)
			}
			chain = append(chain, "local."+l.Name)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cycle in local values",
				Detail: fmt.Sprintf("local.%s (declared at %s) and local.%s (declared at %s) depend on each other: %s. Break the cycle by removing one of these references.",
					l.Name, rangeString(l.DeclRange), last.Name, rangeString(last.DeclRange), strings.Join(chain, " → ")),
				Subject: l.DeclRange.Ptr(),
			})
			return
		}
		state[l.Name] = visiting
		stack = append(stack, l)
		for _, name := range localRefs(l.Expr) {
			if dep, ok := byName[name]; ok {
				visit(dep)
			}
		}
		stack = stack[:len(stack)-1]
		state[l.Name] = done
		order = append(order, l)
	}
	for _, l := range locals {
		visit(l)
	}
	return order, cyclic, diags
}

// evalLocals evaluates local values in dependency order. A local that fails
// to evaluate gets an unknown value so that later expressions do not report
// the same problem again.
func (s *evalState) evalLocals(locals []*local) hcl.Diagnostics {
	order, cyclic, diags := sortLocals(locals)
	values := make(map[string]cty.Value, len(locals))
	for _, l := range order {
		if cyclic[l.Name] {
			values[l.Name] = cty.DynamicVal
			continue
		}
		moreDiags := s.checkRefs(l.Expr, refScope{})
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			values[l.Name] = cty.DynamicVal
			continue
		}
		s.global.Variables["local"] = cty.ObjectVal(maps.Clone(values))
		val, moreDiags := l.Expr.Value(s.global)
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			val = cty.DynamicVal
		}
		values[l.Name] = val
	}
	s.global.Variables["local"] = cty.ObjectVal(maps.Clone(values))
	return diags
}
