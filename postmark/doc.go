// Package postmark is a thin, policy-free client for the parts of the
// Postmark server API that postform uses: sending (single, batch,
// templated), the outbound message search and details, bounces and the
// suppression dump.
//
// # Construction
//
// NewClient validates its inputs and returns an error instead of
// panicking: the server token must be non-empty, the base URL must parse,
// and plain http is accepted only for loopback hosts (the simulator). The
// base URL may carry a path prefix; endpoint paths are always resolved
// relative to it, never concatenated.
//
// # Policy
//
// The client never sleeps, retries, rate-limits or follows redirects (a
// redirect would carry the token to wherever it points). Every method takes
// a context and performs exactly one HTTP request. Retry, backoff and
// reconciliation belong to the caller, which decides with Classify,
// IsRetryable and IsAuth.
//
// # Errors
//
// A failed call returns one of three error types, all usable with
// errors.As:
//
//   - *APIError: Postmark (or something in front of it) answered with a
//     non-2xx status. It keeps the status, the body's ErrorCode and Message
//     when the body was the JSON envelope, the method and the URL path.
//     Error bodies are read up to 1 MiB; HTML pages still yield an APIError.
//   - *TransportError: no response arrived. Written records, through
//     net/http/httptrace, whether the whole request had been written
//     before the failure; a done context wins over the transport error but
//     keeps that fact.
//   - *ResponseError: a 2xx response whose body could not be read or did
//     not match what was sent (for example a batch answer with the wrong
//     number of items).
//
// Classify folds any of them into ClassRejected (provably not accepted)
// or ClassAmbiguous (may have been accepted, reconcile before resending).
// Per-item failures inside a batch answer are data, not errors: see
// SendResult.ErrorCode.
//
// The server token travels in one request header only. It is never part
// of an error string, and Client's String method does not print it.
//
// Postmark's API documentation: https://postmarkapp.com/developer/api/overview
package postmark
