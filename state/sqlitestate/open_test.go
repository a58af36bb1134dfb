package sqlitestate_test

import (
	"bufio"
	"database/sql"
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
	"github.com/postform/postform/state/sqlitestate"
	"github.com/postform/postform/state/statetest"
)

func open(t *testing.T, path string, opts sqlitestate.Options) *sqlitestate.Store {
	t.Helper()
	if opts.Target == "" {
		opts.Target = "simulator"
	}
	s, err := sqlitestate.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf", ".postform")
	path := filepath.Join(dir, "state.db")
	s := open(t, path, sqlitestate.Options{})
	if err := s.Put(t.Context(), []state.Record{statetest.FullRecord("batch.a[\"x\"]", 1)}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode = %v, want drwx------", fi.Mode())
	}
	// The WAL file exists while the store is open and must be as private as
	// the database: it holds the same data.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want -rw-------", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

func TestOpenOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	for _, opts := range []sqlitestate.Options{
		{},
		{Target: "simulator", Synchronous: "OFF"},
	} {
		if s, err := sqlitestate.Open(t.Context(), path, opts); err == nil {
			s.Close()
			t.Errorf("Open with %+v succeeded, want an error", opts)
		}
	}
	for _, sync := range []string{"", "full", "NORMAL"} {
		s := open(t, filepath.Join(t.TempDir(), "state.db"), sqlitestate.Options{Synchronous: sync})
		if err := s.Close(); err != nil {
			t.Errorf("Close with Synchronous %q: %v", sync, err)
		}
	}
}

func TestReopenKeepsIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s1 := open(t, path, sqlitestate.Options{Target: "https://api.postmarkapp.com/"})
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

	s2 := open(t, path, sqlitestate.Options{Target: "https://api.postmarkapp.com/"})
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

	other := open(t, filepath.Join(t.TempDir(), "state.db"), sqlitestate.Options{})
	m3, err := other.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m3.Lineage == m1.Lineage {
		t.Errorf("two new stores share lineage %q", m1.Lineage)
	}
}

func TestTargetMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path, sqlitestate.Options{Target: "simulator"})
	s.Close()
	_, err := sqlitestate.Open(t.Context(), path, sqlitestate.Options{Target: "https://api.postmarkapp.com/"})
	var tm *sqlitestate.TargetMismatchError
	if !errors.As(err, &tm) {
		t.Fatalf("Open with another target: err = %v, want *TargetMismatchError", err)
	}
	if tm.Stored != "simulator" || tm.Requested != "https://api.postmarkapp.com/" || tm.Path != path {
		t.Errorf("TargetMismatchError = %+v", tm)
	}
}

// rawDB opens the database file directly, bypassing the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	var lineage string
	for i := range 3 {
		s := open(t, path, sqlitestate.Options{})
		m, err := s.Meta(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			lineage = m.Lineage
		} else if m.Lineage != lineage {
			t.Fatalf("open %d: lineage %q, want %q", i, m.Lineage, lineage)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db := rawDB(t, path)
	var version, metaRows int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 1 {
		t.Errorf("user_version = %d after migration, want ≥ 1", version)
	}
	if err := db.QueryRow("SELECT count(*) FROM meta").Scan(&metaRows); err != nil {
		t.Fatal(err)
	}
	if metaRows != 1 {
		t.Errorf("meta has %d rows after three opens, want 1", metaRows)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}

	// A database from a newer postform is refused, untouched.
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := sqlitestate.Open(t.Context(), path, sqlitestate.Options{Target: "simulator"})
	if !errors.Is(err, sqlitestate.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

func TestPutRejectsBadRecords(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"), sqlitestate.Options{})
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

// TestDurableAcrossOpens checks that once Put returns, another store opened
// on the same file (as another process would) sees the rows, while the
// first is still open.
func TestDurableAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s1 := open(t, path, sqlitestate.Options{})
	recs := make([]state.Record, 300)
	var addrs []string
	for i := range recs {
		recs[i] = statetest.FullRecord(fmt.Sprintf("batch.d[\"%03d\"]", i), i)
		addrs = append(addrs, recs[i].Address)
	}
	if err := s1.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, path, sqlitestate.Options{})
	got, err := s2.Lookup(t.Context(), addrs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("second store sees %d of %d records", len(got), len(recs))
	}
	// And the other way round, with both writing.
	extra := statetest.FullRecord("batch.d[\"extra\"]", 9)
	if err := s2.Put(t.Context(), []state.Record{extra}); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Get(t.Context(), extra.Address); err != nil {
		t.Errorf("first store does not see the second's Put: %v", err)
	}
	m, err := s1.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m.Serial != 2 {
		t.Errorf("serial = %d after one Put through each store, want 2", m.Serial)
	}
}

const (
	crashEnvPath = "SQLITESTATE_CRASH_PATH"
	crashEnvSync = "SQLITESTATE_CRASH_SYNC"
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
	s, err := sqlitestate.Open(t.Context(), path, sqlitestate.Options{Target: "simulator", Synchronous: os.Getenv(crashEnvSync)})
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
	for _, sync := range []string{sqlitestate.SyncFull, sqlitestate.SyncNormal} {
		for round, killAfter := range []int{3, 17} {
			t.Run(fmt.Sprintf("%s/%d", sync, round), func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "state.db")
				cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvSync+"="+sync)
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

				s := open(t, path, sqlitestate.Options{Synchronous: sync})
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
}
