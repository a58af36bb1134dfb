package postmarktest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// nodeError is what fidelity.js reports for a rejected call.
type nodeError struct {
	Name       string
	StatusCode int `json:"statusCode"`
	Code       int `json:"code"`
	Message    string
	Recipients []string `json:"recipients"`
}

type nodeResult[T any] struct {
	OK    *T         `json:"ok"`
	Error *nodeError `json:"error"`
}

type nodePhase1 struct {
	Single         nodeResult[sendResult]   `json:"single"`
	SingleInvalid  nodeResult[sendResult]   `json:"singleInvalid"`
	SingleInactive nodeResult[sendResult]   `json:"singleInactive"`
	BadToken       nodeResult[sendResult]   `json:"badToken"`
	Batch          nodeResult[[]sendResult] `json:"batch"`
	Templates      nodeResult[[]sendResult] `json:"templates"`
}

type nodePhase2 struct {
	Search         nodeResult[wireSearchResult] `json:"search"`
	SearchAll      nodeResult[wireSearchResult] `json:"searchAll"`
	Details        nodeResult[wireDetails]      `json:"details"`
	DetailsUnknown nodeResult[wireDetails]      `json:"detailsUnknown"`
	Bounces        nodeResult[wireBounceList]   `json:"bounces"`
}

