package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/postform/postform/config/funcs"
)

// Names of the variables files read automatically from the configuration
// directory.
const (
	defaultVarsFile = "postform.pfvars"
	autoVarsSuffix  = ".auto.pfvars"
	envVarPrefix    = "PF_VAR_"
)

// rawVarValue is one candidate value of a variable and where it came from.
type rawVarValue struct {
	val    cty.Value
	source string
	rng    hcl.Range
}

// evalVariables resolves every declared variable from its sources, in
// Terraform's order of precedence (later wins): the default, PF_VAR_name
// environment variables, postform.pfvars, *.auto.pfvars in name order,
// -var-file arguments in order, then -var arguments in order. Values are
// converted to the declared type, validated, and marked sensitive when the
// variable is.
func (c *Config) evalVariables(in Inputs, rec *recorder, fns map[string]function.Function) (map[string]cty.Value, []VariableValue, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	decls := make(map[string]*variable, len(c.variables))
	names := make([]string, 0, len(c.variables))
	for _, v := range c.variables {
		decls[v.Name] = v
		names = append(names, v.Name)
	}
	raw := make(map[string]rawVarValue, len(c.variables))
	// failed records variables whose value from some source was invalid,
	// so that they are not reported as missing as well.
	failed := map[string]bool{}

	for _, v := range c.variables {
		if v.Default != cty.NilVal {
			raw[v.Name] = rawVarValue{val: v.Default, source: "default", rng: v.DefaultRange}
		}
	}
	for _, v := range c.variables {
		key := envVarPrefix + v.Name
		text, ok := in.Env[key]
		if !ok {
			continue
		}
		rec.recordEnv(key, text)
		val, rng, moreDiags := c.parseVarText(v, text, "<value for "+key+">")
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			failed[v.Name] = true
		} else {
			raw[v.Name] = rawVarValue{val: val, source: "env", rng: rng}
		}
	}

	fileSources := func(name string, src []byte, undeclaredSeverity hcl.DiagnosticSeverity) {
		f, moreDiags := c.parser.parseConfigSource(src, name)
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			return
		}
		attrs, moreDiags := f.Body.JustAttributes()
		diags = append(diags, moreDiags...)
		for _, attr := range attrs {
			decl, ok := decls[attr.Name]
			if !ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: undeclaredSeverity,
					Summary:  "Value for undeclared variable",
					Detail:   fmt.Sprintf("The file %s assigns a value to %q, but the configuration declares no such variable.%s To use this value, add a variable block for it.", name, attr.Name, didYouMean(attr.Name, names)),
					Subject:  attr.NameRange.Ptr(),
				})
				continue
			}
			val, moreDiags := attr.Expr.Value(nil)
			diags = append(diags, moreDiags...)
			if moreDiags.HasErrors() {
				failed[decl.Name] = true
			} else {
				raw[decl.Name] = rawVarValue{val: val, source: name, rng: attr.Expr.Range()}
			}
		}
	}

	autoFiles, err := c.parser.listRoot(autoVarsSuffix)
	if err != nil {
		diags = append(diags, errorDiag("Unreadable configuration directory", "The configuration directory could not be listed: "+err.Error()+".", nil))
	}
	for _, name := range append([]string{defaultVarsFile}, autoFiles...) {
		src, err := rec.readFile(name)
		if errors.Is(err, fs.ErrNotExist) && name == defaultVarsFile {
			continue
		}
		if err != nil {
			diags = append(diags, errorDiag("Unreadable variables file", "The file "+quoteName(name)+" could not be read: "+fsErrorText(err)+".", nil))
			continue
		}
		fileSources(name, src, hcl.DiagWarning)
	}
	for _, vf := range in.VarFiles {
		fileSources(vf.Name, vf.Src, hcl.DiagWarning)
	}
	for i, arg := range in.Vars {
		name, text, ok := strings.Cut(arg, "=")
		if !ok || name == "" {
			diags = append(diags, errorDiag("Invalid -var option", fmt.Sprintf("The -var option %q is not of the form name=value. Give each variable as -var=\"name=value\".", arg), nil))
			continue
		}
		decl, declared := decls[name]
		if !declared {
			diags = append(diags, errorDiag("Value for undeclared variable", fmt.Sprintf("A -var option (number %d) sets %q, but the configuration declares no such variable.%s Add a variable block for it or remove the option.", i+1, name, didYouMean(name, names)), nil))
			continue
		}
		val, rng, moreDiags := c.parseVarText(decl, text, "<value for var."+name+">")
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			failed[name] = true
		} else {
			raw[name] = rawVarValue{val: val, source: "-var", rng: rng}
		}
	}

	values := make(map[string]cty.Value, len(c.variables))
	var list []VariableValue
	for _, v := range c.variables {
		rv, ok := raw[v.Name]
		if !ok && failed[v.Name] {
			values[v.Name] = cty.DynamicVal
			continue
		}
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required variable",
				Detail:   fmt.Sprintf("The variable %q has no default, so it needs a value: use -var=\"%s=...\", a variables file (postform.pfvars or -var-file), or the environment variable %s%s.", v.Name, v.Name, envVarPrefix, v.Name),
				Subject:  v.DeclRange.Ptr(),
			})
			values[v.Name] = cty.DynamicVal
			continue
		}
		val := rv.val
		if v.typeDefs != nil {
			val = v.typeDefs.Apply(val)
		}
		conv, err := convert.Convert(val, v.Type)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for input variable",
				Detail:   fmt.Sprintf("The value for variable %q (from %s) does not match its type constraint %s, declared at %s: %s.", v.Name, rv.source, typeexpr.TypeString(v.Type), rangeString(v.DeclRange), convertErrorText(err)),
				Subject:  rv.rng.Ptr(),
			})
			values[v.Name] = cty.DynamicVal
			continue
		}
		if v.Sensitive {
			conv = conv.Mark(funcs.Sensitive)
		}
		diags = append(diags, validateVariable(v, conv, rv, fns)...)
		values[v.Name] = conv
		list = append(list, VariableValue{Name: v.Name, Value: conv, Sensitive: v.Sensitive, Source: rv.source})
	}
	return values, list, diags
}

