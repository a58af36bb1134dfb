package postmark

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSendBatch500 measures one full 500-message batch round trip
// (encode, loopback HTTP, decode) against a server that answers with a
// canned 500-item result.
func BenchmarkSendBatch500(b *testing.B) {
	var answer bytes.Buffer
	answer.WriteByte('[')
	msgs := make([]Message, 500)
	for i := range msgs {
		if i > 0 {
			answer.WriteByte(',')
		}
		fmt.Fprintf(&answer, `{"To":"r%d@example.com","SubmittedAt":"2026-09-30T16:03:52.7892753Z","MessageID":"4bba52b4-8a54-4eb8-b7d3-%012d","ErrorCode":0,"Message":"OK"}`, i, i)
		msgs[i] = Message{
			From: "s@example.com", To: fmt.Sprintf("r%d@example.com", i), Subject: "Your invoice",
			HtmlBody: "<p>Hello, here is your invoice for this month.</p>", TextBody: "Hello, here is your invoice for this month.",
			Metadata: map[string]string{"pf_id": fmt.Sprintf("pf-%040d", i)}, MessageStream: "outbound",
		}
	}
	answer.WriteByte(']')
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(w, 200, answer.Bytes())
	}))
	defer srv.Close()
	c, err := NewClient(testToken, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.SendBatch(context.Background(), msgs)
		if err != nil || len(res) != 500 {
			b.Fatalf("SendBatch: %d results, %v", len(res), err)
		}
	}
}
