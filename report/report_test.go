package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postform/postform/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// render writes the report of format f for recs with opts.
func render(t *testing.T, f Format, recs []state.Record, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, f, sliceSource(recs), opts); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	return buf.Bytes()
}

var goldenName = map[Format]string{
	FormatJSON:  "report.json",
	FormatCSV:   "report.csv",
	FormatJUnit: "report.xml",
	FormatHTML:  "report.html",
}

// checkGolden compares got with testdata/name, or rewrites the file under
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

func TestGolden(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			got := render(t, f, fixtureRecords(), fixtureOptions())
			checkGolden(t, goldenName[f], got)
		})
	}
	t.Run("csv-redacted", func(t *testing.T) {
		opts := fixtureOptions()
		opts.Redact = true
		checkGolden(t, "report-redacted.csv", render(t, FormatCSV, fixtureRecords(), opts))
	})
}

func TestByteStable(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			a := render(t, f, fixtureRecords(), fixtureOptions())
			b := render(t, f, fixtureRecords(), fixtureOptions())
			if !bytes.Equal(a, b) {
				t.Errorf("two runs over the same records differ:\n%s", cmp.Diff(string(a), string(b)))
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"json": FormatJSON, "CSV": FormatCSV, " junit ": FormatJUnit, "Html": FormatHTML} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "xml", "yaml", "jsonl"} {
		if _, err := ParseFormat(in); err == nil || !strings.Contains(err.Error(), "junit") {
			t.Errorf("ParseFormat(%q) = %v; want an error listing the valid formats", in, err)
		}
	}
	if err := Write(context.Background(), &bytes.Buffer{}, Format("pdf"), sliceSource(nil), Options{}); err == nil {
		t.Error("Write accepted format pdf")
	}
}

