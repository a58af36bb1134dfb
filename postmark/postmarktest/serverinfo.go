package postmarktest

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ServerID is the ID GET /server answers: Options.ServerID, or one derived
// from the token.
func (s *Server) ServerID() int64 {
	if s.opts.ServerID != 0 {
		return s.opts.ServerID
	}
	return tokenServerID(s.opts.Token)
}

// ServerName is the Name GET /server answers.
func (s *Server) ServerName() string {
	if s.opts.ServerName != "" {
		return s.opts.ServerName
	}
	return fmt.Sprintf("Simulated server %d", s.ServerID())
}

// tokenServerID derives a stable, positive server ID from a token, in the
// range of Postmark's IDs (seven or eight digits).
func tokenServerID(token string) int64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, strings.ToLower(token))
	return 1_000_000 + int64(h.Sum64()%90_000_000)
}

// serverInfo is the GET /server response. Postmark also lists the server's
// API tokens; the simulator lists only the one it expects, as Postmark does
// for a server token.
type serverInfo struct {
	ID                         int64
	Name                       string
	ApiTokens                  []string
	Color                      string
	SmtpApiActivated           bool
	RawEmailEnabled            bool
	DeliveryType               string
	ServerLink                 string
	InboundAddress             string
	InboundHookUrl             string
	BounceHookUrl              string
	OpenHookUrl                string
	DeliveryHookUrl            string
	PostFirstOpenOnly          bool
	InboundDomain              string
	InboundHash                string
	InboundSpamThreshold       int
	TrackOpens                 bool
	TrackLinks                 string
	IncludeBounceContentInHook bool
	ClickHookUrl               string
	EnableSmtpApiErrorHooks    bool
}

func (s *Server) handleServer(*http.Request) (int, any) {
	id := s.ServerID()
	return http.StatusOK, serverInfo{
		ID:           id,
		Name:         s.ServerName(),
		ApiTokens:    []string{s.opts.Token},
		Color:        "Purple",
		DeliveryType: "Live",
		ServerLink:   fmt.Sprintf("https://account.postmarkapp.com/servers/%d/streams", id),
		TrackLinks:   "None",
	}
}

// listenLoopback listens on addr, which must name a loopback host
// (127.0.0.1, ::1 or localhost; port 0 picks a free port).
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("postmarktest: bad listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("postmarktest: refusing to listen on non-loopback address %q", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("postmarktest: %w", err)
	}
	return ln, nil
}

// Servers is several simulated Postmark servers behind one address, as
// Postmark serves every server of an account from api.postmarkapp.com: a
// request goes to the server whose token it carries. Each server has its
// own messages, bounces and ID.
type Servers struct {
	list []*Server
	mu   sync.Mutex
	ln   net.Listener
	srv  *http.Server
}

// NewServers returns one simulated server per Options. Their tokens must
// be distinct; AcceptAnyToken is ignored (the token picks the server).
func NewServers(opts []Options) (*Servers, error) {
	if len(opts) == 0 {
		return nil, errors.New("postmarktest: no servers")
	}
	ss := &Servers{}
	seen := map[string]bool{}
	for _, o := range opts {
		o.AcceptAnyToken = false
		s := New(o)
		t := strings.ToLower(s.Token())
		if seen[t] {
			return nil, fmt.Errorf("postmarktest: two servers with one token")
		}
		seen[t] = true
		ss.list = append(ss.list, s)
	}
	return ss, nil
}

// List returns the servers in the order given to NewServers.
func (ss *Servers) List() []*Server { return ss.list }

// ServeHTTP routes by the X-Postmark-Server-Token header; an unknown or
// missing token is answered by the first server (which rejects it).
func (ss *Servers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get("X-Postmark-Server-Token")
	for _, s := range ss.list {
		if strings.EqualFold(token, s.Token()) {
			s.handler.ServeHTTP(w, r)
			return
		}
	}
	ss.list[0].handler.ServeHTTP(w, r)
}

// Start listens on a loopback addr and serves every server there.
func (ss *Servers) Start(addr string) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ln != nil {
		return errors.New("postmarktest: servers already started once")
	}
	ln, err := listenLoopback(addr)
	if err != nil {
		return err
	}
	ss.ln = ln
	ss.srv = &http.Server{Handler: ss, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = ss.srv.Serve(ln) }()
	return nil
}

// URL returns the shared base URL, or "" before Start.
func (ss *Servers) URL() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ln == nil {
		return ""
	}
	return "http://" + ss.ln.Addr().String()
}

// Close stops serving.
func (ss *Servers) Close() error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.srv == nil {
		return nil
	}
	err := ss.srv.Close()
	ss.srv = nil
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
