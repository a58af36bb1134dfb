package postmarktest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postform/postform/internal/cputime"
)

// batchBody builds a realistic /email/batch body of n messages whose pf_id
// metadata starts at first. It appends bytes directly, so building it costs
// little next to what the simulator does with it.
func batchBody(dst []byte, first, n int) []byte {
	dst = append(dst, '[')
	for i := 0; i < n; i++ {
		k := int64(first + i)
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"From":"Acme News <news@acme.example>","To":"user`...)
		dst = strconv.AppendInt(dst, k, 10)
		dst = append(dst, `@example.com","Subject":"Your November digest, user `...)
		dst = strconv.AppendInt(dst, k, 10)
		dst = append(dst, `","TextBody":"Hello, here is your digest.","HtmlBody":"<p>Hello, here is your <b>digest</b>.</p>",`+
			`"Tag":"2026-11-digest","TrackOpens":true,"TrackLinks":"HtmlAndText","MessageStream":"outbound","Metadata":{"pf_id":"pf-`...)
		dst = strconv.AppendInt(dst, k, 10)
		dst = append(dst, `","customer_id":"`...)
		dst = strconv.AppendInt(dst, k, 10)
		dst = append(dst, `"}}`...)
	}
	return append(dst, ']')
}

// pushBatches sends total messages in batches of 500 from workers
// goroutines and returns the wall time taken.
func pushBatches(tb testing.TB, s *Server, workers, total int) time.Duration {
	tb.Helper()
	const per = 500
	nb := (total + per - 1) / per
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			for {
				i := int(next.Add(1)) - 1
				if i >= nb {
					return
				}
				body = batchBody(body[:0], i*per, min(per, total-i*per))
				req, _ := http.NewRequest("POST", s.URL()+"/email/batch", bytes.NewReader(body))
				req.Header.Set("Accept", "application/json")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Postmark-Server-Token", s.Token())
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return elapsed
}

// BenchmarkBatchThroughput pushes b.N batches of 500 messages through
// /email/batch with 4 concurrent clients and reports messages per second
// and retained heap per stored message.
func BenchmarkBatchThroughput(b *testing.B) {
	s := NewServer(b, Options{})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cputime.Used()
	b.ResetTimer()
	elapsed := pushBatches(b, s, 4, b.N*500)
	b.StopTimer()
	b.ReportMetric(float64(b.N*500)/elapsed.Seconds(), "msgs/s")
	// CPU time of the whole process (simulator, client and GC) per message:
	// a measure that does not depend on other load on the machine.
	b.ReportMetric(float64((cputime.Used()-cpu0).Microseconds())/float64(b.N*500), "cpu-µs/msg")
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N*500), "heapB/msg")
	if s.AcceptedCount() != b.N*500 {
		b.Fatalf("accepted %d, want %d", s.AcceptedCount(), b.N*500)
	}
}
