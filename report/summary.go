package report

import (
	"cmp"
	"context"
	"slices"

	"github.com/postform/postform/state"
)

// Summary counts records. Its maps always hold every known key (with
// zeros), so a reader never has to tell "absent" from "zero".
type Summary struct {
	Total int `json:"total"`
	// ByOutcome counts by [Outcome]; every outcome word is present.
	ByOutcome map[Outcome]int `json:"by_outcome"`
	// ByStatus counts by state.Status; every known status is present, an
	// empty status counts as "none".
	ByStatus map[string]int `json:"by_status"`
	// ByDelivery counts by state.Delivery; every known delivery is
	// present, an empty delivery (not sent, or never polled) counts as
	// "none".
	ByDelivery map[string]int `json:"by_delivery"`
	// Batches counts per batch, sorted by name (never nil).
	Batches []BatchSummary `json:"batches"`
}

// BatchSummary counts the records of one batch.
type BatchSummary struct {
	Name      string          `json:"name"`
	Total     int             `json:"total"`
	ByOutcome map[Outcome]int `json:"by_outcome"`
}

// Failures returns the number of messages that definitely failed (bounced
// or failed; see [Outcome.Failure]).
func (s Summary) Failures() int {
	n := 0
	for o, c := range s.ByOutcome {
		if o.Failure() {
			n += c
		}
	}
	return n
}

// Summarize counts every record src yields.
func Summarize(ctx context.Context, src Source) (Summary, error) {
	return summarize(ctx, src, StatusFilter{})
}

// noneKey stands for an empty status or delivery in Summary maps.
const noneKey = "none"

func newOutcomeCounts() map[Outcome]int {
	m := make(map[Outcome]int, len(Outcomes))
	for _, o := range Outcomes {
		m[o] = 0
	}
	return m
}

// summarizer accumulates a Summary one record at a time.
type summarizer struct {
	s       Summary
	batches map[string]int // name → index in s.Batches
}

func newSummarizer() *summarizer {
	s := Summary{
		ByOutcome:  newOutcomeCounts(),
		ByStatus:   map[string]int{noneKey: 0},
		ByDelivery: map[string]int{noneKey: 0},
		Batches:    []BatchSummary{},
	}
	for _, st := range []state.Status{state.StatusSending, state.StatusUncertain, state.StatusSent, state.StatusFailed, state.StatusUnsent} {
		s.ByStatus[string(st)] = 0
	}
	for _, d := range []state.Delivery{state.DeliveryPending, state.DeliveryDelivered, state.DeliveryBounced, state.DeliveryTransient, state.DeliveryOpened, state.DeliveryClicked} {
		s.ByDelivery[string(d)] = 0
	}
	return &summarizer{s: s, batches: map[string]int{}}
}

func (z *summarizer) add(r state.Record) {
	o := OutcomeOf(r)
	z.s.Total++
	z.s.ByOutcome[o]++
	z.s.ByStatus[orNone(string(r.Status))]++
	z.s.ByDelivery[orNone(string(r.Delivery))]++
	i, ok := z.batches[r.Batch]
	if !ok {
		i = len(z.s.Batches)
		z.batches[r.Batch] = i
		z.s.Batches = append(z.s.Batches, BatchSummary{Name: r.Batch, ByOutcome: newOutcomeCounts()})
	}
	z.s.Batches[i].Total++
	z.s.Batches[i].ByOutcome[o]++
}

func (z *summarizer) summary() Summary {
	s := z.s
	s.Batches = slices.Clone(s.Batches)
	slices.SortFunc(s.Batches, func(a, b BatchSummary) int { return cmp.Compare(a.Name, b.Name) })
	return s
}

func orNone(s string) string {
	if s == "" {
		return noneKey
	}
	return s
}

func summarize(ctx context.Context, src Source, f StatusFilter) (Summary, error) {
	z := newSummarizer()
	err := src(ctx, func(r state.Record) error {
		if f.Match(r) {
			z.add(r)
		}
		return nil
	})
	if err != nil {
		return Summary{}, err
	}
	return z.summary(), nil
}
