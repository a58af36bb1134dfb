package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/runner"
)

// testStreams is a non-TTY, colourless stream pair writing to one buffer.
func testStreams() (Streams, *bytes.Buffer) {
	var buf bytes.Buffer
	return Streams{Out: &buf, Err: &buf, Width: 78}, &buf
}

func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

func TestCommas(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1,000"},
		{9999, "9,999"},
		{100000, "100,000"},
		{999999, "999,999"},
		{1000000, "1,000,000"},
		{1234567, "1,234,567"},
		{-1, "-1"},
		{-999, "-999"},
		{-1000, "-1,000"},
		{-1234567, "-1,234,567"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
		{math.MinInt64, "-9,223,372,036,854,775,808"},
	} {
		if got := Commas(tc.n); got != tc.want {
			t.Errorf("Commas(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain address", "ann@example.com", "a***@example.com"},
		{"one-letter local part", "a@example.com", "a***@example.com"},
		{"message address", `batch.x["ann@example.com"]`, `batch.x["a***@example.com"]`},
		{
			"message address with a dotted batch",
			`batch.welcome_2024["bob.smith@example.org"]`,
			`batch.welcome_2024["b***@example.org"]`,
		},
		{
			"several addresses",
			"ann@example.com, bob@example.org;carol@example.net",
			"a***@example.com, b***@example.org;c***@example.net",
		},
		{"plus and dot in the local part", "ann.lee+news@example.com", "a***@example.com"},
		{"hyphen underscore percent", "x_y-z%w@example.com", "x***@example.com"},
		{"display name", "Ann Lee <ann@example.com>", "Ann Lee <a***@example.com>"},
		{"inside a sentence", "Found inactive addresses: ann@example.com.", "Found inactive addresses: a***@example.com."},
		{"no @", "batch.x[0] to send", "batch.x[0] to send"},
		{"empty", "", ""},
		{"bare @", "a @ b", "a @ b"},
		{"trailing @", "ann@", "a***@"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    runner.PlanSummary
		want string
	}{
		{"empty plan still says to send", runner.PlanSummary{}, "Plan: 0 to send."},
		{"only to send", runner.PlanSummary{ToSend: 3, Total: 3}, "Plan: 3 to send."},
		{
			"thousands separators",
			runner.PlanSummary{ToSend: 9812, Sent: 120, Invalid: 2, Total: 9934},
			"Plan: 9,812 to send, 120 already sent, 2 invalid.",
		},
		{
			"zero parts left out",
			runner.PlanSummary{Sent: 1500000, Suppressed: 4},
			"Plan: 0 to send, 1,500,000 already sent, 4 suppressed.",
		},
		{
			"every part in order",
			runner.PlanSummary{ToSend: 1, Sent: 2, Changed: 3, Reconcile: 4, Suppressed: 5, Failed: 6, Invalid: 7},
			"Plan: 1 to send, 2 already sent, 3 changed since sent, 4 to reconcile, 5 suppressed, 6 refused before, 7 invalid.",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SummaryLine(tc.s); got != tc.want {
				t.Errorf("SummaryLine(%+v) =\n  %q\nwant\n  %q", tc.s, got, tc.want)
			}
		})
	}
}

// decodeLines parses each line of out as a JSON object.
func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for i, l := range lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
		objs = append(objs, m)
	}
	return objs
}

func TestJSONLines(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf, "1.2.3")
	j.Emit("plan_summary", map[string]any{"to_send": 2, "note": "a<b> & c"})
	j.Emit("empty", nil)
	j.Emit("diagnostic", map[string]any{"type": "ignored", "summary": "line\nbreak"})

	out := buf.String()
	if got := strings.Count(out, "\n"); got != 4 {
		t.Fatalf("want 4 newline-terminated lines, got %d:\n%s", got, out)
	}
	if strings.Contains(out, `\u003c`) || !strings.Contains(out, "a<b> & c") {
		t.Errorf("HTML characters should not be escaped:\n%s", out)
	}
	got := decodeLines(t, out)
	want := []map[string]any{
		{"type": "version", "ui_version": UIVersion, "postform": "1.2.3"},
		{"type": "plan_summary", "to_send": float64(2), "note": "a<b> & c"},
		{"type": "empty"},
		{"type": "diagnostic", "summary": "line\nbreak"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON lines mismatch (-want +got):\n%s", diff)
	}
	if UIVersion != "1.0" {
		t.Errorf("UIVersion = %q; changing it is a breaking change for -json consumers", UIVersion)
	}
}

