package postmarktest

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/postform/postform/internal/cputime"
)

// digestHTML and digestText are a realistic newsletter: about 1.9 KB of
// HTML and 0.8 KB of text, like the messages of go run ./bench.
var (
	digestHTML = `<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Your November digest</title></head>\n` +
		`<body style=\"margin:0;padding:0;background:#f4f4f7;font-family:Helvetica,Arial,sans-serif;color:#333\">\n` +
		`<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td align=\"center\">\n` +
		`<table role=\"presentation\" width=\"600\" cellpadding=\"24\" cellspacing=\"0\" style=\"background:#ffffff\">\n<tr><td>\n` +
		`<h1 style=\"font-size:22px\">Hello Chloé Dubois,</h1>\n` +
		`<p>Here is what happened in November on your <strong>business</strong> plan, and what is coming next.</p>\n` +
		`<h2 style=\"font-size:18px\">This month</h2>\n<ul>\n` +
		`<li>Faster exports: reports now finish in a fraction of the time they used to take.</li>\n` +
		`<li>Team roles: give colleagues read-only access without sharing a password.</li>\n` +
		`<li>New integrations with the tools your team already uses every day.</li>\n</ul>\n` +
		`<h2 style=\"font-size:18px\">Your account</h2>\n` +
		`<p>Customer number CUSTOMER, in Lisbon. Your business plan renews automatically; nothing to do.</p>\n` +
		`<p style=\"text-align:center\"><a href=\"https://acme.example/account/CUSTOMER\" style=\"background:#3869d4;color:#ffffff;padding:10px 18px;text-decoration:none\">Open your dashboard</a></p>\n` +
		`<p style=\"font-size:12px;color:#888\">You receive this digest because you subscribed at acme.example.\n` +
		`<a href=\"https://acme.example/preferences/CUSTOMER\">Email preferences</a> or <a href=\"https://acme.example/unsubscribe/CUSTOMER\">unsubscribe</a>.</p>\n` +
		`</td></tr>\n</table>\n</td></tr></table>\n</body>\n</html>\n`
	digestText = `Hello Chloé Dubois,\n\nHere is what happened in November on your business plan, and what is coming next.\n\n` +
		`This month\n- Faster exports: reports now finish in a fraction of the time they used to take.\n` +
		`- Team roles: give colleagues read-only access without sharing a password.\n` +
		`- New integrations with the tools your team already uses every day.\n\n` +
		`Your account: customer number CUSTOMER, in Lisbon.\nOpen your dashboard: https://acme.example/account/CUSTOMER\n\n` +
		`Email preferences: https://acme.example/preferences/CUSTOMER\nUnsubscribe: https://acme.example/unsubscribe/CUSTOMER\n`
)

// digestBatch builds a /email/batch body of n digest messages (about
// 2.4 KB of JSON each) numbered from first, as the postform client sends
// them.
func digestBatch(first, n int) []byte {
	var b []byte
	b = append(b, '[')
	for i := 0; i < n; i++ {
		id := strconv.Itoa(first + i)
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"From":"Acme News <news@acme.example>","To":"user`+id+`@example.com","Subject":"Your November digest, Chloé",`...)
		b = append(b, `"Tag":"2026-11-digest","HtmlBody":"`+strings.ReplaceAll(digestHTML, "CUSTOMER", id)+`",`...)
		b = append(b, `"TextBody":"`+strings.ReplaceAll(digestText, "CUSTOMER", id)+`",`...)
		b = append(b, `"TrackOpens":true,"TrackLinks":"HtmlAndText","Metadata":{"customer_id":"`+id+`","plan":"business","pf_id":"pf-`+id+`"}}`...)
	}
	return append(b, ']')
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkHandlerBatch posts one realistic 500-message /email/batch body
// per iteration straight into the simulator's handler (no network, no
// client), and reports the cost per accepted message.
func BenchmarkHandlerBatch(b *testing.B) {
	const per = 500
	body := digestBatch(0, per)
	b.Logf("%d bytes per message", len(body)/per)
	s := New(Options{})
	h := s.Handler()
	w := &discardWriter{h: make(http.Header)}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	cpu0 := cputime.Used()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", "http://sim/email/batch", io.NopCloser(bytes.NewReader(body)))
		req.ContentLength = int64(len(body))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Postmark-Server-Token", DefaultToken)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.StopTimer()
	cpu := cputime.Used() - cpu0
	runtime.GC()
	runtime.ReadMemStats(&after)
	msgs := float64(b.N * per)
	// Process CPU time (handler and garbage collector) per message: unlike
	// ns/msg, it does not depend on other load on the machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/msgs, "cpu-ns/msg")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/msgs, "B/msg")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/msgs, "allocs/msg")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/msgs, "heapB/msg")
	if s.AcceptedCount() != b.N*per {
		b.Fatalf("accepted %d, want %d", s.AcceptedCount(), b.N*per)
	}
}
