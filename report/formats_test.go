package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/state"
)

// jsonDoc mirrors the JSON report for tests.
type jsonDoc struct {
	FormatVersion string           `json:"format_version"`
	ToolVersion   string           `json:"tool_version"`
	GeneratedAt   *string          `json:"generated_at"`
	Redacted      bool             `json:"redacted"`
	Filter        []string         `json:"filter"`
	Summary       Summary          `json:"summary"`
	Messages      []map[string]any `json:"messages"`
}

func decodeJSON(t *testing.T, b []byte) jsonDoc {
	t.Helper()
	var doc jsonDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("JSON report does not decode: %v\n%s", err, b)
	}
	if dec.More() {
		t.Fatal("JSON report holds more than one document")
	}
	return doc
}

func TestJSON(t *testing.T) {
	out := render(t, FormatJSON, fixtureRecords(), fixtureOptions())
	doc := decodeJSON(t, out)
	if doc.FormatVersion != "1.0" || doc.ToolVersion != "0.1.0-test" || doc.GeneratedAt == nil || *doc.GeneratedAt != "2026-11-03T08:30:00Z" {
		t.Errorf("header = %q %q %v", doc.FormatVersion, doc.ToolVersion, doc.GeneratedAt)
	}
	if doc.Summary.Total != 21 || len(doc.Messages) != 21 || doc.Summary.ByOutcome[OutcomeBounced] != 2 {
		t.Errorf("summary total %d, bounced %d, %d messages; want 21, 2, 21", doc.Summary.Total, doc.Summary.ByOutcome[OutcomeBounced], len(doc.Messages))
	}
	// Key order is part of the format: the header keys come first, in
	// this order, and messages last.
	order := []string{`"format_version"`, `"tool_version"`, `"generated_at"`, `"redacted"`, `"filter"`, `"summary"`, `"messages"`}
	last := -1
	for _, k := range order {
		i := bytes.Index(out, []byte(k))
		if i <= last {
			t.Errorf("key %s is out of order", k)
		}
		last = i
	}
	// One message per line keeps huge reports diffable and greppable.
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 21+2 {
		t.Errorf("JSON report has %d lines; want header, 21 messages, footer", len(lines))
	}

	var grace map[string]any
	for _, m := range doc.Messages {
		if m["key"] == "grace@example.com" {
			grace = m
		}
	}
	want := map[string]any{
		"address": `batch.digest["grace@example.com"]`, "outcome": "bounced", "status": "sent",
		"delivery_status": "bounced", "bounce_type": "HardBounce", "inactive": true, "bounce_id": 4242.0,
		"submitted_at": "2026-11-02T15:00:01.5Z", "delivered_at": nil, "error_code": 0.0,
	}
	for k, v := range want {
		if grace[k] != v {
			t.Errorf("grace[%q] = %#v; want %#v", k, grace[k], v)
		}
	}
	// A time given in another zone is written in UTC.
	for _, m := range doc.Messages {
		if m["key"] == "olivia@example.com" && m["submitted_at"] != "2026-11-02T15:00:01.5Z" {
			t.Errorf("olivia submitted_at = %v; want UTC", m["submitted_at"])
		}
	}
	// "<" stays readable rather than \u003c.
	if !bytes.Contains(out, []byte(`"to":"Ann Example <ann@example.com>"`)) {
		t.Error("recipient with display name not written verbatim")
	}
}

func TestJSONEmpty(t *testing.T) {
	out := render(t, FormatJSON, nil, Options{})
	doc := decodeJSON(t, out)
	if doc.GeneratedAt != nil || strings.Contains(string(out), "generated_at") {
		t.Error("zero Generated should leave generated_at out")
	}
	for _, frag := range []string{`"messages":[]}`, `"filter":[]`, `"batches":[]`} {
		if !strings.Contains(string(out), frag) {
			t.Errorf("empty report lacks %s:\n%s", frag, out)
		}
	}
	if strings.Contains(string(out), "null") {
		t.Errorf("empty report contains null:\n%s", out)
	}
	if doc.Summary.ByOutcome == nil || len(doc.Summary.ByOutcome) != len(Outcomes) {
		t.Errorf("empty report's by_outcome should list every outcome: %v", doc.Summary.ByOutcome)
	}
}

