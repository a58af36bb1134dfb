// Package postmarktest is a Postmark-compatible HTTP API simulator for
// tests, examples and benchmarks, also served by `postform sim`. It runs on
// loopback only and never contacts Postmark.
//
// It follows the facts in the project's Postmark reference: the
// X-Postmark-Server-Token check (401, ErrorCode 10), 415 for a missing
// Accept or Content-Type: application/json, the error envelope
// {"ErrorCode":N,"Message":"..."} with the X-PM-ApiErrorCode header,
// 422/402 for invalid JSON and 422/403 for unknown or mistyped fields.
//
// Endpoints:
//
//   - POST /email, POST /email/withTemplate: HTTP 422 with the ErrorCode
//     on failure (300 validation, 406 all recipients inactive, 411 forbidden
//     attachment, 1101/1120 templates, 1235/1236 streams); 413 above 10 MB.
//   - POST /email/batch (a bare array) and POST /email/batchWithTemplates
//     ({"Messages":[...]}): at most 500 messages (else 422/410), 50 MB (else
//     413); HTTP 200 with one result per message in request order.
//   - GET /messages/outbound: count (≤ 500) and offset required,
//     count+offset ≤ 10,000 (else 422/700); filters recipient, fromemail,
//     tag, status, subject, messagestream (default "outbound"),
//     fromdate/todate (US Eastern) and one metadata_<key>=value, answered
//     from an index. Parameter names are case-insensitive. Newest first.
//   - GET /messages/outbound/{id}/details with MessageEvents computed from
//     the acceptance time and the clock (422/701 for unknown or not yet
//     visible messages).
//   - GET /bounces, GET /bounces/{id},
//     GET /message-streams/{stream}/suppressions/dump.
//
// Time stamps are written in US Eastern time with seven fractional digits
// ("2026-11-05T11:33:54.9070259-05:00"; -04:00 in summer), like Postmark's
// documentation examples.
//
// # Delivery simulation
//
// Nothing runs in the background: events, bounces and suppressions come
// into existence when the clock (Options.Now) passes their time. Each
// recipient gets Delivered after Options.DeliveryDelay, except:
//
//   - <type>@bounce-testing.postmarkapp.com (type any Postmark bounce type,
//     case-insensitive; SpamComplaint falls back to HardBounce) gets a
//     Bounced event and a bounce record after the delay. A HardBounce is
//     Inactive and suppresses the address on that stream, so later sends to
//     it alone fail with 406. Other local parts on that domain are delivered.
//   - An address whose local part contains "+transient" gets Transient after
//     the delay and Delivered after three delays (a simulator convention).
//   - An address whose local part contains "+open" also gets Opened one
//     delay after delivery.
//
// Recipients already inactive when a message was accepted (a partially
// suppressed send) get no events.
//
// # Faults
//
// Options sets latency, a token-bucket rate limit, and per-send-request
// probabilities of 429, 500 and 503 (nothing accepted), of "accepted then
// connection dropped" and of "accepted then 500" (the ambiguous cases), and
// a search-visibility lag. Random decisions come from Options.Seed, so a
// run is reproducible for the same order of requests.
//
// Latency is measured from a request's arrival: each response is sent no
// sooner than Options.Latency after the request arrived; the request body
// is read and checked during that time, and nothing is accepted until it
// has passed (nor at all if the client gives up first). So a request costs
// the larger of the latency and its own processing time, not their sum.
//
// # Observing a run
//
// Accepted lists every accepted message in order (including those whose
// response was lost), Duplicates finds metadata values sent more than once,
// and Stats counts requests per endpoint and status, injected faults and the
// peak number of concurrent requests.
//
// Stored bodies are capped by Options.MaxBodyBytes in total and kept back
// to back in large blocks, so a million accepted messages fit in memory at
// well under 1 KB each beyond their bodies.
//
// Send requests of the common shape are decoded without reflection; any
// other body (differently spelled or repeated field names, unexpected
// types, invalid JSON) is decoded by encoding/json, whose errors the
// simulator reports, so both paths answer alike.
package postmarktest

import _ "time/tzdata" // US Eastern time without a system zoneinfo database
