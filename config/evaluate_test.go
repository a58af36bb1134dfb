package config

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

func TestDefaults(t *testing.T) {
	ev, msgs := mustMessages(t, files(map[string]string{"main.pf.hcl": minimalBatch}), Inputs{Env: map[string]string{"POSTMARK_SERVER_TOKEN": "tok"}})
	if ev.Postmark.ServerToken != "tok" || ev.Postmark.BaseURL != DefaultBaseURL || ev.Postmark.MessageStream != "outbound" {
		t.Errorf("postmark defaults = %+v", ev.Postmark)
	}
	want := Runner{Parallelism: 4, RateLimit: 20, BatchSize: 500, MaxErrors: 100}
	if !cmp.Equal(ev.Runner, want) {
		t.Errorf("runner defaults: %s", cmp.Diff(want, ev.Runner))
	}
	if len(msgs) != 1 || msgs[0].Address != "batch.b" || msgs[0].Key != "" || msgs[0].MessageStream != "outbound" {
		t.Errorf("single message = %+v", msgs)
	}
	if ev.Reports == nil || ev.Variables == nil {
		t.Errorf("Reports and Variables must be empty slices, not nil")
	}
}

func TestSettings(t *testing.T) {
	ev, _ := mustMessages(t, files(map[string]string{"main.pf.hcl": minimalBatch + `
postmark {
  server_token   = env("PM_TOKEN")
  base_url       = "http://127.0.0.1:8080/"
  message_stream = "broadcast"
}
runner {
  parallelism = 8
  rate_limit  = 0
  batch_size  = 100
  max_errors  = 0
  send_window = { not_before = "2026-11-02T08:00:00Z", not_after = "2026-11-02T20:00:00+01:00" }
}
report {
  path = "reports/out.xml"
}
report {
  path   = "out.txt"
  format = "json"
}
`}), Inputs{Env: map[string]string{"PM_TOKEN": "secret-token"}})
	if ev.Postmark.ServerToken != "secret-token" || ev.Postmark.BaseURL != "http://127.0.0.1:8080" || ev.Postmark.MessageStream != "broadcast" {
		t.Errorf("postmark = %+v", ev.Postmark)
	}
	if ev.Runner.Parallelism != 8 || ev.Runner.RateLimit != 0 || ev.Runner.BatchSize != 100 || ev.Runner.MaxErrors != 0 {
		t.Errorf("runner = %+v", ev.Runner)
	}
	w := ev.Runner.SendWindow
	if w == nil || !w.NotBefore.Equal(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)) || !w.NotAfter.Equal(time.Date(2026, 11, 2, 19, 0, 0, 0, time.UTC)) {
		t.Errorf("send window = %+v", w)
	}
	if len(ev.Reports) != 2 || ev.Reports[0].Format != "junit" || ev.Reports[0].Path != "reports/out.xml" || ev.Reports[1].Format != "json" {
		t.Errorf("reports = %+v", ev.Reports)
	}
	if _, ok := ev.Snapshot.Env["PM_TOKEN"]; ok {
		t.Errorf("the token's environment variable was recorded in the snapshot")
	}
}