func TestTwoPassWritersNoticeChangedState(t *testing.T) {
	extra := state.Record{Address: `batch.digest["late@example.com"]`, Batch: "digest", Key: "late@example.com", Status: state.StatusSent}
	for _, f := range []Format{FormatJSON, FormatJUnit} {
		err := Write(context.Background(), &bytes.Buffer{}, f, growingSource(fixtureRecords(), extra), Options{})
		if !errors.Is(err, ErrSourceChanged) {
			t.Errorf("%s over a source that grew between passes: %v; want ErrSourceChanged", f, err)
		}
	}
	// A record added to a batch not seen in the first pass is caught too.
	extra = state.Record{Address: `batch.zzz["x"]`, Batch: "zzz", Key: "x", Status: state.StatusSent}
	err := Write(context.Background(), &bytes.Buffer{}, FormatJUnit, growingSource(fixtureRecords(), extra), Options{})
	if !errors.Is(err, ErrSourceChanged) {
		t.Errorf("JUnit over a source that gained a batch: %v; want ErrSourceChanged", err)
	}
}

func TestSourceErrorsPropagate(t *testing.T) {
	for _, f := range Formats {
		err := Write(context.Background(), &bytes.Buffer{}, f, failingSource(fixtureRecords(), 5), Options{})
		if !errors.Is(err, errBoom) {
			t.Errorf("%s: Write over a failing source = %v; want errBoom", f, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Write(ctx, &bytes.Buffer{}, FormatCSV, sliceSource(fixtureRecords()), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context = %v; want context.Canceled", err)
	}
}

func TestCSV(t *testing.T) {
	out := render(t, FormatCSV, fixtureRecords(), fixtureOptions())
	const header = "address,batch,key,to,message_id,submitted_at,status,delivery_status,error_code,error_message,bounce_type,delivered_at,last_event_at,attempts\n"
	if !strings.HasPrefix(string(out), header) {
		t.Fatalf("CSV header = %q; want %q", strings.SplitN(string(out), "\n", 2)[0], header)
	}
	if got := strings.Join(CSVHeader(), ",") + "\n"; got != header {
		t.Errorf("CSVHeader() = %q", got)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 22 {
		t.Fatalf("CSV has %d rows; want header + 21", len(rows))
	}
	byKey := map[string][]string{}
	for _, row := range rows[1:] {
		byKey[row[2]] = row
	}
	col := func(key, name string) string {
		t.Helper()
		row, ok := byKey[key]
		if !ok {
			t.Fatalf("no row with key %q", key)
		}
		return row[slices.Index(csvColumns, name)]
	}
	checks := []struct{ key, col, want string }{
		{"ann@example.com", "address", `batch.digest["ann@example.com"]`},
		{"ann@example.com", "to", "Ann Example <ann@example.com>"},
		{"ann@example.com", "submitted_at", "2026-11-02T15:00:01.5Z"},
		{"ann@example.com", "delivered_at", "2026-11-02T15:00:01.9Z"},
		{"ann@example.com", "error_code", ""}, // 0 → empty
		{"ann@example.com", "attempts", "1"},
		{"dave@example.com", "delivered_at", ""}, // zero time → empty
		{"erin@example.com", "delivery_status", ""},
		{"ivan@example.com", "error_code", "406"},
		{"ivan@example.com", "status", "failed"},
		{"ivan@example.com", "submitted_at", ""},
		{"grace@example.com", "bounce_type", "HardBounce"},
		{"grace@example.com", "last_event_at", "2026-11-02T15:05:00Z"},
		{"1002", "status", "sending"},
		{"olivia@example.com", "submitted_at", "2026-11-02T15:00:01.5Z"}, // EST in, UTC out
		{"olivia@example.com", "to", `"Olivia O'Neil & Co" <olivia@example.com>, Walter <walter@example.com>`},
		// Formula injection: cells starting with = + - @ get a quote.
		{"'=1+2", "address", `batch.receipts["=1+2"]`},
		{"'=1+2", "to", "'=SUM(1+2) <trent@example.com>"},
		{"'@attack", "to", "'-victor@example.com"},
	}
	for _, c := range checks {
		if got := col(c.key, c.col); got != c.want {
			t.Errorf("row %q column %s = %q; want %q", c.key, c.col, got, c.want)
		}
	}
}

func TestNeutralizeFormula(t *testing.T) {
	cases := map[string]string{
		"=1+2": "'=1+2", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "ann@example.com": "ann@example.com", "a=b": "a=b", "'=x": "'=x",
	}
	for in, want := range cases {
		if got := neutralizeFormula(in); got != want {
			t.Errorf("neutralizeFormula(%q) = %q; want %q", in, got, want)
		}
	}
}

// JUnit structures as a CI test reporter reads them.
type junitSuitesDoc struct {
	XMLName  xml.Name        `xml:"testsuites"`
	Name     string          `xml:"name,attr"`
	Tests    int             `xml:"tests,attr"`
	Failures int             `xml:"failures,attr"`
	Errors   int             `xml:"errors,attr"`
	Skipped  int             `xml:"skipped,attr"`
	Suites   []junitSuiteDoc `xml:"testsuite"`
}

type junitSuiteDoc struct {
	Name      string         `xml:"name,attr"`
	Tests     int            `xml:"tests,attr"`
	Failures  int            `xml:"failures,attr"`
	Errors    int            `xml:"errors,attr"`
	Skipped   int            `xml:"skipped,attr"`
	Timestamp string         `xml:"timestamp,attr"`
	Cases     []junitCaseDoc `xml:"testcase"`
}

type junitCaseDoc struct {
	Classname string `xml:"classname,attr"`
	Name      string `xml:"name,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
}

func decodeJUnit(t *testing.T, b []byte) junitSuitesDoc {
	t.Helper()
	var doc junitSuitesDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JUnit report does not parse: %v\n%s", err, b)
	}
	return doc
}

func TestJUnit(t *testing.T) {
	out := render(t, FormatJUnit, fixtureRecords(), fixtureOptions())
	doc := decodeJUnit(t, out)
	if doc.Name != "weekly-digest" || doc.Tests != 21 || doc.Failures != 4 || doc.Skipped != 8 || doc.Errors != 0 {
		t.Errorf("testsuites = %s tests=%d failures=%d skipped=%d errors=%d; want weekly-digest 21 4 8 0",
			doc.Name, doc.Tests, doc.Failures, doc.Skipped, doc.Errors)
	}
	type counts struct{ tests, failures, skipped int }
	want := map[string]counts{"digest": {10, 4, 3}, "receipts": {5, 0, 3}, "welcome": {6, 0, 2}}
	if len(doc.Suites) != 3 {
		t.Fatalf("%d testsuites; want 3", len(doc.Suites))
	}
	cases := map[string]junitCaseDoc{}
	for _, s := range doc.Suites {
		// The attributes agree with the testcases they announce.
		var got counts
		for _, c := range s.Cases {
			got.tests++
			if c.Failure != nil {
				got.failures++
			}
			if c.Skipped != nil {
				got.skipped++
			}
			if c.Classname != "postform.batch."+s.Name {
				t.Errorf("testcase %s has classname %q", c.Name, c.Classname)
			}
			cases[c.Name] = c
		}
		if got != want[s.Name] || (counts{s.Tests, s.Failures, s.Skipped}) != got {
			t.Errorf("testsuite %s: attributes %d/%d/%d, testcases %+v; want %+v", s.Name, s.Tests, s.Failures, s.Skipped, got, want[s.Name])
		}
		if s.Timestamp != "2026-11-03T08:30:00" {
			t.Errorf("testsuite %s timestamp = %q", s.Name, s.Timestamp)
		}
	}
	reasons := []struct{ address, typ, msg, text string }{
		{`batch.digest["grace@example.com"]`, "HardBounce", "bounced: HardBounce (recipient deactivated by Postmark)", "bounce_id: 4242"},
		{`batch.digest["heidi@example.com"]`, "SoftBounce", "bounced: SoftBounce", "message_id: " + fakeUUID("heidi@example.com")},
		{`batch.digest["ivan@example.com"]`, "ErrorCode 406", "refused by Postmark (ErrorCode 406): You tried to send to recipient(s) that have been marked as inactive.", "error_code: 406"},
		{`batch.digest["judy@@example.com"]`, "ErrorCode 300", "<script>alert(1)</script>", "error_code: 300"},
	}
	for _, r := range reasons {
		c, ok := cases[r.address]
		if !ok || c.Failure == nil {
			t.Errorf("%s: no failure element", r.address)
			continue
		}
		if c.Failure.Type != r.typ || !strings.Contains(c.Failure.Message, r.msg) || !strings.Contains(c.Failure.Text, r.text) {
			t.Errorf("%s: failure type %q message %q text %q; want %q, %q, %q", r.address, c.Failure.Type, c.Failure.Message, c.Failure.Text, r.typ, r.msg, r.text)
		}
	}
	skips := map[string]string{
		`batch.digest["dave@example.com"]`:   "pending:",
		`batch.digest["frank@example.com"]`:  "transient:",
		`batch.receipts["1001"]`:             "uncertain:",
		`batch.receipts["1002"]`:             "uncertain:",
		`batch.receipts["1003"]`:             "unsent: not accepted by Postmark; last error 429: Rate limit exceeded",
		`batch.welcome["sybil@example.com"]`: `unknown: status "exploded"`,
	}
	for addr, prefix := range skips {
		if c := cases[addr]; c.Skipped == nil || !strings.HasPrefix(c.Skipped.Message, prefix) {
			t.Errorf("%s: skipped = %+v; want a message starting %q", addr, c.Skipped, prefix)
		}
	}
	if c := cases[`batch.digest["ann@example.com"]`]; c.Failure != nil || c.Skipped != nil {
		t.Errorf("delivered message is not a passing testcase: %+v", c)
	}
	// The raw text is escaped, never markup.
	if bytes.Contains(out, []byte("<script>")) {
		t.Error("JUnit report contains an unescaped <script>")
	}
	if !bytes.Contains(out, []byte("<!-- postform delivery report, format_version 1.0, tool_version 0.1.0-test")) {
		t.Error("JUnit report lacks its version comment")
	}
}

func TestJUnitEmptyAndUngrouped(t *testing.T) {
	doc := decodeJUnit(t, render(t, FormatJUnit, nil, Options{}))
	if doc.Name != "postform" || doc.Tests != 0 || len(doc.Suites) != 0 {
		t.Errorf("empty JUnit report = %+v", doc)
	}
	// A source that interleaves batches still gives consistent counts:
	// each run of one batch becomes its own testsuite.
	rec := func(batch, key string, st state.Status) state.Record {
		return state.Record{Address: fmt.Sprintf("batch.%s[%q]", batch, key), Batch: batch, Key: key, Status: st}
	}
	recs := []state.Record{rec("a", "1", state.StatusFailed), rec("b", "2", state.StatusSent), rec("a", "3", state.StatusUnsent)}
	doc = decodeJUnit(t, render(t, FormatJUnit, recs, Options{}))
	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
		if s.Tests != len(s.Cases) {
			t.Errorf("suite %s says %d tests, holds %d", s.Name, s.Tests, len(s.Cases))
		}
	}
	if !slices.Equal(names, []string{"a", "b", "a"}) || doc.Failures != 1 || doc.Skipped != 2 {
		t.Errorf("interleaved batches gave suites %q, failures %d, skipped %d", names, doc.Failures, doc.Skipped)
	}
}

func TestJUnitComment(t *testing.T) {
	got := junitComment(Options{Version: "1.0--rc1"})
	if strings.Contains(got, "--") {
		t.Errorf("junitComment = %q contains --", got)
	}
	enc := xml.NewEncoder(&bytes.Buffer{})
	if err := enc.EncodeToken(xml.Comment(got)); err != nil {
		t.Errorf("comment %q is not valid XML: %v", got, err)
	}
}

func TestHTML(t *testing.T) {
	page := string(render(t, FormatHTML, fixtureRecords(), fixtureOptions()))
	for _, want := range []string{
		"<title>weekly-digest — delivery report</title>",
		"Generated 2026-11-03T08:30:00Z.",
		"21 messages, 4 failed or bounced.",
		`<td class="delivered">delivered</td><td class="n">7</td><td class="n">33.3%</td>`,
		`<td class="bounced">bounced</td><td class="n">2</td>`,
		`<td class="failed">failed</td><td class="n">2</td>`,
		`<td class="uncertain">uncertain</td><td class="n">2</td>`,
		// batches: digest 10 = 3 delivered, 3 pending, 2 bounced, 2 failed, 0 other.
		`<td><code>digest</code></td><td class="n">10</td><td class="n">3</td><td class="n">3</td><td class="n">2</td><td class="n">2</td><td class="n">0</td>`,
		// bounce reasons with deactivation count
		`<tr><td>HardBounce</td><td class="n">1</td><td class="n">1</td></tr>`,
		`<tr><td>SoftBounce</td><td class="n">1</td><td class="n">0</td></tr>`,
		// failure reasons with a sample message
		`<tr><td>406</td><td class="n">1</td><td>You tried to send to recipient(s) that have been marked as inactive.`,
		"for 9 delivered messages; mean ",
		"slowest 45m0s",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// The latency chart's bars carry the bucket counts.
	wantBars := map[string]string{"&lt;1s": "2", "1–5s": "1", "5–30s": "1", "30s–1m": "2", "1–5m": "1", "5–30m": "1", "&gt;30m": "1"}
	for label, n := range wantBars {
		if !strings.Contains(page, "<title>"+label+": "+n+"</title>") {
			t.Errorf("chart lacks bar %s = %s", label, n)
		}
	}
	if got := strings.Count(page, `<rect class="bar"`); got != len(latencyBuckets) {
		t.Errorf("chart has %d bars; want %d", got, len(latencyBuckets))
	}
	// Problem table: the 2 bounced and 2 failed messages, nothing else.
	if got := strings.Count(page, `<td class="bounced">bounced</td><td>`) + strings.Count(page, `<td class="failed">failed</td><td>`); got != 4 {
		t.Errorf("problem table has %d rows; want 4", got)
	}
	// Self-contained and escaped.
	for _, bad := range []string{"http://", "https://", "<link", "<script", "src=", "url(", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("error message with markup is not escaped")
	}
}

func TestHTMLCapsProblemRows(t *testing.T) {
	const n = MaxProblemRows + 5
	recs := make([]state.Record, n)
	for i := range recs {
		key := fmt.Sprintf("u%05d@example.com", i)
		recs[i] = state.Record{Address: fmt.Sprintf("batch.big[%q]", key), Batch: "big", Key: key, Recipients: key,
			Status: state.StatusFailed, ErrorCode: 300 + i%2, ErrorMessage: fmt.Sprintf("bad %d", i)}
	}
	page := string(render(t, FormatHTML, recs, Options{}))
	if got := strings.Count(page, `<td class="failed">failed</td><td>`); got != MaxProblemRows {
		t.Errorf("problem table has %d rows; want %d", got, MaxProblemRows)
	}
	if !strings.Contains(page, "5 more not shown") || !strings.Contains(page, "1,005 messages, 1,005 failed or bounced.") {
		t.Error("HTML lacks the overflow note or the formatted totals")
	}
	// Failure reasons: 503 of code 300 and 502 of code 301, each with the
	// first message seen as its sample.
	re := regexp.MustCompile(`<tr><td>(30[01])</td><td class="n">([0-9,]+)</td><td>(bad \d+)</td></tr>`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(page, -1) {
		got = append(got, m[1]+"="+m[2]+"/"+m[3])
	}
	if !slices.Equal(got, []string{"300=503/bad 0", "301=502/bad 1"}) {
		t.Errorf("failure reasons = %q", got)
	}
}

func TestHTMLEmpty(t *testing.T) {
	page := string(render(t, FormatHTML, nil, Options{}))
	for _, want := range []string{"<title>postform — delivery report</title>", "0 messages, 0 failed or bounced.", "No bounces.", "No failures."} {
		if !strings.Contains(page, want) {
			t.Errorf("empty HTML lacks %q", want)
		}
	}
	if strings.Contains(page, "Generated") {
		t.Error("zero Generated should leave the time out")
	}
}

func TestLatencyBucket(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "<1s"}, {0, "<1s"}, {999 * time.Millisecond, "<1s"}, {time.Second, "1–5s"},
		{5 * time.Second, "5–30s"}, {30 * time.Second, "30s–1m"}, {time.Minute, "1–5m"},
		{5 * time.Minute, "5–30m"}, {30 * time.Minute, ">30m"}, {48 * time.Hour, ">30m"},
	}
	for _, c := range cases {
		if got := latencyBuckets[latencyBucket(c.d)].label; got != c.want {
			t.Errorf("latencyBucket(%v) = %s; want %s", c.d, got, c.want)
		}
	}
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 9812: "9,812", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q; want %q", n, got, want)
		}
	}
}
