package config

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/config/funcs"
)

// functionTests holds at least one case for every function in the table.
// TestFunctionTableIsTested fails when a function has none.
var functionTests = map[string][]struct {
	expr string
	want cty.Value
}{
	"abs":             {{`abs(-3)`, cty.NumberIntVal(3)}},
	"can":             {{`can(local_missing.x)`, cty.False}, {`can(1 + 1)`, cty.True}},
	"ceil":            {{`ceil(1.2)`, cty.NumberIntVal(2)}},
	"chomp":           {{`chomp("a\n")`, cty.StringVal("a")}},
	"chunklist":       {{`length(chunklist([1, 2, 3], 2))`, cty.NumberIntVal(2)}},
	"coalesce":        {{`coalesce(null, "b")`, cty.StringVal("b")}},
	"coalescelist":    {{`length(coalescelist([], [1]))`, cty.NumberIntVal(1)}},
	"compact":         {{`join(",", compact(["a", "", "b"]))`, cty.StringVal("a,b")}},
	"concat":          {{`length(concat([1], [2, 3]))`, cty.NumberIntVal(3)}},
	"contains":        {{`contains(["a"], "a")`, cty.True}},
	"csvdecode":       {{`csvdecode("a,b\n1,2\n")[0].b`, cty.StringVal("2")}},
	"csvfile":         {{`csvfile("people.csv")[1].name`, cty.StringVal("Bob")}},
	"distinct":        {{`length(distinct(["a", "a"]))`, cty.NumberIntVal(1)}},
	"element":         {{`element(["a", "b"], 3)`, cty.StringVal("b")}},
	"env":             {{`env("HOME_TEST")`, cty.StringVal("/home/ann")}, {`env("UNSET_TEST", "dflt")`, cty.StringVal("dflt")}},
	"file":            {{`file("hello.txt")`, cty.StringVal("Hello ${name}\n")}, {`file("./sub/../hello.txt")`, cty.StringVal("Hello ${name}\n")}},
	"flatten":         {{`length(flatten([[1], [2, 3]]))`, cty.NumberIntVal(3)}},
	"floor":           {{`floor(1.8)`, cty.NumberIntVal(1)}},
	"format":          {{`format("%s-%d", "a", 2)`, cty.StringVal("a-2")}},
	"formatdate":      {{`formatdate("YYYY-MM-DD", "2026-11-02T08:00:00Z")`, cty.StringVal("2026-11-02")}},
	"formatlist":      {{`join(",", formatlist("<%s>", ["a", "b"]))`, cty.StringVal("<a>,<b>")}},
	"indent":          {{`indent(2, "a\nb")`, cty.StringVal("a\n  b")}},
	"join":            {{`join("-", ["a", "b"])`, cty.StringVal("a-b")}},
	"jsondecode":      {{`jsondecode("{\"a\":1}").a`, cty.NumberIntVal(1)}},
	"jsonencode":      {{`jsonencode({ a = "x" })`, cty.StringVal(`{"a":"x"}`)}},
	"keys":            {{`join(",", keys({ b = 1, a = 2 }))`, cty.StringVal("a,b")}},
	"length":          {{`length("héllo")`, cty.NumberIntVal(5)}},
	"log":             {{`log(8, 2)`, cty.NumberIntVal(3)}},
	"lookup":          {{`lookup({ a = "x" }, "b", "d")`, cty.StringVal("d")}},
	"lower":           {{`lower("ABC")`, cty.StringVal("abc")}},
	"max":             {{`max(1, 5, 3)`, cty.NumberIntVal(5)}},
	"merge":           {{`merge({ a = 1 }, { a = 2 }).a`, cty.NumberIntVal(2)}},
	"min":             {{`min(4, 2)`, cty.NumberIntVal(2)}},
	"parseint":        {{`parseint("ff", 16)`, cty.NumberIntVal(255)}},
	"pow":             {{`pow(2, 10)`, cty.NumberIntVal(1024)}},
	"range":           {{`length(range(3))`, cty.NumberIntVal(3)}},
	"raw":             {{`raw("<b>")`, cty.StringVal("<b>").Mark(funcs.Raw)}},
	"regex":           {{`regex("[0-9]+", "ab12c")`, cty.StringVal("12")}},
	"regexall":        {{`length(regexall("[0-9]", "a1b2"))`, cty.NumberIntVal(2)}},
	"replace":         {{`replace("a-b", "-", "+")`, cty.StringVal("a+b")}},
	"reverse":         {{`reverse(["a", "b"])[0]`, cty.StringVal("b")}},
	"setintersection": {{`length(setintersection(["a", "b"], ["b"]))`, cty.NumberIntVal(1)}},
	"setproduct":      {{`length(setproduct(["a", "b"], ["x", "y"]))`, cty.NumberIntVal(4)}},
	"setsubtract":     {{`length(setsubtract(["a", "b"], ["b"]))`, cty.NumberIntVal(1)}},
	"setunion":        {{`length(setunion(["a"], ["b"]))`, cty.NumberIntVal(2)}},
	"signum":          {{`signum(-7)`, cty.NumberIntVal(-1)}},
	"slice":           {{`slice(["a", "b", "c"], 1, 2)[0]`, cty.StringVal("b")}},
	"sort":            {{`sort(["b", "a"])[0]`, cty.StringVal("a")}},
	"split":           {{`split(",", "a,b")[1]`, cty.StringVal("b")}},
	"strrev":          {{`strrev("abc")`, cty.StringVal("cba")}},
	"substr":          {{`substr("hello", 1, 3)`, cty.StringVal("ell")}},
	"templatefile":    {{`templatefile("hello.txt", { name = "Ann" })`, cty.StringVal("Hello Ann\n")}},
	"timeadd":         {{`timeadd("2026-11-02T08:00:00Z", "90m")`, cty.StringVal("2026-11-02T09:30:00Z")}},
	"title":           {{`title("hello world")`, cty.StringVal("Hello World")}},
	"tobool":          {{`tobool("true")`, cty.True}},
	"tolist":          {{`length(tolist(["a"]))`, cty.NumberIntVal(1)}},
	"tomap":           {{`tomap({ a = "x" })["a"]`, cty.StringVal("x")}},
	"tonumber":        {{`tonumber("42")`, cty.NumberIntVal(42)}},
	"toset":           {{`length(toset(["a", "a"]))`, cty.NumberIntVal(1)}},
	"tostring":        {{`tostring(5)`, cty.StringVal("5")}},
	"trim":            {{`trim("--a--", "-")`, cty.StringVal("a")}},
	"trimprefix":      {{`trimprefix("pf_x", "pf_")`, cty.StringVal("x")}},
	"trimspace":       {{`trimspace("  a ")`, cty.StringVal("a")}},
	"trimsuffix":      {{`trimsuffix("a.csv", ".csv")`, cty.StringVal("a")}},
	"try":             {{`try(local_missing.x, "fallback")`, cty.StringVal("fallback")}},
	"upper":           {{`upper("abc")`, cty.StringVal("ABC")}},
	"values":          {{`values({ a = "x" })[0]`, cty.StringVal("x")}},
	"zipmap":          {{`zipmap(["a"], ["x"])["a"]`, cty.StringVal("x")}},
}