func TestForEachKinds(t *testing.T) {
	fsys := files(map[string]string{"main.pf.hcl": `
locals {
  people = [{ email = "b@example.com", name = "B" }, { email = "a@example.com", name = "A" }]
}

batch "map" {
  for_each = { for p in local.people : p.email => p }
  from     = "news@acme.example"
  to       = each.value.email
  text     = "Hi ${each.value.name} (${each.key})"
}

batch "set" {
  for_each = toset(["x@example.com", "y@example.com"])
  from     = "news@acme.example"
  to       = each.value
  text     = "Hi ${each.key}"
}

batch "object" {
  for_each = { "quote\"key" = "q@example.com", "tmpl${"$"}{x}" = "t@example.com" }
  from     = "news@acme.example"
  to       = each.value
  text     = "Hi"
}
`})
	_, msgs := mustMessages(t, fsys, Inputs{})
	var got []string
	for _, m := range msgs {
		got = append(got, m.Address+" "+m.To+" "+m.TextBody)
	}
	want := []string{
		`batch.map["a@example.com"] a@example.com Hi A (a@example.com)`,
		`batch.map["b@example.com"] b@example.com Hi B (b@example.com)`,
		`batch.set["x@example.com"] x@example.com Hi x@example.com`,
		`batch.set["y@example.com"] y@example.com Hi y@example.com`,
		`batch.object["quote\"key"] q@example.com Hi`,
		`batch.object["tmpl$${x}"] t@example.com Hi`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestMessageFields(t *testing.T) {
	fsys := files(map[string]string{
		"main.pf.hcl": `
batch "full" {
  for_each    = { k = { email = "ann@example.com", id = 7 } }
  from        = "Acme <news@acme.example>"
  to          = "Ann <${each.value.email}>, bob@example.com"
  cc          = "cc@example.com"
  bcc         = "bcc@example.com"
  reply_to    = "help@acme.example"
  tag         = "t-${each.key}"
  metadata    = { id = each.value.id, kind = "digest" }
  headers     = { "X-Campaign" = "nov", "X-Key" = each.key }
  track_opens = false
  track_links = "HtmlOnly"
  attachments = [
    { name = "note.txt", content = "hello" },
    { path = "files/invoice.pdf", content_id = "cid:inv" },
    { name = "data.dat", path = "files/invoice.pdf", content_type = "application/x-custom" },
  ]
  html = "<p>x</p>"
}

batch "list_headers" {
  from    = "news@acme.example"
  to      = "ann@example.com"
  text    = "x"
  headers = [{ name = "X-A", value = "1" }, { name = "X-B", value = "2" }]
  message_stream = "broadcast"
}

batch "server" {
  for_each = { r1 = "12.50" }
  from     = "billing@acme.example"
  to       = "ann@example.com"
  postmark_template {
    id    = 1234
    model = { amount = each.value, items = [1, 2], nested = { ok = true } }
  }
}
`,
		"files/invoice.pdf": "%PDF-\x00\x01binary",
	})
	ev, msgs := mustMessages(t, fsys, Inputs{})
	if len(msgs) != 3 {
		t.Fatalf("got %d messages", len(msgs))
	}
	no := false
	want := &Message{
		Address: `batch.full["k"]`, Batch: "full", Key: "k",
		From: "Acme <news@acme.example>", To: "Ann <ann@example.com>, bob@example.com", Cc: "cc@example.com",
		Bcc: "bcc@example.com", ReplyTo: "help@acme.example", HTMLBody: "<p>x</p>", Tag: "t-k",
		Metadata:   map[string]string{"id": "7", "kind": "digest"},
		Headers:    []Header{{"X-Campaign", "nov"}, {"X-Key", "k"}},
		TrackOpens: &no, TrackLinks: "HtmlOnly", MessageStream: "outbound",
		Attachments: []Attachment{
			{Name: "note.txt", ContentType: "text/plain", Content: []byte("hello")},
			{Name: "invoice.pdf", ContentType: "application/pdf", ContentID: "cid:inv", Content: []byte("%PDF-\x00\x01binary")},
			{Name: "data.dat", ContentType: "application/x-custom", Content: []byte("%PDF-\x00\x01binary")},
		},
	}
	if diff := cmp.Diff(want, msgs[0], cmpopts.IgnoreFields(Message{}, "Range")); diff != "" {
		t.Errorf("full message (-want +got):\n%s", diff)
	}
	if got := msgs[1]; len(got.Headers) != 2 || got.Headers[1] != (Header{"X-B", "2"}) || got.MessageStream != "broadcast" {
		t.Errorf("list headers message = %+v", got)
	}
	if ev.Batches[1].Stream != "broadcast" || ev.Batches[0].Stream != "outbound" {
		t.Errorf("batch streams = %q, %q", ev.Batches[0].Stream, ev.Batches[1].Stream)
	}
	srv := msgs[2]
	if !ev.Batches[2].UsesServerTemplate || srv.TemplateID != 1234 || string(srv.TemplateModel) != `{"amount":"12.50","items":[1,2],"nested":{"ok":true}}` {
		t.Errorf("server template message = %+v model %s", srv, srv.TemplateModel)
	}
	if _, ok := ev.FullSnapshot().Files["files/invoice.pdf"]; !ok {
		t.Errorf("attachment read while iterating is missing from FullSnapshot")
	}
}

// TestCSVDiagnostics checks that problems in data rows point at the data
// file, row and field, and that details name the message address.
func TestCSVDiagnostics(t *testing.T) {
	fsys := files(map[string]string{
		"main.pf.hcl": `
batch "digest" {
  for_each = { for i, r in csvfile("subscribers.csv") : r.email => merge(r, { row = i }) if r.opted_in != "no" }
  from     = "news@acme.example"
  to       = each.value.email
  text     = "Hello ${each.value.name} #${each.value.row}"
}

batch "rows" {
  for_each = { for r in csvfile("subscribers.csv") : r.email => r }
  from     = "news@acme.example"
  to       = each.value.email
  text     = "Hello ${each.value.name}"
}
`,
		"subscribers.csv": "email,name,opted_in\nann@example.com,Ann,yes\n\nbob@,Bob,yes\n\"cyd@example.com\",\"Cyd, Jr\",no\nann@example.com,Ann again,yes\nshort,row\n",
	})
	_, msgs, diags := evalFiles(t, fsys, Inputs{})
	var got []string
	for _, m := range msgs {
		got = append(got, m.Address+" "+m.TextBody+" @"+m.Range.String())
	}
	want := []string{
		`batch.digest["ann@example.com"] Hello Ann #0 @subscribers.csv:2,1-24`,
		`batch.digest["bob@"] Hello Bob #1 @subscribers.csv:4,1-13`,
		`batch.digest["ann@example.com"] Hello Ann again #3 @subscribers.csv:6,1-30`,
		`batch.digest  @subscribers.csv:7,1-10`,
		`batch.rows["ann@example.com"] Hello Ann @subscribers.csv:2,1-24`,
		`batch.rows["bob@"] Hello Bob @subscribers.csv:4,1-13`,
		`batch.rows["cyd@example.com"] Hello Cyd, Jr @subscribers.csv:5,1-31`,
		`batch.rows["ann@example.com"] Hello Ann again @subscribers.csv:6,1-30`,
		`batch.rows  @subscribers.csv:7,1-10`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	var gotDiags []string
	for _, d := range diags {
		gotDiags = append(gotDiags, d.Subject.String()+" "+d.Summary+": "+d.Detail[:strings.Index(d.Detail, ":")])
	}
	wantDiags := []string{
		`subscribers.csv:4,1-13 Invalid recipient address: batch.digest["bob@"]`,
		`subscribers.csv:6,1-30 Duplicate for_each key: batch.digest["ann@example.com"]`,
		`subscribers.csv:7,1-10 Invalid data row: subscribers.csv row 7`,
		`subscribers.csv:4,1-5 Invalid recipient address: batch.rows["bob@"]`,
		`subscribers.csv:6,1-30 Duplicate for_each key: batch.rows["ann@example.com"]`,
		`subscribers.csv:7,1-10 Invalid data row: subscribers.csv row 7`,
	}
	if diff := cmp.Diff(wantDiags, gotDiags); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	// The data file is available for source snippets.
	var buf bytes.Buffer
	p := NewParser(fsys)
	cfg, _ := p.LoadConfig()
	ev, _ := cfg.Evaluate(Inputs{})
	for _, d := range collect(ev.Batches[0]) {
		if d.Summary == "Invalid recipient address" {
			wr := hcl.NewDiagnosticTextWriter(&buf, p.Files(), 120, false)
			if err := wr.WriteDiagnostic(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !strings.Contains(buf.String(), "bob@,Bob,yes") || !strings.Contains(buf.String(), "through the to argument at") {
		t.Errorf("rendered diagnostic lacks the data row snippet or the argument note:\n%s", buf.String())
	}
}

func collect(b *Batch) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, d := range b.Messages() {
		diags = append(diags, d...)
	}
	return diags
}

// TestFastPathFallbacks checks that expressions the compiled fast paths
// cannot handle still evaluate (or fail) exactly as HCL would.
func TestFastPathFallbacks(t *testing.T) {
	fsys := files(map[string]string{
		"main.pf.hcl": `
batch "numbers" {
  for_each = { for r in csvfile("d.csv") : r.id => r if r.id != 2 }
  from     = "news@acme.example"
  to       = "${each.value.email}"
  text     = "id ${each.value.id}"
}

batch "typo" {
  for_each = { for r in csvfile("d.csv") : r.email => r }
  from     = "news@acme.example"
  to       = each.value.emial
  text     = "x"
}

batch "typo_in_for" {
  for_each = { for r in csvfile("d.csv") : r.mail => r }
  from     = "news@acme.example"
  to       = each.value.email
  text     = "x"
}
`,
		"d.csv": "id,email\n1,a@example.com\n2,b@example.com\n",
	})
	_, msgs, diags := evalFiles(t, fsys, Inputs{})
	// r.id != 2 compares a string with a number: always true in HCL.
	if len(msgs) < 2 || msgs[0].Address != `batch.numbers["1"]` || msgs[1].Address != `batch.numbers["2"]` || msgs[1].To != "b@example.com" {
		t.Fatalf("messages = %v", addresses(msgs))
	}
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, d.Subject.Filename+":"+d.Summary)
	}
	want := []string{"main.pf.hcl:Unsupported attribute", "main.pf.hcl:Unsupported attribute", "main.pf.hcl:Unsupported attribute", "main.pf.hcl:Unsupported attribute"}
	if diff := cmp.Diff(want, summaries); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s\n%v", diff, diags)
	}
	if !strings.Contains(diags[0].Detail, `Did you mean "email"?`) {
		t.Errorf("detail %q lacks the suggestion", diags[0].Detail)
	}
}

func addresses(msgs []*Message) []string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Address)
	}
	return s
}

