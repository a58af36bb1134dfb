package postmarktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is a Postmark-compatible HTTP API simulator. It is safe for
// concurrent use. Create it with New (then Start, or mount Handler) or with
// NewServer in tests.
type Server struct {
	opts             Options
	streams          map[string]string // known stream -> its shared name
	templatesByID    map[int64]*Template
	templatesByAlias map[string]*Template
	handler          http.Handler

	// mu guards store. Sends hold it only to check suppressions and append
	// already decoded and validated messages; searches hold it for reading.
	mu    sync.RWMutex
	store *store

	// faultMu guards the fault generator and the rate limiter's bucket.
	faultMu sync.Mutex
	faults  *rand.Rand
	bucket  tokenBucket

	statsMu     sync.Mutex
	requests    map[string]int
	faultCounts map[string]int

	inflight atomic.Int64
	peak     atomic.Int64

	lnMu sync.Mutex
	ln   net.Listener
	srv  *http.Server
}

// Fault kinds, as counted in Stats.Faults.
const (
	FaultRateLimit      = "rate-limit"    // 429 from the RateLimit token bucket
	Fault429            = "429"           // random 429 (Rate429)
	Fault500            = "500"           // random 500, nothing accepted (Rate500)
	Fault503            = "503"           // random 503, nothing accepted (Rate503)
	FaultAcceptedDrop   = "accepted-drop" // accepted, then the connection dropped
	Fault500AfterAccept = "accepted-500"  // accepted, then answered 500
	faultNone           = ""
)

// New returns a simulator configured by opts (see Options for defaults). It
// does not listen: call Start, or serve Handler yourself.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:             opts,
		streams:          map[string]string{"outbound": "outbound", "broadcast": "broadcast"},
		templatesByID:    make(map[int64]*Template),
		templatesByAlias: make(map[string]*Template),
		store:            newStore(opts.Seed, opts.MaxBodyBytes),
		faults:           rand.New(rand.NewPCG(opts.Seed, 0x6661756c7473)), // "faults"
		requests:         make(map[string]int),
		faultCounts:      make(map[string]int),
	}
	s.bucket = tokenBucket{rate: opts.RateLimit, burst: math.Max(1, opts.RateLimit), tokens: math.Max(1, opts.RateLimit)}
	for _, name := range opts.Streams {
		if name != "" && name != "inbound" {
			s.streams[name] = name
		}
	}
	for alias, t := range opts.Templates {
		t := t
		if t.Alias == "" {
			t.Alias = alias
		}
		s.templatesByAlias[t.Alias] = &t
		if alias != t.Alias {
			s.templatesByAlias[alias] = &t
		}
		if t.ID != 0 {
			s.templatesByID[t.ID] = &t
		}
	}
	s.handler = s.routes()
	return s
}

// NewServer starts a simulator on 127.0.0.1 with a free port and closes it
// when the test ends. It fails the test if the listener cannot be opened.
func NewServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := New(opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("postmarktest: starting simulator: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Handler returns the simulator's HTTP handler, with every check and fault
// described in the package documentation.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr, which must name a loopback host (127.0.0.1, ::1
// or localhost; port 0 picks a free port), and serves in the background
// until Close. A Server starts at most once.
func (s *Server) Start(addr string) error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln != nil {
		return errors.New("postmarktest: server already started once")
	}
	ln, err := listenLoopback(addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	s.ln, s.srv = ln, srv
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// URL returns the base URL of a started server ("http://127.0.0.1:PORT"),
// or "" before Start.
func (s *Server) URL() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Token returns the server token the simulator expects.
func (s *Server) Token() string { return s.opts.Token }

// Close stops serving and closes every connection. It is safe to call more
// than once, and on a server that was never started.
func (s *Server) Close() error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	s.srv = nil
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// routes builds the endpoint table.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h endpoint) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(pattern, h, nil, w, r) })
	}
	handleSend := func(pattern string, h sendEndpoint) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(pattern, nil, h, w, r) })
	}
	handleSend("POST /email", s.handleEmail)
	handleSend("POST /email/batch", s.handleBatch)
	handleSend("POST /email/withTemplate", s.handleWithTemplate)
	handleSend("POST /email/batchWithTemplates", s.handleBatchWithTemplates)
	handle("GET /messages/outbound", s.handleSearch)
	handle("GET /messages/outbound/{id}/details", s.handleDetails)
	handle("GET /server", s.handleServer)
	handle("GET /templates/{ref}", s.handleGetTemplate)
	handle("POST /templates/validate", s.handleValidateTemplate)
	handle("GET /bounces", s.handleBounces)
	handle("GET /bounces/{id}", s.handleBounce)
	handle("GET /message-streams/{stream}/suppressions/dump", s.handleSuppressions)
	handle("/", func(*http.Request) (int, any) {
		return http.StatusNotFound, apiError{ErrorCode: 0, Message: "The requested endpoint does not exist."}
	})
	return mux
}

