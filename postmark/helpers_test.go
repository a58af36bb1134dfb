package postmark

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testToken is the server token every test client uses. No error string
// may ever contain it.
const testToken = "tok-5ecret-0f-the-server-9d3e"

// basePath is where the test server mounts the API, so that a request
// built from an absolute endpoint path escapes it and fails the test.
const basePath = "/pm/"

// setup starts a server that serves mux beneath basePath and fails the
// test on any request outside it or on a path mux does not know. It
// returns a client pointed at it; opts are applied after the defaults.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected path", http.StatusTeapot)
	})
	outer := http.NewServeMux()
	outer.Handle(basePath, http.StripPrefix(strings.TrimSuffix(basePath, "/"), mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL)
		http.Error(w, "outside base path", http.StatusTeapot)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)

	all := append([]Option{WithBaseURL(srv.URL + basePath), WithHTTPClient(srv.Client())}, opts...)
	c, err := NewClient(testToken, all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux, srv
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// testHeaders checks the headers every request must carry.
func testHeaders(t *testing.T, r *http.Request, wantUA string) {
	t.Helper()
	want := map[string]string{
		"Accept":                  "application/json",
		"Content-Type":            "application/json",
		"X-Postmark-Server-Token": testToken,
		"User-Agent":              wantUA,
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	if diff := cmp.Diff(want, r.URL.Query()); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// testBody checks the request body byte for byte: field order follows the
// struct, so an exact comparison also proves what was left out.
func testBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("reading request body: %v", err)
		return
	}
	if string(b) != want {
		t.Errorf("body mismatch:\n got: %s\nwant: %s", b, want)
	}
	if !json.Valid(b) {
		t.Errorf("body is not valid JSON: %s", b)
	}
}

func testEmptyBody(t *testing.T, r *http.Request) {
	t.Helper()
	b, _ := io.ReadAll(r.Body)
	if len(b) != 0 {
		t.Errorf("GET carried a body: %q", b)
	}
}

// fixture returns the content of testdata/fixtures/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// noToken fails the test when err, in any of its printed forms, contains
// the server token.
func noToken(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, testToken) {
			t.Errorf("error text contains the server token: %s", s)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// asErr is errors.As with a typed target.
func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