func TestMessagesReiterate(t *testing.T) {
	_, ev := mustEvaluate(t, streamFS(50), Inputs{})
	b := ev.Batches[0]
	var first, second []string
	for m := range b.Messages() {
		first = append(first, m.Address+m.HTMLBody)
	}
	for m := range b.Messages() {
		second = append(second, m.Address+m.HTMLBody)
	}
	if len(first) != 50 || !cmp.Equal(first, second) {
		t.Errorf("iterations differ: %d vs %d messages", len(first), len(second))
	}
	n := 0
	for range b.Messages() {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("early break: %d", n)
	}
}

func TestLocalsOrder(t *testing.T) {
	_, msgs := mustMessages(t, files(map[string]string{
		"a.pf.hcl": `
locals {
  greeting = "${local.word}, ${local.name}"
}
batch "b" {
  from = "news@acme.example"
  to   = "ann@example.com"
  text = local.greeting
}
`,
		"b.pf.hcl": `
locals {
  name = upper(local.word)
}
locals {
  word = "hello"
}
`,
	}), Inputs{})
	if msgs[0].TextBody != "hello, HELLO" {
		t.Errorf("text = %q", msgs[0].TextBody)
	}
}

// TestSnapshotRoundTrip evaluates a configuration, re-parses it from its
// snapshot, and expects identical messages; the token must not be in the
// snapshot.
func TestSnapshotRoundTrip(t *testing.T) {
	fsys := dirFS(t, "testdata/valid-files", "spec_example")
	fsys["attach.txt"] = nil
	delete(fsys, "attach.txt")
	in := Inputs{
		Env:      map[string]string{"POSTMARK_SERVER_TOKEN": "pm-secret-token", "PF_VAR_campaign": "from-env", "UNRELATED": "x"},
		Vars:     nil,
		VarFiles: []VarFile{{Name: "extra.pfvars", Src: []byte(`campaign = "from-file"`)}},
	}
	ev, msgs := mustMessages(t, fsys, in)
	snap := ev.FullSnapshot()
	for name := range fsys {
		if _, ok := snap.Files[name]; !ok {
			t.Errorf("snapshot lacks %s", name)
		}
	}
	if _, ok := snap.Env["UNRELATED"]; ok {
		t.Errorf("snapshot recorded an environment variable nobody read")
	}
	if snap.Env["PF_VAR_campaign"] != "from-env" {
		t.Errorf("snapshot env = %v", snap.Env)
	}
	for name, v := range snap.Env {
		if strings.Contains(v, "pm-secret-token") {
			t.Errorf("snapshot env %s holds the token", name)
		}
	}
	for name, data := range snap.Files {
		if bytes.Contains(data, []byte("pm-secret-token")) {
			t.Errorf("snapshot file %s holds the token", name)
		}
	}

	ev2, msgs2 := mustMessages(t, snap.FS().(fsMap), snap.Inputs())
	if diff := cmp.Diff(msgs, msgs2); diff != "" {
		t.Errorf("messages after the round trip (-before +after):\n%s", diff)
	}
	if ev2.Postmark.ServerToken != "" {
		t.Errorf("re-evaluation from the snapshot found a token")
	}
}