// TestNodeClientFidelity runs the official Postmark Node client (npm
// package "postmark", pinned in testdata/node) against the simulator. It is
// skipped when node or npm is missing or the package cannot be installed,
// unless POSTFORM_REQUIRE_NODE=1 (as in CI), which makes that a failure.
func TestNodeClientFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: skipping the Node client check")
	}
	unavailable := t.Skipf
	if os.Getenv("POSTFORM_REQUIRE_NODE") == "1" {
		unavailable = t.Fatalf
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable("%s not found in PATH (set up Node.js to run this check): %v", tool, err)
			return
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "fidelity.js"} {
		data, err := os.ReadFile(filepath.Join("testdata", "node", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		unavailable("cannot install the postmark npm package: %v\n%s", err, out)
		return
	}

	clock := newClock()
	s := NewServer(t, Options{
		Token: "node-fidelity-token", Now: clock.Now, DeliveryDelay: time.Minute,
		Templates: map[string]Template{"welcome": {ID: 1, Subject: "Welcome, {{name}}", TextBody: "Hi {{name}}"}},
	})
	s.Suppress("outbound", "gone@example.com")

	cmd := exec.CommandContext(ctx, "node", "fidelity.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PM_HOST="+strings.TrimPrefix(s.URL(), "http://"), "PM_TOKEN="+s.Token())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 16<<20)
	readLine := func(v any) {
		t.Helper()
		if !lines.Scan() {
			_ = cmd.Wait()
			t.Fatalf("fidelity.js ended early: %v\nstderr:\n%s", lines.Err(), stderr.String())
		}
		if err := json.Unmarshal(lines.Bytes(), v); err != nil {
			t.Fatalf("decoding %s: %v", lines.Bytes(), err)
		}
	}

	var p1 nodePhase1
	readLine(&p1)
	clock.Advance(time.Hour) // every delivery event and bounce has happened
	if _, err := stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	_ = stdin.Close()
	var p2 nodePhase2
	readLine(&p2)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("fidelity.js: %v\nstderr:\n%s", err, stderr.String())
	}

	// Phase 1: sends.
	acc := s.Accepted()
	if len(acc) != 4 {
		t.Fatalf("accepted %d messages, want 4: %+v", len(acc), acc)
	}
	if p1.Single.OK == nil || p1.Single.OK.MessageID != acc[0].MessageID || p1.Single.OK.To != "ann@example.com" {
		t.Errorf("sendEmail = %+v, error %+v; log %+v", p1.Single.OK, p1.Single.Error, acc[0])
	}
	checkErr := func(what string, got *nodeError, name string, status, code int) {
		t.Helper()
		if got == nil || got.Name != name || got.StatusCode != status || got.Code != code || got.Message == "" {
			t.Errorf("%s error = %+v, want %s %d/%d", what, got, name, status, code)
		}
	}
	checkErr("invalid To", p1.SingleInvalid.Error, "InvalidEmailRequestError", 422, codeInvalidRequest)
	checkErr("inactive", p1.SingleInactive.Error, "InactiveRecipientsError", 422, codeInactive)
	checkErr("bad token", p1.BadToken.Error, "InvalidAPIKeyError", 401, codeBadToken)
	if p1.SingleInactive.Error != nil {
		if diff := cmp.Diff([]string{"gone@example.com"}, p1.SingleInactive.Error.Recipients); diff != "" {
			t.Errorf("inactive recipients parsed by the client (-want +got):\n%s", diff)
		}
	}
	if p1.Batch.OK == nil || len(*p1.Batch.OK) != 3 {
		t.Fatalf("sendEmailBatch = %+v, error %+v", p1.Batch.OK, p1.Batch.Error)
	}
	batch := *p1.Batch.OK
	if batch[0].ErrorCode != 0 || batch[0].MessageID != acc[1].MessageID ||
		batch[1].ErrorCode != codeInactive || !strings.Contains(batch[1].Message, "gone@example.com") ||
		batch[2].ErrorCode != 0 || batch[2].MessageID != acc[2].MessageID {
		t.Errorf("batch results %+v do not match the log %+v", batch, acc)
	}
	if p1.Templates.OK == nil || len(*p1.Templates.OK) != 2 {
		t.Fatalf("sendEmailBatchWithTemplates = %+v, error %+v", p1.Templates.OK, p1.Templates.Error)
	}
	tmpl := *p1.Templates.OK
	if tmpl[0].ErrorCode != 0 || tmpl[0].MessageID != acc[3].MessageID || acc[3].Subject != "Welcome, Cy" || tmpl[1].ErrorCode != codeTemplateNotFound {
		t.Errorf("template results %+v, log %+v", tmpl, acc[3])
	}

	// Phase 2: reads.
	if r := p2.Search.OK; r == nil || r.TotalCount != 1 || len(r.Messages) != 1 || r.Messages[0].MessageID != batch[0].MessageID ||
		r.Messages[0].Metadata["pf_id"] != "batch-1" {
		t.Errorf("metadata search = %+v, error %+v", p2.Search.OK, p2.Search.Error)
	}
	if r := p2.SearchAll.OK; r == nil || r.TotalCount != 4 {
		t.Errorf("stream search = %+v, error %+v", p2.SearchAll.OK, p2.SearchAll.Error)
	}
	if d := p2.Details.OK; d == nil || d.MessageID != batch[0].MessageID || d.HtmlBody != "<p>B1</p>" ||
		len(d.MessageEvents) != 1 || d.MessageEvents[0].Type != "Delivered" || d.MessageEvents[0].Recipient != "bob@example.com" {
		t.Errorf("details = %+v, error %+v", p2.Details.OK, p2.Details.Error)
	}
	checkErr("unknown details", p2.DetailsUnknown.Error, "ApiInputError", 422, codeMessageNotFound)
	if b := p2.Bounces.OK; b == nil || b.TotalCount != 1 || b.Bounces[0].Email != "hardbounce@bounce-testing.postmarkapp.com" ||
		b.Bounces[0].Type != "HardBounce" || !b.Bounces[0].Inactive || b.Bounces[0].MessageID != batch[2].MessageID {
		t.Errorf("bounces = %+v, error %+v", p2.Bounces.OK, p2.Bounces.Error)
	}
	if st := s.Stats(); st.Requests["GET /messages/outbound 200"] != 2 || st.Requests["GET /bounces 200"] != 1 {
		t.Errorf("requests seen: %v", st.Requests)
	}
}