func TestJSONLinesEmitDoesNotModifyFields(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf, "dev")
	fields := map[string]any{"a": 1}
	j.Emit("x", fields)
	if diff := cmp.Diff(map[string]any{"a": 1}, fields); diff != "" {
		t.Errorf("Emit changed the caller's map (-want +got):\n%s", diff)
	}
}

func TestJSONLinesConcurrent(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf, "dev")
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				j.Emit("message_result", map[string]any{"worker": w, "i": i, "address": fmt.Sprintf(`batch.x["u%d@example.com"]`, i)})
			}
		}()
	}
	wg.Wait()
	objs := decodeLines(t, buf.String())
	if len(objs) != 1+workers*each {
		t.Fatalf("got %d lines, want %d", len(objs), 1+workers*each)
	}
	for i, m := range objs[1:] {
		if m["type"] != "message_result" {
			t.Fatalf("line %d: type = %v", i+2, m["type"])
		}
	}
}

func TestJSONDiagnostics(t *testing.T) {
	files := map[string]*hcl.File{
		"main.pf.hcl": {Bytes: []byte("batch \"x\" {\r\n  to = var.who\r\n}\n")},
	}
	rng := func(file string, line int) *hcl.Range {
		return &hcl.Range{
			Filename: file,
			Start:    hcl.Pos{Line: line, Column: 3, Byte: 15},
			End:      hcl.Pos{Line: line, Column: 14, Byte: 26},
		}
	}
	wantRange := func(file string, line int) *Range {
		return &Range{Filename: file, Start: Pos{Line: line, Column: 3, Byte: 15}, End: Pos{Line: line, Column: 14, Byte: 26}}
	}
	for _, tc := range []struct {
		name  string
		diags hcl.Diagnostics
		files map[string]*hcl.File
		want  []Diagnostic
	}{
		{name: "nil", diags: nil, want: []Diagnostic{}},
		{name: "empty", diags: hcl.Diagnostics{}, want: []Diagnostic{}},
		{
			name:  "range and snippet from the file map",
			diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown variable", Detail: "No var.who.", Subject: rng("main.pf.hcl", 2)}},
			files: files,
			want: []Diagnostic{{
				Severity: "error", Summary: "Unknown variable", Detail: "No var.who.",
				Range: wantRange("main.pf.hcl", 2), Snippet: "  to = var.who",
			}},
		},
		{
			name:  "severity mapping",
			diags: hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "w"}, {Severity: hcl.DiagError, Summary: "e"}, {Severity: hcl.DiagInvalid, Summary: "i"}},
			want:  []Diagnostic{{Severity: "warning", Summary: "w"}, {Severity: "error", Summary: "e"}, {Severity: "error", Summary: "i"}},
		},
		{
			name:  "file not in the map: range without snippet",
			diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "s", Subject: rng("other.pf.hcl", 1)}},
			files: files,
			want:  []Diagnostic{{Severity: "error", Summary: "s", Range: wantRange("other.pf.hcl", 1)}},
		},
		{
			name:  "line past the end: no snippet",
			diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "s", Subject: rng("main.pf.hcl", 99)}},
			files: files,
			want:  []Diagnostic{{Severity: "error", Summary: "s", Range: wantRange("main.pf.hcl", 99)}},
		},
		{
			name:  "line zero: no snippet",
			diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "s", Subject: rng("main.pf.hcl", 0)}},
			files: files,
			want:  []Diagnostic{{Severity: "error", Summary: "s", Range: wantRange("main.pf.hcl", 0)}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := JSONDiagnostics(tc.diags, tc.files)
			if got == nil {
				t.Fatal("JSONDiagnostics returned nil")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}

	b, err := json.Marshal(JSONDiagnostics(nil, nil))
	if err != nil || string(b) != "[]" {
		t.Errorf("empty diagnostics marshal to %s, %v; want []", b, err)
	}
	b, err = json.Marshal(JSONDiagnostic(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "s"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"severity":"error","summary":"s","detail":""}`; string(b) != want {
		t.Errorf("source-less diagnostic = %s, want %s", b, want)
	}
}

func TestWriteDiagnosticsColumn(t *testing.T) {
	src := "batch \"x\" {\n  to = var.who\n}\n"
	files := map[string]*hcl.File{"main.pf.hcl": {Bytes: []byte(src)}}
	diags := hcl.Diagnostics{{
		Severity: hcl.DiagError, Summary: "Unknown variable", Detail: "There is no variable named \"who\".",
		Subject: &hcl.Range{Filename: "main.pf.hcl", Start: hcl.Pos{Line: 2, Column: 8, Byte: 19}, End: hcl.Pos{Line: 2, Column: 15, Byte: 26}},
	}}
	var buf bytes.Buffer
	WriteDiagnostics(&buf, diags, files, 78, false)
	out := buf.String()
	for _, want := range []string{"Error: Unknown variable", "on main.pf.hcl:2:8", "to = var.who", `no variable named "who"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "line 2") {
		t.Errorf("file:line:col rewrite did not happen:\n%s", out)
	}

	buf.Reset()
	WriteDiagnostics(&buf, nil, files, 78, false)
	if buf.Len() != 0 {
		t.Errorf("no diagnostics should print nothing, got %q", buf.String())
	}
}

