package funcs

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// MakeFileFunc returns file(path): the contents of a UTF-8 text file, read
// through read. Binary content (attachments) is read with an attachment's
// path attribute instead.
func MakeFileFunc(read FileReader) function.Function {
	return function.New(&function.Spec{
		Description: "Reads the file at the given path, relative to the configuration directory, and returns its contents as a string. The file must be UTF-8 text.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String, Description: "A path relative to the configuration directory."},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			src, err := read(name)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, readError(name, err))
			}
			if !utf8.Valid(src) {
				return cty.NilVal, function.NewArgErrorf(0, "the contents of %s are not valid UTF-8; attach binary files with an attachment's path attribute instead", name)
			}
			return cty.StringVal(string(src)), nil
		},
	})
}

// MakeCSVFileFunc returns csvfile(path): the rows of a CSV file with a header
// line, as a list of objects whose attributes are the column names (the same
// shape as csvdecode). Used as the collection of a batch's for_each
// expression, postform streams the file row by row instead of calling this
// function; everywhere else the whole file becomes one value.
func MakeCSVFileFunc(read FileReader) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a CSV file with a header line and returns its rows as a list of objects keyed by column name. In a batch's for_each it streams rows instead of loading the whole file.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String, Description: "A path relative to the configuration directory."},
		},
		Type: function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			src, err := read(name)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, readError(name, err))
			}
			v, err := stdlib.CSVDecode(cty.StringVal(string(src)))
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "%s: %s", name, err)
			}
			return v, nil
		},
	})
}

// MakeEnvFunc returns env(name[, default]): the value of an environment
// variable as the caller supplied it (lookup never reads the process
// environment itself). Without a default, an unset variable is an error when
// strict, and the empty string otherwise.
func MakeEnvFunc(lookup func(name string) (string, bool), strict bool) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of the named environment variable. With a second argument, returns that default when the variable is not set; without one, an unset variable is an error.",
		Params: []function.Parameter{
			{Name: "name", Type: cty.String, Description: "The environment variable name."},
		},
		VarParam: &function.Parameter{Name: "default", Type: cty.String, Description: "The value to use when the variable is not set."},
		Type: func(args []cty.Value) (cty.Type, error) {
			if len(args) > 2 {
				return cty.NilType, function.NewArgErrorf(2, "env takes at most two arguments: a name and a default")
			}
			return cty.String, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if v, ok := lookup(name); ok {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			if !strict {
				return cty.StringVal(""), nil
			}
			return cty.NilVal, function.NewArgErrorf(0, "the environment variable %s is not set; set it, or give env a default as its second argument", name)
		},
	})
}

// RawFunc is raw(x): it returns x marked [Raw], so that an HTML body includes
// it without escaping. The mark survives string functions applied to the
// value, and anything computed from a raw value is raw too.
var RawFunc = function.New(&function.Spec{
	Description: "Marks a value as trusted HTML, so that it is inserted into HTML bodies without escaping. Anything computed from a raw value stays raw.",
	Params: []function.Parameter{
		{
			Name:             "value",
			Type:             cty.DynamicPseudoType,
			AllowMarked:      true,
			AllowNull:        true,
			AllowDynamicType: true,
			Description:      "The trusted value.",
		},
	},
	Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return args[0].Mark(Raw), nil
	},
})

// MakeTemplateFileFunc returns templatefile(path, vars): the file at path
// parsed as an HCL template and rendered with the attributes of vars as its
// variables and with the functions returned by fns (called lazily, so the
// table can include functions defined after this one). Each file is parsed
// once per returned function. templatefile does not HTML-escape: use an
// html_file template for HTML bodies.
func MakeTemplateFileFunc(read FileReader, fns func() map[string]function.Function) function.Function {
	var mu sync.Mutex
	cache := make(map[string]hclsyntax.Expression)
	parse := func(name string) (hclsyntax.Expression, error) {
		mu.Lock()
		defer mu.Unlock()
		if expr, ok := cache[name]; ok {
			return expr, nil
		}
		src, err := read(name)
		if err != nil {
			return nil, readError(name, err)
		}
		expr, diags := hclsyntax.ParseTemplate(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			return nil, diags
		}
		cache[name] = expr
		return expr, nil
	}
	return function.New(&function.Spec{
		Description: "Reads the file at the given path as an HCL template (${...}, %{ if }, %{ for }) and renders it with the attributes of the given object as variables.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String, Description: "A path relative to the configuration directory."},
			{Name: "vars", Type: cty.DynamicPseudoType, Description: "An object or map whose attributes become the template's variables."},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			vars := args[1]
			if vars.IsNull() || !(vars.Type().IsObjectType() || vars.Type().IsMapType()) {
				return cty.NilVal, function.NewArgErrorf(1, "the template variables must be an object or a map")
			}
			expr, err := parse(name)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			variables := make(map[string]cty.Value, vars.LengthInt())
			for it := vars.ElementIterator(); it.Next(); {
				k, v := it.Element()
				key := k.AsString()
				if !hclsyntax.ValidIdentifier(key) {
					return cty.NilVal, function.NewArgErrorf(1, "template variable name %q is not a valid identifier", key)
				}
				variables[key] = v
			}
			// templatefile is left out of the nested table: a template
			// calling templatefile could recurse without end.
			nested := make(map[string]function.Function)
			for n, f := range fns() {
				if n != "templatefile" {
					nested[n] = f
				}
			}
			val, diags := expr.Value(&hcl.EvalContext{Variables: variables, Functions: nested})
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("%s", diags.Error())
			}
			if val.IsNull() {
				return cty.NilVal, fmt.Errorf("the template %s produced a null value", name)
			}
			return val, nil
		},
	})
}

// LengthFunc is length(x): the number of elements of a list, set, tuple, map
// or object, or the number of characters of a string (as Terraform's length
// does; cty's own length takes collections only).
var LengthFunc = function.New(&function.Spec{
	Description: "Returns the number of elements in a collection, or the number of characters in a string.",
	Params: []function.Parameter{
		{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true, Description: "A string or a collection."},
	},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		if v.Type() == cty.String {
			return stdlib.Strlen(v)
		}
		return stdlib.Length(v)
	},
})
