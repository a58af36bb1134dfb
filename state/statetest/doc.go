// Package statetest is the conformance suite for state.Store
// implementations. A backend's tests call Run with a function that opens a
// new, empty store; every behaviour the runner relies on is checked there,
// so a second backend (PostgreSQL, say) is done when it passes the same
// suite.
//
// Beyond the comments on state.Store, the suite pins down these details:
//   - a write method called with an empty slice is a no-op and does not
//     change the serial; any other call increments it by exactly one, even
//     when (for Delete) nothing matched;
//   - non-zero times come back in UTC and equal to what was put; zero times
//     come back zero;
//   - Lookup, Suppressed and the maps in Counts are never nil; Counts counts
//     records without delivery information under state.DeliveryNone;
//   - Get of an unknown address returns an error for which
//     errors.Is(err, state.ErrNotFound) holds;
//   - suppression emails are stored and returned lower-cased.
//
// Run the suite with -race: it puts from several goroutines at once.
package statetest
