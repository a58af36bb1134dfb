package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// testdataInputs are the inputs every testdata configuration is evaluated
// with.
var testdataInputs = Inputs{Env: map[string]string{
	"POSTMARK_SERVER_TOKEN": "test-token",
	"PF_VAR_region":         "eu",
	"SENDER":                "Acme <news@acme.example>",
}}

// evaluateAll loads a configuration, evaluates it when loading succeeded, and
// iterates every batch's messages, returning every diagnostic.
func evaluateAll(t *testing.T, fsys fsMap) (hcl.Diagnostics, int) {
	t.Helper()
	p := NewParser(fsys)
	cfg, diags := p.LoadConfig()
	if diags.HasErrors() {
		return diags, 0
	}
	ev, moreDiags := cfg.Evaluate(testdataInputs)
	diags = append(diags, moreDiags...)
	n := 0
	for _, b := range ev.Batches {
		for m, msgDiags := range b.Messages() {
			if m == nil {
				t.Fatalf("batch %s yielded a nil message", b.Name)
			}
			n++
			diags = append(diags, msgDiags...)
		}
	}
	return diags, n
}

var update = flag.Bool("update", false, "rewrite the golden files of testdata/valid-files")

// TestValidFiles loads and evaluates every configuration in
// testdata/valid-files, expects no errors and no warnings, and compares the
// rendered messages with <name>.golden.json (rewritten with -update).
func TestValidFiles(t *testing.T) {
	for _, name := range testdataNames(t, "testdata/valid-files") {
		t.Run(name, func(t *testing.T) {
			fsys := dirFS(t, "testdata/valid-files", name)
			diags, n := evaluateAll(t, fsys)
			for _, d := range diags {
				t.Errorf("unexpected diagnostic: %s", diagString(d))
			}
			if n == 0 {
				t.Errorf("the configuration produced no messages")
			}
			_, msgs := mustMessages(t, fsys, testdataInputs)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(msgs); err != nil {
				t.Fatal(err)
			}
			got := bytes.TrimSpace(buf.Bytes())
			golden := filepath.Join("testdata/valid-files", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(strings.TrimSpace(string(want)), string(got)); diff != "" {
				t.Errorf("messages differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestInvalidFiles checks that every configuration in
// testdata/invalid-files produces exactly the diagnostics its markers
// announce. A marker is a comment on the offending line:
//
//	# ERROR: <Summary>
//	# WARNING: <Summary>
//
// or, for a diagnostic located in another file (a data row or a template),
// anywhere in the configuration:
//
//	# ERROR at <file>:<line>: <Summary>
func TestInvalidFiles(t *testing.T) {
	for _, name := range testdataNames(t, "testdata/invalid-files") {
		t.Run(name, func(t *testing.T) {
			fsys := dirFS(t, "testdata/invalid-files", name)
			want := expectedDiagnostics(t, name+".pf.hcl", fsys[name+".pf.hcl"].Data)
			if len(want) == 0 {
				t.Fatalf("%s has no # ERROR or # WARNING markers", name)
			}
			diags, _ := evaluateAll(t, fsys)
			var got []string
			for _, d := range diags {
				got = append(got, diagKey(d))
			}
			got = uniqueSorted(got)
			for _, g := range got {
				if !slices.Contains(want, g) {
					t.Errorf("unexpected diagnostic %s", g)
				}
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("missing diagnostic %s", w)
				}
			}
			if t.Failed() {
				for _, d := range diags {
					t.Logf("got: %s", diagString(d))
				}
			}
		})
	}
}

var markerPattern = regexp.MustCompile(`#\s*(ERROR|WARNING)(?: at (.+?):(\d+))?:\s*(.+?)\s*$`)

func expectedDiagnostics(t *testing.T, filename string, src []byte) []string {
	t.Helper()
	var want []string
	for i, line := range strings.Split(string(src), "\n") {
		m := markerPattern.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		file, lineNo := filename, fmt.Sprint(i+1)
		if m[2] != "" {
			file, lineNo = m[2], m[3]
		}
		want = append(want, fmt.Sprintf("%s %s:%s: %s", strings.ToLower(m[1]), file, lineNo, m[4]))
	}
	return uniqueSorted(want)
}

func diagKey(d *hcl.Diagnostic) string {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	loc := "-:0"
	if d.Subject != nil {
		loc = fmt.Sprintf("%s:%d", d.Subject.Filename, d.Subject.Start.Line)
	}
	return fmt.Sprintf("%s %s: %s", sev, loc, d.Summary)
}

func diagString(d *hcl.Diagnostic) string {
	return diagKey(d) + " — " + d.Detail
}

func uniqueSorted(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func testdataNames(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.pf.hcl"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no configurations in %s (%v)", dir, err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".pf.hcl"))
	}
	return names
}
