package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/hashicorp/hcl/v2"
)

// dirFS builds an in-memory configuration directory from
// testdata/<dir>/<name>.pf.hcl plus, when it exists, the data directory
// testdata/<dir>/<name>/ mapped onto the root.
func dirFS(t testing.TB, dir, name string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	src, err := os.ReadFile(filepath.Join(dir, name+".pf.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	m[name+".pf.hcl"] = &fstest.MapFile{Data: src}
	data := filepath.Join(dir, name)
	if _, err := os.Stat(data); err == nil {
		err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(data, p)
			m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// fsMap is the in-memory filesystem type tests build configurations in.
type fsMap = fstest.MapFS

// files builds an in-memory configuration directory from file contents.
func files(contents map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, src := range contents {
		m[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return m
}

// evalFiles loads and evaluates a configuration and collects the messages
// of every batch with all diagnostics. It fails the test on load errors.
func evalFiles(t *testing.T, fsys fstest.MapFS, in Inputs) (*Evaluated, []*Message, hcl.Diagnostics) {
	t.Helper()
	p := NewParser(fsys)
	cfg, diags := p.LoadConfig()
	if diags.HasErrors() {
		t.Fatalf("LoadConfig: %s", diags.Error())
	}
	ev, diags := cfg.Evaluate(in)
	var msgs []*Message
	for _, b := range ev.Batches {
		for m, moreDiags := range b.Messages() {
			msgs = append(msgs, m)
			diags = append(diags, moreDiags...)
		}
	}
	return ev, msgs, diags
}

// mustMessages is evalFiles for configurations that must be valid.
func mustMessages(t *testing.T, fsys fstest.MapFS, in Inputs) (*Evaluated, []*Message) {
	t.Helper()
	ev, msgs, diags := evalFiles(t, fsys, in)
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %s", diags.Error())
	}
	return ev, msgs
}
