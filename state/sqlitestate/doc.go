// Package sqlitestate is postform's embedded state store: an implementation
// of state.Store in one SQLite file (by default .postform/state.db), through
// the pure-Go driver modernc.org/sqlite, so no C compiler is needed.
//
// # Durability
//
// The database runs in WAL mode. Every write method (Put, Delete,
// PutSuppressions) is one BEGIN IMMEDIATE transaction that also increments
// the serial in the meta row; when it returns nil the transaction has
// committed. With Options.Synchronous "FULL" (the default) a commit is
// fsynced and survives power loss; with "NORMAL" it survives a crash or
// kill -9 of the process but the last commits may be lost on power failure.
//
// A write whose context is cancelled before it commits is rolled back as a
// whole. Callers that must record an outcome after a Ctrl-C (the response to
// a request already sent) should pass a context that is not cancelled.
//
// # Concurrency
//
// One connection writes; writers queue for it, so Put may be called from
// several goroutines. Reads (Meta, Get, Lookup, Page, Counts, Suppressed) go
// through a separate small pool of read-only connections and see the last
// committed state without waiting for a writer. Page reads one page and
// releases its connection before returning, so the callback of state.Each may
// write.
//
// # Records about to be sent
//
// A Put whose records have status sending (apply announcing a request)
// stores them as one row of the intents table, not as one row each, and the
// store keeps them in memory from Open on; every read presents them exactly
// as records. The Put of their outcome writes the real rows and retires the
// intent in the same transaction. A crash leaves intents behind, and the next
// Open shows their records as sending, for apply to reconcile. See
// inflight.go.
//
// # Identity
//
// At creation the store records a random lineage, serial 0 and the Postmark
// target it belongs to. Opening an existing store for a different target
// fails with *TargetMismatchError, so a simulator run never shares state with
// a run against the real API.
//
// # Schema
//
// The schema is built by numbered migrations; the number applied is kept in
// PRAGMA user_version. A database written by a newer postform (a higher
// version than this build knows) is refused rather than guessed at. Times
// are stored as UTC Unix nanoseconds, with 0 meaning the zero time.Time (so
// the instant 1970-01-01T00:00:00Z itself reads back as zero).
package sqlitestate
