package main

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/postform/postform/postmark/postmarktest"
)

// The checks the end-to-end tests rely on must be able to fail.

func TestContainsSecret(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("inputs.json")
	if err != nil {
		t.Fatal(err)
	}
	// Compressible, so the raw archive does not contain the token verbatim.
	_, _ = w.Write([]byte(strings.Repeat(`{"env":{"T":"`+simToken+`"}}`, 50)))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte(simToken)) {
		t.Fatal("test setup: the archive should hide the token by compression")
	}
	if where, found := containsSecret(buf.Bytes(), simToken); !found || !strings.Contains(where, "inputs.json") {
		t.Errorf("token inside a compressed member: found=%v where=%q", found, where)
	}
	if _, found := containsSecret([]byte("plain "+simToken), simToken); !found {
		t.Error("token in a plain file not found")
	}
	if _, found := containsSecret([]byte("nothing to see"), simToken); found {
		t.Error("false positive on a clean file")
	}
}

func TestExactlyOnceProblems(t *testing.T) {
	t.Parallel()
	sim := newSimulator(postmarktest.Options{})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	send := func(to, pfID string) {
		t.Helper()
		body := `{"From":"a@acme.example","To":"` + to + `","Subject":"s","TextBody":"t","Metadata":{"pf_id":"` + pfID + `"}}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/email", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-Postmark-Server-Token", simToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("send to %s: HTTP %d", to, resp.StatusCode)
		}
	}
	send(recipient(0), "a")
	send(recipient(1), "b")
	if p := exactlyOnceProblems(sim, 2); len(p) != 0 {
		t.Fatalf("clean log reported: %v", p)
	}
	if p := exactlyOnceProblems(sim, 3); len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), recipient(2)+" received nothing") {
		t.Errorf("a missing recipient is not reported: %v", p)
	}
	send(recipient(1), "b")
	p := strings.Join(exactlyOnceProblems(sim, 2), "\n")
	for _, want := range []string{recipient(1) + " received 2 messages", "pf_id b accepted 2 times"} {
		if !strings.Contains(p, want) {
			t.Errorf("duplicate not reported as %q:\n%s", want, p)
		}
	}
}
