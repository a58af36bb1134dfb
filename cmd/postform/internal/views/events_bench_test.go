package views

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/postform/postform/runner"
)

// benchEntries are realistic plan entries: mostly sends, some already sent,
// one refused before.
func benchEntries() []runner.PlanEntry {
	sent := time.Date(2025, 11, 3, 9, 41, 7, 123456789, time.UTC)
	out := make([]runner.PlanEntry, 64)
	for i := range out {
		addr := fmt.Sprintf("user%04d@example.com", i)
		e := runner.PlanEntry{
			Address: fmt.Sprintf(`batch.news[%q]`, addr), Batch: "news", Key: addr,
			Action: runner.ActionSend, To: addr, Subject: fmt.Sprintf("The November news, User %d", i),
			Digest: fmt.Sprintf("%064x", i*7919),
		}
		switch i % 8 {
		case 5:
			e.Action, e.MessageID, e.SentAt = runner.ActionSent, "0a1b2c3d-4e5f-6789-abcd-ef0123456789", sent
		case 7:
			e.Action, e.MessageID, e.ErrorCode, e.Error = runner.ActionFailed, "", 406, "You tried to send to recipient(s) that have been marked as inactive."
		}
		out[i] = e
	}
	return out
}

func BenchmarkPlanJSONPlannedMessage(b *testing.B) {
	for _, redact := range []bool{false, true} {
		b.Run(fmt.Sprintf("redact=%v", redact), func(b *testing.B) {
			entries := benchEntries()
			v := NewPlanJSON(NewJSONLines(io.Discard, "dev"), redact, nil)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				v.PlannedMessage(entries[i%len(entries)])
			}
		})
	}
}

func BenchmarkApplyJSONMessageResult(b *testing.B) {
	results := make([]runner.MessageResult, 64)
	for i := range results {
		results[i] = runner.MessageResult{Address: fmt.Sprintf(`batch.news["user%04d@example.com"]`, i),
			Outcome: runner.OutcomeSent, MessageID: "0a1b2c3d-4e5f-6789-abcd-ef0123456789", Attempts: 1}
		if i%16 == 3 {
			results[i] = runner.MessageResult{Address: results[i].Address, Outcome: runner.OutcomeFailed,
				ErrorCode: 406, Error: "You tried to send to recipient(s) that have been marked as inactive.", Attempts: 1}
		}
	}
	v := NewApplyJSON(NewJSONLines(io.Discard, "dev"), false)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v.MessageResult(results[i%len(results)])
	}
}
