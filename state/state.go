// Package state defines postform's durable record of what was sent: the
// record types, the Store interface that every backend implements, and
// helpers that work on any Store.
//
// A Store holds one row per message address (for example
// batch.digest["ann@example.com"]) plus a small meta record with the
// store's lineage (random at creation) and serial (incremented by every
// write transaction). The embedded implementation lives in
// state/pebblestate; a shared backend (PostgreSQL, several cron hosts)
// would be a second implementation that passes the same conformance suite
// (state/statetest).
package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Status is where a message stands in the send protocol.
type Status string

const (
	// StatusSending: durably recorded before its request left. A row found
	// in this status at start-up was interrupted and must be reconciled.
	StatusSending Status = "sending"
	// StatusUncertain: the request may or may not have been accepted
	// (timeout after write, connection reset, 500/502/504). Reconcile
	// through the outbound search before any resend.
	StatusUncertain Status = "uncertain"
	// StatusSent: Postmark accepted it; MessageID is set.
	StatusSent Status = "sent"
	// StatusFailed: Postmark refused it permanently (per-item 300/406, …).
	StatusFailed Status = "failed"
	// StatusUnsent: an attempt was made and proven not accepted (429, 503,
	// connection refused) and the run ended before a retry succeeded.
	StatusUnsent Status = "unsent"
)

// Delivery is what Postmark reported about delivery after acceptance.
type Delivery string

const (
	DeliveryNone      Delivery = ""          // not sent, or not yet polled
	DeliveryPending   Delivery = "pending"   // accepted, no outcome yet
	DeliveryDelivered Delivery = "delivered" // terminal success (all recipients)
	DeliveryBounced   Delivery = "bounced"   // terminal failure
	DeliveryTransient Delivery = "transient" // deferred; Postmark keeps trying
	DeliveryOpened    Delivery = "opened"    // delivered and opened
	DeliveryClicked   Delivery = "clicked"   // delivered and a link clicked
)

// Terminal reports whether no further polling can change d.
func (d Delivery) Terminal() bool {
	switch d {
	case DeliveryDelivered, DeliveryBounced, DeliveryOpened, DeliveryClicked:
		return true
	}
	return false
}

// Meta identifies a store. Plans record Lineage and Serial and apply
// refuses a plan whose values no longer match.
type Meta struct {
	Lineage string // random at creation, never changes
	Serial  int64  // incremented by every write transaction
	Target  string // the Postmark endpoint this store belongs to (normalised base URL or "simulator")
	Server  Server // the Postmark server the store is bound to; zero until Bind
}

// Server is a Postmark server as GET /server names it. A state belongs to
// one server: a token for another server never reads or writes it.
type Server struct {
	ID   int64
	Name string
}

// Bound reports whether s names a server.
func (s Server) Bound() bool { return s.ID != 0 || s.Name != "" }

// String names the server for people: its name and ID.
func (s Server) String() string {
	if !s.Bound() {
		return "(no server yet)"
	}
	return fmt.Sprintf("%q (ID %d)", s.Name, s.ID)
}

// ServerMismatchError reports a store bound to another Postmark server than
// the one a command reached.
type ServerMismatchError struct {
	Stored    Server // the server the store belongs to
	Requested Server // the server the token belongs to
}

func (e *ServerMismatchError) Error() string {
	return fmt.Sprintf("this state belongs to Postmark server %s, not to server %s", e.Stored, e.Requested)
}

// Record is one message's row. Zero times mean "not known".
type Record struct {
	Address    string // batch.NAME["key"]; primary key
	Batch      string
	Key        string
	Recipients string // To, Cc and Bcc joined with ", " as sent
	Stream     string // MessageStream used (needed to reconcile: search is per stream)
	Tag        string
	Digest     string // content digest of the payload as sent (without pf_id)
	PFID       string // the pf_id metadata value
	PFBatch    string // the pf_batch metadata value (empty for records from before it existed)
	Generation int    // 0 for the first send; a deliberate resend (-replace, state rm) uses the next

	Status         Status
	MessageID      string
	SubmittedAt    time.Time
	FirstAttemptAt time.Time // when the first request carrying it left
	LastAttemptAt  time.Time // when the latest request carrying it left
	Attempts       int
	ErrorCode      int    // last Postmark ErrorCode (0 when none)
	ErrorMessage   string // last error text (never contains the token)

	Delivery    Delivery
	BounceType  string // Postmark bounce Type, e.g. HardBounce
	BounceID    int64
	Inactive    bool // the bounce deactivated the recipient
	DeliveredAt time.Time
	LastEventAt time.Time
	CheckedAt   time.Time // last delivery poll
	Duplicates  int       // extra accepted copies found while reconciling (should stay 0)
}

