package runner

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Action is what a plan decided for one message.
type Action string

const (
	ActionSend       Action = "send"       // not in state: will be sent
	ActionReplace    Action = "replace"    // sent before, resent because of -replace
	ActionSent       Action = "sent"       // already sent with the same content: skipped
	ActionChanged    Action = "changed"    // sent before with other content: not resent without -replace
	ActionInvalid    Action = "invalid"    // has diagnostics: cannot be sent
	ActionSuppressed Action = "suppressed" // every recipient is known to be inactive on the stream
	ActionFailed     Action = "failed"     // refused permanently before with the same content: not resent
	ActionReconcile  Action = "reconcile"  // a previous attempt's outcome is unknown: reconciled before any resend
)

// PlanEntry is the decision for one message, as shown by plan.
type PlanEntry struct {
	Address    string
	Batch, Key string
	Action     Action
	To         string // recipients as they would be sent (To, Cc, Bcc)
	Subject    string // empty for server templates
	Template   string // server template alias or id, when used
	Digest     string // content digest (XXH3-128, hex; see fingerprint)
	Sensitive  []string
	Diags      hcl.Diagnostics // for ActionInvalid
	MessageID  string          // for sent/changed/failed
	SentAt     time.Time       // for sent/changed
	ErrorCode  int             // for failed
	Error      string          // for failed
}

// Preview is one rendered message per batch, for people reviewing a plan.
type Preview struct {
	Batch    string
	Address  string
	From     string
	To       string
	Subject  string
	Text     string // text body (or a text rendering of the HTML body)
	Template string // server template alias or id, instead of a body
	// Sensitive names the fields to hide.
	Sensitive []string
}

// PlanSummary counts a plan's actions.
type PlanSummary struct {
	ToSend     int // send + replace
	Sent       int
	Changed    int
	Invalid    int
	Suppressed int
	Failed     int
	Reconcile  int
	Total      int
}

// ToChange reports whether applying would send anything.
func (s PlanSummary) ToChange() bool { return s.ToSend > 0 || s.Reconcile > 0 }

func (s *PlanSummary) add(a Action) {
	s.Total++
	switch a {
	case ActionSend, ActionReplace:
		s.ToSend++
	case ActionSent:
		s.Sent++
	case ActionChanged:
		s.Changed++
	case ActionInvalid:
		s.Invalid++
	case ActionSuppressed:
		s.Suppressed++
	case ActionFailed:
		s.Failed++
	case ActionReconcile:
		s.Reconcile++
	}
}

// Outcome is the result of one message in an apply.
type Outcome string

const (
	OutcomeSent      Outcome = "sent"      // accepted by Postmark in this run
	OutcomeAdopted   Outcome = "adopted"   // found already accepted while reconciling
	OutcomeFailed    Outcome = "failed"    // refused permanently (per-item error)
	OutcomeUnsent    Outcome = "unsent"    // not accepted, retries exhausted or run stopped
	OutcomeUncertain Outcome = "uncertain" // outcome still unknown at the end of the run
	OutcomeResend    Outcome = "resend"    // reconciliation proved it was not accepted; it will be sent again
)

// MessageResult reports one message's outcome in an apply.
type MessageResult struct {
	Address   string
	Outcome   Outcome
	MessageID string
	ErrorCode int
	Error     string
	Attempts  int
}

// Progress is a snapshot of an apply's counters, reported after every
// response.
type Progress struct {
	Total     int // messages this run intends to send (known after planning; 0 while unknown)
	Sent      int // accepted (sent + adopted)
	Failed    int // refused permanently
	Retried   int // messages put back for a retry
	Uncertain int // waiting for reconciliation
	Requests  int // API requests made
	Elapsed   time.Duration
}

// RunSummary is the result of an apply.
type RunSummary struct {
	Plan       PlanSummary
	Sent       int            // accepted in this run
	Adopted    int            // reconciled: found accepted (crash or ambiguous outcome)
	Resent     int            // reconciled: proven not accepted and sent again
	Failed     int            // refused permanently in this run
	FailedBy   map[string]int // failures by reason ("406 inactive recipient")
	Unsent     int            // not accepted when the run ended (retries exhausted, stopped)
	Uncertain  int            // outcome unknown when the run ended
	Duplicates int            // extra accepted copies found while reconciling (made elsewhere)
	Requests   int
	Elapsed    time.Duration
	Stopped    string // why the run stopped early ("interrupted", "max_errors reached", …), empty when it finished
}

// Hook receives the runner's events. Implementations must be safe for
// concurrent use: apply calls MessageResult and Progress from several
// goroutines. Embed [NopHook] to implement only some methods.
type Hook interface {
	// PlannedMessage is called once per message, in configuration order.
	PlannedMessage(e PlanEntry)
	// PlannedPreview is called with the first sendable message of each batch.
	PlannedPreview(p Preview)
	// PlanDone is called when every message has been planned.
	PlanDone(s PlanSummary)
	// Reconciling is called when apply starts reconciling n messages whose
	// outcome is unknown.
	Reconciling(n int)
	// MessageResult is called for each message whose state changed.
	MessageResult(r MessageResult)
	// Progress is called after every API response.
	Progress(p Progress)
	// Warn reports a problem that did not stop the run.
	Warn(msg string)
	// RefreshProgress is called by Refresh after every API response and
	// at the end of each polling round.
	RefreshProgress(p RefreshProgress)
}

// NopHook implements Hook and does nothing.
type NopHook struct{}

func (NopHook) PlannedMessage(PlanEntry)        {}
func (NopHook) PlannedPreview(Preview)          {}
func (NopHook) PlanDone(PlanSummary)            {}
func (NopHook) Reconciling(int)                 {}
func (NopHook) MessageResult(MessageResult)     {}
func (NopHook) Progress(Progress)               {}
func (NopHook) Warn(string)                     {}
func (NopHook) RefreshProgress(RefreshProgress) {}

var _ Hook = NopHook{}
