package sqlitestate_test

import (
	"context"
	"testing"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/sqlitestate"
)

// BenchmarkApplyWrites models an apply's writes: for each 500-message
// request, a Put of "sending" rows and then a Put of the "sent" results,
// over 100,000 messages. It reports the cost per message.
func BenchmarkApplyWrites(b *testing.B) {
	for _, sync := range []string{sqlitestate.SyncFull, sqlitestate.SyncNormal} {
		b.Run(sync, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := benchOpen(b, sync)
				ctx := context.Background()
				b.StartTimer()
				for i := 0; i < 100_000; i += 500 {
					recs := benchRecords(i, 500)
					for j := range recs {
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
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/message")
		})
	}
}
