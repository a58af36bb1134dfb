package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/postform/postform/config/funcs"
)

// Defaults for the postmark and runner blocks.
const (
	DefaultBaseURL       = "https://api.postmarkapp.com"
	DefaultMessageStream = "outbound"
	DefaultParallelism   = 4
	DefaultRateLimit     = 20
	DefaultBatchSize     = 500
	DefaultMaxErrors     = 100
	// TokenEnvVar is the environment variable the server token comes from
	// when the postmark block does not set server_token.
	TokenEnvVar = "POSTMARK_SERVER_TOKEN"
)

// evalState is shared by one evaluation and the message iterators of its
// batches. After Evaluate returns it is only read, except for the recorder,
// which has its own lock.
type evalState struct {
	parser *Parser
	rec    *recorder
	env    map[string]string
	fns    map[string]function.Function
	// global has var, local and every function: the context of top-level
	// expressions. Batch and template contexts are its children.
	global        *hcl.EvalContext
	defaultStream string
	templates     map[string]*template
	compiled      map[string]*content // compiled templates by name
	// declared holds the names of declared variables and locals, for
	// reference checks (the local object is built up gradually).
	declared map[string][]string
}

// Evaluate evaluates the configuration with the given inputs: variables,
// locals, and the postmark, runner, template, batch and report blocks. It
// reports every problem it finds. Batches are not expanded into messages
// here; see [Batch.Messages].
func (c *Config) Evaluate(in Inputs) (*Evaluated, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	rec := newRecorder(c.parser)
	for _, name := range c.files {
		if _, err := rec.readFile(name); err != nil {
			diags = append(diags, errorDiag("Unreadable configuration file", "The file "+quoteName(name)+" could not be read: "+fsErrorText(err)+".", nil))
		}
	}
	s := &evalState{
		parser:    c.parser,
		rec:       rec,
		env:       in.Env,
		templates: map[string]*template{},
		compiled:  map[string]*content{},
		declared:  map[string][]string{},
	}
	for _, v := range c.variables {
		s.declared["var"] = append(s.declared["var"], v.Name)
	}
	for _, l := range c.locals {
		s.declared["local"] = append(s.declared["local"], l.Name)
	}
	s.fns = makeFunctions(rec.readFile, func(name string) (string, bool) {
		v, ok := in.Env[name]
		if ok {
			rec.recordEnv(name, v)
		}
		return v, ok
	})

	ev := &Evaluated{rec: rec, Batches: []*Batch{}, Reports: []Report{}, Variables: []VariableValue{}}
	varValues, varList, moreDiags := c.evalVariables(in, rec, s.fns)
	diags = append(diags, moreDiags...)
	if varList != nil {
		ev.Variables = varList
	}
	s.global = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(varValues), "local": cty.EmptyObjectVal},
		Functions: s.fns,
	}
	diags = append(diags, s.evalLocals(c.locals)...)

	ev.Postmark, moreDiags = s.evalPostmark(c.postmark, in.Env)
	diags = append(diags, moreDiags...)
	s.defaultStream = ev.Postmark.MessageStream
	ev.Runner, moreDiags = s.evalRunner(c.runner)
	diags = append(diags, moreDiags...)

	for _, t := range c.templates {
		s.templates[t.Name] = t
	}
	for _, bb := range c.batches {
		b, moreDiags := s.prepareBatch(bb)
		diags = append(diags, moreDiags...)
		if b != nil {
			ev.Batches = append(ev.Batches, b)
		}
	}
	for _, rb := range c.reports {
		r, moreDiags := s.evalReport(rb)
		diags = append(diags, moreDiags...)
		ev.Reports = append(ev.Reports, r)
	}
	rec.addSecret(ev.Postmark.ServerToken)
	ev.Snapshot = rec.snapshot(slices.Clone(in.Vars), in.VarFiles)
	return ev, diags
}

// refScope says which root names an expression may refer to, beyond var and
// local.
type refScope struct {
	each     bool // the batch has for_each
	inBatch  bool // each is meaningful here at all
	anyRoots bool // template content: data attributes are top-level names
}