// endpoint computes a response: the HTTP status and a value to encode as
// JSON (an apiError for failures).
type endpoint func(r *http.Request) (int, any)

// serve runs the checks every request goes through, then the endpoint (h,
// or send for the send endpoints), then any ambiguous fault, and counts the
// outcome.
//
// The latency runs from the request's arrival. A send request's body is
// read, decoded and validated meanwhile; everything that changes or reads
// the simulator's state (the rate limit, the fault draw, accepting the
// messages, the read endpoints) happens only once the latency has passed,
// and not at all if the client gave up by then.
func (s *Server) serve(pattern string, h endpoint, send sendEndpoint, w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	cur := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		p := s.peak.Load()
		if cur <= p || s.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	// Outcomes are counted before the response is written, so a client
	// that has its answer always sees the request in Stats. Only a request
	// abandoned during the latency is counted on the way out.
	outcome := "canceled"
	counted := false
	countNow := func() { counted = true; s.count(pattern, outcome) }
	defer func() {
		if !counted {
			s.count(pattern, outcome)
		}
	}()

	headers := s.checkHeaders(r) // depends on the request alone
	var pending pendingSend
	if send != nil && headers == 0 {
		pending = send(r)
		if pending.release != nil {
			defer pending.release()
		}
	}

	if s.opts.Latency > 0 {
		if wait := s.opts.Latency - time.Since(arrived); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
		}
		if r.Context().Err() != nil {
			return
		}
	}

	status, body := s.precheck(headers)
	fault := faultNone
	if status == 0 && send != nil {
		fault = s.drawFault()
		switch fault {
		case Fault429:
			status, body = http.StatusTooManyRequests, apiError{codeRateLimited, "Rate limit exceeded: you are sending too fast. Please slow down. (simulated)"}
		case Fault500:
			status, body = http.StatusInternalServerError, apiError{codeServerError, "An unexpected error occurred. (simulated; nothing was accepted)"}
		case Fault503:
			status, body = http.StatusServiceUnavailable, apiError{codeMaintenance, "The Postmark API is offline for maintenance. (simulated)"}
		}
	}
	if status == 0 {
		if send != nil {
			status, body = s.commit(pending)
		} else {
			status, body = h(r)
		}
	}
	switch fault {
	case FaultAcceptedDrop:
		outcome = "dropped"
		countNow()
		dropConnection(w)
		return
	case Fault500AfterAccept:
		status, body = http.StatusInternalServerError, apiError{codeServerError, "An unexpected error occurred. (simulated)"}
	}
	outcome = strconv.Itoa(status)
	countNow()
	writeJSON(w, status, body)
}

