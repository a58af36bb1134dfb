package planfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writePlan(t *testing.T, path string, entries []Entry, secrets []string) error {
	t.Helper()
	w, err := NewWriter(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := w.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	h := Header{ToolVersion: "test", Lineage: "lin-1", Serial: 7, Target: "simulator", Summary: Summary{ToSend: len(entries), Total: len(entries)}}
	files := map[string][]byte{"main.pf.hcl": []byte(`batch "x" {}`), "data/r.csv": []byte("email\nann@example.com\n")}
	in := Inputs{Vars: []string{"month=November"}, VarFiles: []VarFile{{Name: "prod.pfvars", Src: `x = 1`}}, Env: map[string]string{"REGION": "eu"}}
	return w.Finish(path, h, files, in, secrets)
}

func sampleEntries(n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{Address: `batch.x["` + strings.Repeat("a", i%7) + `@example.com"]`, Action: "send", Digest: strings.Repeat("ab", 32), To: "a@example.com", Subject: "Hello"}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "send.plan")
	entries := sampleEntries(1000)
	entries[3].Subject = strings.Repeat("s", 500) // shortened in the file
	if err := writePlan(t, path, entries, nil); err != nil {
		t.Fatal(err)
	}
	p, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Header.Lineage != "lin-1" || p.Header.Serial != 7 || p.Header.EntryCount != 1000 || p.Header.FormatVersion != FormatVersion {
		t.Errorf("header %+v", p.Header)
	}
	if string(p.Files["data/r.csv"]) != "email\nann@example.com\n" || len(p.Files) != 2 {
		t.Errorf("files %v", p.Files)
	}
	if diff := cmp.Diff(Inputs{Vars: []string{"month=November"}, VarFiles: []VarFile{{Name: "prod.pfvars", Src: `x = 1`}}, Env: map[string]string{"REGION": "eu"}}, p.Inputs); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	r, err := p.Entries()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 0; ; i++ {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			if i != 1000 {
				t.Fatalf("read %d entries, want 1000", i)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want := entries[i]
		if i == 3 {
			want.Subject = strings.Repeat("s", subjectMax) + "…"
		}
		if e != want {
			t.Fatalf("entry %d = %+v, want %+v", i, e, want)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", info.Mode().Perm())
	}
	// Compact: well under 1 KB per message.
	if per := info.Size() / 1000; per > 200 {
		t.Errorf("%d bytes per message", per)
	}
}

func TestRefusesSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "send.plan")
	for _, secret := range []string{"eu", "ann@example.com", "November"} {
		err := writePlan(t, path, sampleEntries(3), []string{secret})
		if err == nil || !strings.Contains(err.Error(), "token") {
			t.Errorf("secret %q: err = %v, want a refusal", secret, err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("secret %q: a plan file was written", secret)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// rewrite copies the plan at path, passing each member through edit.
func rewrite(t *testing.T, path string, edit func(name string, data []byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if data = edit(f.Name, data); data == nil {
			continue
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	zr.Close()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesDamagedPlans(t *testing.T) {
	cases := map[string]func(name string, data []byte) []byte{
		"edited entries": func(name string, data []byte) []byte {
			if name == entriesName {
				return bytes.Replace(data, []byte(`"send"`), []byte(`"sent"`), 1)
			}
			return data
		},
		"edited data file": func(name string, data []byte) []byte {
			if name == "files/data/r.csv" {
				return append(data, "eve@example.com\n"...)
			}
			return data
		},
		"edited inputs": func(name string, data []byte) []byte {
			if name == inputsName {
				return bytes.Replace(data, []byte("November"), []byte("December"), 1)
			}
			return data
		},
		"missing member": func(name string, data []byte) []byte {
			if name == "files/main.pf.hcl" {
				return nil
			}
			return data
		},
		"unchanged (control)": func(name string, data []byte) []byte {
			if name == headerName {
				return data
			}
			return data
		},
		"newer format": func(name string, data []byte) []byte {
			if name == headerName {
				return bytes.Replace(data, []byte(`"format_version": "1"`), []byte(`"format_version": "9"`), 1)
			}
			return data
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "send.plan")
			if err := writePlan(t, path, sampleEntries(10), nil); err != nil {
				t.Fatal(err)
			}
			rewrite(t, path, edit)
			p, err := Open(path)
			if name == "unchanged (control)" {
				// Control: an unchanged rewrite still opens.
				if err != nil {
					t.Fatalf("unchanged plan refused: %v", err)
				}
				p.Close()
				return
			}
			var ce *CorruptError
			if !errors.As(err, &ce) {
				if p != nil {
					p.Close()
				}
				t.Fatalf("err = %v, want a CorruptError", err)
			}
		})
	}
	// Not a zip at all.
	path := filepath.Join(t.TempDir(), "junk.plan")
	os.WriteFile(path, []byte("not a plan"), 0o600)
	var ce *CorruptError
	if _, err := Open(path); !errors.As(err, &ce) {
		t.Errorf("junk: err = %v", err)
	}
}