// checkRefs reports references to undeclared variables, locals and
// templates, and to each outside a batch with for_each, with suggestions.
// Expressions that fail the check are not evaluated, so each problem is
// reported once.
func (s *evalState) checkRefs(expr hcl.Expression, scope refScope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		switch root {
		case "var", "local":
			if len(tr) < 2 {
				diags = append(diags, errorDiag("Invalid reference", fmt.Sprintf("%q must be followed by an attribute name, as in %s.NAME.", root, root), tr.SourceRange().Ptr()))
				continue
			}
			attr, ok := tr[1].(hcl.TraverseAttr)
			if !ok {
				diags = append(diags, errorDiag("Invalid reference", fmt.Sprintf("%q must be followed by an attribute name, as in %s.NAME.", root, root), tr.SourceRange().Ptr()))
				continue
			}
			if names := s.declared[root]; !slices.Contains(names, attr.Name) {
				kind, summary := "input variable", "Reference to undeclared input variable"
				if root == "local" {
					kind, summary = "local value", "Reference to undeclared local value"
				}
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  summary,
					Detail:   fmt.Sprintf("No %s named %q is declared.%s", kind, attr.Name, didYouMean(attr.Name, names)),
					Subject:  tr.SourceRange().Ptr(),
				})
			}
		case "each":
			if !scope.each {
				detail := "each.key and each.value are only available inside a batch block that has for_each."
				if scope.inBatch {
					detail = "each.key and each.value are only available when the batch has for_each. Add a for_each argument or remove the reference."
				}
				diags = append(diags, errorDiag("Reference to \"each\" without for_each", detail, tr.SourceRange().Ptr()))
			}
		case "template":
			diags = append(diags, errorDiag("Invalid reference to template", "A template can only be used as a batch's template argument (template = template.NAME); it has no value in expressions.", tr.SourceRange().Ptr()))
		default:
			if scope.anyRoots {
				continue
			}
			roots := []string{"var", "local"}
			if scope.inBatch {
				roots = append(roots, "each")
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown variable",
				Detail:   fmt.Sprintf("There is no variable named %q.%s References start with %s.", root, didYouMean(root, roots), strings.Join(roots, ", ")),
				Subject:  tr.SourceRange().Ptr(),
			})
		}
	}
	return diags
}

// evalString evaluates an optional string expression in ctx. ok is false
// when there were errors.
func evalString(expr hcl.Expression, ctx *hcl.EvalContext, what string) (string, bool, hcl.Diagnostics) {
	if expr == nil {
		return "", true, nil
	}
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return "", false, diags
	}
	val, _ = val.UnmarkDeep()
	if val.IsNull() {
		return "", true, diags
	}
	str, err := convert.Convert(val, cty.String)
	if err != nil || !str.IsKnown() {
		msg := "a string is required"
		if err != nil {
			msg = convertErrorText(err)
		}
		diags = append(diags, errorDiag("Invalid value for "+what, fmt.Sprintf("The %s must be a string: %s.", what, msg), expr.Range().Ptr()))
		return "", false, diags
	}
	return str.AsString(), true, diags
}

