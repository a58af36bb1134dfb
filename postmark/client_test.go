package postmark

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		token   string
		opts    []Option
		wantErr string // substring; "" means success
		wantURL string
	}{
		{name: "defaults", token: testToken, wantURL: DefaultBaseURL},
		{name: "empty token", token: "", wantErr: "empty server token"},
		{name: "blank token", token: "  ", wantErr: "empty server token"},
		{name: "token with newline", token: "abc\r\nX-Evil: 1", wantErr: "line break"},
		{name: "https path without slash", token: testToken, opts: []Option{WithBaseURL("https://api.example.com/base")}, wantURL: "https://api.example.com/base/"},
		{name: "https host only", token: testToken, opts: []Option{WithBaseURL("https://api.example.com")}, wantURL: "https://api.example.com/"},
		{name: "http loopback v4", token: testToken, opts: []Option{WithBaseURL("http://127.0.0.2:8080/pm/")}, wantURL: "http://127.0.0.2:8080/pm/"},
		{name: "http loopback v6", token: testToken, opts: []Option{WithBaseURL("http://[::1]:9/pm")}, wantURL: "http://[::1]:9/pm/"},
		{name: "http localhost", token: testToken, opts: []Option{WithBaseURL("http://LOCALHOST:1")}, wantURL: "http://LOCALHOST:1/"},
		{name: "http remote", token: testToken, opts: []Option{WithBaseURL("http://api.postmarkapp.com/")}, wantErr: "only allowed for loopback"},
		{name: "http lookalike", token: testToken, opts: []Option{WithBaseURL("http://127.0.0.1.example.com/")}, wantErr: "only allowed for loopback"},
		{name: "ftp", token: testToken, opts: []Option{WithBaseURL("ftp://127.0.0.1/")}, wantErr: "scheme must be https"},
		{name: "relative", token: testToken, opts: []Option{WithBaseURL("/pm/")}, wantErr: "scheme must be https"},
		{name: "unparsable", token: testToken, opts: []Option{WithBaseURL("https://exa mple.com/%zz")}, wantErr: "invalid base URL"},
		{name: "no host", token: testToken, opts: []Option{WithBaseURL("https:///pm/")}, wantErr: "no host"},
		{name: "user info", token: testToken, opts: []Option{WithBaseURL("https://u:p@api.example.com/")}, wantErr: "user info"},
		{name: "query", token: testToken, opts: []Option{WithBaseURL("https://api.example.com/?a=b")}, wantErr: "query or fragment"},
		{name: "nil http client", token: testToken, opts: []Option{WithHTTPClient(nil)}, wantErr: "nil *http.Client"},
		{name: "empty user agent", token: testToken, opts: []Option{WithUserAgent("")}, wantErr: "empty user agent"},
		{name: "nil option ignored", token: testToken, opts: []Option{nil}, wantURL: DefaultBaseURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.token, tt.opts...)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("NewClient succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
				}
				if tt.token != "" && strings.Contains(err.Error(), tt.token) {
					t.Errorf("error contains the token: %q", err)
				}
				noToken(t, err)
				return
			}
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			if got := c.BaseURL(); got != tt.wantURL {
				t.Errorf("BaseURL() = %q, want %q", got, tt.wantURL)
			}
		})
	}
}

func TestClientDoesNotPrintToken(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, testToken) {
			t.Errorf("Sprintf(%q, client) = %q, contains the token", verb, s)
		}
	}
}

// TestBaseURLWithoutSlash proves that a base path given without its
// trailing slash still prefixes every endpoint (setup's catch-all fails
// the test otherwise), and that the default user agent is sent.
func TestBaseURLWithoutSlash(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	c, err := NewClient(testToken, WithBaseURL(srv.URL+strings.TrimSuffix(basePath, "/")), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	var called atomic.Bool
	mux.HandleFunc("/bounces/7", func(w http.ResponseWriter, r *http.Request) {
		called.Store(true)
		testMethod(t, r, http.MethodGet)
		testHeaders(t, r, DefaultUserAgent)
		writeJSON(w, 200, []byte(`{"ID":7}`))
	})
	b, err := c.GetBounce(context.Background(), 7)
	if err != nil {
		t.Fatalf("GetBounce: %v", err)
	}
	if !called.Load() || b.ID != 7 {
		t.Errorf("called=%v, ID=%d; want the handler called and ID 7", called.Load(), b.ID)
	}
}

// TestRedirectNotFollowed: a redirect would carry the token header to the
// target; the client stops at the 3xx instead (setup's catch-all would
// fail the test if the target were requested).
func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	// A caller-supplied client that would follow redirects.
	c, mux, srv := setup(t)
	c2, err := NewClient(testToken, WithBaseURL(c.BaseURL()), WithHTTPClient(&http.Client{Transport: srv.Client().Transport}))
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	for _, cl := range []*Client{c, c2} {
		_, err := cl.SendEmail(context.Background(), Message{From: "a@example.com", To: "b@example.com"})
		apiErr, ok := err.(*APIError)
		if !ok || apiErr.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("err = %v, want *APIError with status 307", err)
		}
		noToken(t, err)
	}
}
