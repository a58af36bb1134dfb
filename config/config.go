package config

import (
	"github.com/hashicorp/hcl/v2"
)

// Config is a whole configuration: the merged contents of every *.pf.hcl file
// in the configuration directory. It holds source (expressions with ranges),
// not values; [Config.Evaluate] turns it into values.
type Config struct {
	parser *Parser

	files     []string // configuration file names, sorted
	postmark  *postmarkBlock
	runner    *runnerBlock
	variables []*variable
	locals    []*local
	templates []*template
	batches   []*batchBlock
	reports   []*reportBlock
}

// file is the decoded contents of one configuration file, before the
// cross-file checks that [Config] makes.
type file struct {
	postmarks []*postmarkBlock
	runners   []*runnerBlock
	variables []*variable
	locals    []*local
	templates []*template
	batches   []*batchBlock
	reports   []*reportBlock
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "postmark"},
		{Type: "runner"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "template", LabelNames: []string{"name"}},
		{Type: "batch", LabelNames: []string{"name"}},
		{Type: "report"},
	},
}

// LoadConfig parses every *.pf.hcl file in the root of the parser's
// filesystem, in name order, and merges them. It reports every problem it
// finds, with source ranges; the returned Config is usable for Evaluate only
// when the diagnostics have no errors.
func (p *Parser) LoadConfig() (*Config, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	cfg := &Config{parser: p}
	names, err := p.listRoot(configSuffix)
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unreadable configuration directory",
			Detail:   "The configuration directory could not be listed: " + err.Error() + ".",
		})
		return cfg, diags
	}
	if len(names) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   "The configuration directory has no *.pf.hcl files. Run postform init to write a starter configuration, or use -chdir to select the directory that has them.",
		})
		return cfg, diags
	}
	var files []*file
	for _, name := range names {
		_, src, err := p.readFile(name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unreadable configuration file",
				Detail:   "The file " + quoteName(name) + " could not be read: " + fsErrorText(err) + ".",
			})
			continue
		}
		cfg.files = append(cfg.files, name)
		hf, moreDiags := p.parseConfigSource(src, name)
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			continue
		}
		f, moreDiags := decodeFile(hf.Body)
		diags = append(diags, moreDiags...)
		files = append(files, f)
	}
	diags = append(diags, cfg.merge(files)...)
	return cfg, diags
}

// decodeFile decodes the top-level blocks of one file.
func decodeFile(body hcl.Body) (*file, hcl.Diagnostics) {
	f := &file{}
	content, diags := bodyContent(body, rootSchema)
	for _, block := range content.Blocks {
		switch block.Type {
		case "postmark":
			b, moreDiags := decodePostmarkBlock(block)
			diags = append(diags, moreDiags...)
			f.postmarks = append(f.postmarks, b)
		case "runner":
			b, moreDiags := decodeRunnerBlock(block)
			diags = append(diags, moreDiags...)
			f.runners = append(f.runners, b)
		case "variable":
			v, moreDiags := decodeVariableBlock(block)
			diags = append(diags, moreDiags...)
			if v != nil {
				f.variables = append(f.variables, v)
			}
		case "locals":
			ls, moreDiags := decodeLocalsBlock(block)
			diags = append(diags, moreDiags...)
			f.locals = append(f.locals, ls...)
		case "template":
			t, moreDiags := decodeTemplateBlock(block)
			diags = append(diags, moreDiags...)
			if t != nil {
				f.templates = append(f.templates, t)
			}
		case "batch":
			b, moreDiags := decodeBatchBlock(block)
			diags = append(diags, moreDiags...)
			if b != nil {
				f.batches = append(f.batches, b)
			}
		case "report":
			r, moreDiags := decodeReportBlock(block)
			diags = append(diags, moreDiags...)
			f.reports = append(f.reports, r)
		default:
			// should never happen because body.Content only returns block
			// types named in rootSchema.
			panic("unexpected block type " + block.Type)
		}
	}
	return f, diags
}

// merge combines the files' declarations, reporting duplicates with the range
// of the earlier declaration.
func (c *Config) merge(files []*file) hcl.Diagnostics {
	var diags hcl.Diagnostics
	dup := func(kind, name string, rng, earlier hcl.Range) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate " + kind,
			Detail:   "A " + kind + " named " + quoteName(name) + " was already declared at " + rangeString(earlier) + ". Names must be unique within a configuration; rename or remove one of them.",
			Subject:  rng.Ptr(),
		})
	}
	single := func(kind string, rng, earlier hcl.Range) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate " + kind + " block",
			Detail:   "A configuration may have at most one " + kind + " block, and one was already declared at " + rangeString(earlier) + ". Merge the two blocks.",
			Subject:  rng.Ptr(),
		})
	}
	vars := map[string]hcl.Range{}
	locals := map[string]hcl.Range{}
	templates := map[string]hcl.Range{}
	batches := map[string]hcl.Range{}
	for _, f := range files {
		for _, b := range f.postmarks {
			if c.postmark != nil {
				single("postmark", b.DeclRange, c.postmark.DeclRange)
				continue
			}
			c.postmark = b
		}
		for _, b := range f.runners {
			if c.runner != nil {
				single("runner", b.DeclRange, c.runner.DeclRange)
				continue
			}
			c.runner = b
		}
		for _, v := range f.variables {
			if earlier, ok := vars[v.Name]; ok {
				dup("variable", v.Name, v.DeclRange, earlier)
				continue
			}
			vars[v.Name] = v.DeclRange
			c.variables = append(c.variables, v)
		}
		for _, l := range f.locals {
			if earlier, ok := locals[l.Name]; ok {
				dup("local value", l.Name, l.DeclRange, earlier)
				continue
			}
			locals[l.Name] = l.DeclRange
			c.locals = append(c.locals, l)
		}
		for _, t := range f.templates {
			if earlier, ok := templates[t.Name]; ok {
				dup("template", t.Name, t.DeclRange, earlier)
				continue
			}
			templates[t.Name] = t.DeclRange
			c.templates = append(c.templates, t)
		}
		for _, b := range f.batches {
			if earlier, ok := batches[b.Name]; ok {
				dup("batch", b.Name, b.DeclRange, earlier)
				continue
			}
			batches[b.Name] = b.DeclRange
			c.batches = append(c.batches, b)
		}
		c.reports = append(c.reports, f.reports...)
	}
	return diags
}

// validName reports a diagnostic when a block label is not an identifier.
func validName(kind, name string, rng hcl.Range) hcl.Diagnostics {
	if validIdentifier(name) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + kind + " name",
		Detail:   "A " + kind + " name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
		Subject:  rng.Ptr(),
	}}
}
