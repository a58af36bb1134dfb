package pebblestate_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/postform/postform/state"
)

// BenchmarkApplyWrites models an apply's writes: for each 500-message
// request, a Put of "sending" rows and then a Put of the "sent" results,
// over 100,000 messages. It reports the cost per message. "ordered" sends
// in address order; "shuffled" in a random order, as a recipient list
// that is not sorted by email arrives.
func BenchmarkApplyWrites(b *testing.B) {
	const n = 100_000
	order := map[string][]int{"ordered": make([]int, n), "shuffled": make([]int, n)}
	for i := range n {
		order["ordered"][i] = i
	}
	order["shuffled"] = rand.New(rand.NewPCG(7, 8)).Perm(n)
	{
		for _, name := range []string{"ordered", "shuffled"} {
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					s := benchOpen(b)
					ctx := context.Background()
					b.StartTimer()
					for i := 0; i < n; i += 500 {
						recs := make([]state.Record, 500)
						for j := range recs {
							recs[j] = benchRecord(order[name][i+j])
							recs[j].Status = state.StatusSending
							recs[j].MessageID = ""
							recs[j].Delivery = state.DeliveryNone
						}
						if err := s.Put(ctx, recs); err != nil {
							b.Fatal(err)
						}
						for j := range recs {
							recs[j].Status = state.StatusSent
							recs[j].MessageID = "0a129aee-e1cd-480d-b08d-4f48548ff48d"
							recs[j].Delivery = state.DeliveryPending
						}
						if err := s.Put(ctx, recs); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					s.Close()
					b.StartTimer()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/message")
			})
		}
	}
}