// precheck applies the rate limit, then answers the header fault that
// checkHeaders found, if any. It returns status 0 when the request may
// proceed.
func (s *Server) precheck(headers int) (int, any) {
	if s.opts.RateLimit > 0 {
		s.faultMu.Lock()
		ok := s.bucket.take(s.opts.Now())
		if !ok {
			s.faultCounts[FaultRateLimit]++
		}
		s.faultMu.Unlock()
		if !ok {
			return http.StatusTooManyRequests, apiError{codeRateLimited, "Rate limit exceeded: you are sending too fast. Please slow down."}
		}
	}
	switch headers {
	case errAccept:
		return http.StatusUnsupportedMediaType, apiError{0, "The 'Accept' header must be 'application/json'."}
	case errContentType:
		return http.StatusUnsupportedMediaType, apiError{0, "The 'Content-Type' header must be 'application/json'."}
	case errToken:
		return http.StatusUnauthorized, apiError{codeBadToken, "Request does not contain a valid Server token in the 'X-Postmark-Server-Token' header."}
	}
	return 0, nil
}

// Header faults found by checkHeaders.
const (
	errAccept = 1 + iota
	errContentType
	errToken
)

// checkHeaders applies the header rules and the token check, which depend
// on nothing but the request. It returns 0 when they pass.
func (s *Server) checkHeaders(r *http.Request) int {
	if !acceptsJSON(r.Header.Values("Accept")) {
		return errAccept
	}
	if hasBody(r) {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return errContentType
		}
	}
	token := r.Header.Get("X-Postmark-Server-Token")
	if token == "" || (!s.opts.AcceptAnyToken && !strings.EqualFold(token, s.opts.Token)) {
		return errToken
	}
	return 0
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// acceptsJSON reports whether an Accept header list admits application/json.
func acceptsJSON(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == "application/json" {
				return true
			}
		}
	}
	return false
}

// drawFault makes the one random draw of a send request.
func (s *Server) drawFault() string {
	o := &s.opts
	if o.Rate429+o.Rate500+o.Rate503+o.RateAcceptedDrop+o.Rate500Accepted <= 0 {
		return faultNone
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	x := s.faults.Float64()
	kind := faultNone
	for _, f := range []struct {
		p    float64
		kind string
	}{{o.Rate429, Fault429}, {o.Rate500, Fault500}, {o.Rate503, Fault503}, {o.RateAcceptedDrop, FaultAcceptedDrop}, {o.Rate500Accepted, Fault500AfterAccept}} {
		if x < f.p {
			kind = f.kind
			break
		}
		x -= f.p
	}
	if kind != faultNone {
		s.faultCounts[kind]++
	}
	return kind
}

// dropConnection closes the client's connection without a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2 or a test recorder): abort the handler, which
		// makes net/http reset the stream or connection.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // reset rather than a graceful close
	}
	_ = conn.Close()
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// jsonAppender is a response body that writes its own JSON, exactly as
// encoding/json would write it.
type jsonAppender interface {
	appendJSON(dst []byte) []byte
}

// writeJSON writes status and body, adding X-PM-ApiErrorCode for errors.
func writeJSON(w http.ResponseWriter, status int, body any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if a, ok := body.(jsonAppender); ok {
		b := a.appendJSON(buf.AvailableBuffer())
		b = append(b, '\n') // as json.Encoder ends every value
		buf.Write(b)
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			// Should never happen: every body is built from plain structs.
			status = http.StatusInternalServerError
			buf.Reset()
			fmt.Fprintf(buf, `{"ErrorCode":%d,"Message":"simulator: encoding response failed"}`, codeServerError)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if e, ok := body.(apiError); ok && status != http.StatusOK {
		h.Set("X-PM-ApiErrorCode", strconv.Itoa(e.ErrorCode))
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) count(pattern, outcome string) {
	s.statsMu.Lock()
	s.requests[pattern+" "+outcome]++
	s.statsMu.Unlock()
}

// tokenBucket is a minimal rate limiter: rate tokens per second, up to
// burst, refilled by the clock passed to take.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		if dt := now.Sub(b.last).Seconds(); dt > 0 {
			b.tokens = math.Min(b.burst, b.tokens+dt*b.rate)
		}
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// Stats is a snapshot of what the simulator has seen.
type Stats struct {
	// Requests counts requests by "METHOD /pattern OUTCOME", where OUTCOME is
	// the HTTP status ("POST /email/batch 200"), "dropped" for an
	// accepted-then-dropped fault, or "canceled" when the client gave up
	// during the injected latency. Unknown paths count under "/ 404".
	Requests map[string]int
	// RequestsByEndpoint sums Requests over outcomes ("POST /email/batch").
	RequestsByEndpoint map[string]int
	// Faults counts injected faults by kind (FaultRateLimit, Fault429, ...).
	Faults map[string]int
	// PeakConcurrency is the largest number of requests in flight at once.
	PeakConcurrency int
	// Accepted is the number of accepted messages (AcceptedCount).
	Accepted int
}

// Stats returns a snapshot of request, fault and concurrency counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:           make(map[string]int),
		RequestsByEndpoint: make(map[string]int),
		Faults:             make(map[string]int),
		PeakConcurrency:    int(s.peak.Load()),
		Accepted:           s.AcceptedCount(),
	}
	s.statsMu.Lock()
	for k, v := range s.requests {
		st.Requests[k] = v
		st.RequestsByEndpoint[k[:strings.LastIndexByte(k, ' ')]] += v
	}
	s.statsMu.Unlock()
	s.faultMu.Lock()
	for k, v := range s.faultCounts {
		st.Faults[k] = v
	}
	s.faultMu.Unlock()
	return st
}