// Suppression is a recipient known to be inactive on a stream (from a hard
// bounce or spam complaint seen by refresh). Plans show such recipients as
// "- suppressed".
type Suppression struct {
	Email     string // lower-cased address
	Stream    string
	Reason    string // bounce type, e.g. HardBounce
	MessageID string // the message whose bounce revealed it
	At        time.Time
}

// Filter selects records for Page. Empty fields do not filter.
type Filter struct {
	Statuses   []Status
	Deliveries []Delivery
	Batch      string
	Addresses  []string // exact addresses
}

// ErrNotFound is returned by Get for an unknown address.
var ErrNotFound = errors.New("state: no such message")

// Store is the durable state of one configuration directory and target.
// Every method is safe for concurrent use; writes are serialised by the
// implementation. Each write method commits one transaction (all or
// nothing) and increments the serial once.
type Store interface {
	// Meta returns the store's lineage, serial and target.
	Meta(ctx context.Context) (Meta, error)

	// Get returns the record for address or ErrNotFound.
	Get(ctx context.Context, address string) (Record, error)

	// Lookup returns the records among addresses that exist, keyed by
	// address. Callers pass a few hundred at a time.
	Lookup(ctx context.Context, addresses []string) (map[string]Record, error)

	// Page returns up to limit records matching f whose address sorts
	// strictly after `after` (keyset paging, ordered by address). An empty
	// result means the end.
	Page(ctx context.Context, f Filter, after string, limit int) ([]Record, error)

	// Counts returns the number of records per status and per delivery.
	Counts(ctx context.Context) (Counts, error)

	// Put inserts or replaces every record in recs in one transaction,
	// and clears the tombstones of their addresses. When Put returns nil,
	// the records are durable.
	Put(ctx context.Context, recs []Record) error

	// Delete removes the records for addresses in one transaction and
	// reports how many existed. For each removed record it keeps a
	// tombstone holding the generation the address must use next (the
	// record's Generation plus one), so a message sent again after a
	// removal is a new generation, never mistaken for the one removed.
	Delete(ctx context.Context, addresses []string) (int, error)

	// Tombstones returns, among addresses, those removed by Delete and
	// not put since, with the generation each must use next. The map is
	// never nil.
	Tombstones(ctx context.Context, addresses []string) (map[string]int, error)

	// Bind records the Postmark server the store belongs to. Binding an
	// unbound store sets it (one transaction); binding it to the server it
	// already has changes nothing and leaves the serial alone; binding a
	// store bound to another server (another ID) fails with
	// *ServerMismatchError and changes nothing. A server's new name is
	// recorded.
	Bind(ctx context.Context, s Server) error

	// Values returns the named values among names that have been set.
	// The map is never nil.
	Values(ctx context.Context, names []string) (map[string]string, error)

	// SetValues sets named values in one transaction (an empty value
	// removes the name). Values are small: recovery watermarks and the
	// like.
	SetValues(ctx context.Context, values map[string]string) error

	// PutSuppressions records inactive recipients (upsert by email+stream).
	PutSuppressions(ctx context.Context, s []Suppression) error

	// Suppressed returns the suppressions among emails on stream, keyed by
	// lower-cased email.
	Suppressed(ctx context.Context, stream string, emails []string) (map[string]Suppression, error)

	// CountSuppressions returns the number of recorded suppressions.
	CountSuppressions(ctx context.Context) (int, error)

	// Close releases the store.
	Close() error
}

// Counts summarises a store.
type Counts struct {
	Total      int
	ByStatus   map[Status]int
	ByDelivery map[Delivery]int
}

// Each calls fn for every record matching f in address order, reading the
// store a page at a time so memory does not grow with the store's size. fn
// may write to the store.
func Each(ctx context.Context, s Store, f Filter, fn func(Record) error) error {
	const pageSize = 1000
	after := ""
	for {
		page, err := s.Page(ctx, f, after, pageSize)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].Address
	}
}
