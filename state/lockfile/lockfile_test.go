package lockfile_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postform/postform/state/lockfile"
)

func lockPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), ".postform", "state.lock")
}

func acquire(t *testing.T, path string, command string) *lockfile.Lock {
	t.Helper()
	l, err := lockfile.Acquire(t.Context(), path, lockfile.Info{Command: command, Version: "0.1.0"}, 0)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(func() { l.Release() })
	return l
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAcquireRecordsHolder(t *testing.T) {
	path := lockPath(t)
	l := acquire(t, path, "postform apply")
	info := l.Info()
	if !uuidRE.MatchString(info.ID) {
		t.Errorf("lock ID %q is not a random UUID", info.ID)
	}
	if info.PID != os.Getpid() || !strings.Contains(info.Who, "@") || info.Created.IsZero() ||
		info.Command != "postform apply" || info.Version != "0.1.0" {
		t.Errorf("Info = %+v, want this pid, user@host, a time, the command and version", info)
	}
	got, err := lockfile.ReadInfo(path)
	if err != nil {
		t.Fatalf("ReadInfo: %v", err)
	}
	if got != info {
		t.Errorf("ReadInfo = %+v, want %+v", got, info)
	}
	for _, p := range []string{filepath.Dir(path), path, path + ".info"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", p, fi.Mode().Perm(), want)
		}
	}

	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if _, err := lockfile.ReadInfo(path); !errors.Is(err, lockfile.ErrNotLocked) {
		t.Errorf("ReadInfo after Release: err = %v, want ErrNotLocked", err)
	}
	l2 := acquire(t, path, "postform refresh")
	if l2.Info().ID == info.ID {
		t.Errorf("two acquisitions got the same ID %q", info.ID)
	}
}

func TestSecondAcquireFails(t *testing.T) {
	path := lockPath(t)
	held := acquire(t, path, "postform apply")

	// Each Acquire opens its own file description, so this conflicts with
	// the lock above exactly as another process would.
	_, err := lockfile.Acquire(t.Context(), path, lockfile.Info{Command: "postform refresh"}, 0)
	var le *lockfile.LockError
	if !errors.As(err, &le) {
		t.Fatalf("second Acquire: err = %v, want *LockError", err)
	}
	if le.Holder != held.Info() || le.Path != path {
		t.Errorf("LockError = %+v, want holder %+v at %s", le, held.Info(), path)
	}
	msg := err.Error()
	for _, want := range []string{
		"state is locked by postform apply",
		"id " + held.Info().ID,
		fmt.Sprintf("pid %d", os.Getpid()),
		held.Info().Who,
		"since " + held.Info().Created.Format(time.RFC3339),
		"run: postform force-unlock " + held.Info().ID,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("LockError message %q does not contain %q", msg, want)
		}
	}

	// With a timeout it waits and still fails the same way.
	_, err = lockfile.Acquire(t.Context(), path, lockfile.Info{}, 150*time.Millisecond)
	if !errors.As(err, &le) || le.Holder.ID != held.Info().ID || le.Err != nil {
		t.Fatalf("Acquire with timeout: err = %v, want *LockError naming the holder", err)
	}

	// A cancelled context ends the wait with a LockError that wraps it.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = lockfile.Acquire(ctx, path, lockfile.Info{}, time.Hour)
	if !errors.As(err, &le) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a cancelled context: err = %v, want a *LockError wrapping context.Canceled", err)
	}

	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	acquire(t, path, "postform refresh")
}

