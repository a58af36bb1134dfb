package pebblestate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/pebblestate"
)

// benchRecord returns a record of realistic size for message i, as the
// runner would store it after a successful send.
func benchRecord(i int) state.Record {
	now := time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	email := fmt.Sprintf("user%07d@example.com", i)
	return state.Record{
		Address:        fmt.Sprintf("batch.newsletter[%q]", email),
		Batch:          "newsletter",
		Key:            email,
		Recipients:     email,
		Stream:         "broadcast",
		Tag:            "newsletter-2026-11",
		Digest:         fmt.Sprintf("sha256:%064x", i),
		PFID:           fmt.Sprintf("pf1-%032x", i),
		Status:         state.StatusSent,
		MessageID:      fmt.Sprintf("%08x-1111-4222-8333-%012x", i, i),
		SubmittedAt:    now,
		FirstAttemptAt: now,
		LastAttemptAt:  now,
		Attempts:       1,
		Delivery:       state.DeliveryPending,
	}
}

func benchRecords(from, n int) []state.Record {
	recs := make([]state.Record, n)
	for i := range recs {
		recs[i] = benchRecord(from + i)
	}
	return recs
}

func benchOpen(b *testing.B) *pebblestate.Store {
	b.Helper()
	s, err := pebblestate.Open(context.Background(), filepath.Join(b.TempDir(), "state"),
		pebblestate.Options{Target: "simulator"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkPut500 measures one Put of 500 new records, the runner's write
// per batch response.
func BenchmarkPut500(b *testing.B) {
	s := benchOpen(b)
	ctx := context.Background()
	next := 0
	for b.Loop() {
		b.StopTimer()
		recs := benchRecords(next, 500)
		next += 500
		b.StartTimer()
		if err := s.Put(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
}

// fill puts n records in Puts of 500.
func fill(tb testing.TB, s state.Store, n int) {
	for i := 0; i < n; i += 500 {
		if err := s.Put(context.Background(), benchRecords(i, min(500, n-i))); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkLookup500 measures a Lookup of 500 random addresses in a store
// of 100,000 records.
func BenchmarkLookup500(b *testing.B) {
	const n = 100_000
	s := benchOpen(b)
	fill(b, s, n)
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	addrs := make([]string, 500)
	for b.Loop() {
		for i := range addrs {
			addrs[i] = benchRecord(rng.IntN(n)).Address
		}
		got, err := s.Lookup(ctx, addrs)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) == 0 {
			b.Fatal("Lookup found nothing")
		}
	}
}

// BenchmarkPage1000 measures one Page of 1,000 records (state.Each's page
// size) from a store of 100,000, with and without a status filter.
func BenchmarkPage1000(b *testing.B) {
	const n = 100_000
	s := benchOpen(b)
	fill(b, s, n)
	ctx := context.Background()
	for name, f := range map[string]state.Filter{
		"all":  {},
		"sent": {Statuses: []state.Status{state.StatusSent}},
	} {
		b.Run(name, func(b *testing.B) {
			after := ""
			for b.Loop() {
				page, err := s.Page(ctx, f, after, 1000)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) < 1000 {
					after = ""
				} else {
					after = page[len(page)-1].Address
				}
			}
		})
	}
}

// TestScaleMillion puts 1,000,000 records in Puts of 500 and walks them all
// with state.Each, logging the time taken and checking that the heap stays
// flat. It takes about a minute, so it runs only when
// PEBBLESTATE_SCALE=1 is set.
func TestScaleMillion(t *testing.T) {
	if os.Getenv("PEBBLESTATE_SCALE") != "1" {
		t.Skip("set PEBBLESTATE_SCALE=1 to run")
	}
	const n = 1_000_000
	s, err := pebblestate.Open(t.Context(), filepath.Join(t.TempDir(), "state"), pebblestate.Options{Target: "simulator"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	fill(t, s, n)
	t.Logf("Put %d records in Puts of 500: %v", n, time.Since(start))

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapAlloc
	var peak uint64
	start = time.Now()
	count := 0
	err = state.Each(t.Context(), s, state.Filter{Statuses: []state.Status{state.StatusSent}}, func(state.Record) error {
		count++
		if count%50_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Each over %d records: %v; heap %d MiB before, peak %d MiB during", count, time.Since(start), baseHeap>>20, peak>>20)
	if count != n {
		t.Fatalf("Each saw %d records, want %d", count, n)
	}
	if peak > baseHeap+64<<20 {
		t.Errorf("heap grew from %d MiB to %d MiB while paging", baseHeap>>20, peak>>20)
	}
	start = time.Now()
	c, err := s.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Counts: %v (%+v)", time.Since(start), c)
}
