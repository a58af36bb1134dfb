package config

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"testing/fstest"

	"github.com/postform/postform/internal/cputime"
)

// streamConfig is a configuration whose batch streams rows from
// subscribers.csv.
const streamConfig = `
variable "campaign" {
  default = "nov"
}

template "digest" {
  subject   = "Your ${month} digest, ${first_name}"
  html_file = "digest.html"
  text      = "Hello ${first_name}, see you in ${month}."
}

batch "digest" {
  for_each = { for r in csvfile("subscribers.csv") : r.email => r if r.opted_in == "yes" }

  from        = "Acme News <news@acme.example>"
  to          = each.value.email
  template    = template.digest
  data        = { first_name = each.value.first_name, month = "November" }
  tag         = var.campaign
  metadata    = { customer_id = each.value.id }
  track_opens = true
  track_links = "HtmlAndText"
}
`

const streamHTML = `<h1>Hello ${first_name}</h1>
%{ for n in [1, 2] ~}
<p>Item ${n} for ${first_name}</p>
%{ endfor ~}
`

// generateCSV writes n subscriber rows, every one opted in.
func generateCSV(n int) []byte {
	var buf bytes.Buffer
	buf.Grow(n * 48)
	buf.WriteString("id,email,first_name,opted_in\n")
	for i := range n {
		fmt.Fprintf(&buf, "%d,user%d@example.com,Name%d,yes\n", i, i, i)
	}
	return buf.Bytes()
}

func streamFS(rows int) fstest.MapFS {
	return fstest.MapFS{
		"main.pf.hcl":     {Data: []byte(streamConfig)},
		"digest.html":     {Data: []byte(streamHTML)},
		"subscribers.csv": {Data: generateCSV(rows)},
	}
}

func mustEvaluate(t testing.TB, fsys fstest.MapFS, in Inputs) (*Parser, *Evaluated) {
	t.Helper()
	p := NewParser(fsys)
	cfg, diags := p.LoadConfig()
	if diags.HasErrors() {
		t.Fatalf("LoadConfig: %s", diags.Error())
	}
	ev, diags := cfg.Evaluate(in)
	if diags.HasErrors() {
		t.Fatalf("Evaluate: %s", diags.Error())
	}
	return p, ev
}

// TestStreamingDoesNotMaterialise iterates 200,000 CSV rows and checks that
// the live heap stays far below what one cty value of the rows would need
// (about 600 bytes per row), beyond the raw file and the set of seen keys.
func TestStreamingDoesNotMaterialise(t *testing.T) {
	if testing.Short() {
		t.Skip("iterates 200,000 rows")
	}
	const rows = 200_000
	fsys := streamFS(rows)
	_, ev := mustEvaluate(t, fsys, Inputs{})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var peak uint64
	n := 0
	for m, diags := range ev.Batches[0].Messages() {
		if diags.HasErrors() {
			t.Fatalf("%s: %s", m.Address, diags.Error())
		}
		n++
		if n%20_000 == 0 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if n != rows {
		t.Fatalf("got %d messages, want %d", n, rows)
	}
	growth := int64(peak) - int64(before.HeapAlloc)
	t.Logf("live heap before %d MB, peak during iteration %d MB, growth %d MB", before.HeapAlloc>>20, peak>>20, growth>>20)
	// Seen keys cost about 60 bytes per row; a materialised cty value
	// would cost about 600.
	if limit := int64(rows * 150); growth > limit {
		t.Fatalf("heap grew by %d bytes while iterating %d rows; want under %d (streaming should not materialise rows)", growth, rows, limit)
	}
}

// BenchmarkMessages measures streaming one message at a time from a
// 1,000,000-row CSV file: evaluate the for expression, the batch arguments
// and the templates, and validate. Report ns/op as ns per message.
func BenchmarkMessages(b *testing.B) {
	const rows = 1_000_000
	fsys := streamFS(rows)
	_, ev := mustEvaluate(b, fsys, Inputs{})
	batch := ev.Batches[0]
	b.ReportAllocs()
	b.ResetTimer()
	done := 0
	for done < b.N {
		for m, diags := range batch.Messages() {
			if diags.HasErrors() {
				b.Fatalf("%s: %s", m.Address, diags.Error())
			}
			done++
			if done == b.N {
				break
			}
		}
	}
}

// BenchmarkMillionRows iterates all messages of a 1,000,000-row csvfile
// batch per operation, as a plan would, and reports the time per message and
// the peak live heap (sampled every 100,000 messages, after a GC).
func BenchmarkMillionRows(b *testing.B) {
	const rows = 1_000_000
	fsys := streamFS(rows)
	_, ev := mustEvaluate(b, fsys, Inputs{})
	delete(fsys, "subscribers.csv") // the parser holds its own copy
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	cpuStart := cputime.Used()
	for range b.N {
		n := 0
		for m, diags := range ev.Batches[0].Messages() {
			if diags.HasErrors() {
				b.Fatalf("%s: %s", m.Address, diags.Error())
			}
			n++
			if n%100_000 == 0 {
				b.StopTimer()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
				b.StartTimer()
			}
		}
		if n != rows {
			b.Fatalf("got %d messages", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/message")
	// CPU time (user and system, all threads, GC included) is less
	// disturbed than wall time when other processes share the machine.
	b.ReportMetric(float64((cputime.Used()-cpuStart).Nanoseconds())/float64(b.N*rows), "cpu-ns/message")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