func TestAcquireWaitsForRelease(t *testing.T) {
	path := lockPath(t)
	held := acquire(t, path, "postform apply")
	done := make(chan error, 1)
	go func() {
		l, err := lockfile.Acquire(context.Background(), path, lockfile.Info{Command: "postform refresh"}, time.Minute)
		if err == nil {
			err = l.Release()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the waiter fail at least once
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiting Acquire: %v", err)
	}
}

func TestLockErrorWithoutHolder(t *testing.T) {
	e := &lockfile.LockError{Path: "/x/state.lock"}
	if msg := e.Error(); !strings.Contains(msg, "holder unknown") || !strings.Contains(msg, "/x/state.lock") {
		t.Errorf("message without holder = %q", msg)
	}
}

func TestForceUnlock(t *testing.T) {
	path := lockPath(t)
	if err := lockfile.ForceUnlock(path, "x"); !errors.Is(err, lockfile.ErrNotLocked) {
		t.Errorf("ForceUnlock of nothing: err = %v, want ErrNotLocked", err)
	}
	held := acquire(t, path, "postform apply")
	id := held.Info().ID

	if err := lockfile.ForceUnlock(path, "not-"+id); !errors.Is(err, lockfile.ErrWrongID) {
		t.Errorf("ForceUnlock with a wrong ID: err = %v, want ErrWrongID", err)
	}
	err := lockfile.ForceUnlock(path, id)
	if !errors.Is(err, lockfile.ErrStillHeld) {
		t.Errorf("ForceUnlock of a live lock: err = %v, want ErrStillHeld", err)
	}
	if got, err := lockfile.ReadInfo(path); err != nil || got.ID != id {
		t.Errorf("a refused ForceUnlock changed the record: %+v, %v", got, err)
	}
}

const childEnv = "LOCKFILE_TEST_CHILD"

// TestChildHoldsLock is the subprocess of TestLockAcrossProcesses: it takes
// the lock, says so, and waits to be killed.
func TestChildHoldsLock(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("subprocess of TestLockAcrossProcesses")
	}
	l, err := lockfile.Acquire(context.Background(), path, lockfile.Info{Command: "postform apply"}, 0)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	fmt.Println("locked", l.Info().ID)
	time.Sleep(time.Minute)
	os.Exit(4) // the parent should have killed us
}

func TestLockAcrossProcesses(t *testing.T) {
	path := lockPath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildHoldsLock$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatalf("child said nothing: %v", sc.Err())
	}
	line := sc.Text()
	childID, ok := strings.CutPrefix(line, "locked ")
	if !ok {
		t.Fatalf("child: %s", line)
	}

	_, err = lockfile.Acquire(t.Context(), path, lockfile.Info{}, 100*time.Millisecond)
	var le *lockfile.LockError
	if !errors.As(err, &le) {
		t.Fatalf("Acquire while a child holds the lock: err = %v, want *LockError", err)
	}
	if le.Holder.PID != cmd.Process.Pid || le.Holder.ID != childID {
		t.Errorf("LockError names %+v, want the child (pid %d, id %s)", le.Holder, cmd.Process.Pid, childID)
	}
	if err := lockfile.ForceUnlock(path, childID); !errors.Is(err, lockfile.ErrStillHeld) {
		t.Errorf("ForceUnlock of the live child's lock: err = %v, want ErrStillHeld", err)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true

	// The OS dropped the flock; only the child's record lingers.
	if info, err := lockfile.ReadInfo(path); err != nil || info.ID != childID {
		t.Fatalf("after SIGKILL, ReadInfo = %+v, %v; want the child's stale record", info, err)
	}
	if err := lockfile.ForceUnlock(path, "wrong-id"); !errors.Is(err, lockfile.ErrWrongID) {
		t.Errorf("ForceUnlock with a wrong ID: err = %v, want ErrWrongID", err)
	}
	if err := lockfile.ForceUnlock(path, childID); err != nil {
		t.Fatalf("ForceUnlock of the dead child's lock: %v", err)
	}
	if _, err := lockfile.ReadInfo(path); !errors.Is(err, lockfile.ErrNotLocked) {
		t.Errorf("after ForceUnlock, ReadInfo err = %v, want ErrNotLocked", err)
	}

	// Acquire works whether or not force-unlock ran first; here it has.
	l, err := lockfile.Acquire(t.Context(), path, lockfile.Info{Command: "postform apply"}, time.Second)
	if err != nil {
		t.Fatalf("Acquire after the holder died: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestAcquireAfterHolderDied checks that a stale record does not block:
// the next Acquire replaces it.
func TestAcquireAfterHolderDied(t *testing.T) {
	path := lockPath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildHoldsLock$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "locked ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not lock: %q %v", sc.Text(), sc.Err())
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	l := acquire(t, path, "postform refresh")
	got, err := lockfile.ReadInfo(path)
	if err != nil || got.ID != l.Info().ID {
		t.Errorf("ReadInfo after taking over = %+v, %v; want the new holder %s", got, err, l.Info().ID)
	}
}
