package report

import (
	"fmt"
	"strings"

	"github.com/postform/postform/state"
)

// Outcome is the one word that says how a message ended up, derived from
// its send status and its delivery status. Every record has exactly one
// outcome:
//
//	delivered  accepted and delivered (Delivery "delivered")
//	opened     delivered and opened
//	clicked    delivered and a link clicked
//	pending    accepted; no delivery outcome yet (never polled, or polled and pending)
//	transient  accepted; delivery deferred, Postmark keeps trying
//	bounced    accepted, then bounced (see BounceType and Inactive)
//	failed     refused by Postmark for good (an ErrorCode such as 300 or 406)
//	uncertain  may or may not have been accepted (status uncertain, or
//	           sending: a run was interrupted with the request in flight);
//	           the next apply reconciles it before any resend
//	unsent     never accepted (status unsent, or no status at all)
//	unknown    a status or delivery value this version does not know
//
// delivered, opened and clicked are successes; bounced and failed are
// failures (see [Outcome.Failure]); the rest are undecided.
type Outcome string

// The outcome vocabulary. See [Outcome].
const (
	OutcomeDelivered Outcome = "delivered"
	OutcomeOpened    Outcome = "opened"
	OutcomeClicked   Outcome = "clicked"
	OutcomePending   Outcome = "pending"
	OutcomeTransient Outcome = "transient"
	OutcomeBounced   Outcome = "bounced"
	OutcomeFailed    Outcome = "failed"
	OutcomeUncertain Outcome = "uncertain"
	OutcomeUnsent    Outcome = "unsent"
	OutcomeUnknown   Outcome = "unknown"
)

// Outcomes lists every outcome in display order: successes, undecided,
// failures, then the rest.
var Outcomes = []Outcome{
	OutcomeDelivered, OutcomeOpened, OutcomeClicked,
	OutcomePending, OutcomeTransient,
	OutcomeBounced, OutcomeFailed,
	OutcomeUncertain, OutcomeUnsent, OutcomeUnknown,
}

// OutcomeOf returns r's outcome.
func OutcomeOf(r state.Record) Outcome {
	switch r.Status {
	case state.StatusSent:
		switch r.Delivery {
		case state.DeliveryDelivered:
			return OutcomeDelivered
		case state.DeliveryOpened:
			return OutcomeOpened
		case state.DeliveryClicked:
			return OutcomeClicked
		case state.DeliveryNone, state.DeliveryPending:
			return OutcomePending
		case state.DeliveryTransient:
			return OutcomeTransient
		case state.DeliveryBounced:
			return OutcomeBounced
		}
		return OutcomeUnknown
	case state.StatusFailed:
		return OutcomeFailed
	case state.StatusUncertain, state.StatusSending:
		return OutcomeUncertain
	case state.StatusUnsent, "":
		return OutcomeUnsent
	}
	return OutcomeUnknown
}

// Success reports whether o means the message reached the recipient.
func (o Outcome) Success() bool {
	return o == OutcomeDelivered || o == OutcomeOpened || o == OutcomeClicked
}

// Failure reports whether o is a definite failure: bounced or failed.
// These are the messages that make apply/refresh exit 2 and that JUnit
// reports as failing tests.
func (o Outcome) Failure() bool {
	return o == OutcomeBounced || o == OutcomeFailed
}

// Filter words that are not outcomes.
const (
	// filterSent selects every message Postmark accepted (status sent),
	// whatever its delivery.
	filterSent = "sent"
	// filterSuppressed selects messages whose bounce deactivated the
	// recipient (Record.Inactive): the address is now on Postmark's
	// suppression list.
	filterSuppressed = "suppressed"
)

// StatusFilter selects records by filter words; see [ParseStatusFilter].
// The zero value (no words) selects every record.
type StatusFilter struct {
	words []string // canonical, deduplicated, in the order given
}

// ParseStatusFilter turns the words of Options.Statuses into a filter.
// Each element may hold several words separated by commas; case and
// surrounding spaces are ignored. A record is selected when any word
// matches it:
//
//   - an outcome word (see [Outcome]) matches records with that outcome,
//     except that "delivered" also matches opened and clicked, since both
//     imply delivery;
//   - "sent" matches every message Postmark accepted (status sent), whatever
//     its delivery outcome;
//   - "suppressed" matches messages whose bounce made the recipient
//     inactive.
//
// An unknown word is an error that lists the valid ones.
func ParseStatusFilter(words []string) (StatusFilter, error) {
	var f StatusFilter
	seen := map[string]bool{}
	for _, elem := range words {
		for w := range strings.SplitSeq(elem, ",") {
			w = strings.ToLower(strings.TrimSpace(w))
			if w == "" {
				continue
			}
			if !validFilterWord(w) {
				return StatusFilter{}, fmt.Errorf("report: unknown status %q (valid: %s)", w, strings.Join(FilterWords(), ", "))
			}
			if !seen[w] {
				seen[w] = true
				f.words = append(f.words, w)
			}
		}
	}
	return f, nil
}

// FilterWords lists every word [ParseStatusFilter] accepts.
func FilterWords() []string {
	out := make([]string, 0, len(Outcomes)+2)
	for _, o := range Outcomes {
		out = append(out, string(o))
	}
	return append(out, filterSent, filterSuppressed)
}

func validFilterWord(w string) bool {
	if w == filterSent || w == filterSuppressed {
		return true
	}
	for _, o := range Outcomes {
		if string(o) == w {
			return true
		}
	}
	return false
}

// Words returns the filter's words in canonical form (never nil).
func (f StatusFilter) Words() []string {
	return append([]string{}, f.words...)
}

// Match reports whether r is selected.
func (f StatusFilter) Match(r state.Record) bool {
	if len(f.words) == 0 {
		return true
	}
	o := OutcomeOf(r)
	for _, w := range f.words {
		switch w {
		case filterSent:
			if r.Status == state.StatusSent {
				return true
			}
		case filterSuppressed:
			if r.Inactive {
				return true
			}
		case string(OutcomeDelivered):
			if o.Success() {
				return true
			}
		default:
			if string(o) == w {
				return true
			}
		}
	}
	return false
}
