package config

import (
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/postform/postform/config/funcs"
)

// makeFunctions returns the function table available in configuration
// expressions, in one alphabetical list: cty's stdlib (without the
// operator-shaped functions and without anything that reads the clock),
// try and can, type conversions, and postform's own functions from
// config/funcs, closed over read and lookupEnv.
func makeFunctions(read funcs.FileReader, lookupEnv func(string) (string, bool)) map[string]function.Function {
	var table map[string]function.Function
	all := func() map[string]function.Function { return table }
	table = map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"can":             tryfunc.CanFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"csvfile":         funcs.MakeCSVFileFunc(read),
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"env":             funcs.MakeEnvFunc(lookupEnv, true),
		"file":            funcs.MakeFileFunc(read),
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          funcs.LengthFunc,
		"log":             stdlib.LogFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"range":           stdlib.RangeFunc,
		"raw":             funcs.RawFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"timeadd":         stdlib.TimeAddFunc,
		"title":           stdlib.TitleFunc,
		"tobool":          stdlib.MakeToFunc(cty.Bool),
		"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":        stdlib.MakeToFunc(cty.Number),
		"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":        stdlib.MakeToFunc(cty.String),
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"try":             tryfunc.TryFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
	}
	table["templatefile"] = funcs.MakeTemplateFileFunc(read, all)
	for name, f := range table {
		if f.Description() == "" {
			var paramDescs []string
			for _, p := range f.Params() {
				paramDescs = append(paramDescs, p.Description)
			}
			if vp := f.VarParam(); vp != nil {
				paramDescs = append(paramDescs, vp.Description)
			}
			table[name] = f.WithNewDescriptions(builtinDescriptions[name], paramDescs)
		}
	}
	return table
}

// builtinDescriptions fills in descriptions for library functions that come
// without one.
var builtinDescriptions = map[string]string{
	"can":      "Evaluates the given expression and returns true if it produced a value without errors, false otherwise.",
	"try":      "Evaluates each argument in turn and returns the first that produces a value without errors.",
	"tobool":   "Converts the argument to a bool.",
	"tolist":   "Converts the argument to a list.",
	"tomap":    "Converts the argument to a map.",
	"tonumber": "Converts the argument to a number.",
	"toset":    "Converts the argument to a set.",
	"tostring": "Converts the argument to a string.",
}
