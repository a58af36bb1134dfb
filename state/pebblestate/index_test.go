package pebblestate_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/pebblestate"
	"github.com/postform/postform/state/statetest"
)

// TestIndexesFollowWrites drives a store through random puts (every status
// and delivery, sending ones included), replacements and deletes, checking
// after each step that every filtered walk returns exactly what a plain
// in-memory model says, in order. The indexes are written blindly (never
// by reading the record they replace), so a stale or missing entry would
// show here.
func TestIndexesFollowWrites(t *testing.T) {
	// The store tracks which addresses have an unsettled entry, up to a
	// limit; past it, and after a reopen, it must stay right.
	for _, limit := range []int{100_000, 3, 0} {
		t.Run(fmt.Sprint("tracked=", limit), func(t *testing.T) {
			defer pebblestate.SetMaxTrackedUnsettled(limit)()
			testIndexesFollowWrites(t)
		})
	}
}

func testIndexesFollowWrites(t *testing.T) {
	statuses := []state.Status{state.StatusSending, state.StatusUncertain, state.StatusSent, state.StatusFailed, state.StatusUnsent}
	deliveries := []state.Delivery{state.DeliveryNone, state.DeliveryPending, state.DeliveryDelivered, state.DeliveryBounced, state.DeliveryTransient, state.DeliveryOpened}
	filters := []state.Filter{
		{},
		{Statuses: []state.Status{state.StatusUncertain}},
		{Statuses: []state.Status{state.StatusSending, state.StatusUnsent}},
		{Statuses: []state.Status{state.StatusSent, state.StatusUncertain}},
		{Deliveries: []state.Delivery{state.DeliveryPending}},
		{Deliveries: []state.Delivery{state.DeliveryPending, state.DeliveryTransient}},
		{Deliveries: []state.Delivery{state.DeliveryDelivered}},
		{Statuses: []state.Status{state.StatusSent}, Deliveries: []state.Delivery{state.DeliveryPending}, Batch: "b1"},
		{Statuses: []state.Status{state.StatusUnsent}, Batch: "b0"},
	}
	path := filepath.Join(t.TempDir(), "state")
	s, err := pebblestate.Open(t.Context(), path, pebblestate.Options{Target: "simulator"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	rng := rand.New(rand.NewPCG(3, 4))
	model := map[string]state.Record{}  // what reads must show
	stored := map[string]state.Record{} // the last settled row of each address
	for step := range 60 {
		if step%20 == 19 {
			s.Close()
			if s, err = pebblestate.Open(t.Context(), path, pebblestate.Options{Target: "simulator"}); err != nil {
				t.Fatal(err)
			}
		}
		if step%7 == 6 {
			var del []string
			for range 5 {
				del = append(del, fmt.Sprintf(`batch.b%d["%02d"]`, rng.IntN(2), rng.IntN(40)))
			}
			if _, err := s.Delete(t.Context(), del); err != nil {
				t.Fatal(err)
			}
			for _, a := range del {
				delete(model, a)
				delete(stored, a)
			}
		} else {
			var recs []state.Record
			for range 1 + rng.IntN(12) {
				b := rng.IntN(2)
				r := statetest.FullRecord(fmt.Sprintf(`batch.b%d["%02d"]`, b, rng.IntN(40)), step)
				r.Batch = fmt.Sprintf("b%d", b)
				r.Status = statuses[rng.IntN(len(statuses))]
				r.Delivery = deliveries[rng.IntN(len(deliveries))]
				recs = append(recs, r)
			}
			if err := s.Put(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			last := map[string]state.Record{} // within one Put, the last record of an address wins
			for _, r := range recs {
				last[r.Address] = r
			}
			for a, r := range last {
				model[a] = r
				if r.Status != state.StatusSending {
					stored[a] = r
				}
			}
		}
		// The indexes themselves hold exactly the unsettled statuses and
		// open deliveries of the stored rows (a record in flight shadows
		// its row without touching it): a stale entry would be filtered
		// out of the walks below, so it is checked here.
		var wantEntries []string
		for a, r := range stored {
			if r.Status == state.StatusUncertain || r.Status == state.StatusUnsent {
				wantEntries = append(wantEntries, "u "+a+"="+string(r.Status))
			}
		}
		slices.Sort(wantEntries)
		var open []string
		for a, r := range stored {
			if r.Delivery == state.DeliveryPending || r.Delivery == state.DeliveryTransient {
				open = append(open, "o "+a+"="+string(r.Delivery))
			}
		}
		slices.Sort(open)
		wantEntries = append(wantEntries, open...)
		gotEntries, err := pebblestate.IndexEntries(s)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotEntries, wantEntries) {
			t.Fatalf("step %d: index entries\n got %v\nwant %v", step, gotEntries, wantEntries)
		}
		for _, f := range filters {
			var want []string
			for a, r := range model {
				if (len(f.Statuses) == 0 || slices.Contains(f.Statuses, r.Status)) &&
					(len(f.Deliveries) == 0 || slices.Contains(f.Deliveries, r.Delivery)) &&
					(f.Batch == "" || f.Batch == r.Batch) {
					want = append(want, a)
				}
			}
			slices.Sort(want)
			var got []string
			err := state.Each(t.Context(), s, f, func(r state.Record) error {
				got = append(got, r.Address)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("step %d, filter %+v:\n got %v\nwant %v", step, f, got, want)
			}
		}
	}
}
