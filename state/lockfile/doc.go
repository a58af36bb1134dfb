// Package lockfile is the whole-run lock that apply and refresh hold on a
// state store, beside the state itself (for example .postform/state.lock).
//
// The lock is an OS advisory lock (flock(2) through github.com/gofrs/flock)
// on the lock file, taken without blocking. The holder records who it is —
// a random lock ID, pid, user@host, command, tool version and start time —
// as JSON in a sidecar file, the lock path plus ".info", written atomically
// (temporary file, fsync, rename) so that a reader never sees half of it.
// A process that finds the lock held retries with backoff until its timeout
// and then returns a *LockError naming the holder.
//
// The lock file itself is never removed: removing it would let a waiter
// that already opened the old file and a newcomer that creates a new one
// both believe they hold the lock. Release deletes the sidecar and then
// unlocks.
//
// # Stale locks
//
// The operating system drops a flock when its holder exits, even on kill -9,
// so the lock itself cannot go stale; a crashed holder leaves only its
// sidecar behind, and the next Acquire simply replaces it. ForceUnlock exists
// for the command-line "force-unlock ID": it clears the sidecar of a holder
// that is gone, after checking that the ID matches, and refuses while the
// lock is actually held by a live process, because no process can break
// another's flock. (On a network filesystem where flock is emulated the same
// rules apply as long as the emulation honours LOCK_NB.)
//
// Locks are per open file description, so two Acquire calls in one process
// exclude each other just as two processes do.
package lockfile