// streamIDPattern is the shape of a Postmark message stream ID.
var streamIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,29}$`)

func (s *evalState) evalPostmark(b *postmarkBlock, env map[string]string) (Postmark, hcl.Diagnostics) {
	pm := Postmark{BaseURL: DefaultBaseURL, MessageStream: DefaultMessageStream}
	if b == nil {
		pm.ServerToken = env[TokenEnvVar]
		return pm, nil
	}
	pm.DeclRange = b.DeclRange
	var diags hcl.Diagnostics
	for _, expr := range []hcl.Expression{b.ServerToken, b.BaseURL, b.MessageStream} {
		if expr != nil {
			diags = append(diags, s.checkRefs(expr, refScope{})...)
		}
	}
	if diags.HasErrors() {
		return pm, diags
	}
	// The postmark block gets its own env function: its reads are not
	// recorded (the token must never reach a snapshot), and an unset
	// variable yields "" so that validate and plan work without
	// credentials; the runner reports a missing token when it needs one.
	fns := make(map[string]function.Function, len(s.fns))
	for k, v := range s.fns {
		fns[k] = v
	}
	fns["env"] = funcs.MakeEnvFunc(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}, false)
	ctx := s.global.NewChild()
	ctx.Functions = fns

	if b.ServerToken != nil {
		tok, _, moreDiags := evalString(b.ServerToken, ctx, "server_token")
		diags = append(diags, moreDiags...)
		pm.ServerToken = tok
	} else {
		pm.ServerToken = env[TokenEnvVar]
	}
	if b.BaseURL != nil {
		u, ok, moreDiags := evalString(b.BaseURL, ctx, "base_url")
		diags = append(diags, moreDiags...)
		if ok {
			if problem := checkBaseURL(u); problem != "" {
				diags = append(diags, errorDiag("Invalid base_url", problem, b.BaseURL.Range().Ptr()))
			} else {
				pm.BaseURL = strings.TrimSuffix(u, "/")
			}
		}
	}
	if b.MessageStream != nil {
		st, ok, moreDiags := evalString(b.MessageStream, ctx, "message_stream")
		diags = append(diags, moreDiags...)
		if ok && st != "" {
			if !streamIDPattern.MatchString(st) {
				diags = append(diags, errorDiag("Invalid message stream", streamDetail(st), b.MessageStream.Range().Ptr()))
			} else {
				pm.MessageStream = st
			}
		}
	}
	return pm, diags
}

func streamDetail(st string) string {
	return fmt.Sprintf("%q is not a valid message stream ID. Stream IDs are 1 to 30 lowercase letters, digits and dashes, such as \"outbound\" or \"broadcast\".", st)
}

// checkBaseURL returns a description of what is wrong with a base URL, or "".
func checkBaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute URL. Use a URL such as %s.", raw, DefaultBaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Sprintf("%q must not have a query, fragment or user information.", raw)
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return ""
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return ""
		}
		return fmt.Sprintf("%q uses plain http, which is only allowed for loopback addresses (such as a local simulator). Use https.", raw)
	default:
		return fmt.Sprintf("%q must use https (or http for a loopback simulator).", raw)
	}
}

func (s *evalState) evalRunner(b *runnerBlock) (Runner, hcl.Diagnostics) {
	r := Runner{
		Parallelism: DefaultParallelism,
		RateLimit:   DefaultRateLimit,
		BatchSize:   DefaultBatchSize,
		MaxErrors:   DefaultMaxErrors,
	}
	if b == nil {
		return r, nil
	}
	r.DeclRange = b.DeclRange
	var diags hcl.Diagnostics
	intAttr := func(expr hcl.Expression, name string, min, max int, dst *int) {
		if expr == nil {
			return
		}
		if moreDiags := s.checkRefs(expr, refScope{}); moreDiags.HasErrors() {
			diags = append(diags, moreDiags...)
			return
		}
		var n int
		moreDiags := gohcl.DecodeExpression(expr, s.global, &n)
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			return
		}
		if n < min || (max > 0 && n > max) {
			bound := fmt.Sprintf("at least %d", min)
			if max > 0 {
				bound = fmt.Sprintf("between %d and %d", min, max)
			}
			diags = append(diags, errorDiag("Invalid "+name, fmt.Sprintf("%s must be %s; got %d.", name, bound, n), expr.Range().Ptr()))
			return
		}
		*dst = n
	}
	intAttr(b.Parallelism, "parallelism", 1, 256, &r.Parallelism)
	intAttr(b.BatchSize, "batch_size", 1, 500, &r.BatchSize)
	intAttr(b.MaxErrors, "max_errors", 0, 0, &r.MaxErrors)
	if b.RateLimit != nil {
		if moreDiags := s.checkRefs(b.RateLimit, refScope{}); moreDiags.HasErrors() {
			diags = append(diags, moreDiags...)
		} else {
			var f float64
			moreDiags := gohcl.DecodeExpression(b.RateLimit, s.global, &f)
			diags = append(diags, moreDiags...)
			switch {
			case moreDiags.HasErrors():
			case f < 0:
				diags = append(diags, errorDiag("Invalid rate_limit", fmt.Sprintf("rate_limit is in requests per second and must not be negative (0 means unlimited); got %g.", f), b.RateLimit.Range().Ptr()))
			default:
				r.RateLimit = f
			}
		}
	}
	if b.SendWindow != nil {
		w, moreDiags := s.evalSendWindow(b.SendWindow)
		diags = append(diags, moreDiags...)
		r.SendWindow = w
	}
	return r, diags
}

func (s *evalState) evalSendWindow(expr hcl.Expression) (*SendWindow, hcl.Diagnostics) {
	if diags := s.checkRefs(expr, refScope{}); diags.HasErrors() {
		return nil, diags
	}
	val, diags := expr.Value(s.global)
	if diags.HasErrors() {
		return nil, diags
	}
	val, _ = val.UnmarkDeep()
	if val.IsNull() {
		return nil, diags
	}
	ty := cty.Object(map[string]cty.Type{"not_before": cty.String, "not_after": cty.String})
	ty = cty.ObjectWithOptionalAttrs(ty.AttributeTypes(), []string{"not_before", "not_after"})
	conv, err := convert.Convert(val, ty)
	if err != nil {
		return nil, append(diags, errorDiag("Invalid send_window", "send_window must be an object with optional not_before and not_after attributes, each an RFC 3339 time such as \"2026-11-02T08:00:00Z\": "+convertErrorText(err)+".", expr.Range().Ptr()))
	}
	w := &SendWindow{}
	for _, name := range []string{"not_before", "not_after"} {
		v := conv.GetAttr(name)
		if v.IsNull() {
			continue
		}
		t, err := time.Parse(time.RFC3339, v.AsString())
		if err != nil {
			diags = append(diags, errorDiag("Invalid send_window", fmt.Sprintf("send_window.%s must be an RFC 3339 time such as \"2026-11-02T08:00:00Z\"; %q is not.", name, v.AsString()), expr.Range().Ptr()))
			continue
		}
		if name == "not_before" {
			w.NotBefore = t
		} else {
			w.NotAfter = t
		}
	}
	if !w.NotBefore.IsZero() && !w.NotAfter.IsZero() && !w.NotBefore.Before(w.NotAfter) {
		diags = append(diags, errorDiag("Invalid send_window", "send_window.not_before must be earlier than send_window.not_after.", expr.Range().Ptr()))
	}
	return w, diags
}

// reportFormats maps report formats to the file extensions that imply them.
var reportFormats = map[string]string{".json": "json", ".csv": "csv", ".xml": "junit", ".html": "html", ".htm": "html"}

func (s *evalState) evalReport(b *reportBlock) (Report, hcl.Diagnostics) {
	r := Report{DeclRange: b.DeclRange}
	var diags hcl.Diagnostics
	if b.Path == nil {
		return r, nil // the schema already reported the missing argument
	}
	if diags = s.checkRefs(b.Path, refScope{}); diags.HasErrors() {
		return r, diags
	}
	p, ok, moreDiags := evalString(b.Path, s.global, "report path")
	diags = append(diags, moreDiags...)
	if ok {
		clean, err := funcs.CleanPath(p)
		if err != nil {
			diags = append(diags, errorDiag("Invalid report path", "The report path must be relative to the configuration directory and stay inside it: "+err.Error()+".", b.Path.Range().Ptr()))
		}
		r.Path = clean
	}
	if b.Format != nil {
		f, ok, moreDiags := evalString(b.Format, s.global, "report format")
		diags = append(diags, moreDiags...)
		if ok {
			switch f {
			case "json", "csv", "junit", "html":
				r.Format = f
			default:
				diags = append(diags, errorDiag("Invalid report format", fmt.Sprintf("%q is not a report format. Use \"json\", \"csv\", \"junit\" or \"html\".%s", f, didYouMean(f, []string{"json", "csv", "junit", "html"})), b.Format.Range().Ptr()))
			}
		}
	} else if r.Path != "" {
		if f, ok := reportFormats[strings.ToLower(path.Ext(r.Path))]; ok {
			r.Format = f
		} else {
			diags = append(diags, errorDiag("Missing report format", "The report format cannot be inferred from the file extension. Set format to \"json\", \"csv\", \"junit\" or \"html\".", b.DeclRange.Ptr()))
		}
	}
	return r, diags
}
