package postmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var oneMessage = []Message{{From: "s@example.com", To: "a@example.com", TextBody: "hi"}}

func TestStatusErrors(t *testing.T) {
	t.Parallel()
	const html = "<html><body><h1>Bad Gateway</h1></body></html>"
	tests := []struct {
		name        string
		status      int
		body        string
		header      map[string]string
		want        APIError // Method and Path are filled in below
		class       Class
		retryable   bool
		auth        bool
		wantMessage string // exact Error() text when set
	}{
		{name: "401 token", status: 401, body: `{"ErrorCode":10,"Message":"Request does not contain a valid Server token."}`,
			want: APIError{StatusCode: 401, ErrorCode: 10, Message: "Request does not contain a valid Server token."}, class: ClassRejected, auth: true},
		{name: "415 empty body", status: 415, want: APIError{StatusCode: 415}, class: ClassRejected,
			wantMessage: "POST /pm/email/batch: 415 Unsupported Media Type"},
		{name: "422 invalid request", status: 422, body: string(fixture(t, "error-response.json")),
			want: APIError{StatusCode: 422, ErrorCode: 300, Message: "Invalid 'To' address: 'test'."}, class: ClassRejected,
			wantMessage: "POST /pm/email/batch: 422 Unprocessable Entity (ErrorCode 300): Invalid 'To' address: 'test'."},
		{name: "422 inactive", status: 422, body: string(fixture(t, "error-inactive-recipient.json")),
			want:  APIError{StatusCode: 422, ErrorCode: 406, Message: "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: a@example.com, b@example.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression."},
			class: ClassRejected},
		{name: "422 invalid JSON", status: 422, body: `{"ErrorCode":402,"Message":"Received invalid JSON input."}`,
			want: APIError{StatusCode: 422, ErrorCode: 402, Message: "Received invalid JSON input."}, class: ClassRejected},
		{name: "422 too many", status: 422, body: `{"ErrorCode":410,"Message":"You may only send up to 500 messages in a single batched request."}`,
			want: APIError{StatusCode: 422, ErrorCode: 410, Message: "You may only send up to 500 messages in a single batched request."}, class: ClassRejected},
		{name: "422 unknown stream", status: 422, body: `{"ErrorCode":1235,"Message":"The 'MessageStream' provided does not exist on this server."}`,
			want: APIError{StatusCode: 422, ErrorCode: 1235, Message: "The 'MessageStream' provided does not exist on this server."}, class: ClassRejected},
		{name: "429", status: 429, body: `{"ErrorCode":429,"Message":"Rate limit exceeded."}`,
			want: APIError{StatusCode: 429, ErrorCode: 429, Message: "Rate limit exceeded."}, class: ClassRejected, retryable: true},
		{name: "429 no body", status: 429, want: APIError{StatusCode: 429}, class: ClassRejected, retryable: true},
		{name: "413", status: 413, body: "<html>too large</html>", want: APIError{StatusCode: 413}, class: ClassRejected},
		{name: "404", status: 404, body: `{"ErrorCode":0,"Message":"Not found"}`, want: APIError{StatusCode: 404, Message: "Not found"}, class: ClassRejected},
		{name: "500", status: 500, body: `{"ErrorCode":101,"Message":"Unexpected error."}`,
			want: APIError{StatusCode: 500, ErrorCode: 101, Message: "Unexpected error."}, class: ClassAmbiguous},
		{name: "502 HTML", status: 502, body: html, header: map[string]string{"Content-Type": "text/html"},
			want: APIError{StatusCode: 502}, class: ClassAmbiguous, wantMessage: "POST /pm/email/batch: 502 Bad Gateway"},
		{name: "503 maintenance", status: 503, body: `{"ErrorCode":100,"Message":"Maintenance"}`,
			want: APIError{StatusCode: 503, ErrorCode: 100, Message: "Maintenance"}, class: ClassRejected, retryable: true},
		{name: "503 maintenance via header", status: 503, body: html, header: map[string]string{"X-PM-ApiErrorCode": "100"},
			want: APIError{StatusCode: 503, ErrorCode: 100}, class: ClassRejected, retryable: true},
		{name: "503 without code", status: 503, body: html, want: APIError{StatusCode: 503}, class: ClassAmbiguous},
		{name: "503 other code", status: 503, body: `{"ErrorCode":101,"Message":"x"}`, want: APIError{StatusCode: 503, ErrorCode: 101, Message: "x"}, class: ClassAmbiguous},
		{name: "504 empty", status: 504, want: APIError{StatusCode: 504}, class: ClassAmbiguous},
		{name: "403 firewall page", status: 403, body: "<html>Access denied</html>", want: APIError{StatusCode: 403}, class: ClassAmbiguous},
		{name: "token echoed by a proxy", status: 422, body: `{"ErrorCode":300,"Message":"bad header X-Postmark-Server-Token: ` + testToken + `"}`,
			want: APIError{StatusCode: 422, ErrorCode: 300, Message: "bad header X-Postmark-Server-Token: [redacted]"}, class: ClassRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/email/batch", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			res, err := c.SendBatch(context.Background(), oneMessage)
			if res != nil {
				t.Errorf("results = %v, want nil on error", res)
			}
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("err = %#v, want *APIError", err)
			}
			want := tt.want
			want.Method, want.Path = "POST", "/pm/email/batch"
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("APIError mismatch (-want +got):\n%s", diff)
			}
			if c := Classify(err); c != tt.class {
				t.Errorf("Classify = %v, want %v", c, tt.class)
			}
			if r := IsRetryable(err); r != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", r, tt.retryable)
			}
			if a := IsAuth(err); a != tt.auth {
				t.Errorf("IsAuth = %v, want %v", a, tt.auth)
			}
			if IsAmbiguous(err) != (tt.class == ClassAmbiguous) {
				t.Errorf("IsAmbiguous disagrees with Classify")
			}
			if tt.wantMessage != "" && err.Error() != tt.wantMessage {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantMessage)
			}
			// Classification survives wrapping by callers.
			wrapped := fmt.Errorf("batch b1: %w", err)
			if Classify(wrapped) != tt.class || IsRetryable(wrapped) != tt.retryable || IsAuth(wrapped) != tt.auth {
				t.Errorf("wrapped error classified differently")
			}
			noToken(t, err)
		})
	}
}

