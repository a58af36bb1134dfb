package report

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/postform/postform/state"
)

// generatedSource yields n synthetic records without holding them: one
// batch, mostly delivered, some bounced and failed.
func generatedSource(n int) Source {
	return func(ctx context.Context, fn func(state.Record) error) error {
		r := state.Record{
			Batch: "digest", Stream: "broadcast", Tag: "2026-11-digest", Attempts: 1,
			SubmittedAt: t0, FirstAttemptAt: t0, LastAttemptAt: t0,
		}
		for i := range n {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			key := "user" + strconv.Itoa(i) + "@example.com"
			r.Key, r.Recipients = key, key
			r.Address = `batch.digest["` + key + `"]`
			r.MessageID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
			r.Status, r.Delivery, r.ErrorCode, r.ErrorMessage, r.BounceType = state.StatusSent, state.DeliveryDelivered, 0, "", ""
			r.DeliveredAt = t0.Add(time.Duration(i%600) * time.Second)
			switch i % 50 {
			case 7:
				r.Delivery, r.BounceType, r.DeliveredAt = state.DeliveryBounced, "HardBounce", time.Time{}
			case 13:
				r.Status, r.Delivery, r.ErrorCode, r.ErrorMessage, r.DeliveredAt = state.StatusFailed, state.DeliveryNone, 406, "inactive recipient", time.Time{}
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// countingWriter counts and discards.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// heapSampler wraps a Source and records the live heap (after a GC) every
// `every` records, so a test can see whether memory grows with the
// number of records written.
type heapSampler struct {
	every   int
	samples []uint64
}

func (h *heapSampler) wrap(src Source) Source {
	return func(ctx context.Context, fn func(state.Record) error) error {
		i := 0
		return src(ctx, func(r state.Record) error {
			i++
			if i%h.every == 0 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				h.samples = append(h.samples, ms.HeapAlloc)
			}
			return fn(r)
		})
	}
}

// TestStreamingMemoryIsFlat writes large reports and checks that the live
// heap does not grow with the number of records: JSON, CSV and JUnit hold
// one record at a time, HTML only counters and capped rows. A writer that
// kept every record would grow by hundreds of bytes per record, hundreds
// of megabytes for CSV's million.
func TestStreamingMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a million records; skipped with -short")
	}
	sizes := map[Format]int{FormatCSV: 1_000_000, FormatJSON: 200_000, FormatJUnit: 200_000, FormatHTML: 200_000}
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			n := sizes[f]
			if raceEnabled {
				n /= 10
			}
			h := &heapSampler{every: n / 10}
			var out countingWriter
			start := time.Now()
			if err := Write(context.Background(), &out, f, h.wrap(generatedSource(n)), Options{Title: "scale"}); err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			// The first sample is taken once the writer is warmed up (its
			// buffers and, for HTML, its capped table exist); later ones
			// must stay within a small margin of it.
			base, peak := h.samples[0], h.samples[0]
			for _, s := range h.samples {
				peak = max(peak, s)
			}
			const margin = 4 << 20
			t.Logf("%s: %d records, %.1f MB written in %v; live heap after GC: first sample %.2f MB, peak %.2f MB (%d samples)",
				f, n, float64(out.n)/1e6, elapsed.Round(time.Millisecond), float64(base)/(1<<20), float64(peak)/(1<<20), len(h.samples))
			if peak > base+margin {
				t.Errorf("live heap grew from %d to %d bytes while writing %d records", base, peak, n)
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			var out countingWriter
			b.ReportAllocs()
			if err := Write(context.Background(), &out, f, generatedSource(b.N), Options{}); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(out.n)/float64(b.N), "bytes/record")
		})
	}
}