func TestHCLQuote(t *testing.T) {
	for in, want := range map[string]string{
		"ann@example.com": `"ann@example.com"`,
		"a\"b\\c":         `"a\"b\\c"`,
		"line\nnext\tx":   `"line\nnext\tx"`,
		"${x} %{y} $ %":   `"$${x} %%{y} $ %"`,
		"\x01ünï":         `"\u0001ünï"`,
	} {
		if got := hclQuote(in); got != want {
			t.Errorf("hclQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestConcurrentIteration runs several iterators of one batch at once (run
// it with -race) and takes snapshots meanwhile.
func TestConcurrentIteration(t *testing.T) {
	_, ev := mustEvaluate(t, streamFS(300), Inputs{})
	b := ev.Batches[0]
	results := make(chan []string, 3)
	for range 3 {
		go func() {
			var got []string
			for m := range b.Messages() {
				got = append(got, m.Address+m.Subject+m.HTMLBody)
				_ = ev.FullSnapshot()
			}
			results <- got
		}()
	}
	first := <-results
	for range 2 {
		if other := <-results; !cmp.Equal(first, other) {
			t.Errorf("concurrent iterations differ")
		}
	}
	if len(first) != 300 {
		t.Errorf("got %d messages, want 300", len(first))
	}
}

func TestMalformedCSVStops(t *testing.T) {
	fsys := files(map[string]string{
		"main.pf.hcl": `
batch "b" {
  for_each = { for r in csvfile("d.csv") : r.email => r }
  from     = "news@acme.example"
  to       = each.value.email
  text     = "x"
}
`,
		"d.csv": "email\na@example.com\n\"b@example.com\n",
	})
	_, msgs, diags := evalFiles(t, fsys, Inputs{})
	if len(msgs) != 2 || msgs[0].Address != `batch.b["a@example.com"]` || msgs[1].Key != "" {
		t.Errorf("messages = %v", addresses(msgs))
	}
	if len(diags) != 1 || diags[0].Summary != "Invalid data file" || diags[0].Subject.Filename != "d.csv" {
		t.Errorf("diags = %v", diags)
	}
}

func TestTemplateFileFunction(t *testing.T) {
	_, msgs := mustMessages(t, files(map[string]string{
		"main.pf.hcl": `
batch "b" {
  for_each = { a = "Ann" }
  from     = "news@acme.example"
  to       = "ann@example.com"
  subject  = "Hi ${each.value}"
  text     = templatefile("body.tmpl", { name = each.value, items = ["x", "y"] })
}
`,
		"body.tmpl": "Dear ${name}:%{ for i in items } ${i}%{ endfor }",
	}), Inputs{})
	if msgs[0].TextBody != "Dear Ann: x y" || msgs[0].Subject != "Hi Ann" {
		t.Errorf("message = %q / %q", msgs[0].Subject, msgs[0].TextBody)
	}
}

// TestSuggestions checks the "did you mean" hints of common typos.
func TestSuggestions(t *testing.T) {
	load := func(src string) hcl.Diagnostics {
		diags, _ := evaluateAll(t, files(map[string]string{"main.pf.hcl": src}))
		return diags
	}
	for _, tc := range []struct{ src, want string }{
		{"batchh \"x\" {}", `Did you mean "batch"?`},
		{"batch \"b\" {\n from = \"a@b.c\"\n to = \"x@y.z\"\n form = 1\n text = \"x\"\n}", `Did you mean "from"?`},
		{"variable \"campaign\" { default = 1 }\nbatch \"b\" {\n from = \"a@b.c\"\n to = \"x@y.z\"\n text = var.campain\n}", `Did you mean "campaign"?`},
		{"locals {\n greeting = 1\n}\nbatch \"b\" {\n from = \"a@b.c\"\n to = \"x@y.z\"\n text = local.greting\n}", `Did you mean "greeting"?`},
		{"template \"digest\" {\n text = \"x\"\n}\nbatch \"b\" {\n from = \"a@b.c\"\n to = \"x@y.z\"\n template = template.digset\n}", `Did you mean "digest"?`},
		{"batch \"b\" {\n for_each = { a = 1 }\n from = \"a@b.c\"\n to = \"x@y.z\"\n data = { first_name = \"A\" }\n text = \"${frist_name}\"\n}", `Did you mean "first_name"?`},
		{"batch \"b\" {\n from = \"a@b.c\"\n to = \"x@y.z\"\n text = \"x\"\n track_links = \"HTMLOnly\"\n}", `Did you mean "HtmlOnly"?`},
	} {
		diags := load(tc.src)
		if len(diags) == 0 || !strings.Contains(diags[0].Detail, tc.want) {
			t.Errorf("config:\n%s\ndiagnostics %v, want the first to say %s", tc.src, diags, tc.want)
		}
	}
}

// TestEvaluateTwice checks that a Config can be evaluated again, with other
// inputs, without the first evaluation leaking into the second.
func TestEvaluateTwice(t *testing.T) {
	p := NewParser(files(map[string]string{"main.pf.hcl": `
variable "name" {}
batch "b" {
  for_each = { a = "ann@example.com" }
  from     = "news@acme.example"
  to       = each.value
  html     = "<p>${var.name}</p>"
}
`}))
	cfg, diags := p.LoadConfig()
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	render := func(name string) string {
		ev, diags := cfg.Evaluate(Inputs{Vars: []string{"name=" + name}})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		for m := range ev.Batches[0].Messages() {
			return m.HTMLBody
		}
		return ""
	}
	if a, b := render("<A>"), render("B"); a != "<p>&lt;A&gt;</p>" || b != "<p>B</p>" {
		t.Errorf("renders = %q, %q", a, b)
	}
}
