package config

import (
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/postform/postform/config/funcs"
)

// configSuffix is the file name suffix of configuration files.
const configSuffix = ".pf.hcl"

// Parser loads configuration files from a filesystem rooted at the
// configuration directory. Every file postform reads for a configuration —
// configuration files, variables files, templates, data files and files
// named in functions — goes through it, so tests can use an in-memory
// filesystem and plans can snapshot exactly what was read. A Parser is safe
// for concurrent use.
type Parser struct {
	fsys fs.FS

	mu    sync.Mutex
	files map[string]*hcl.File // every file parsed (or read), for diagnostics
	cache map[string][]byte    // contents of every file read through fsys
}

// NewParser returns a Parser that reads from fsys, which is rooted at the
// configuration directory.
func NewParser(fsys fs.FS) *Parser {
	return &Parser{
		fsys:  fsys,
		files: make(map[string]*hcl.File),
		cache: make(map[string][]byte),
	}
}

// Files returns every file parsed or read so far, by the file name used in
// diagnostic ranges. Pass it to hcl.NewDiagnosticTextWriter so diagnostics
// show source snippets. The map is a copy; the files must not be modified.
func (p *Parser) Files() map[string]*hcl.File {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.files)
}

// readFile reads name (a user-written path) through fsys once, caching the
// contents. It also registers the bytes as a file for diagnostic snippets,
// which is how data rows (CSV files) get source snippets.
func (p *Parser) readFile(name string) (string, []byte, error) {
	clean, err := funcs.CleanPath(name)
	if err != nil {
		return "", nil, err
	}
	p.mu.Lock()
	src, ok := p.cache[clean]
	p.mu.Unlock()
	if ok {
		return clean, src, nil
	}
	src, err = fs.ReadFile(p.fsys, clean)
	if err != nil {
		return clean, nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cached, ok := p.cache[clean]; ok {
		return clean, cached, nil
	}
	p.cache[clean] = src
	if _, ok := p.files[clean]; !ok {
		p.files[clean] = &hcl.File{Body: hcl.EmptyBody(), Bytes: src}
	}
	return clean, src, nil
}

// addFile registers a parsed file (possibly synthetic, such as a -var value)
// for diagnostic snippets.
func (p *Parser) addFile(name string, f *hcl.File) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files[name] = f
}

// parseConfigSource parses HCL native syntax and registers the file.
func (p *Parser) parseConfigSource(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if f == nil {
		f = &hcl.File{Body: hcl.EmptyBody(), Bytes: src}
	}
	p.addFile(name, f)
	return f, diags
}

// parseTemplateFile reads and parses a template file. Parsing is not cached
// here: templates are parsed once per Evaluate and kept with the batch.
func (p *Parser) parseTemplateFile(name string, rng hcl.Range) (hclsyntax.Expression, []byte, hcl.Diagnostics) {
	clean, src, err := p.readFile(name)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unreadable template file",
			Detail:   "The template file " + quoteName(name) + " could not be read: " + fsErrorText(err) + ".",
			Subject:  rng.Ptr(),
		}}
	}
	expr, diags := hclsyntax.ParseTemplate(src, clean, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	return expr, src, diags
}

// listRoot returns the names of regular files in the root of fsys with the
// given suffix, sorted.
func (p *Parser) listRoot(suffix string) ([]string, error) {
	entries, err := fs.ReadDir(p.fsys, ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names, nil
}
