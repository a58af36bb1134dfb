package postmark

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

const (
	// DefaultBaseURL is the Postmark API endpoint used when WithBaseURL is
	// not given.
	DefaultBaseURL = "https://api.postmarkapp.com/"

	// DefaultUserAgent is sent when WithUserAgent is not given.
	DefaultUserAgent = "postform"

	// DefaultTimeout bounds one request (connect, write, wait, read) of the
	// http.Client that NewClient builds when WithHTTPClient is not given.
	DefaultTimeout = 60 * time.Second

	// maxErrorBody caps how much of a non-2xx body is read.
	maxErrorBody = 1 << 20
	// maxResponseBody caps a 2xx body. A message details answer carries
	// up to about 1 MB of raw source plus both bodies; this leaves room.
	maxResponseBody = 64 << 20
	// maxDrain is how much unread body is discarded so that the
	// connection can be reused; beyond that the connection is dropped.
	maxDrain = 64 << 10
)

// Client talks to one Postmark server with one server token. It is safe
// for concurrent use by multiple goroutines.
type Client struct {
	token     string
	baseURL   *url.URL
	hc        *http.Client
	userAgent string
}

// Option configures a Client in NewClient.
type Option func(*Client) error

// WithBaseURL makes the client talk to u instead of DefaultBaseURL. u must
// be an absolute http or https URL without user info, query or fragment;
// plain http is accepted only for loopback hosts (localhost, 127.0.0.0/8,
// ::1). A path prefix such as http://127.0.0.1:1234/pm is kept, and a
// trailing slash is added when missing, so endpoints resolve beneath it.
func WithBaseURL(u string) Option {
	return func(c *Client) error {
		parsed, err := parseBaseURL(u)
		if err != nil {
			return err
		}
		c.baseURL = parsed
		return nil
	}
}

// WithHTTPClient makes the client send its requests through hc (its
// Transport, Timeout and Jar). hc is copied, and the copy never follows
// redirects, whatever hc.CheckRedirect says. A nil hc is an error.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("postmark: nil *http.Client")
		}
		cp := *hc
		c.hc = &cp
		return nil
	}
}