func sendEntry(batch string, i int) runner.PlanEntry {
	to := fmt.Sprintf("user%d@example.com", i)
	return runner.PlanEntry{
		Address: fmt.Sprintf("batch.%s[%q]", batch, to), Batch: batch, Key: to,
		Action: runner.ActionSend, To: to, Subject: "Welcome",
	}
}

func TestPlanHumanCollapse(t *testing.T) {
	s, buf := testStreams()
	v := NewPlanHuman(s, PlanOptions{MaxLines: 5})
	for i := range 30 {
		v.PlannedMessage(sendEntry("news", i))
	}
	v.PlanDone(runner.PlanSummary{ToSend: 30, Total: 30})

	want := []string{
		"postform will act on these messages:",
		"",
		"batch.news",
		`  + batch.news["user0@example.com"]  to user0@example.com  "Welcome"`,
		`  + batch.news["user1@example.com"]  to user1@example.com  "Welcome"`,
		`  + batch.news["user2@example.com"]  to user2@example.com  "Welcome"`,
		`  + batch.news["user3@example.com"]  to user3@example.com  "Welcome"`,
		`  + batch.news["user4@example.com"]  to user4@example.com  "Welcome"`,
		"  … and 25 more in batch.news (25 to send); -max-lines=0 or -json lists them all",
		"",
		"Plan: 30 to send.",
	}
	if diff := cmp.Diff(want, lines(buf.String())); diff != "" {
		t.Errorf("plan output mismatch (-want +got):\n%s", diff)
	}
}

func TestPlanHumanCollapseCountsByAction(t *testing.T) {
	s, buf := testStreams()
	v := NewPlanHuman(s, PlanOptions{MaxLines: 1})
	actions := []runner.Action{
		runner.ActionSend, // shown
		runner.ActionSend, runner.ActionSent, runner.ActionSent, runner.ActionInvalid,
		runner.ActionReconcile, runner.ActionReplace, runner.ActionFailed,
	}
	for i, a := range actions {
		e := sendEntry("b", i)
		e.Action = a
		v.PlannedMessage(e)
	}
	v.PlanDone(runner.PlanSummary{})
	want := "  … and 7 more in batch.b (1 to send, 1 to replace, 2 already sent, 1 invalid, 1 refused before, 1 to reconcile); -max-lines=0 or -json lists them all\n"
	if !strings.Contains(buf.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, buf.String())
	}
}

