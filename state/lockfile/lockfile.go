package lockfile

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"
)

// Backoff between attempts while the lock is held elsewhere.
const (
	firstDelay = 50 * time.Millisecond
	maxDelay   = time.Second
)

// Info describes a lock holder. It is stored as JSON beside the lock.
type Info struct {
	ID      string    `json:"id"`      // random per acquisition; the argument of force-unlock
	Who     string    `json:"who"`     // user@host
	Command string    `json:"command"` // e.g. "postform apply"
	Version string    `json:"version"` // postform version
	PID     int       `json:"pid"`
	Created time.Time `json:"created"` // when the lock was taken, UTC
}

// ErrNotLocked is returned (wrapped) by ReadInfo and ForceUnlock when no
// holder is recorded beside the lock.
var ErrNotLocked = errors.New("lockfile: no lock holder is recorded")

// ErrWrongID is returned (wrapped) by ForceUnlock when the given ID is not
// the recorded holder's.
var ErrWrongID = errors.New("lockfile: lock ID does not match the holder")

// ErrStillHeld is returned (wrapped) by ForceUnlock when the lock is held by
// a live process.
var ErrStillHeld = errors.New("lockfile: the lock is held by a running process")

// LockError reports a lock that stayed held by someone else until Acquire
// gave up. Holder is the recorded holder, or the zero Info when none could be
// read. Err is the context error when the context ended the wait, else nil.
type LockError struct {
	Holder Info
	Path   string
	Err    error
}

func (e *LockError) Error() string {
	h := e.Holder
	if h.ID == "" {
		return fmt.Sprintf("state is locked by another process (lock file %s, holder unknown); wait for it to finish", e.Path)
	}
	cmd := h.Command
	if cmd == "" {
		cmd = "another process"
	}
	details := []string{"id " + h.ID}
	if h.PID != 0 {
		details = append(details, fmt.Sprintf("pid %d", h.PID))
	}
	if h.Who != "" {
		details = append(details, h.Who)
	}
	if !h.Created.IsZero() {
		details = append(details, "since "+h.Created.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("state is locked by %s (%s); wait for it to finish, or if that process is gone, run: postform force-unlock %s",
		cmd, strings.Join(details, ", "), h.ID)
}

// Unwrap returns the context error that ended the wait, if any.
func (e *LockError) Unwrap() error { return e.Err }

// Lock is a held lock. Release it when the run ends.
type Lock struct {
	path string
	info Info
	fl   *flock.Flock

	mu       sync.Mutex
	released bool
}

// Info returns the holder information recorded for this lock.
func (l *Lock) Info() Info { return l.info }

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// Acquire takes the lock at path, creating the file (mode 0600) and its
// directory (mode 0700) if needed. On success it records info beside the
// lock, with a new random ID and, where info leaves them empty, the current
// pid, user@host and time.
//
// When the lock is held, Acquire retries with backoff until timeout has
// passed (timeout 0 means one attempt) or ctx ends, and then returns a
// *LockError naming the holder.
func Acquire(ctx context.Context, path string, info Info, timeout time.Duration) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lockfile: %w", err)
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	info.ID = id
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	if info.Who == "" {
		info.Who = whoAmI()
	}
	if info.Created.IsZero() {
		info.Created = time.Now()
	}
	info.Created = info.Created.UTC()

	fl := flock.New(path, flock.SetPermissions(0o600))
	deadline := time.Now().Add(timeout)
	delay := firstDelay
	var timer *time.Timer
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lockfile: locking %s: %w", path, err)
		}
		if ok {
			if err := writeInfo(path, info); err != nil {
				return nil, errors.Join(err, fl.Unlock())
			}
			return &Lock{path: path, info: info, fl: fl}, nil
		}
		remaining := time.Until(deadline)
		if timeout <= 0 || remaining <= 0 {
			return nil, lockError(path, nil)
		}
		// Jitter keeps several waiters from polling in step.
		wait := min(delay+rand.N(delay/4), remaining)
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, lockError(path, ctx.Err())
		case <-timer.C:
		}
		delay = min(2*delay, maxDelay)
	}
}

func lockError(path string, cause error) *LockError {
	holder, _ := ReadInfo(path) // unknown holder is reported as such
	return &LockError{Holder: holder, Path: path, Err: cause}
}

// Release removes the holder record and unlocks. Calling it again does
// nothing.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	l.released = true
	// Remove the record while still holding the lock, so that it can never
	// delete the record of the next holder.
	err := os.Remove(infoPath(l.path))
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return errors.Join(err, l.fl.Unlock())
}

// ReadInfo returns the holder recorded beside the lock at path, or an error
// wrapping ErrNotLocked when none is recorded. The record can be stale: a
// holder killed with SIGKILL leaves it behind although the OS has dropped
// its lock.
func ReadInfo(path string) (Info, error) {
	b, err := os.ReadFile(infoPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("%w at %s", ErrNotLocked, path)
	}
	if err != nil {
		return Info{}, fmt.Errorf("lockfile: %w", err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return Info{}, fmt.Errorf("lockfile: reading holder of %s: %w", path, err)
	}
	return info, nil
}

// ForceUnlock clears the holder record of the lock at path, for a holder
// that has exited without releasing (see the package comment). It refuses
// with ErrWrongID when id is not the recorded holder's ID, with
// ErrStillHeld when a live process holds the lock (it cannot be broken; stop
// that process instead), and with ErrNotLocked when nothing is recorded.
func ForceUnlock(path string, id string) error {
	info, err := ReadInfo(path)
	if err != nil {
		return err
	}
	if info.ID != id {
		return fmt.Errorf("%w: %s holds %q, not %q", ErrWrongID, path, info.ID, id)
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return fmt.Errorf("lockfile: locking %s: %w", path, err)
	}
	if !ok {
		return fmt.Errorf("%w (pid %d, %s, id %s); force-unlock only clears the lock of a process that has exited",
			ErrStillHeld, info.PID, info.Who, info.ID)
	}
	defer fl.Unlock()
	// Between ReadInfo and TryLock another process may have come and gone;
	// only remove the record we were asked about.
	again, err := ReadInfo(path)
	if err != nil {
		return err
	}
	if again.ID != id {
		return fmt.Errorf("%w: %s now holds %q, not %q", ErrWrongID, path, again.ID, id)
	}
	if err := os.Remove(infoPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lockfile: %w", err)
	}
	return nil
}

func infoPath(path string) string { return path + ".info" }

func writeInfo(path string, info Info) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("lockfile: %w", err)
	}
	b = append(b, '\n')
	if err := renameio.WriteFile(infoPath(path), b, 0o600); err != nil {
		return fmt.Errorf("lockfile: recording holder: %w", err)
	}
	return nil
}

// newID returns a random version 4 UUID.
func newID() (string, error) {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lockfile: generating lock ID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// whoAmI returns user@host, with "unknown" for a part that cannot be found.
func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}