var functionTestFS = fstest.MapFS{
	"hello.txt":  {Data: []byte("Hello ${name}\n")},
	"people.csv": {Data: []byte("name,email\nAnn,ann@example.com\nBob,bob@example.com\n")},
	"sub/x.txt":  {Data: []byte("x")},
	"binary.bin": {Data: []byte{0xff, 0xfe, 0x00}},
	"bad.csv":    {Data: []byte("a,b\n1,2,3\n")},
}

func functionContext() *hcl.EvalContext {
	p := NewParser(functionTestFS)
	rec := newRecorder(p)
	env := map[string]string{"HOME_TEST": "/home/ann"}
	return &hcl.EvalContext{
		Functions: makeFunctions(rec.readFile, func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		}),
		Variables: map[string]cty.Value{},
	}
}

func evalExpr(t *testing.T, ctx *hcl.EvalContext, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parsing %s: %s", src, diags.Error())
	}
	return expr.Value(ctx)
}

func TestFunctions(t *testing.T) {
	ctx := functionContext()
	for name, cases := range functionTests {
		for _, tc := range cases {
			t.Run(name+"/"+tc.expr, func(t *testing.T) {
				got, diags := evalExpr(t, ctx, tc.expr)
				if diags.HasErrors() {
					t.Fatalf("%s: %s", tc.expr, diags.Error())
				}
				if !got.RawEquals(tc.want) {
					t.Errorf("%s = %#v, want %#v", tc.expr, got, tc.want)
				}
			})
		}
	}
}

// TestFunctionTableIsTested is the meta-test of the function table: every
// function has a test case and a description, and no test names a function
// that is not in the table.
func TestFunctionTableIsTested(t *testing.T) {
	table := functionContext().Functions
	for name, f := range table {
		if len(functionTests[name]) == 0 {
			t.Errorf("function %s has no test case in functionTests", name)
		}
		if strings.TrimSpace(f.Description()) == "" {
			t.Errorf("function %s has no description", name)
		}
	}
	for name := range functionTests {
		if _, ok := table[name]; !ok {
			t.Errorf("functionTests has cases for %s, which is not in the function table", name)
		}
	}
	names := make([]string, 0, len(table))
	for name := range table {
		names = append(names, name)
	}
	for _, forbidden := range []string{"timestamp", "now", "uuid", "bcrypt", "http"} {
		if slices.Contains(names, forbidden) {
			t.Errorf("function %s reads the clock, randomness or the network and must not be in the table", forbidden)
		}
	}
}

func TestFunctionErrors(t *testing.T) {
	ctx := functionContext()
	for _, tc := range []struct {
		expr, want string
	}{
		{`file("../secret")`, "escapes the configuration directory"},
		{`file("/etc/passwd")`, "must be relative"},
		{`file("nothing.txt")`, `"nothing.txt" does not exist`},
		{`file("binary.bin")`, "not valid UTF-8"},
		{`csvfile("bad.csv")`, "bad.csv"},
		{`length(5)`, "collection"},
		{`env("UNSET_TEST")`, "UNSET_TEST is not set"},
		{`env("A", "b", "c")`, "at most two arguments"},
		{`templatefile("hello.txt", {})`, "name"},
		{`templatefile("hello.txt", "x")`, "object or a map"},
		{`templatefile("../x", {})`, "escapes"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, diags := evalExpr(t, ctx, tc.expr)
			if !diags.HasErrors() {
				t.Fatalf("%s: want an error", tc.expr)
			}
			if !strings.Contains(diags.Error(), tc.want) {
				t.Errorf("%s: error %q does not mention %q", tc.expr, diags.Error(), tc.want)
			}
		})
	}
}
