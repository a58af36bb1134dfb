// Package runner is postform's engine: it plans (which messages would be
// sent), applies (sends them exactly once with bounded, rate-limited
// concurrency and durable state) and refreshes (polls delivery outcomes).
//
// The runner never prints. It reports through a [Hook], which the command
// line implements with human and JSON views. It never reads the process
// environment or the clock for configuration: everything arrives as
// parameters.
//
// # Exactly once
//
// Postmark has no idempotency key, so the runner builds one:
//
//   - every message carries the metadata key pf_id, a digest of the state's
//     lineage and the message address;
//   - before a request leaves, its messages are committed to state as
//     "sending";
//   - a response that proves nothing was accepted (401, 415, 422, 429,
//     503/100, connection refused) marks them "unsent", and only those are
//     retried, with backoff and jitter;
//   - an ambiguous outcome (timeout or reset after the request was written,
//     500, 502, 504) marks them "uncertain"; before any resend the runner
//     searches GET /messages/outbound?metadata_pf_id=… in the message's
//     own stream, and adopts the MessageID it finds;
//   - at start, apply reconciles every "sending"/"uncertain" row a crash
//     left behind in the same way.
package runner
