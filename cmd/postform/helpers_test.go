package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postform/postform/postmark/postmarktest"
)

// postformPath is the postform command that TestMain (testscript.Main) put
// on $PATH: this test binary under the name "postform", which runs
// command.Run exactly as the real main does.
func postformPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("postform")
	if err != nil {
		t.Fatalf("postform is not on $PATH (TestMain should have installed it): %v", err)
	}
	return p
}

// writeFiles creates files (name → content) below dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// recipientsCSV is a CSV of n recipients user0000@example.com, ….
func recipientsCSV(n int) string {
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,User %d\n", recipient(i), i)
	}
	return b.String()
}

func recipient(i int) string { return fmt.Sprintf("user%04d@example.com", i) }

// batchConfig is a configuration sending one message per row of
// people.csv through the simulator at $SIM_URL. It sets no rate limit: the
// simulator has none, and reconciliation after a kill searches once per
// message, which the default 20 requests/s would stretch into minutes.
func batchConfig(parallelism, batchSize int) string {
	return fmt.Sprintf(`postmark {
  base_url = env("SIM_URL")
}

runner {
  parallelism = %d
  batch_size  = %d
  rate_limit  = 0
}

batch "news" {
  for_each = { for r in csvfile("people.csv") : r.email => r }

  from    = "Acme <news@acme.example>"
  to      = each.value.email
  subject = "The news, ${each.value.name}"
  text    = "Hi ${each.value.name}, here is the news."
}
`, parallelism, batchSize)
}

// postform builds a postform subprocess in dir talking to the simulator at
// url.
func postform(t *testing.T, dir, url string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(postformPath(t), args...)
	cmd.Dir = dir
	// Later entries win over inherited ones.
	cmd.Env = append(os.Environ(),
		"SIM_URL="+url,
		"POSTMARK_SERVER_TOKEN="+simToken,
		"GORACE="+raceOptions(),
		"TZ=UTC",
	)
	return cmd
}

// result is a finished postform process.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// startCommand starts cmd with its output captured; wait finishes it.
func startCommand(t *testing.T, cmd *exec.Cmd) (wait func() result) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", cmd.Args, err)
	}
	var once sync.Once
	var res result
	return func() result {
		once.Do(func() {
			err := cmd.Wait()
			res = result{code: exitCode(t, err), stdout: out.String(), stderr: errb.String()}
		})
		return res
	}
}

// run runs postform to completion.
func run(t *testing.T, dir, url string, args ...string) result {
	t.Helper()
	return startCommand(t, postform(t, dir, url, args...))()
}

// exitCode maps a Wait error to the exit code; -1 for a signal death.
func exitCode(t *testing.T, err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("waiting for postform: %v", err)
	}
	return ee.ExitCode()
}

// newSimulator starts a simulator with the scripts' token and returns it
// unstarted for callers that serve its Handler themselves.
func newSimulator(opts postmarktest.Options) *postmarktest.Server {
	opts.Token = simToken
	return postmarktest.New(opts)
}

// isSend reports whether r is a send request (POST /email…).
func isSend(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/email")
}

// serve serves h on a loopback port for the rest of the test.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// sendTracker wraps the simulator: it counts send requests and those in
// flight, and holds each send's answer for hold after the simulator has
// accepted it, so that a client killed meanwhile leaves messages that were
// accepted but never acknowledged (the case reconciliation exists for).
type sendTracker struct {
	h    http.Handler
	hold time.Duration

	started  atomic.Int64 // send requests received
	inflight atomic.Int64 // send requests being handled
	unheard  atomic.Int64 // accepted (200), but the client was gone before the answer
}

func (s *sendTracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isSend(r) {
		s.h.ServeHTTP(w, r)
		return
	}
	s.started.Add(1)
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	rec := httptest.NewRecorder()
	// An injected "accepted then dropped" fault panics with
	// http.ErrAbortHandler here, which net/http turns into a reset.
	s.h.ServeHTTP(rec, r)
	if s.hold > 0 {
		t := time.NewTimer(s.hold)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if r.Context().Err() != nil {
		// The simulator writes nothing when the client left during its own
		// latency: then nothing was accepted.
		if rec.Code == http.StatusOK && rec.Body.Len() > 0 {
			s.unheard.Add(1)
		}
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
