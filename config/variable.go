package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// variable is the source of one variable block. The default, when present,
// has already been converted to the declared type.
type variable struct {
	Name        string
	Description string
	Type        cty.Type // cty.DynamicPseudoType when not declared
	typeDefs    *typeexpr.Defaults
	// parseAsHCL says whether -var and PF_VAR_ values are HCL expressions
	// (collection and structural types) rather than literal strings.
	parseAsHCL   bool
	Default      cty.Value // cty.NilVal when the variable is required
	DefaultRange hcl.Range
	Sensitive    bool
	Validations  []*validation
	DeclRange    hcl.Range
}

// validation is one validation block of a variable.
type validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

var variableBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "validation"},
	},
}

var validationBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

func decodeVariableBlock(block *hcl.Block) (*variable, hcl.Diagnostics) {
	v := &variable{
		Name:      block.Labels[0],
		Type:      cty.DynamicPseudoType,
		DeclRange: block.DefRange,
	}
	diags := validName("variable", v.Name, block.LabelRanges[0])
	content, moreDiags := bodyContent(block.Body, variableBlockSchema)
	diags = append(diags, moreDiags...)

	if attr, ok := content.Attributes["description"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &v.Description)...)
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &v.Sensitive)...)
	}
	typeOK := true
	if attr, ok := content.Attributes["type"]; ok {
		ty, defs, moreDiags := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			typeOK = false
		} else {
			v.Type, v.typeDefs = ty, defs
			v.parseAsHCL = !ty.IsPrimitiveType()
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		v.DefaultRange = attr.Expr.Range()
		val, moreDiags := attr.Expr.Value(nil)
		diags = append(diags, moreDiags...)
		if !moreDiags.HasErrors() && typeOK {
			if v.typeDefs != nil {
				val = v.typeDefs.Apply(val)
			}
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("This default value is not compatible with the variable's type constraint (%s): %s.", typeexpr.TypeString(v.Type), convertErrorText(err)),
					Subject:  attr.Expr.Range().Ptr(),
				})
			} else {
				v.Default = conv
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, moreDiags := bodyContent(vb.Body, validationBlockSchema)
		diags = append(diags, moreDiags...)
		rule := &validation{
			Condition:    attrExpr(vc, "condition"),
			ErrorMessage: attrExpr(vc, "error_message"),
			DeclRange:    vb.DefRange,
		}
		if rule.Condition == nil || rule.ErrorMessage == nil {
			continue
		}
		diags = append(diags, checkValidationRefs(v.Name, rule.Condition)...)
		diags = append(diags, checkValidationRefs(v.Name, rule.ErrorMessage)...)
		v.Validations = append(v.Validations, rule)
	}
	return v, diags
}

// checkValidationRefs reports references other than var.<name>: a validation
// rule may only look at the variable it validates.
func checkValidationRefs(name string, expr hcl.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		ok := false
		if tr.RootName() == "var" && len(tr) > 1 {
			if attr, isAttr := tr[1].(hcl.TraverseAttr); isAttr && attr.Name == name {
				ok = true
			}
		}
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference in variable validation",
				Detail:   fmt.Sprintf("A validation rule of variable %q may refer only to var.%s.", name, name),
				Subject:  tr.SourceRange().Ptr(),
			})
		}
	}
	return diags
}

// convertErrorText describes a cty conversion error, with the path when it
// has one.
func convertErrorText(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return fmt.Sprintf("%s: %s", formatPath(pe.Path), pe.Error())
	}
	return err.Error()
}

// formatPath formats a cty path like an HCL traversal: .attr["key"][0].
func formatPath(path cty.Path) string {
	s := ""
	for _, step := range path {
		switch step := step.(type) {
		case cty.GetAttrStep:
			s += "." + step.Name
		case cty.IndexStep:
			switch step.Key.Type() {
			case cty.String:
				s += fmt.Sprintf("[%q]", step.Key.AsString())
			case cty.Number:
				s += "[" + step.Key.AsBigFloat().Text('f', -1) + "]"
			}
		}
	}
	if s != "" && s[0] == '.' {
		s = s[1:]
	}
	return s
}