func TestPlanHumanMaxLinesZeroShowsAll(t *testing.T) {
	s, buf := testStreams()
	v := NewPlanHuman(s, PlanOptions{MaxLines: 0})
	for i := range 1200 {
		v.PlannedMessage(sendEntry("big", i))
	}
	v.PlanDone(runner.PlanSummary{ToSend: 1200})
	out := buf.String()
	if got := strings.Count(out, "\n  + batch.big["); got != 1200 {
		t.Errorf("got %d message lines, want 1200", got)
	}
	if strings.Contains(out, "more in batch") {
		t.Errorf("MaxLines=0 must not collapse:\n%s", out[len(out)-300:])
	}
	if !strings.HasSuffix(out, "\nPlan: 1,200 to send.\n") {
		t.Errorf("summary missing or without separators: %q", out[len(out)-40:])
	}
}

func TestPlanHumanBatchesAndPreview(t *testing.T) {
	s, buf := testStreams()
	v := NewPlanHuman(s, PlanOptions{MaxLines: 2})
	// The runner reports the preview right after the batch's first
	// sendable message; the view holds it until the batch's lines end.
	for i := range 4 {
		v.PlannedMessage(sendEntry("a", i))
		if i == 0 {
			v.PlannedPreview(runner.Preview{
				Batch: "a", Address: `batch.a["user0@example.com"]`,
				From: "news@example.org", To: "user0@example.com", Subject: "Welcome",
				Text: "Hello user0,\n\nWelcome aboard.\n",
			})
		}
	}
	v.PlannedMessage(sendEntry("b", 0))
	v.PlanDone(runner.PlanSummary{ToSend: 5, Total: 5})

	want := []string{
		"postform will act on these messages:",
		"",
		"batch.a",
		`  + batch.a["user0@example.com"]  to user0@example.com  "Welcome"`,
		`  + batch.a["user1@example.com"]  to user1@example.com  "Welcome"`,
		"  … and 2 more in batch.a (2 to send); -max-lines=0 or -json lists them all",
		"",
		`  Preview of batch.a["user0@example.com"]:`,
		"    From:    news@example.org",
		"    To:      user0@example.com",
		"    Subject: Welcome",
		"    │ Hello user0,",
		"    │ ",
		"    │ Welcome aboard.",
		"",
		"batch.b",
		`  + batch.b["user0@example.com"]  to user0@example.com  "Welcome"`,
		"",
		"Plan: 5 to send.",
	}
	if diff := cmp.Diff(want, lines(buf.String())); diff != "" {
		t.Errorf("plan output mismatch (-want +got):\n%s", diff)
	}
	if n := strings.Count(buf.String(), "postform will act on these messages:"); n != 1 {
		t.Errorf("header printed %d times, want once", n)
	}
}

func TestPlanHumanPreviewBodyAndTemplate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    runner.Preview
		want []string
		not  []string
	}{
		{
			name: "long body is cut after six lines",
			p:    runner.Preview{Batch: "a", Address: "batch.a", From: "f@x.org", To: "t@x.org", Subject: "S", Text: "1\n2\n3\n4\n5\n6\n7\n8\n9"},
			want: []string{"    │ 6\n    │ … (3 more lines)\n"},
			not:  []string{"│ 7"},
		},
		{
			name: "template instead of subject and body",
			p:    runner.Preview{Batch: "a", Address: "batch.a", From: "f@x.org", To: "t@x.org", Template: "welcome-v2", Text: `{"name":"Ann"}`},
			want: []string{"    Template: welcome-v2\n", `    Model:   {"name":"Ann"}` + "\n"},
			not:  []string{"Subject:"},
		},
		{
			name: "sensitive fields hidden",
			p: runner.Preview{Batch: "a", Address: "batch.a", From: "f@x.org", To: "t@x.org", Subject: "Your code", Text: "code 1234",
				Sensitive: []string{"to", "subject", "text"}},
			want: []string{"    To:      (sensitive)\n", "    Subject: (sensitive)\n", "    │ (sensitive)\n"},
			not:  []string{"t@x.org", "Your code", "1234"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, buf := testStreams()
			v := NewPlanHuman(s, PlanOptions{})
			v.PlannedMessage(runner.PlanEntry{Address: "batch.a", Batch: "a", Action: runner.ActionSend, To: "t@x.org", Subject: "S"})
			v.PlannedPreview(tc.p)
			v.PlanDone(runner.PlanSummary{ToSend: 1})
			out := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// Only the preview's own lines matter for "not".
			preview := out[strings.Index(out, "Preview of"):]
			for _, n := range tc.not {
				if strings.Contains(preview, n) {
					t.Errorf("preview should not contain %q:\n%s", n, preview)
				}
			}
		})
	}
}

