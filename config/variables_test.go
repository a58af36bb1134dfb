package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/config/funcs"
)

const minimalBatch = `
batch "b" {
  from = "news@acme.example"
  to   = "ann@example.com"
  text = "Hello"
}
`

// TestVariablePrecedence sets variables from all six sources and checks that
// later sources win in Terraform's order: default, PF_VAR_ environment,
// postform.pfvars, *.auto.pfvars (by name), -var-file (in order), -var (in
// order).
func TestVariablePrecedence(t *testing.T) {
	fsys := files(map[string]string{
		"main.pf.hcl": minimalBatch + `
variable "v_default" { default = "default" }
variable "v_env"     { default = "default" }
variable "v_pfvars"  { default = "default" }
variable "v_auto"    { default = "default" }
variable "v_varfile" { default = "default" }
variable "v_var"     { default = "default" }
`,
		"postform.pfvars": `
v_pfvars  = "postform.pfvars"
v_auto    = "postform.pfvars"
v_varfile = "postform.pfvars"
v_var     = "postform.pfvars"
`,
		"a.auto.pfvars": `
v_auto    = "a.auto.pfvars"
v_varfile = "a.auto.pfvars"
v_var     = "a.auto.pfvars"
`,
		"b.auto.pfvars": `
v_auto    = "b.auto.pfvars"
`,
	})
	in := Inputs{
		Env: map[string]string{
			"PF_VAR_v_env": "env", "PF_VAR_v_pfvars": "env", "PF_VAR_v_auto": "env",
			"PF_VAR_v_varfile": "env", "PF_VAR_v_var": "env",
		},
		VarFiles: []VarFile{
			{Name: "one.pfvars", Src: []byte("v_varfile = \"one\"\nv_var = \"one\"\n")},
			{Name: "two.pfvars", Src: []byte("v_varfile = \"two\"\n")},
		},
		Vars: []string{"v_var=first", "v_var=last"},
	}
	ev, _ := mustMessages(t, fsys, in)
	want := map[string][2]string{
		"v_default": {"default", "default"},
		"v_env":     {"env", "env"},
		"v_pfvars":  {"postform.pfvars", "postform.pfvars"},
		"v_auto":    {"b.auto.pfvars", "b.auto.pfvars"},
		"v_varfile": {"two", "two.pfvars"},
		"v_var":     {"last", "-var"},
	}
	if len(ev.Variables) != len(want) {
		t.Fatalf("got %d variables, want %d", len(ev.Variables), len(want))
	}
	for _, v := range ev.Variables {
		w := want[v.Name]
		if v.Value.AsString() != w[0] || v.Source != w[1] {
			t.Errorf("var.%s = %q from %q, want %q from %q", v.Name, v.Value.AsString(), v.Source, w[0], w[1])
		}
	}
}

func TestVariableParsing(t *testing.T) {
	fsys := files(map[string]string{
		"main.pf.hcl": minimalBatch + `
variable "names" { type = list(string) }
variable "count" { type = number }
variable "plain" { type = string }
variable "any"   {}
variable "obj" {
  type = object({ a = string, b = optional(string, "dflt") })
}
`,
	})
	in := Inputs{Vars: []string{
		`names=["a", "b"]`,
		`count=5`,
		`plain=["not", "parsed"]`,
		`any=x=y`,
		`obj={ a = "1" }`,
	}}
	ev, _ := mustMessages(t, fsys, in)
	got := map[string]cty.Value{}
	for _, v := range ev.Variables {
		got[v.Name] = v.Value
	}
	checks := map[string]cty.Value{
		"names": cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"count": cty.NumberIntVal(5),
		"plain": cty.StringVal(`["not", "parsed"]`),
		"any":   cty.StringVal("x=y"),
		"obj":   cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("1"), "b": cty.StringVal("dflt")}),
	}
	for name, want := range checks {
		if !got[name].RawEquals(want) {
			t.Errorf("var.%s = %#v, want %#v", name, got[name], want)
		}
	}
}

func TestVariableErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		decl      string
		in        Inputs
		summary   string
		filename  string // of the diagnostic's subject; "" for none
		warning   bool
		inDetail  string
		notDetail string
	}{
		{
			name: "undeclared -var", in: Inputs{Vars: []string{"nmae=x"}}, decl: `variable "name" { default = "a" }`,
			summary: "Value for undeclared variable", inDetail: `Did you mean "name"?`,
		},
		{
			name: "malformed -var", in: Inputs{Vars: []string{"name"}}, decl: `variable "name" { default = "a" }`,
			summary: "Invalid -var option",
		},
		{
			name: "undeclared in var file", in: Inputs{VarFiles: []VarFile{{Name: "x.pfvars", Src: []byte("other = 1\n")}}},
			decl: `variable "name" { default = "a" }`, summary: "Value for undeclared variable", filename: "x.pfvars", warning: true,
		},
		{
			name: "type error in -var", in: Inputs{Vars: []string{"n=many"}}, decl: `variable "n" { type = number }`,
			summary: "Invalid value for input variable", filename: "<value for var.n>",
		},
		{
			name: "syntax error in -var", in: Inputs{Vars: []string{"l=[1,"}}, decl: `variable "l" { type = list(number) }`,
			summary: "Missing expression", filename: "<value for var.l>",
		},
		{
			name: "syntax error in var file", in: Inputs{VarFiles: []VarFile{{Name: "bad.pfvars", Src: []byte("n = = 1\n")}}},
			decl: `variable "n" { default = 1 }`, summary: "Invalid expression", filename: "bad.pfvars",
		},
		{
			name: "missing required", decl: `variable "n" {}`, summary: "No value for required variable", filename: "main.pf.hcl",
			inDetail: "PF_VAR_n",
		},
		{
			name: "validation", in: Inputs{Vars: []string{"n=1"}},
			decl: `variable "n" {
  type = number
  validation {
    condition     = var.n > 2
    error_message = "n must be more than 2."
  }
}`,
			summary: "Invalid value for variable", filename: "<value for var.n>", inDetail: "n must be more than 2.",
		},
		{
			name: "sensitive validation message hidden", in: Inputs{Vars: []string{"s=short"}},
			decl: `variable "s" {
  sensitive = true
  validation {
    condition     = length(var.s) > 10
    error_message = "too short: ${var.s}"
  }
}`,
			summary: "Invalid value for variable", inDetail: "sensitive value", notDetail: "short",
			filename: "<value for var.s>",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := files(map[string]string{"main.pf.hcl": minimalBatch + tc.decl})
			_, _, diags := evalFiles(t, fsys, tc.in)
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(diags), diags)
			}
			d := diags[0]
			if d.Summary != tc.summary {
				t.Errorf("summary %q, want %q (%s)", d.Summary, tc.summary, d.Detail)
			}
			if tc.warning != (d.Severity != 1) {
				t.Errorf("severity %v, want warning=%v", d.Severity, tc.warning)
			}
			switch {
			case tc.filename == "" && d.Subject != nil:
				t.Errorf("subject %v, want none", d.Subject)
			case tc.filename != "" && (d.Subject == nil || d.Subject.Filename != tc.filename):
				t.Errorf("subject %v, want in %s", d.Subject, tc.filename)
			}
			if !strings.Contains(d.Detail, tc.inDetail) {
				t.Errorf("detail %q does not contain %q", d.Detail, tc.inDetail)
			}
			if tc.notDetail != "" && strings.Contains(d.Detail, tc.notDetail) {
				t.Errorf("detail %q reveals %q", d.Detail, tc.notDetail)
			}
		})
	}
}

// TestSensitiveVariables checks that values derived from a sensitive
// variable are marked in VariableValue and named in Message.Sensitive, and
// that diagnostics do not show them.
func TestSensitiveVariables(t *testing.T) {
	fsys := files(map[string]string{
		"main.pf.hcl": `
variable "code" {
  sensitive = true
  default   = "s3cret"
}
variable "addr" {
  sensitive = true
  default   = "not-an-address"
}

batch "b" {
  for_each = { a = "Ann" }
  from     = "news@acme.example"
  to       = "ann@example.com"
  cc       = var.addr
  subject  = "Hello ${each.value}"
  html     = "<p>${code}</p>"
  text     = "Your code is ${upper(var.code)}"
  data     = { code = var.code }
  metadata = { code = var.code, plain = "x" }
}
`,
	})
	ev, msgs, diags := evalFiles(t, fsys, Inputs{})
	if len(ev.Variables) != 2 || !ev.Variables[0].Sensitive || !ev.Variables[0].Value.HasMark(funcs.Sensitive) {
		t.Errorf("variables = %#v, want code marked sensitive", ev.Variables)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	m := msgs[0]
	for _, field := range []string{"cc", "html", "text", "metadata"} {
		if !slices.Contains(m.Sensitive, field) {
			t.Errorf("Sensitive = %v, want it to contain %s", m.Sensitive, field)
		}
	}
	for _, field := range []string{"subject", "from", "to"} {
		if slices.Contains(m.Sensitive, field) {
			t.Errorf("Sensitive = %v, want no %s", m.Sensitive, field)
		}
	}
	if m.TextBody != "Your code is S3CRET" {
		t.Errorf("text = %q", m.TextBody)
	}
	if len(diags) != 1 || diags[0].Summary != "Invalid recipient address" {
		t.Fatalf("diags = %v, want one invalid Cc", diags)
	}
	if strings.Contains(diags[0].Detail, "not-an-address") || !strings.Contains(diags[0].Detail, "(sensitive)") {
		t.Errorf("detail %q shows the sensitive value", diags[0].Detail)
	}
}
