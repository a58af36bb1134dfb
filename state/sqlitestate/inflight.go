package sqlitestate

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/postform/postform/state"
)

// In-flight records.
//
// An apply writes every message twice: "sending" just before its request
// leaves, then the outcome. The first write must be durable, but nobody
// reads it unless the run dies, so it is stored cheaply: all the records of
// one Put with status sending go into one row of the intents table, and
// the Store keeps them in memory (loaded at Open) so that every read sees
// them exactly as if they were rows of the records table. A later Put of
// the same address (the outcome) writes the real row and retires the
// address from its intent; an intent with no address left is deleted in
// the same transaction.

// flight is a record announced as sending, and the intent holding it.
type flight struct {
	rec    state.Record
	intent int64
}

// loadIntents reads the intents table into memory. A later intent for the
// same address supersedes an earlier one.
func (s *Store) loadIntents(ctx context.Context) error {
	s.inflight = map[string]flight{}
	s.intents = map[int64]int{}
	rows, err := s.w.QueryContext(ctx, "SELECT id, records FROM intents ORDER BY id")
	if err != nil {
		return fmt.Errorf("sqlitestate: reading intents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return fmt.Errorf("sqlitestate: reading intents: %w", err)
		}
		var recs []intentRecord
		if err := json.Unmarshal(data, &recs); err != nil {
			return fmt.Errorf("sqlitestate: intent %d is damaged: %w", id, err)
		}
		for _, ir := range recs {
			s.retire(ir.Address, s.intents)
			s.inflight[ir.Address] = flight{rec: ir.record(), intent: id}
			s.intents[id]++
		}
	}
	return rows.Err()
}

// retire removes address from the intent that holds it, counting down in
// counts (the live map, or a copy being prepared).
func (s *Store) retire(address string, counts map[int64]int) {
	if f, ok := s.inflight[address]; ok {
		counts[f.intent]--
	}
}

// normalize returns r with its times in UTC, as rows come back.
func normalize(r state.Record) state.Record {
	r.SubmittedAt = utc(r.SubmittedAt)
	r.FirstAttemptAt = utc(r.FirstAttemptAt)
	r.LastAttemptAt = utc(r.LastAttemptAt)
	r.DeliveredAt = utc(r.DeliveredAt)
	r.LastEventAt = utc(r.LastEventAt)
	r.CheckedAt = utc(r.CheckedAt)
	return r
}

// inflightMatching returns the in-flight records matching f whose address
// sorts after `after`, in address order, and the set of every in-flight
// address (whose table rows, if any, are stale).
func (s *Store) inflightMatching(f state.Filter, after string) ([]state.Record, map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.inflight) == 0 {
		return nil, nil
	}
	all := make(map[string]bool, len(s.inflight))
	var out []state.Record
	for addr, fl := range s.inflight {
		all[addr] = true
		if addr > after && matches(f, &fl.rec) {
			out = append(out, fl.rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, all
}

// matches reports whether r passes f, as pageQuery's WHERE clause would.
func matches(f state.Filter, r *state.Record) bool {
	if len(f.Statuses) > 0 && !contains(f.Statuses, r.Status) {
		return false
	}
	if len(f.Deliveries) > 0 && !contains(f.Deliveries, r.Delivery) {
		return false
	}
	if f.Batch != "" && r.Batch != f.Batch {
		return false
	}
	if len(f.Addresses) > 0 && !contains(f.Addresses, r.Address) {
		return false
	}
	return true
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// intentRecord is a record's form inside an intent: short keys, empty
// fields left out and times as Unix nanoseconds, because one intent is
// encoded for every request an apply makes.
type intentRecord struct {
	Address        string         `json:"a"`
	Batch          string         `json:"b,omitempty"`
	Key            string         `json:"k,omitempty"`
	Recipients     string         `json:"r,omitempty"`
	Stream         string         `json:"st,omitempty"`
	Tag            string         `json:"t,omitempty"`
	Digest         string         `json:"d,omitempty"`
	PFID           string         `json:"p,omitempty"`
	Status         state.Status   `json:"s,omitempty"`
	MessageID      string         `json:"m,omitempty"`
	SubmittedAt    int64          `json:"sa,omitempty"`
	FirstAttemptAt int64          `json:"fa,omitempty"`
	LastAttemptAt  int64          `json:"la,omitempty"`
	Attempts       int            `json:"n,omitempty"`
	ErrorCode      int            `json:"ec,omitempty"`
	ErrorMessage   string         `json:"em,omitempty"`
	Delivery       state.Delivery `json:"dl,omitempty"`
	BounceType     string         `json:"bt,omitempty"`
	BounceID       int64          `json:"bi,omitempty"`
	Inactive       bool           `json:"in,omitempty"`
	DeliveredAt    int64          `json:"da,omitempty"`
	LastEventAt    int64          `json:"le,omitempty"`
	CheckedAt      int64          `json:"ca,omitempty"`
	Duplicates     int            `json:"du,omitempty"`
}

func toIntent(r *state.Record) intentRecord {
	n := func(t time.Time) int64 {
		v, _ := encodeTime(t) // validated by recordArgs before
		return v
	}
	return intentRecord{r.Address, r.Batch, r.Key, r.Recipients, r.Stream, r.Tag, r.Digest, r.PFID, r.Status, r.MessageID,
		n(r.SubmittedAt), n(r.FirstAttemptAt), n(r.LastAttemptAt), r.Attempts, r.ErrorCode, r.ErrorMessage, r.Delivery,
		r.BounceType, r.BounceID, r.Inactive, n(r.DeliveredAt), n(r.LastEventAt), n(r.CheckedAt), r.Duplicates}
}

func (i intentRecord) record() state.Record {
	return state.Record{Address: i.Address, Batch: i.Batch, Key: i.Key, Recipients: i.Recipients, Stream: i.Stream,
		Tag: i.Tag, Digest: i.Digest, PFID: i.PFID, Status: i.Status, MessageID: i.MessageID,
		SubmittedAt: decodeTime(i.SubmittedAt), FirstAttemptAt: decodeTime(i.FirstAttemptAt), LastAttemptAt: decodeTime(i.LastAttemptAt),
		Attempts: i.Attempts, ErrorCode: i.ErrorCode, ErrorMessage: i.ErrorMessage, Delivery: i.Delivery,
		BounceType: i.BounceType, BounceID: i.BounceID, Inactive: i.Inactive, DeliveredAt: decodeTime(i.DeliveredAt),
		LastEventAt: decodeTime(i.LastEventAt), CheckedAt: decodeTime(i.CheckedAt), Duplicates: i.Duplicates}
}

// writeIntent stores recs (all with status sending) as one intent row and
// returns its id.
func writeIntent(ctx context.Context, tx *sql.Tx, recs []state.Record) (int64, error) {
	enc := make([]intentRecord, len(recs))
	for i := range recs {
		enc[i] = toIntent(&recs[i])
	}
	data, err := json.Marshal(enc)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO intents (records) VALUES (?)", data)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// dropEmptyIntents deletes the intents whose count fell to zero.
func dropEmptyIntents(ctx context.Context, tx *sql.Tx, counts map[int64]int) error {
	for id, n := range counts {
		if n <= 0 {
			if _, err := tx.ExecContext(ctx, "DELETE FROM intents WHERE id = ?", id); err != nil {
				return err
			}
		}
	}
	return nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
