// Package pebblestate is postform's embedded state store: an implementation
// of state.Store in one Pebble database directory (by default
// .postform/state.db), a pure-Go log-structured merge tree, so no C
// compiler is needed.
//
// # Why a log-structured store
//
// An apply records the outcome of every request (hundreds of messages whose
// addresses are in no particular order) in one durable transaction. In a
// B-tree each of those rows lands on a different page, and every page is
// rewritten at each commit; in Pebble a commit is one sequential append to
// the write-ahead log plus an in-memory insert, and the sorting happens
// later, in the background. Measured on the same machine, the writes of a
// 100,000-message apply cost several times less CPU than they did in
// SQLite (see BENCHMARKS.md).
//
// # Durability
//
// Every write method (Put, Delete, PutSuppressions) is one Pebble batch
// that also increments the serial; it is committed with an fsync of the
// write-ahead log before the method returns nil, so it survives a crash,
// kill -9 or power loss. A batch is applied whole or not at all. A write
// whose context is already cancelled writes nothing; callers that must
// record an outcome after a Ctrl-C pass a context that is not cancelled.
//
// # Concurrency
//
// Writes are serialised inside the store, so Put may be called from several
// goroutines; reads see the last committed state without waiting. Only one
// process may have a store open: a second Open fails with ErrInUse.
//
// # Layout
//
// Keys are grouped by a one-byte kind (see encode.go): meta values,
// records keyed by address, two indexes kept in address order (unsettled
// statuses, open deliveries), intents and suppressions. Records are stored
// in a compact binary form that starts with a format byte; times are UTC
// Unix nanoseconds, with 0 meaning the zero time.Time. The layout version
// is a meta value; a store written by a newer postform is refused.
//
// # Records about to be sent
//
// A Put whose records have status sending (apply announcing a request)
// stores them as one intent, not as one record each, and the store keeps
// them in memory from Open on; every read presents them exactly as
// records. The Put of their outcome writes the real records and retires
// the intent in the same batch. A crash leaves intents behind, and the next
// Open shows their records as sending, for apply to reconcile. See
// inflight.go.
//
// # Identity
//
// At creation the store records a random lineage, serial 0 and the Postmark
// target it belongs to. Opening an existing store for a different target
// fails with *TargetMismatchError, so a simulator run never shares state
// with a run against the real API.
package pebblestate