// AcceptedMessage is one entry of the log of accepted messages.
type AcceptedMessage struct {
	MessageID  string
	Stream     string
	From       string
	To         string
	Cc         string
	Bcc        string
	Subject    string
	Tag        string
	Metadata   map[string]string
	ReceivedAt time.Time
}

// Accepted returns every accepted message in acceptance order, including
// messages accepted by a request whose response was then lost to a fault.
func (s *Server) Accepted() []AcceptedMessage {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]AcceptedMessage, 0, s.store.n)
	for i := uint32(0); i < s.store.n; i++ {
		m := s.store.at(i)
		md := make(map[string]string, len(m.meta))
		for _, e := range m.meta {
			md[e.Key] = e.Value
		}
		out = append(out, AcceptedMessage{
			MessageID: formatID(m.id), Stream: m.stream, From: m.from, To: m.to, Cc: m.cc, Bcc: m.bcc,
			Subject: m.subject, Tag: m.tag, Metadata: md, ReceivedAt: time.Unix(0, m.receivedAt).In(eastern),
		})
	}
	return out
}

// AcceptedCount returns the number of accepted messages.
func (s *Server) AcceptedCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(s.store.n)
}

// Duplicates returns, for metadata key metadataKey (case-insensitive), every
// value carried by more than one accepted message, with its count. An
// exactly-once sender that tags messages with a unique id under that key
// should leave it empty.
func (s *Server) Duplicates(metadataKey string) map[string]int {
	key := strings.ToLower(metadataKey)
	out := make(map[string]int)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, more := range s.store.metaMore {
		if k.key == key {
			out[k.value] = 1 + len(more)
		}
	}
	return out
}

// Suppress marks email inactive on stream ("" means "outbound") from now
// on, as a manual suppression: later sends whose recipients are all inactive
// there fail with ErrorCode 406.
func (s *Server) Suppress(stream, email string) {
	if stream == "" {
		stream = "outbound"
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := suppKey{stream, strings.ToLower(email)}
	if old, ok := s.store.suppressed[key]; ok && old.since <= now {
		return // already inactive
	}
	s.store.suppressed[key] = suppression{since: now, reason: "ManualSuppression", origin: "Customer", email: email}
}

// now reads the clock as Unix nanoseconds.
func (s *Server) now() int64 { return s.opts.Now().UnixNano() }

// sortedSuppressions lists the suppressions of stream in effect at now,
// oldest first.
func (st *store) sortedSuppressions(stream string, now int64) []suppression {
	var out []suppression
	for k, v := range st.suppressed {
		if k.stream == stream && v.since <= now {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].since != out[j].since {
			return out[i].since < out[j].since
		}
		return out[i].email < out[j].email
	})
	return out
}
