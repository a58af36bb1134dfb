package report

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// dirNames lists dir's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileCreatesParentsAndReplaces(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reports", "2026", "digest.csv")
	if err := WriteFile(ctx, path, FormatCSV, sliceSource(fixtureRecords()[:3]), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(ctx, path, FormatCSV, sliceSource(fixtureRecords()), Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Write(ctx, &want, FormatCSV, sliceSource(fixtureRecords()), Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("file content differs from Write's output")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("report mode = %v; want 0644", fi.Mode().Perm())
	}
	if names := dirNames(t, filepath.Dir(path)); !slices.Equal(names, []string{"digest.csv"}) {
		t.Errorf("directory holds %q; want only the report", names)
	}
}

func TestWriteFileFailingSourceKeepsPrevious(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "report")
			const previous = "the previous report\n"
			if err := os.WriteFile(path, []byte(previous), 0o644); err != nil {
				t.Fatal(err)
			}
			err := WriteFile(context.Background(), path, f, failingSource(fixtureRecords(), 10), Options{})
			if !errors.Is(err, errBoom) {
				t.Fatalf("WriteFile over a failing source = %v; want errBoom", err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != previous {
				t.Errorf("previous report changed: %q, %v", got, err)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"report"}) {
				t.Errorf("directory holds %q; want only the previous report (no temp file)", names)
			}
		})
	}
}

func TestWriteFileChangedStateKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	recs := fixtureRecords()
	err := WriteFile(context.Background(), path, FormatJUnit, growingSource(recs[1:], recs[0]), Options{})
	if !errors.Is(err, ErrSourceChanged) {
		t.Fatalf("WriteFile = %v; want ErrSourceChanged", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("previous report changed: %q", got)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"junit.xml"}) {
		t.Errorf("directory holds %q", names)
	}
}

func TestWriteFileRenameFails(t *testing.T) {
	// The target is a non-empty directory: everything succeeds up to the
	// rename, which fails; the temporary file must not stay behind.
	dir := t.TempDir()
	target := filepath.Join(dir, "report.json")
	if err := os.MkdirAll(filepath.Join(target, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(context.Background(), target, FormatJSON, sliceSource(fixtureRecords()), Options{}); err == nil {
		t.Fatal("WriteFile over a directory succeeded")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"report.json"}) {
		t.Errorf("directory holds %q; want only the directory that was in the way", names)
	}
}

func TestWriteFileReadOnlyDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	if probe := filepath.Join(dir, "probe"); os.WriteFile(probe, nil, 0o644) == nil {
		// Permission bits do not bind this user (root): make the
		// directory immutable instead, where the platform allows it.
		_ = os.Remove(probe)
		undo, err := makeImmutable(dir)
		if err != nil {
			t.Skipf("cannot make a directory read-only for this user: %v", err)
		}
		t.Cleanup(undo)
	}

	err := WriteFile(context.Background(), path, FormatCSV, sliceSource(fixtureRecords()), Options{})
	if err == nil {
		t.Fatal("WriteFile into a read-only directory succeeded")
	}
	t.Logf("WriteFile into a read-only directory: %v", err)
	if names := dirNames(t, dir); !slices.Equal(names, []string{"report.csv"}) {
		t.Errorf("directory holds %q; want only the previous report", names)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("previous report changed: %q", got)
	}
}

func TestWriteFileRejectsBadInputBeforeIO(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new", "report.txt")
	if err := WriteFile(context.Background(), path, Format("txt"), sliceSource(nil), Options{}); err == nil {
		t.Error("WriteFile accepted format txt")
	}
	if err := WriteFile(context.Background(), path, FormatCSV, sliceSource(nil), Options{Statuses: []string{"nope"}}); err == nil {
		t.Error("WriteFile accepted status nope")
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("rejected calls created %q", names)
	}
}