// countingBody counts the bytes the client reads from a response body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHugeErrorBodyIsCapped(t *testing.T) {
	t.Parallel()
	var read atomic.Int64
	_, mux, srv := setup(t)
	base := srv.Client().Transport
	counting := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if resp != nil {
			resp.Body = countingBody{resp.Body, &read}
		}
		return resp, err
	})}
	c, err := NewClient(testToken, WithBaseURL(srv.URL+basePath), WithHTTPClient(counting))
	if err != nil {
		t.Fatal(err)
	}
	const size = 5 << 20
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		// A JSON envelope whose Message alone is 5 MiB: cut at the cap,
		// it no longer decodes, so Message stays empty.
		_, _ = io.WriteString(w, `{"ErrorCode":101,"Message":"`+strings.Repeat("x", size)+`"}`)
	})
	_, err = c.SendEmail(context.Background(), oneMessage[0])
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.StatusCode != 500 || apiErr.ErrorCode != 0 || apiErr.Message != "" {
		t.Errorf("APIError = %+v, want status 500 with no code or message (body truncated)", apiErr)
	}
	if n := read.Load(); n < maxErrorBody || n > maxErrorBody+maxDrain {
		t.Errorf("client read %d bytes of a %d-byte error body, want between %d and %d", n, size, maxErrorBody, maxErrorBody+maxDrain)
	}
	if Classify(err) != ClassAmbiguous {
		t.Errorf("Classify = %v, want ambiguous", Classify(err))
	}
}