func TestFormatFromPath(t *testing.T) {
	cases := map[string]Format{"r.json": FormatJSON, "a/b.CSV": FormatCSV, "junit.xml": FormatJUnit, "x.html": FormatHTML, "x.htm": FormatHTML, "x.txt": "", "noext": ""}
	for path, want := range cases {
		got, ok := FormatFromPath(path)
		if got != want || ok != (want != "") {
			t.Errorf("FormatFromPath(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	want := map[string]Outcome{
		"ann@example.com": OutcomeDelivered, "bob@example.com": OutcomeOpened, "carol@example.com": OutcomeClicked,
		"dave@example.com": OutcomePending, "erin@example.com": OutcomePending, "frank@example.com": OutcomeTransient,
		"grace@example.com": OutcomeBounced, "heidi@example.com": OutcomeBounced, "ivan@example.com": OutcomeFailed,
		"judy@@example.com": OutcomeFailed, "1001": OutcomeUncertain, "1002": OutcomeUncertain, "1003": OutcomeUnsent,
		"=1+2": OutcomeDelivered, "@attack": OutcomeDelivered, "olivia@example.com": OutcomeDelivered,
		"peggy@example.com": OutcomeDelivered, "quentin@example.com": OutcomeDelivered,
		"rupert@example.com": OutcomeUnknown, "sybil@example.com": OutcomeUnknown, "zoë@example.com": OutcomeDelivered,
	}
	recs := fixtureRecords()
	if len(recs) != len(want) {
		t.Fatalf("fixture has %d records, table %d", len(recs), len(want))
	}
	for _, r := range recs {
		if got := OutcomeOf(r); got != want[r.Key] {
			t.Errorf("OutcomeOf(%s) = %q; want %q", r.Address, got, want[r.Key])
		}
	}
	if got := OutcomeOf(state.Record{}); got != OutcomeUnsent {
		t.Errorf("OutcomeOf(zero record) = %q; want unsent", got)
	}
}

func TestSummarize(t *testing.T) {
	s, err := Summarize(context.Background(), sliceSource(fixtureRecords()))
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome := map[Outcome]int{
		OutcomeDelivered: 7, OutcomeOpened: 1, OutcomeClicked: 1, OutcomePending: 2, OutcomeTransient: 1,
		OutcomeBounced: 2, OutcomeFailed: 2, OutcomeUncertain: 2, OutcomeUnsent: 1, OutcomeUnknown: 2,
	}
	if s.Total != 21 {
		t.Errorf("Total = %d; want 21", s.Total)
	}
	if diff := cmp.Diff(wantOutcome, s.ByOutcome); diff != "" {
		t.Errorf("ByOutcome (-want +got):\n%s", diff)
	}
	if s.Failures() != 4 {
		t.Errorf("Failures() = %d; want 4", s.Failures())
	}
	wantStatus := map[string]int{"sent": 15, "failed": 2, "uncertain": 1, "sending": 1, "unsent": 1, "exploded": 1, "none": 0}
	if diff := cmp.Diff(wantStatus, s.ByStatus); diff != "" {
		t.Errorf("ByStatus (-want +got):\n%s", diff)
	}
	if s.ByDelivery["none"] != 7 || s.ByDelivery["bounced"] != 2 || s.ByDelivery["spam_complaint"] != 1 {
		t.Errorf("ByDelivery = %v", s.ByDelivery)
	}
	var names []string
	totals := 0
	for _, b := range s.Batches {
		names = append(names, b.Name)
		totals += b.Total
	}
	if !slices.Equal(names, []string{"digest", "receipts", "welcome"}) || totals != 21 {
		t.Errorf("Batches = %v (total %d)", names, totals)
	}
	if s.Batches[0].ByOutcome[OutcomeBounced] != 2 || s.Batches[1].ByOutcome[OutcomeUncertain] != 2 {
		t.Errorf("per-batch outcomes wrong: %+v", s.Batches)
	}

	if _, err := Summarize(context.Background(), failingSource(fixtureRecords(), 3)); !errors.Is(err, errBoom) {
		t.Errorf("Summarize over a failing source = %v; want errBoom", err)
	}
}

func TestStatusFilter(t *testing.T) {
	recs := fixtureRecords()
	keys := func(words ...string) []string {
		t.Helper()
		f, err := ParseStatusFilter(words)
		if err != nil {
			t.Fatalf("ParseStatusFilter(%q): %v", words, err)
		}
		var out []string
		for _, r := range recs {
			if f.Match(r) {
				out = append(out, r.Key)
			}
		}
		return out
	}
	cases := []struct {
		words []string
		want  []string
	}{
		{[]string{"failed"}, []string{"ivan@example.com", "judy@@example.com"}},
		{[]string{"Bounced, FAILED"}, []string{"grace@example.com", "heidi@example.com", "ivan@example.com", "judy@@example.com"}},
		{[]string{"pending"}, []string{"dave@example.com", "erin@example.com"}},
		{[]string{"uncertain", "unsent"}, []string{"1001", "1002", "1003"}},
		{[]string{"suppressed"}, []string{"grace@example.com"}},
		{[]string{"opened", "clicked"}, []string{"bob@example.com", "carol@example.com"}},
		{[]string{"unknown"}, []string{"rupert@example.com", "sybil@example.com"}},
		// delivered includes opened and clicked.
		{[]string{"delivered"}, []string{"ann@example.com", "bob@example.com", "carol@example.com", "=1+2", "@attack", "olivia@example.com", "peggy@example.com", "quentin@example.com", "zoë@example.com"}},
	}
	for _, c := range cases {
		if got := keys(c.words...); !slices.Equal(got, c.want) {
			t.Errorf("filter %q selects %q; want %q", c.words, got, c.want)
		}
	}
	// "sent" is every accepted message: 15 with status sent.
	if got := keys("sent"); len(got) != 15 {
		t.Errorf("filter sent selects %d; want 15", len(got))
	}
	// No words: everything.
	if got := keys(); len(got) != len(recs) {
		t.Errorf("empty filter selects %d; want %d", len(got), len(recs))
	}
	_, err := ParseStatusFilter([]string{"failed,bogus"})
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), "suppressed") {
		t.Errorf("ParseStatusFilter(bogus) = %v; want an error naming the word and listing valid ones", err)
	}
	if err := Write(context.Background(), &bytes.Buffer{}, FormatCSV, sliceSource(recs), Options{Statuses: []string{"bogus"}}); err == nil {
		t.Error("Write accepted an unknown status word")
	}
}