// parseVarText interprets the text of a -var or PF_VAR_ value: literally for
// primitive and undeclared types, as an HCL expression otherwise. The text is
// registered as a synthetic file so that diagnostics can show it.
func (c *Config) parseVarText(v *variable, text, filename string) (cty.Value, hcl.Range, hcl.Diagnostics) {
	src := []byte(text)
	rng := hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: len(text) + 1, Byte: len(text)}}
	if !v.parseAsHCL {
		c.parser.addFile(filename, &hcl.File{Body: hcl.EmptyBody(), Bytes: src})
		return cty.StringVal(text), rng, nil
	}
	expr, diags := hclsyntax.ParseExpression(src, filename, hcl.InitialPos)
	c.parser.addFile(filename, &hcl.File{Body: hcl.EmptyBody(), Bytes: src})
	if diags.HasErrors() {
		return cty.NilVal, rng, diags
	}
	val, moreDiags := expr.Value(nil)
	diags = append(diags, moreDiags...)
	return val, expr.Range(), diags
}

// validateVariable runs a variable's validation rules against its value.
func validateVariable(v *variable, val cty.Value, rv rawVarValue, fns map[string]function.Function) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
		Functions: fns,
	}
	for _, rule := range v.Validations {
		ok, moreDiags := rule.Condition.Value(ctx)
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			continue
		}
		ok, _ = ok.Unmark()
		if ok.IsNull() || ok.Type() != cty.Bool || !ok.IsKnown() {
			diags = append(diags, errorDiag("Invalid validation condition", "The condition of a validation rule must be true or false.", rule.Condition.Range().Ptr()))
			continue
		}
		if ok.True() {
			continue
		}
		msg := "The value is not valid."
		msgVal, moreDiags := rule.ErrorMessage.Value(ctx)
		diags = append(diags, moreDiags...)
		if !moreDiags.HasErrors() {
			msgVal, marks := msgVal.Unmark()
			if _, sensitive := marks[funcs.Sensitive]; sensitive {
				msg = "The error message refers to a sensitive value, so it is not shown."
			} else if s, err := convert.Convert(msgVal, cty.String); err == nil && !s.IsNull() {
				msg = s.AsString()
			}
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("%s\n\nThis was checked by the validation rule at %s.", msg, rangeString(rule.DeclRange)),
			Subject:  rv.rng.Ptr(),
		})
	}
	return diags
}
