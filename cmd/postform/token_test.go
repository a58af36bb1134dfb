package main

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/cmd/postform/internal/command"
	"github.com/postform/postform/postmark/postmarktest"
)

// TestTokenNeverLeaks runs every command that touches the token and greps
// everything they print and every file they leave behind (state, lock,
// plan file members, reports) for it.
func TestTokenNeverLeaks(t *testing.T) {
	const token = "tok-SECRET-7d1e0c4a"
	const wrong = "WRONG-SECRET-99ab"
	sim := postmarktest.NewServer(t, postmarktest.Options{Token: token, Seed: 1, DeliveryDelay: -1})
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.pf.hcl", `
postmark {
  base_url = "`+sim.URL()+`"
}
batch "hello" {
  for_each = toset(["ann@example.com", "hardbounce@bounce-testing.postmarkapp.com"])
  from     = "news@acme.example"
  to       = each.key
  subject  = "Hello"
  text     = "Hello there"
}
report {
  path   = "reports/r.json"
  format = "json"
}
`)
	var out bytes.Buffer
	run := func(tok string, args ...string) int {
		env := []string{"POSTMARK_SERVER_TOKEN=" + tok, "HOME=" + dir}
		return command.Run(append([]string{"-chdir=" + dir}, args...), strings.NewReader(""), &out, &out, env)
	}
	steps := [][]string{
		{"validate"},
		{"validate", "-json"},
		{"plan", "-out=send.plan"},
		{"plan", "-json"},
		{"show", "send.plan"},
		{"show", "-json", "send.plan"},
		{"apply", "send.plan"},
		{"refresh", "-wait=2s", "-poll-interval=50ms"},
		{"refresh", "-json"},
		{"report", "-format=csv", "-o", "reports/r.csv"},
		{"report", "-format=junit", "-o", "reports/r.xml"},
		{"report", "-format=html", "-o", "reports/r.html"},
		{"report", "-format=json"},
		{"state", "list"},
		{"state", "show", `batch.hello["ann@example.com"]`},
		{"show"},
	}
	for _, s := range steps {
		code := run(token, s...)
		if code == 1 {
			t.Fatalf("postform %s failed:\n%s", strings.Join(s, " "), out.String())
		}
	}
	// A refused token: the error names the status, never the token.
	if code := run(wrong, "apply", "-auto-approve", "-replace", `batch.hello["ann@example.com"]`, "-json"); code != 1 {
		t.Fatalf("apply with a wrong token exited %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "401") {
		t.Errorf("the 401 is not reported:\n%s", out.String())
	}

	for _, secret := range []string{token, wrong} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output contains the token %q", secret)
		}
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		contents := [][]byte{data}
		if strings.HasSuffix(path, ".plan") {
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				contents = append(contents, b)
			}
		}
		for _, c := range contents {
			for _, secret := range []string{token, wrong} {
				if bytes.Contains(c, []byte(secret)) {
					t.Errorf("%s contains the token %q", path, secret)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The state's files (its write-ahead log and tables), the lock, the plan
	// and four reports at least.
	if files < 7 {
		t.Errorf("only %d files were checked", files)
	}
}
