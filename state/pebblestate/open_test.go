package pebblestate_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/pebblestate"
	"github.com/postform/postform/state/statetest"
)

func open(t *testing.T, path string, opts pebblestate.Options) *pebblestate.Store {
	t.Helper()
	if opts.Target == "" {
		opts.Target = "simulator"
	}
	s, err := pebblestate.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf", ".postform")
	path := filepath.Join(dir, "state")
	s := open(t, path, pebblestate.Options{})
	if err := s.Put(t.Context(), []state.Record{statetest.FullRecord("batch.a[\"x\"]", 1)}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, path} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode = %v, want drwx------", d, fi.Mode())
		}
	}
	// Every file of the store (the write-ahead log included, which holds
	// the same data) must be private.
	entries, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("store directory is empty")
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want -rw-------", e.Name(), fi.Mode().Perm())
		}
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

func TestOpenRefuses(t *testing.T) {
	if s, err := pebblestate.Open(t.Context(), filepath.Join(t.TempDir(), "state"), pebblestate.Options{}); err == nil {
		s.Close()
		t.Error("Open without a target succeeded")
	}
	// A file where the directory should be (a state from an older
	// postform) is refused, untouched.
	file := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(file, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := pebblestate.Open(t.Context(), file, pebblestate.Options{Target: "simulator"}); err == nil {
		s.Close()
		t.Error("Open over a plain file succeeded")
	}
	if b, _ := os.ReadFile(file); string(b) != "old" {
		t.Errorf("the file was changed to %q", b)
	}
}

// TestInUse: a store is open in one process at a time; a second Open fails
// with ErrInUse instead of waiting or sharing.
func TestInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	s := open(t, path, pebblestate.Options{})
	_, err := pebblestate.Open(t.Context(), path, pebblestate.Options{Target: "simulator"})
	if !errors.Is(err, pebblestate.ErrInUse) {
		t.Fatalf("second Open: err = %v, want ErrInUse", err)
	}
	s.Close()
	s2 := open(t, path, pebblestate.Options{})
	s2.Close()
}

func TestReopenKeepsIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	s1 := open(t, path, pebblestate.Options{Target: "https://api.postmarkapp.com/"})
	rec := statetest.FullRecord("batch.a[\"x\"]", 1)
	if err := s1.Put(t.Context(), []state.Record{rec}); err != nil {
		t.Fatal(err)
	}
	m1, err := s1.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(m1.Lineage) != 32 || m1.Serial != 1 || m1.Target != "https://api.postmarkapp.com/" {
		t.Fatalf("Meta of a new store after one Put = %+v", m1)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	s2 := open(t, path, pebblestate.Options{Target: "https://api.postmarkapp.com/"})
	m2, err := s2.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m2 != m1 {
		t.Errorf("Meta after reopen = %+v, want %+v", m2, m1)
	}
	got, err := s2.Get(t.Context(), rec.Address)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Errorf("record after reopen (-want +got):\n%s", d)
	}

	other := open(t, filepath.Join(t.TempDir(), "state"), pebblestate.Options{})
	m3, err := other.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m3.Lineage == m1.Lineage {
		t.Errorf("two new stores share lineage %q", m1.Lineage)
	}
}

func TestTargetMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	s := open(t, path, pebblestate.Options{Target: "simulator"})
	s.Close()
	_, err := pebblestate.Open(t.Context(), path, pebblestate.Options{Target: "https://api.postmarkapp.com/"})
	var tm *pebblestate.TargetMismatchError
	if !errors.As(err, &tm) {
		t.Fatalf("Open with another target: err = %v, want *TargetMismatchError", err)
	}
	if tm.Stored != "simulator" || tm.Requested != "https://api.postmarkapp.com/" || tm.Path != path {
		t.Errorf("TargetMismatchError = %+v", tm)
	}
}

func TestLayoutVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	var lineage string
	for i := range 3 {
		s := open(t, path, pebblestate.Options{})
		m, err := s.Meta(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			lineage = m.Lineage
		} else if m.Lineage != lineage {
			t.Fatalf("open %d: lineage %q, want %q", i, m.Lineage, lineage)
		}
		if i == 2 {
			// A store from a newer postform is refused.
			if err := pebblestate.SetLayoutVersion(s, "2"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Twice: the refused Open must not have rewritten the version.
	for range 2 {
		_, err := pebblestate.Open(t.Context(), path, pebblestate.Options{Target: "simulator"})
		if !errors.Is(err, pebblestate.ErrSchemaTooNew) {
			t.Fatalf("Open of a newer layout: err = %v, want ErrSchemaTooNew", err)
		}
	}
}

func TestPutRejectsBadRecords(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state"), pebblestate.Options{})
	good := statetest.FullRecord("batch.a[\"x\"]", 1)
	far := statetest.FullRecord("batch.a[\"y\"]", 1)
	far.SubmittedAt = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, recs := range map[string][]state.Record{
		"empty address":     {good, {}},
		"time out of range": {good, far},
	} {
		if err := s.Put(t.Context(), recs); err == nil {
			t.Errorf("Put with %s succeeded", name)
		}
	}
	if _, err := s.Get(t.Context(), good.Address); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("a rejected Put wrote its valid records: Get err = %v", err)
	}
	m, err := s.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m.Serial != 0 {
		t.Errorf("serial = %d after rejected Puts, want 0", m.Serial)
	}
}

// TestDurableAcrossOpens checks that what one Put wrote is there after the
// store is closed and opened again, with the serial.
func TestDurableAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	s1 := open(t, path, pebblestate.Options{})
	recs := make([]state.Record, 300)
	var addrs []string
	for i := range recs {
		recs[i] = statetest.FullRecord(fmt.Sprintf("batch.d[\"%03d\"]", i), i)
		addrs = append(addrs, recs[i].Address)
	}
	if err := s1.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	s2 := open(t, path, pebblestate.Options{})
	got, err := s2.Lookup(t.Context(), addrs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("after reopening, %d of %d records", len(got), len(recs))
	}
	if d := cmp.Diff(recs[7], got[recs[7].Address]); d != "" {
		t.Errorf("record after reopen (-want +got):\n%s", d)
	}
	m, err := s2.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m.Serial != 1 {
		t.Errorf("serial = %d after one Put, want 1", m.Serial)
	}
}

const (
	crashEnvPath = "PEBBLESTATE_CRASH_PATH"
	crashBatch   = 200
)

// TestCrashChild is the subprocess of TestCrashConsistency: it Puts batches
// of crashBatch records in a loop, printing each batch number once its Put
// has returned, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	if path == "" {
		t.Skip("subprocess of TestCrashConsistency")
	}
	s, err := pebblestate.Open(t.Context(), path, pebblestate.Options{Target: "simulator"})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	for b := 0; b < 1_000_000; b++ {
		recs := make([]state.Record, crashBatch)
		for i := range recs {
			recs[i] = statetest.FullRecord(fmt.Sprintf("batch.crash[\"%06d-%03d\"]", b, i), i)
			recs[i].Batch = strconv.Itoa(b)
		}
		if err := s.Put(t.Context(), recs); err != nil {
			fmt.Println("put:", err)
			os.Exit(3)
		}
		fmt.Println(b)
	}
}

// TestCrashConsistency kills a writing process with SIGKILL at an
// arbitrary point and checks that every Put is all or nothing, that every
// Put reported as returned survived, and that the serial matches.
func TestCrashConsistency(t *testing.T) {
	for round, killAfter := range []int{3, 17, 60} {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnvPath+"="+path)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			reported := -1
			killed := false
			for sc.Scan() {
				b, err := strconv.Atoi(sc.Text())
				if err != nil {
					if !killed {
						cmd.Process.Kill()
					}
					cmd.Wait()
					t.Fatalf("child: %s", sc.Text())
				}
				reported = b
				if b == killAfter && !killed {
					// SIGKILL: no deferred code, no Close.
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					killed = true
				}
			}
			werr := cmd.Wait()
			if !killed {
				t.Fatalf("child exited before it was killed: %v", werr)
			}

			s := open(t, path, pebblestate.Options{})
			perBatch := map[string]int{}
			err = state.Each(t.Context(), s, state.Filter{}, func(r state.Record) error {
				perBatch[r.Batch]++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			committed := len(perBatch)
			for b := range committed {
				if n := perBatch[strconv.Itoa(b)]; n != crashBatch {
					t.Errorf("batch %d has %d records, want %d (batches: %v)", b, n, crashBatch, perBatch)
				}
			}
			if committed <= reported {
				t.Errorf("child reported batch %d as committed, but only %d batches survived", reported, committed)
			}
			m, err := s.Meta(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if m.Serial != int64(committed) {
				t.Errorf("serial = %d with %d committed Puts", m.Serial, committed)
			}
		})
	}
}