func TestUnusable200(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"malformed JSON", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, []byte(`{"To":"a@example.com","MessageID":`))
		}},
		{"HTML page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>hello</html>")
		}},
		{"wrong shape", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, []byte(`{"To":"a@example.com","SubmittedAt":"yesterday"}`))
		}},
		{"body cut short", func(w http.ResponseWriter, r *http.Request) {
			// Promise more than is written; the server then drops the
			// connection, so the client reads an unexpected EOF.
			w.Header().Set("Content-Length", "500")
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"To":"a@example.com","ErrorCode":0,`)
		}},
		{"empty body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/email", tt.handler)
			res, err := c.SendEmail(context.Background(), oneMessage[0])
			var rErr *ResponseError
			if !errors.As(err, &rErr) {
				t.Fatalf("err = %#v, want *ResponseError", err)
			}
			if rErr.StatusCode != 200 || rErr.Method != "POST" || rErr.Path != "/pm/email" {
				t.Errorf("ResponseError = %+v", rErr)
			}
			if res != (SendResult{}) {
				t.Errorf("result = %+v, want zero on error", res)
			}
			if Classify(err) != ClassAmbiguous || IsRetryable(err) {
				t.Errorf("Classify = %v, IsRetryable = %v; want ambiguous, not retryable", Classify(err), IsRetryable(err))
			}
			noToken(t, err)
		})
	}
}

// checkTransportError checks what kind of transport failure err is.
func checkTransportError(t *testing.T, err error, wantWritten bool, wantClass Class, wantRetryable bool) *TransportError {
	t.Helper()
	var tErr *TransportError
	if !errors.As(err, &tErr) {
		t.Fatalf("err = %#v, want *TransportError", err)
	}
	if tErr.Written != wantWritten {
		t.Errorf("Written = %v, want %v (err: %v)", tErr.Written, wantWritten, err)
	}
	if tErr.Method != "POST" || !strings.HasSuffix(tErr.Path, "/email") {
		t.Errorf("Method, Path = %q, %q", tErr.Method, tErr.Path)
	}
	if got := Classify(err); got != wantClass {
		t.Errorf("Classify = %v, want %v (err: %v)", got, wantClass, err)
	}
	if got := IsRetryable(err); got != wantRetryable {
		t.Errorf("IsRetryable = %v, want %v (err: %v)", got, wantRetryable, err)
	}
	if IsAuth(err) {
		t.Error("IsAuth = true for a transport error")
	}
	if strings.Contains(err.Error(), "?") {
		t.Errorf("error text shows a query: %v", err)
	}
	noToken(t, err)
	return tErr
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(testToken, WithBaseURL("http://"+addr+"/pm/"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendEmail(context.Background(), oneMessage[0])
	checkTransportError(t, err, false, ClassRejected, true)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want it to wrap ECONNREFUSED", err)
	}
	// A search fails the same way and keeps the query out of the text.
	_, err = c.ListOutboundMessages(context.Background(), OutboundSearch{MetadataKey: "pf_id", MetadataValue: "secretish"})
	if err == nil || strings.Contains(err.Error(), "secretish") || Classify(err) != ClassRejected {
		t.Errorf("search err = %v, want rejected without the query", err)
	}
}

func TestDNSErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		dnsErr    *net.DNSError
		retryable bool
	}{
		{"not found", &net.DNSError{Err: "no such host", Name: "api.postmark.test", IsNotFound: true}, false},
		{"temporary", &net.DNSError{Err: "server misbehaving", Name: "api.postmark.test", IsTemporary: true}, true},
		{"timeout", &net.DNSError{Err: "i/o timeout", Name: "api.postmark.test", IsTimeout: true}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: network, Err: tt.dnsErr}
			}}
			t.Cleanup(tr.CloseIdleConnections)
			c, err := NewClient(testToken, WithBaseURL("http://localhost:1/"), WithHTTPClient(&http.Client{Transport: tr}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SendEmail(context.Background(), oneMessage[0])
			checkTransportError(t, err, false, ClassRejected, tt.retryable)
			var dnsErr *net.DNSError
			if !errors.As(err, &dnsErr) {
				t.Errorf("err = %v, want it to wrap *net.DNSError", err)
			}
		})
	}
}

// limitedConn fails every write after budget bytes, like a connection
// reset in the middle of sending the body.
type limitedConn struct {
	net.Conn
	budget atomic.Int64
}

func (c *limitedConn) Write(p []byte) (int, error) {
	if c.budget.Add(-int64(len(p))) < 0 {
		return 0, &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return c.Conn.Write(p)
}

// TestFailureWhileWriting: a failure part-way through the request proves
// the server never had the whole body, so it is rejected, not ambiguous.
func TestFailureWhileWriting(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the body never arrives whole
	})
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: conn}
		lc.budget.Store(100) // less than the headers alone
		return lc, nil
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(testToken, WithBaseURL(srv.URL+basePath), WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendEmail(context.Background(), Message{From: "s@example.com", To: "a@example.com", TextBody: strings.Repeat("body ", 1000)})
	checkTransportError(t, err, false, ClassRejected, true)
}

// TestClosedAfterReading: the server reads the whole request and drops the
// connection without answering. It may have acted on it: ambiguous.
func TestClosedAfterReading(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var got atomic.Bool
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("reading body: %v", err)
		}
		got.Store(true)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	})
	_, err := c.SendEmail(context.Background(), oneMessage[0])
	checkTransportError(t, err, true, ClassAmbiguous, false)
	if !got.Load() {
		t.Error("handler did not receive the request")
	}
}

// TestTimeoutAfterWrite: the server reads the request and never answers;
// the transport gives up waiting for the response headers, a timeout that
// only starts once the request is fully written.
func TestTimeoutAfterWrite(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // hang until the client goes away
	})
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 50 * time.Millisecond // no assertion depends on it
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(testToken, WithBaseURL(srv.URL+basePath), WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendEmail(context.Background(), oneMessage[0])
	tErr := checkTransportError(t, err, true, ClassAmbiguous, false)
	var netErr net.Error
	if !errors.As(tErr, &netErr) || !netErr.Timeout() {
		t.Errorf("err = %v, want a timeout", err)
	}
}

func TestCancelBeforeSend(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t) // the catch-all fails the test if anything arrives
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.SendBatch(ctx, oneMessage)
	var tErr *TransportError
	if !errors.As(err, &tErr) || tErr.Written {
		t.Fatalf("err = %#v, want *TransportError with Written false", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if Classify(err) != ClassRejected || IsRetryable(err) {
		t.Errorf("Classify = %v, IsRetryable = %v; want rejected, not retryable", Classify(err), IsRetryable(err))
	}
	noToken(t, err)
}

func TestDeadlineBeforeSendIsRetryable(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	_, err := c.SendEmail(ctx, oneMessage[0])
	checkTransportError(t, err, false, ClassRejected, true)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

// TestCancelAfterWrite: the context ends while the server holds a fully
// written request. The context error wins, and the outcome is ambiguous.
func TestCancelAfterWrite(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	received := make(chan struct{})
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		close(received)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-received
		cancel()
	}()
	_, err := c.SendEmail(ctx, oneMessage[0])
	tErr := checkTransportError(t, err, true, ClassAmbiguous, false)
	if tErr.Err != context.Canceled {
		t.Errorf("Err = %v, want context.Canceled itself", tErr.Err)
	}
}

func TestClassifyForeignErrors(t *testing.T) {
	t.Parallel()
	if Classify(nil) != ClassAccepted || IsRetryable(nil) || IsAuth(nil) || IsAmbiguous(nil) {
		t.Error("nil must be accepted, not retryable, not auth, not ambiguous")
	}
	if Classify(errors.New("something else")) != ClassAmbiguous {
		t.Error("an unknown error must be ambiguous")
	}
	for c, want := range map[Class]string{ClassAccepted: "accepted", ClassRejected: "rejected", ClassAmbiguous: "ambiguous", Class(9): "Class(9)"} {
		if c.String() != want {
			t.Errorf("Class(%d).String() = %q, want %q", int(c), c.String(), want)
		}
	}
}