func TestPlanHumanDescribe(t *testing.T) {
	sentAt := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name string
		e    runner.PlanEntry
		want string
	}{
		{
			name: "send",
			e:    runner.PlanEntry{Action: runner.ActionSend, To: "ann@example.com", Subject: `Hi "Ann"`},
			want: `+ batch.x  to ann@example.com  "Hi \"Ann\""`,
		},
		{
			name: "sensitive subject",
			e:    runner.PlanEntry{Action: runner.ActionSend, To: "ann@example.com", Subject: "Your code is 1234", Sensitive: []string{"subject"}},
			want: "+ batch.x  to ann@example.com  (sensitive)",
		},
		{
			name: "sensitive to",
			e:    runner.PlanEntry{Action: runner.ActionSend, To: "ann@example.com", Subject: "Hi", Sensitive: []string{"to"}},
			want: `+ batch.x  to (sensitive)  "Hi"`,
		},
		{
			name: "template",
			e:    runner.PlanEntry{Action: runner.ActionSend, To: "ann@example.com", Template: "welcome"},
			want: "+ batch.x  to ann@example.com  template welcome",
		},
		{
			name: "replace",
			e:    runner.PlanEntry{Action: runner.ActionReplace, To: "ann@example.com", Subject: "Hi", MessageID: "m-1"},
			want: `± batch.x  to ann@example.com  "Hi"  (replaces m-1)`,
		},
		{
			name: "sent in UTC",
			e:    runner.PlanEntry{Action: runner.ActionSent, SentAt: sentAt, MessageID: "m-2"},
			want: "= batch.x  already sent 2025-03-04 04:06Z  m-2",
		},
		{
			name: "changed",
			e:    runner.PlanEntry{Action: runner.ActionChanged, SentAt: sentAt, MessageID: "m-3"},
			want: "~ batch.x  changed since sent 2025-03-04 04:06Z (m-3); not resent without -replace",
		},
		{
			name: "invalid",
			e:    runner.PlanEntry{Action: runner.ActionInvalid, Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing to"}}},
			want: "! batch.x  invalid: Missing to",
		},
		{
			name: "suppressed",
			e:    runner.PlanEntry{Action: runner.ActionSuppressed, To: "ann@example.com"},
			want: "- batch.x  suppressed: ann@example.com is inactive on this stream",
		},
		{
			name: "failed",
			e:    runner.PlanEntry{Action: runner.ActionFailed, ErrorCode: 300, Error: "Invalid 'To' address."},
			want: "x batch.x  refused before (ErrorCode 300: Invalid 'To' address.); not resent unless it changes or -replace",
		},
		{
			name: "reconcile",
			e:    runner.PlanEntry{Action: runner.ActionReconcile},
			want: "? batch.x  outcome of an earlier attempt unknown; apply reconciles it before any resend",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, buf := testStreams()
			v := NewPlanHuman(s, PlanOptions{})
			tc.e.Address, tc.e.Batch = "batch.x", "x"
			v.PlannedMessage(tc.e)
			got := lines(buf.String())
			if len(got) != 4 {
				t.Fatalf("want header, blank, batch and one message line; got %q", got)
			}
			if diff := cmp.Diff("  "+tc.want, got[3]); diff != "" {
				t.Errorf("message line mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanHumanRedact(t *testing.T) {
	s, buf := testStreams()
	v := NewPlanHuman(s, PlanOptions{Redact: true})
	v.PlannedMessage(runner.PlanEntry{
		Address: `batch.x["ann.lee+news@example.com"]`, Batch: "x", Key: "ann.lee+news@example.com",
		Action: runner.ActionSend, To: "Ann Lee <ann.lee+news@example.com>, bob@example.org", Subject: "Hi",
	})
	v.PlannedPreview(runner.Preview{
		Batch: "x", Address: `batch.x["ann.lee+news@example.com"]`, From: "news@example.org",
		To: "Ann Lee <ann.lee+news@example.com>, bob@example.org", Subject: "Hi", Text: "Hello",
	})
	v.PlannedMessage(runner.PlanEntry{Address: `batch.x["carol@example.net"]`, Batch: "x", Action: runner.ActionSuppressed, To: "carol@example.net"})
	v.PlanDone(runner.PlanSummary{ToSend: 1, Suppressed: 1})
	out := buf.String()
	for _, leak := range []string{"ann.lee", "bob@", "carol@", "nn@"} {
		if strings.Contains(out, leak) {
			t.Errorf("-redact output leaks %q:\n%s", leak, out)
		}
	}
	for _, want := range []string{
		`  + batch.x["a***@example.com"]  to Ann Lee <a***@example.com>, b***@example.org  "Hi"` + "\n",
		`  - batch.x["c***@example.net"]  suppressed: c***@example.net is inactive on this stream` + "\n",
		`  Preview of batch.x["a***@example.com"]:` + "\n",
		"    To:      Ann Lee <a***@example.com>, b***@example.org\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPlanHumanInvalidDiagnostics(t *testing.T) {
	s, buf := testStreams()
	v := NewPlanHuman(s, PlanOptions{MaxLines: 1})
	for i := range 3 {
		e := sendEntry("x", i)
		e.Action = runner.ActionInvalid
		e.Diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: fmt.Sprintf("Problem %d", i), Detail: "d"}}
		v.PlannedMessage(e)
	}
	v.PlanDone(runner.PlanSummary{Invalid: 3, Changed: 1})
	out := buf.String()
	// Hidden invalid messages still get their diagnostics printed.
	for i := range 3 {
		if !strings.Contains(out, fmt.Sprintf("Error: Problem %d", i)) {
			t.Errorf("diagnostic %d missing:\n%s", i, out)
		}
	}
	if !strings.Contains(out, "Plan: 0 to send, 1 changed since sent, 3 invalid.\nChanged messages are not resent; use -replace=ADDRESS to send one again.\n") {
		t.Errorf("summary or changed note missing:\n%s", out)
	}
}

func TestPlanHumanColor(t *testing.T) {
	s, buf := testStreams()
	s.Color = true
	v := NewPlanHuman(s, PlanOptions{})
	v.PlannedMessage(sendEntry("x", 0))
	if !strings.Contains(buf.String(), "\x1b[32m+\x1b[0m") {
		t.Errorf("send symbol not green: %q", buf.String())
	}
	s, buf = testStreams()
	v = NewPlanHuman(s, PlanOptions{})
	v.PlannedMessage(sendEntry("x", 0))
	if strings.Contains(buf.String(), "\x1b[") {
		t.Errorf("colour escapes without Color: %q", buf.String())
	}
}

func TestPlanJSON(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf, "dev")
	v := NewPlanJSON(j, true, nil)
	v.PlannedMessage(runner.PlanEntry{
		Address: `batch.x["ann@example.com"]`, Batch: "x", Key: "ann@example.com", Action: runner.ActionSend,
		To: "ann@example.com", Subject: "Code 1234", Sensitive: []string{"subject"}, Digest: "abc",
	})
	v.PlannedPreview(runner.Preview{Batch: "x", Address: `batch.x["ann@example.com"]`, From: "f@example.org", To: "ann@example.com", Subject: "S", Text: "T"})
	v.PlanDone(runner.PlanSummary{ToSend: 1, Total: 1})
	got := decodeLines(t, buf.String())
	want := []map[string]any{
		{"type": "version", "ui_version": "1.0", "postform": "dev"},
		{
			"type": "planned_message", "address": `batch.x["a***@example.com"]`, "batch": "x", "key": "a***@example.com",
			"action": "send", "to": "a***@example.com", "subject": "(sensitive)", "digest": "abc",
		},
		{
			"type": "planned_preview", "batch": "x", "address": `batch.x["a***@example.com"]`, "from": "f@example.org",
			"to": "a***@example.com", "subject": "S", "text": "T", "template": "",
		},
		{
			"type": "plan_summary", "to_send": float64(1), "already_sent": float64(0), "changed": float64(0), "invalid": float64(0),
			"suppressed": float64(0), "failed": float64(0), "reconcile": float64(0), "total": float64(1),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan JSON mismatch (-want +got):\n%s", diff)
	}
}

// fakeClock returns times set by the test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestApplyHumanProgressNonTTY(t *testing.T) {
	s, buf := testStreams()
	v := NewApplyHuman(s, PlanOptions{}, false)
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	v.now = clock.now
	start := clock.t

	p := runner.Progress{Total: 100, Sent: 10, Requests: 12, Elapsed: 5 * time.Second}
	steps := []struct {
		at    time.Duration
		p     runner.Progress
		lines int // lines printed so far
	}{
		{0, p, 0},                       // first call only starts the interval
		{4999 * time.Millisecond, p, 0}, // before the interval
		{5 * time.Second, p, 1},         // exactly one interval
		{6 * time.Second, p, 1},         // interval restarts at the last line
		{9999 * time.Millisecond, p, 1},
		{10 * time.Second, runner.Progress{Total: 100, Sent: 100, Failed: 0, Requests: 120, Elapsed: 10 * time.Second}, 2},
	}
	for _, st := range steps {
		clock.t = start.Add(st.at)
		v.Progress(st.p)
		if got := strings.Count(buf.String(), "\n"); got != st.lines {
			t.Fatalf("at +%v: %d lines printed, want %d:\n%s", st.at, got, st.lines, buf.String())
		}
	}
	want := []string{
		"Sending: 10/100 sent, 0 failed, 0 uncertain, 2 msg/s, 12 requests, ETA 45s",
		"Sending: 100/100 sent, 0 failed, 0 uncertain, 10 msg/s, 120 requests",
	}
	if diff := cmp.Diff(want, lines(buf.String())); diff != "" {
		t.Errorf("progress lines mismatch (-want +got):\n%s", diff)
	}
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    runner.Progress
		want string
	}{
		{"nothing yet", runner.Progress{}, "Sending: 0 sent, 0 failed, 0 uncertain, 0 msg/s, 0 requests"},
		{"total unknown", runner.Progress{Sent: 1500, Requests: 3, Elapsed: time.Second}, "Sending: 1,500 sent, 0 failed, 0 uncertain, 1500 msg/s, 3 requests"},
		{
			"failures count towards done",
			runner.Progress{Total: 10000, Sent: 2000, Failed: 500, Uncertain: 7, Requests: 2600, Elapsed: 10 * time.Second},
			"Sending: 2,000/10,000 sent, 500 failed, 7 uncertain, 250 msg/s, 2,600 requests, ETA 30s",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := progressLine(tc.p); got != tc.want {
				t.Errorf("progressLine =\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}

func TestApplyHumanQuiet(t *testing.T) {
	s, buf := testStreams()
	v := NewApplyHuman(s, PlanOptions{}, false)
	v.PlannedMessage(sendEntry("x", 0))
	v.PlannedPreview(runner.Preview{Batch: "x", Address: "batch.x", Text: "body"})
	v.PlanDone(runner.PlanSummary{ToSend: 1})
	if buf.Len() != 0 {
		t.Errorf("quiet apply view printed plan output:\n%s", buf.String())
	}
	v.Reconciling(1234)
	v.Warn("rate limited")
	want := []string{
		"Reconciling 1,234 message(s) whose outcome is unknown (searching Postmark by pf_id)…",
		"Warning: rate limited",
	}
	if diff := cmp.Diff(want, lines(buf.String())); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteRunSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    runner.RunSummary
		want string
	}{
		{
			name: "clean run",
			s:    runner.RunSummary{Sent: 1234, Requests: 13, Elapsed: 1500 * time.Millisecond},
			want: "\nApply complete: 1,234 sent, 0 failed, 0 skipped in 1.5s, 13 requests.\n",
		},
		{
			name: "everything",
			s: runner.RunSummary{
				Plan: runner.PlanSummary{Invalid: 2, Sent: 3000, Changed: 1, Failed: 4, ToSend: 9},
				Sent: 5, Adopted: 2, Failed: 5,
				FailedBy: map[string]int{
					"406 inactive recipient":    3,
					"300 invalid email request": 1,
					"1101 template not found":   1,
				},
				Unsent: 1500, Uncertain: 4, Duplicates: 2, Requests: 1234,
				Elapsed: 2*time.Second + 345678*time.Microsecond, Stopped: "interrupted",
			},
			want: "\n2 invalid message(s) were not sent; postform validate shows why.\n" +
				"\nApply complete: 5 sent, 2 reconciled as already accepted, 5 failed, 3,005 skipped (already sent 3,000, changed 1, refused before 4) in 2.346s, 1,234 requests.\n" +
				"Failed by reason:\n" +
				"       1  1101 template not found\n" +
				"       1  300 invalid email request\n" +
				"       3  406 inactive recipient\n" +
				"1,500 message(s) were not accepted before the run ended; run apply again to send them.\n" +
				"4 message(s) have an unknown outcome; the next apply reconciles them before any resend.\n" +
				"Warning: Postmark holds 2 extra cop(ies) of messages with the same pf_id (sent outside this state); the oldest was adopted.\n" +
				"The run stopped early: interrupted.\n",
		},
		{
			name: "suppressed only",
			s:    runner.RunSummary{Plan: runner.PlanSummary{Suppressed: 7}},
			want: "\nApply complete: 0 sent, 0 failed, 7 skipped (suppressed 7) in 0s, 0 requests.\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// FailedBy is a map: repeat to catch order depending on iteration.
			for range 10 {
				var buf bytes.Buffer
				WriteRunSummary(&buf, &tc.s)
				if diff := cmp.Diff(tc.want, buf.String()); diff != "" {
					t.Fatalf("summary mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestApplyHumanSummaryNonTTY(t *testing.T) {
	s, buf := testStreams()
	v := NewApplyHuman(s, PlanOptions{}, false)
	sum := &runner.RunSummary{Sent: 1, Requests: 1, Elapsed: time.Second}
	v.Summary(sum)
	var want bytes.Buffer
	WriteRunSummary(&want, sum)
	if buf.String() != want.String() {
		t.Errorf("Summary = %q, want %q", buf.String(), want.String())
	}
}

func TestApplyJSON(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf, "dev")
	v := NewApplyJSON(j, true)
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	v.now = clock.now

	v.PlannedMessage(sendEntry("x", 0)) // silent: plan already emitted
	inv := sendEntry("x", 1)
	inv.Action = runner.ActionInvalid
	v.PlannedMessage(inv) // emitted
	v.PlannedPreview(runner.Preview{Batch: "x"})
	v.PlanDone(runner.PlanSummary{})

	v.Progress(runner.Progress{Sent: 1}) // first: emitted
	clock.t = clock.t.Add(999 * time.Millisecond)
	v.Progress(runner.Progress{Sent: 2}) // throttled
	clock.t = clock.t.Add(time.Millisecond)
	v.Progress(runner.Progress{Sent: 3}) // one second after the last: emitted

	v.MessageResult(runner.MessageResult{Address: `batch.x["ann@example.com"]`, Outcome: runner.OutcomeSent, MessageID: "m-1", Attempts: 1})
	v.Summary(&runner.RunSummary{Sent: 1})

	var types []string
	objs := decodeLines(t, buf.String())
	for _, m := range objs {
		types = append(types, m["type"].(string))
	}
	wantTypes := []string{"version", "planned_message", "send_progress", "send_progress", "message_result", "run_summary"}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Fatalf("event types mismatch (-want +got):\n%s", diff)
	}
	if got := objs[3]["sent"]; got != float64(3) {
		t.Errorf("second send_progress sent = %v, want 3", got)
	}
	if got := objs[4]["address"]; got != `batch.x["a***@example.com"]` {
		t.Errorf("message_result address = %v, want redacted", got)
	}
	if _, ok := objs[4]["error_code"]; ok {
		t.Errorf("message_result without error has error_code: %v", objs[4])
	}
	if fb, ok := objs[5]["failed_by"].(map[string]any); !ok || len(fb) != 0 {
		t.Errorf("run_summary failed_by = %#v, want {}", objs[5]["failed_by"])
	}
}
