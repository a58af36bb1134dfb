package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
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

var _ = strings.TrimSpace