// WithUserAgent sets the User-Agent header sent with every request, for
// example "postform/1.2.0". An empty ua is an error.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(ua) == "" {
			return errors.New("postmark: empty user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// NewClient returns a client that authenticates with the server token
// (sent as X-Postmark-Server-Token). It fails when token is empty or an
// option is invalid: a base URL that does not parse, is not http(s), or
// uses plain http to a host that is not loopback.
func NewClient(token string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("postmark: empty server token")
	}
	if strings.ContainsAny(token, "\r\n") {
		// Said without echoing the value: it is a secret.
		return nil, errors.New("postmark: server token contains a line break")
	}
	base, err := parseBaseURL(DefaultBaseURL)
	if err != nil {
		// should never happen because DefaultBaseURL is a valid constant.
		return nil, err
	}
	c := &Client{
		token:     token,
		baseURL:   base,
		hc:        &http.Client{Timeout: DefaultTimeout},
		userAgent: DefaultUserAgent,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	return c, nil
}

// BaseURL returns the URL that endpoint paths are resolved against. It
// always ends with a slash.
func (c *Client) BaseURL() string { return c.baseURL.String() }

// String describes the client without its token.
func (c *Client) String() string {
	return "postmark.Client{BaseURL: " + c.baseURL.String() + "}"
}

// GoString is String, so that %#v does not print the token either.
func (c *Client) GoString() string { return c.String() }

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the input, which is not a secret.
		return nil, fmt.Errorf("postmark: invalid base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("postmark: base URL %q: scheme must be https (or http for loopback)", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("postmark: base URL %q has no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("postmark: base URL must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("postmark: base URL %q must not have a query or fragment", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("postmark: base URL %q: plain http is only allowed for loopback hosts; use https", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// endpoint resolves a relative reference (such as "email/batch") against
// the base URL and adds the query.
func (c *Client) endpoint(ref string, query url.Values) (*url.URL, error) {
	if strings.HasPrefix(ref, "/") {
		// should never happen because every caller passes a literal
		// relative path; an absolute one would escape the base path.
		return nil, fmt.Errorf("postmark: endpoint %q must be relative", ref)
	}
	rel, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("postmark: endpoint %q: %w", ref, err)
	}
	u := c.baseURL.ResolveReference(rel)
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u, nil
}

// pathSegment escapes one caller-supplied path segment. It refuses values
// that would change the path's shape once resolved ("", ".", "..").
func pathSegment(what, s string) (string, error) {
	if s == "" || s == "." || s == ".." {
		return "", &requestError{err: fmt.Errorf("invalid %s %q", what, s)}
	}
	return url.PathEscape(s), nil
}

// newRequest builds a bodiless request for ref (relative to the base URL)
// with the standard headers.
func (c *Client) newRequest(ctx context.Context, method, ref string, query url.Values) (*http.Request, error) {
	u, err := c.endpoint(ref, query)
	if err != nil {
		return nil, &requestError{method: method, path: "/" + ref, err: err}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, &requestError{method: method, path: u.EscapedPath(), err: err}
	}
	h := req.Header
	h.Set("Accept", "application/json")
	// Postmark validates strictly and answers 415 without it; the
	// official clients send it on GET too.
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", c.userAgent)
	h.Set("X-Postmark-Server-Token", c.token)
	return req, nil
}

// newBodyRequest is newRequest with an encoded JSON body (see encode.go).
// The body has a known length, so it is not chunked, and it can be reread
// (GetBody) when the transport retries on a stale connection. The caller
// keeps its reference to body and releases it once do has returned.
func (c *Client) newBodyRequest(ctx context.Context, method, ref string, body *requestBody) (*http.Request, error) {
	req, err := c.newRequest(ctx, method, ref, nil)
	if err != nil {
		return nil, err
	}
	// should never fail: body holds the caller's reference until release.
	req.Body, _ = body.reader()
	req.GetBody = body.reader
	req.ContentLength = int64(len(body.b))
	return req, nil
}

// do sends req, checks the response and decodes a 2xx body into v (unless
// v is nil). It returns the response status (0 without a response) and,
// on failure, one of *APIError, *TransportError or *ResponseError.
func (c *Client) do(req *http.Request, v any) (int, error) {
	method, path := req.Method, req.URL.EscapedPath()

	// written becomes true only when the transport reports that the whole
	// request (headers and body) went out without error. Anything short
	// of that proves the server cannot hold a complete request.
	var written atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				written.Store(true)
			}
		},
	}
	ctx := req.Context()
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))

	resp, err := c.hc.Do(req)
	if err != nil {
		// The transport has finished with the request when Do returns an
		// error, so written is final here.
		terr := &TransportError{Method: method, Path: path, Written: written.Load(), Err: unwrapURLError(err)}
		if ctxErr := ctx.Err(); ctxErr != nil {
			// A done context explains the failure better than the
			// connection teardown it caused.
			terr.Err = ctxErr
		}
		return 0, terr
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		_ = resp.Body.Close()
	}()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, c.apiError(method, path, resp)
	}
	if v == nil {
		return resp.StatusCode, nil
	}
	if err := decodeBody(io.LimitReader(resp.Body, maxResponseBody), v); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (while reading the response: %v)", ctxErr, err)
		}
		return resp.StatusCode, &ResponseError{Method: method, Path: path, StatusCode: resp.StatusCode, Err: err}
	}
	return resp.StatusCode, nil
}

// decodeBody decodes the JSON value at the start of r into v, as
// json.NewDecoder(r).Decode(v) does. Send answers take the hand-written
// path of decode.go, which gives the same results and errors.
func decodeBody(r io.Reader, v any) error {
	switch v := v.(type) {
	case *[]SendResult:
		return decodeSendResults(r, v)
	case *SendResult:
		return decodeSendResult(r, v)
	default:
		return json.NewDecoder(r).Decode(v)
	}
}

// apiError builds an *APIError from a non-2xx response, reading at most
// maxErrorBody bytes of its body.
func (c *Client) apiError(method, path string, resp *http.Response) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Method: method, Path: path}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var envelope struct {
		ErrorCode *int
		Message   string
	}
	if json.Unmarshal(body, &envelope) == nil && envelope.ErrorCode != nil {
		e.ErrorCode = *envelope.ErrorCode
		e.Message = c.redact(envelope.Message)
	} else if code, err := parseInt(resp.Header.Get("X-PM-ApiErrorCode")); err == nil {
		// A body that is not the envelope (an HTML page, a truncated
		// giant) still tells its story through the status, and possibly
		// through Postmark's error-code header.
		e.ErrorCode = code
	}
	return e
}

// redact removes the token from text that came from the network, in case
// something in front of Postmark echoes request headers back.
func (c *Client) redact(s string) string {
	if c.token == "" || !strings.Contains(s, c.token) {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[redacted]")
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		// url.Error's text repeats the full URL, query included.
		return ue.Err
	}
	return err
}
