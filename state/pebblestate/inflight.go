package pebblestate

import (
	"fmt"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/postform/postform/state"
)

// In-flight records.
//
// An apply writes every message twice: "sending" just before its request
// leaves, then the outcome. The first write must be durable, but nobody
// reads it unless the run dies, so it is stored cheaply: all the records of
// one Put with status sending go into one intent (one key), and the Store
// keeps them in memory (loaded at Open) so that every read sees them
// exactly as if they were rows. A later Put of the same address (the
// outcome) writes the real row and retires the address from its intent; an
// intent with no address left is deleted in the same batch.

// flight is a record announced as sending, and the intent holding it.
type flight struct {
	rec    state.Record
	intent uint64
}

// loadIntents reads the intents into memory. A later intent for the same
// address supersedes an earlier one.
func (s *Store) loadIntents() error {
	s.inflight = map[string]flight{}
	s.intents = map[uint64]int{}
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{kindIntent},
		UpperBound: prefixEnd([]byte{kindIntent}),
	})
	if err != nil {
		return fmt.Errorf("pebblestate: reading intents: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		id, ok := intentID(it.Key())
		if !ok {
			return fmt.Errorf("pebblestate: intent key %q: %w", it.Key(), errCorrupt)
		}
		recs, err := decodeIntent(it.Value())
		if err != nil {
			return fmt.Errorf("pebblestate: intent %d: %w", id, err)
		}
		for _, r := range recs {
			s.retire(r.Address, s.intents)
			s.inflight[r.Address] = flight{rec: r, intent: id}
			s.intents[id]++
		}
		s.nextIntent = id + 1
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblestate: reading intents: %w", err)
	}
	// A loaded intent whose every address was superseded by a later one
	// counts zero and is simply left for the next write to drop.
	return nil
}

// retire removes address from the intent that holds it, counting down in
// counts (the live map, or a copy being prepared).
func (s *Store) retire(address string, counts map[uint64]int) {
	if f, ok := s.inflight[address]; ok {
		counts[f.intent]--
	}
}

// settleIntents adds to b the deletion of the intents whose count fell to
// zero in counts (and drops them from counts, the copy of s.intents that
// becomes it after the commit), and rewrites those that lost some
// addresses but not all, so that a crash never brings back a record that
// was settled since (it would shadow the stored row as "sending").
// leaving reports whether an address leaves its intent in this write. The
// caller holds s.mu.
func (s *Store) settleIntents(b *pebble.Batch, counts map[uint64]int, leaving func(string) bool) error {
	var shrunk map[uint64][]state.Record
	for id, n := range counts {
		switch {
		case n <= 0:
			if err := b.Delete(intentKey(id), nil); err != nil {
				return err
			}
			delete(counts, id)
		case n < s.intents[id]:
			if shrunk == nil {
				shrunk = map[uint64][]state.Record{}
			}
			shrunk[id] = nil
		}
	}
	if shrunk == nil {
		return nil
	}
	for addr, f := range s.inflight {
		if _, ok := shrunk[f.intent]; ok && !leaving(addr) {
			shrunk[f.intent] = append(shrunk[f.intent], f.rec)
		}
	}
	for id, recs := range shrunk {
		if err := b.Set(intentKey(id), encodeIntent(recs), nil); err != nil {
			return err
		}
	}
	return nil
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

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// inflightMatching returns the in-flight records matching f whose address
// sorts after `after`, in address order, and the set of every in-flight
// address (whose stored rows, if any, are stale).
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

// matches reports whether r passes f.
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
