package config

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestStreamOrderAndEarlyStop: rows rendered by several workers still come
// out in file order with their own content, a duplicate key thousands of
// rows after the first is caught, a bad row is reported in its place, and a
// consumer that stops early leaves no goroutine behind.
func TestStreamOrderAndEarlyStop(t *testing.T) {
	if renderWorkers() < 2 {
		t.Skip("one processor: rendering is sequential")
	}
	const rows = 3000
	fsys := streamFS(rows)
	csv := string(fsys["subscribers.csv"].Data)
	// Row 2500 repeats the key of row 10; row 1200 has a missing field.
	csv = strings.Replace(csv, "2500,user2500@example.com,", "2500,user10@example.com,", 1)
	csv = strings.Replace(csv, "1200,user1200@example.com,Name1200,yes\n", "1200,user1200@example.com,yes\n", 1)
	fsys["subscribers.csv"].Data = []byte(csv)

	_, ev := mustEvaluate(t, fsys, Inputs{})
	b := ev.Batches[0]
	i, dups, bad := 0, 0, 0
	for m, diags := range b.Messages() {
		switch {
		case i == 1200:
			if !diags.HasErrors() || !strings.Contains(diags.Error(), "fields") {
				t.Errorf("row 1200: %v, want a field-count error", diags)
			}
			bad++
		case i == 2500:
			if !strings.Contains(diags.Error(), "Duplicate for_each key") || !strings.Contains(diags.Error(), "row 12 ") {
				t.Errorf("row 2500: %v, want a duplicate of row 12", diags)
			}
			dups++
		default:
			if diags.HasErrors() {
				t.Fatalf("row %d: %s", i, diags.Error())
			}
			want := fmt.Sprintf("user%d@example.com", i)
			if m.To != want || !strings.Contains(m.HTMLBody, fmt.Sprintf("Hello Name%d<", i)) || m.Metadata["customer_id"] != fmt.Sprint(i) {
				t.Fatalf("message %d: to %q, metadata %v, body %.40q; want row %d's", i, m.To, m.Metadata, m.HTMLBody, i)
			}
		}
		i++
	}
	if i != rows || dups != 1 || bad != 1 {
		t.Errorf("%d messages, %d duplicates, %d bad rows; want %d, 1, 1", i, dups, bad, rows)
	}

	before := runtime.NumGoroutine()
	for range 5 {
		n := 0
		for range b.Messages() {
			n++
			if n == 300 {
				break
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after stopping early, %d before", n, before)
	}
}