func TestFilterAppliesToEveryFormat(t *testing.T) {
	opts := fixtureOptions()
	opts.Statuses = []string{"bounced"}

	rows, err := csv.NewReader(bytes.NewReader(render(t, FormatCSV, fixtureRecords(), opts))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][2] != "grace@example.com" || rows[2][2] != "heidi@example.com" {
		t.Errorf("CSV with filter bounced: %q", rows)
	}

	doc := decodeJSON(t, render(t, FormatJSON, fixtureRecords(), opts))
	if doc.Summary.Total != 2 || len(doc.Messages) != 2 || !slices.Equal(doc.Filter, []string{"bounced"}) {
		t.Errorf("JSON with filter bounced: total %d, %d messages, filter %q", doc.Summary.Total, len(doc.Messages), doc.Filter)
	}

	suites := decodeJUnit(t, render(t, FormatJUnit, fixtureRecords(), opts))
	if suites.Tests != 2 || suites.Failures != 2 || len(suites.Suites) != 1 {
		t.Errorf("JUnit with filter bounced: %+v", suites)
	}

	page := string(render(t, FormatHTML, fixtureRecords(), opts))
	if !strings.Contains(page, "2 messages, 2 failed or bounced.") || !strings.Contains(page, "Showing only: bounced.") {
		t.Errorf("HTML with filter bounced lacks its summary line")
	}
}

func TestRedactEmail(t *testing.T) {
	cases := map[string]string{
		"ann@example.com": "a***@example.com",
		"a@example.com":   "a***@example.com",
		"zoë@example.com": "z***@example.com",
		"élise@x.fr":      "é***@x.fr",
		"@example.com":    "***@example.com",
		"no-at-sign":      "no-at-sign",
	}
	for in, want := range cases {
		if got := RedactEmail(in); got != want {
			t.Errorf("RedactEmail(%q) = %q; want %q", in, got, want)
		}
	}
	texts := map[string]string{
		`batch.digest["ann@example.com"]`:                `batch.digest["a***@example.com"]`,
		"Ann Example <ann@example.com>, bob@example.org": "Ann Example <a***@example.com>, b***@example.org",
		"Found inactive addresses: ivan@example.com.":    "Found inactive addresses: i***@example.com.",
		"Invalid 'To' address: 'judy@@example.com'.":     "Invalid 'To' address: 'j***@@example.com'.",
		`batch.receipts["1001"]`:                         `batch.receipts["1001"]`,
		"Rate limit exceeded":                            "Rate limit exceeded",
		"x+tag@sub.example.com;y.z@example.com":          "x***@sub.example.com;y***@example.com",
	}
	for in, want := range texts {
		if got := RedactText(in); got != want {
			t.Errorf("RedactText(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestRedactEveryFormat(t *testing.T) {
	// Masked forms each format must show: JSON and CSV show every
	// recipient, JUnit names every message by address, HTML lists only
	// failed and bounced messages.
	wantMasked := map[Format][]string{
		FormatJSON:  {`batch.digest[\"a***@example.com\"]`, "i***@example.com", "w***@example.com", "z***@example.com"},
		FormatCSV:   {`batch.digest[""a***@example.com""]`, "i***@example.com", "w***@example.com", "z***@example.com"},
		FormatJUnit: {`batch.digest[&#34;a***@example.com&#34;]`, "i***@example.com", "z***@example.com"},
		FormatHTML:  {`batch.digest[&#34;g***@example.com&#34;]`, "i***@example.com", "j***@@example.com"},
	}
	opts := fixtureOptions()
	opts.Redact = true
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			out := string(render(t, f, fixtureRecords(), opts))
			for _, email := range fixtureEmails {
				local := email[:strings.IndexByte(email, '@')]
				// The local part followed by "@" never survives, in any
				// escaping the format applies to the text around it.
				if strings.Contains(out, local+"@") {
					t.Errorf("%s report leaks %q", f, email)
				}
			}
			for _, masked := range wantMasked[f] {
				if !strings.Contains(out, masked) {
					t.Errorf("%s report lacks the masked address %q", f, masked)
				}
			}
		})
	}
}
