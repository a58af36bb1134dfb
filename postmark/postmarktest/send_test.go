package postmarktest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHeadersAndToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Token: "secret-token-123"})
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		edit       func(http.Header)
		wantStatus int
		wantCode   int
	}{
		{"no Accept", "POST", "/email", msg("a@example.com"), func(h http.Header) { h.Del("Accept") }, 415, 0},
		{"Accept text/html", "GET", "/bounces?count=1&offset=0", nil, func(h http.Header) { h.Set("Accept", "text/html") }, 415, 0},
		{"no Content-Type with body", "POST", "/email", msg("a@example.com"), func(h http.Header) { h.Del("Content-Type") }, 415, 0},
		{"Content-Type text/plain", "POST", "/email", msg("a@example.com"), func(h http.Header) { h.Set("Content-Type", "text/plain") }, 415, 0},
		{"no token", "POST", "/email", msg("a@example.com"), func(h http.Header) { h.Del("X-Postmark-Server-Token") }, 401, codeBadToken},
		{"wrong token", "GET", "/bounces?count=1&offset=0", nil, func(h http.Header) { h.Set("X-Postmark-Server-Token", "nope") }, 401, codeBadToken},
		{"lower-case header name and value", "POST", "/email", msg("a@example.com"), func(h http.Header) {
			h.Del("X-Postmark-Server-Token")
			h["x-postmark-server-token"] = []string{"SECRET-TOKEN-123"}
		}, 200, codeOK},
		{"Accept list with charset", "POST", "/email", msg("a@example.com"), func(h http.Header) {
			h.Set("Accept", "text/plain, application/json; charset=utf-8")
			h.Set("Content-Type", "application/json; charset=utf-8")
		}, 200, codeOK},
		{"GET without Content-Type", "GET", "/bounces?count=1&offset=0", nil, func(h http.Header) { h.Del("Content-Type") }, 200, codeOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := callWith(t, s, tc.method, tc.path, tc.body, tc.edit)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.wantStatus, r.body)
			}
			if strings.Contains(string(r.body), "secret-token-123") {
				t.Errorf("response leaks the token: %s", r.body)
			}
			if tc.wantStatus == 200 {
				return
			}
			e := r.apiErr(t)
			if e.ErrorCode != tc.wantCode || e.Message == "" {
				t.Errorf("envelope = %+v, want ErrorCode %d with a message", e, tc.wantCode)
			}
			if got := r.header.Get("X-PM-ApiErrorCode"); got != fmt.Sprint(tc.wantCode) {
				t.Errorf("X-PM-ApiErrorCode = %q, want %d", got, tc.wantCode)
			}
		})
	}
}

func TestAcceptAnyToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{AcceptAnyToken: true})
	r := callWith(t, s, "POST", "/email", msg("a@example.com"), func(h http.Header) { h.Set("X-Postmark-Server-Token", "whatever") })
	if r.status != 200 {
		t.Fatalf("status = %d, body %s", r.status, r.body)
	}
	r = callWith(t, s, "POST", "/email", msg("a@example.com"), func(h http.Header) { h.Del("X-Postmark-Server-Token") })
	if r.status != 401 {
		t.Fatalf("empty token: status = %d, want 401", r.status)
	}
}

func TestSingleSendValidation(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Streams: []string{"receipts"}})
	s.Suppress("outbound", "gone@example.com")
	s.Suppress("outbound", "gone2@example.com")
	long := func(n int) string { return strings.Repeat("x", n) }
	meta := func(n int) map[string]string {
		m := make(map[string]string)
		for i := 0; i < n; i++ {
			m[fmt.Sprintf("k%d", i)] = "v"
		}
		return m
	}
	base := msg("ann@example.com")
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantCode   int
		wantMsg    string // substring of Message
	}{
		{"valid", base, 200, 0, "OK"},
		{"valid with names and lists", with(with(base, "To", `"Ann, A." <ann@example.com>, bob@example.com`), "Cc", "Cy <cy@example.com>"), 200, 0, "OK"},
		{"invalid JSON", `{"From": `, 422, codeInvalidJSON, "invalid JSON"},
		{"trailing garbage", `{"From":"a@b.c"} x`, 422, codeInvalidJSON, "invalid JSON"},
		{"empty body", ``, 422, codeInvalidJSON, "invalid JSON"},
		{"unknown field", with(base, "Foo", 1), 422, codeInvalidField, "Foo"},
		{"InlineCss is not an /email field", with(base, "InlineCss", true), 422, codeInvalidField, "InlineCss"},
		{"wrong type", with(base, "TrackOpens", "yes"), 422, codeInvalidField, "TrackOpens"},
		{"metadata not strings", with(base, "Metadata", map[string]any{"n": 1}), 422, codeInvalidField, "Metadata"},
		{"missing From", with(base, "From", nil), 422, codeInvalidRequest, "'From'"},
		{"bad From", with(base, "From", "not an address"), 422, codeInvalidRequest, "Invalid 'From' address: 'not an address'"},
		{"From too long", with(base, "From", long(250)+"@example.com"), 422, codeInvalidRequest, "'From' field is too long"},
		{"missing To", with(base, "To", nil), 422, codeInvalidRequest, "Zero recipients"},
		{"bad To", with(base, "To", "test"), 422, codeInvalidRequest, "Invalid 'To' address: 'test'."},
		{"bad Cc", with(base, "Cc", "x@"), 422, codeInvalidRequest, "Invalid 'Cc' address"},
		{"bad Bcc", with(base, "Bcc", "a@b.c, nope"), 422, codeInvalidRequest, "Invalid 'Bcc' address"},
		{"bad ReplyTo", with(base, "ReplyTo", "nope"), 422, codeInvalidRequest, "'ReplyTo'"},
		{"51 recipients", with(with(base, "Cc", recipients(30)), "Bcc", recipients(20)), 422, codeInvalidRequest, "50 recipients"},
		{"50 recipients", with(with(base, "Cc", recipients(29)), "Bcc", recipients(20)), 200, 0, "OK"},
		{"no body", with(base, "TextBody", nil), 422, codeInvalidRequest, "TextBody or HtmlBody"},
		{"html body only", with(with(base, "TextBody", nil), "HtmlBody", "<p>x</p>"), 200, 0, "OK"},
		{"subject 2000", with(base, "Subject", long(2000)), 200, 0, "OK"},
		{"subject 2001", with(base, "Subject", long(2001)), 422, codeInvalidRequest, "'Subject'"},
		{"subject counted in UTF-16", with(base, "Subject", strings.Repeat("😀", 1001)), 422, codeInvalidRequest, "'Subject'"},
		{"tag 1001", with(base, "Tag", long(1001)), 422, codeInvalidRequest, "'Tag'"},
		{"10 metadata keys", with(base, "Metadata", meta(10)), 200, 0, "OK"},
		{"11 metadata keys", with(base, "Metadata", meta(11)), 422, codeInvalidRequest, "metadata"},
		{"metadata key 21", with(base, "Metadata", map[string]string{long(21): "v"}), 422, codeInvalidRequest, "key"},
		{"metadata value 81", with(base, "Metadata", map[string]string{"k": long(81)}), 422, codeInvalidRequest, "value"},
		{"metadata keys differing in case", `{"From":"a@acme.example","To":"b@example.com","TextBody":"x","Metadata":{"Key":"1","key":"2"}}`, 422, codeInvalidRequest, "unique"},
		{"metadata key repeated", `{"From":"a@acme.example","To":"b@example.com","TextBody":"x","Metadata":{"k":"1","k":"2"}}`, 422, codeInvalidRequest, "unique"},
		{"metadata with escapes", `{"From":"a@acme.example","To":"b@example.com","TextBody":"x","Metadata":{"k\u00e9":"a\"b"}}`, 200, 0, "OK"},
		{"bad TrackLinks", with(base, "TrackLinks", "Always"), 422, codeInvalidRequest, "TrackLinks"},
		{"forbidden attachment", with(base, "Attachments", []map[string]string{{"Name": "run.EXE", "Content": "AA==", "ContentType": "application/octet-stream"}}), 422, codeForbiddenAttachment, "run.EXE"},
		{"allowed attachment", with(base, "Attachments", []map[string]string{{"Name": "a.pdf", "Content": "AA==", "ContentType": "application/pdf"}}), 200, 0, "OK"},
		{"unknown stream", with(base, "MessageStream", "nope"), 422, codeUnknownStream, "MessageStream"},
		{"inbound stream", with(base, "MessageStream", "inbound"), 422, codeStreamCannotSend, "inbound"},
		{"configured stream", with(base, "MessageStream", "receipts"), 200, 0, "OK"},
		{"broadcast stream", with(base, "MessageStream", "broadcast"), 200, 0, "OK"},
		{"all recipients inactive", with(with(base, "To", "gone@example.com"), "Cc", "GONE2@example.com"), 422, codeInactive,
			"You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: gone@example.com, GONE2@example.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression."},
		{"some recipients inactive", with(base, "Cc", "gone@example.com"), 200, 0, "OK"},
		{"inactive only on its stream", with(with(base, "To", "gone@example.com"), "MessageStream", "broadcast"), 200, 0, "OK"},
		{"over 10 MB", with(base, "TextBody", long(10<<20)), 413, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := s.AcceptedCount()
			r := call(t, s, "POST", "/email", tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %.300s", r.status, tc.wantStatus, r.body)
			}
			grew := s.AcceptedCount() - before
			if tc.wantStatus == 200 {
				var res sendResult
				r.decode(t, &res)
				if res.ErrorCode != 0 || res.Message != "OK" || !uuidRE.MatchString(res.MessageID) || !submittedAtRE.MatchString(res.SubmittedAt) {
					t.Errorf("result = %+v", res)
				}
				if grew != 1 {
					t.Errorf("accepted grew by %d, want 1", grew)
				}
				return
			}
			if grew != 0 {
				t.Errorf("a rejected send was stored (%d)", grew)
			}
			if tc.wantStatus != 422 {
				return
			}
			e := r.apiErr(t)
			if e.ErrorCode != tc.wantCode || !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("error = %+v, want code %d with %q", e, tc.wantCode, tc.wantMsg)
			}
			if r.header.Get("X-PM-ApiErrorCode") != fmt.Sprint(tc.wantCode) {
				t.Errorf("X-PM-ApiErrorCode = %q", r.header.Get("X-PM-ApiErrorCode"))
			}
		})
	}
}

func recipients(n int) string {
	var addrs []string
	for i := 0; i < n; i++ {
		addrs = append(addrs, fmt.Sprintf("r%d@example.com", i))
	}
	return strings.Join(addrs, ", ")
}

func TestBatchResultsInRequestOrder(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Seed: 7})
	s.Suppress("outbound", "example@example.com")
	batch := []map[string]any{
		with(msg("receiver1@example.com"), "Metadata", map[string]string{"pf_id": "a"}),
		msg("example@example.com"),
		msg("not-an-address"),
		with(msg("receiver2@example.com"), "MessageStream", "nope"),
		with(msg("receiver3@example.com"), "Attachments", []map[string]string{{"Name": "x.bat", "Content": "AA=="}}),
		with(msg("receiver4@example.com"), "Metadata", map[string]string{"pf_id": "b"}),
	}
	r := call(t, s, "POST", "/email/batch", batch)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var res []sendResult
	r.decode(t, &res)
	var codes []int
	for _, x := range res {
		codes = append(codes, x.ErrorCode)
	}
	if diff := cmp.Diff([]int{0, codeInactive, codeInvalidRequest, codeUnknownStream, codeForbiddenAttachment, 0}, codes); diff != "" {
		t.Fatalf("per-item codes (-want +got):\n%s", diff)
	}
	want406 := "You tried to send to a recipient that has been marked as inactive. Found inactive addresses: example@example.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression. "
	if res[1].Message != want406 || res[1].MessageID != "" || res[1].To != "" {
		t.Errorf("406 item = %+v", res[1])
	}
	if res[2].Message != "Invalid 'To' address: 'not-an-address'." {
		t.Errorf("300 item message = %q", res[2].Message)
	}
	acc := s.Accepted()
	if len(acc) != 2 || acc[0].MessageID != res[0].MessageID || acc[1].MessageID != res[5].MessageID ||
		res[0].To != "receiver1@example.com" || res[5].To != "receiver4@example.com" {
		t.Fatalf("accepted log %+v does not match results %+v", acc, res)
	}
	if acc[0].Metadata["pf_id"] != "a" || acc[1].Metadata["pf_id"] != "b" {
		t.Errorf("metadata not logged: %+v", acc)
	}
}

func TestBatchLimits(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	batch := make([]map[string]any, 501)
	for i := range batch {
		batch[i] = msg(fmt.Sprintf("r%d@example.com", i))
	}
	r := call(t, s, "POST", "/email/batch", batch)
	if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeBatchTooLarge {
		t.Fatalf("501 messages: %d %+v", r.status, e)
	}
	r = call(t, s, "POST", "/email/batch", batch[:500])
	if r.status != 200 || s.AcceptedCount() != 500 {
		t.Fatalf("500 messages: status %d, accepted %d", r.status, s.AcceptedCount())
	}
	r = call(t, s, "POST", "/email/batch", `{"From":"a@b.c"}`)
	if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeInvalidField {
		t.Errorf("object instead of array: %d %+v", r.status, e)
	}
	r = call(t, s, "POST", "/email/batch", []map[string]any{msg("a@example.com"), with(msg("b@example.com"), "Bogus", "x")})
	if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeInvalidField || !strings.Contains(e.Message, "Bogus") {
		t.Errorf("unknown field in an item: %d %+v", r.status, e)
	}
	if s.AcceptedCount() != 500 {
		t.Errorf("rejected batches stored messages: %d", s.AcceptedCount())
	}

	// A message over 10 MB, and a request over 50 MB, are refused whole.
	r = call(t, s, "POST", "/email/batch", []map[string]any{msg("a@example.com"), with(msg("b@example.com"), "HtmlBody", strings.Repeat("y", 10<<20+1))})
	if r.status != 413 {
		t.Errorf("10 MB item: status %d", r.status)
	}
	var big bytes.Buffer
	big.WriteString("[")
	for i := 0; i < 6; i++ {
		if i > 0 {
			big.WriteString(",")
		}
		fmt.Fprintf(&big, `{"From":"a@acme.example","To":"r%d@example.com","TextBody":"%s"}`, i, strings.Repeat("z", 9<<20))
	}
	big.WriteString("]")
	r = call(t, s, "POST", "/email/batch", big.Bytes())
	if r.status != 413 {
		t.Errorf("54 MB batch: status %d", r.status)
	}
	if s.AcceptedCount() != 500 {
		t.Errorf("oversized requests stored messages: %d", s.AcceptedCount())
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := NewServer(t, Options{Now: clock.Now, Templates: map[string]Template{
		"welcome": {ID: 42, Subject: "Welcome, {{name}}!", HtmlBody: "<p>Hi {{name}} from {{ company.name }} {{{raw}}}</p>", TextBody: "Hi {{name}}, {{missing}}{{count}}"},
		"long":    {Subject: "{{s}}", TextBody: "x"},
	}})
	base := map[string]any{"From": "a@acme.example", "To": "ann@example.com", "TemplateAlias": "welcome",
		"TemplateModel": map[string]any{"name": "Ann & Co", "company": map[string]any{"name": "Acme"}, "raw": "<b>x</b>", "count": 3}}
	r := call(t, s, "POST", "/email/withTemplate", base)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var res sendResult
	r.decode(t, &res)
	acc := s.Accepted()
	if len(acc) != 1 || acc[0].Subject != "Welcome, Ann & Co!" || acc[0].MessageID != res.MessageID {
		t.Fatalf("accepted = %+v", acc)
	}
	var d wireDetails
	call(t, s, "GET", "/messages/outbound/"+res.MessageID+"/details", nil).decode(t, &d)
	if d.HtmlBody != "<p>Hi Ann &amp; Co from Acme <b>x</b></p>" || d.TextBody != "Hi Ann & Co, 3" {
		t.Errorf("rendered bodies: html %q text %q", d.HtmlBody, d.TextBody)
	}

	tests := []struct {
		name     string
		body     map[string]any
		wantCode int
	}{
		{"by id", with(with(base, "TemplateAlias", nil), "TemplateId", 42), 0},
		{"id wins over alias", with(with(base, "TemplateAlias", "nope"), "TemplateId", 42), 0},
		{"unknown alias", with(base, "TemplateAlias", "nope"), codeTemplateNotFound},
		{"unknown id", with(with(base, "TemplateAlias", nil), "TemplateId", 7), codeTemplateNotFound},
		{"neither id nor alias", with(base, "TemplateAlias", nil), codeTemplateNotFound},
		{"missing model", with(base, "TemplateModel", nil), codeTemplateModelMissing},
		{"model not an object", with(base, "TemplateModel", []int{1}), codeInvalidField},
		{"Subject is not a template field", with(base, "Subject", "x"), codeInvalidField},
		{"rendered subject too long", with(with(base, "TemplateAlias", "long"), "TemplateModel", map[string]any{"s": strings.Repeat("s", 2001)}), codeInvalidRequest},
		{"bad To", with(base, "To", "nope"), codeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "POST", "/email/withTemplate", tc.body)
			if tc.wantCode == 0 {
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				return
			}
			if e := r.apiErr(t); r.status != 422 || e.ErrorCode != tc.wantCode {
				t.Fatalf("got %d %+v, want 422/%d", r.status, e, tc.wantCode)
			}
		})
	}

	// The batch form answers per item, in order.
	r = call(t, s, "POST", "/email/batchWithTemplates", map[string]any{"Messages": []map[string]any{
		base, with(base, "TemplateAlias", "nope"), with(base, "TemplateModel", nil), with(base, "To", "bob@example.com"),
	}})
	if r.status != 200 {
		t.Fatalf("batchWithTemplates: %d %s", r.status, r.body)
	}
	var items []sendResult
	r.decode(t, &items)
	var codes []int
	for _, it := range items {
		codes = append(codes, it.ErrorCode)
	}
	if diff := cmp.Diff([]int{0, codeTemplateNotFound, codeTemplateModelMissing, 0}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if items[3].To != "bob@example.com" || !uuidRE.MatchString(items[3].MessageID) {
		t.Errorf("item 3 = %+v", items[3])
	}
	r = call(t, s, "POST", "/email/batchWithTemplates", []map[string]any{base})
	if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeInvalidField {
		t.Errorf("bare array: %d %+v", r.status, e)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	model := map[string]any{"a": "<x>", "n": map[string]any{"b": "B"}}
	tests := []struct {
		tmpl string
		html bool
		want string
	}{
		{"plain", true, "plain"},
		{"{{a}}|{{{a}}}|{{ n.b }}|{{n.c}}|{{n}}", true, "&lt;x&gt;|<x>|B||"},
		{"{{a}}", false, "<x>"},
		{"unclosed {{a", false, "unclosed {{a"},
	}
	for _, tc := range tests {
		if got := render(tc.tmpl, model, tc.html); got != tc.want {
			t.Errorf("render(%q, html=%v) = %q, want %q", tc.tmpl, tc.html, got, tc.want)
		}
	}
}

func TestPlainAddressFastPathAgreesWithNetMail(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"a@b", "a.b@c.d", "a+tag@example.com", "o'neil@example.com", "x@a-b.example",
		".a@b.c", "a.@b.c", "a..b@c.d", "a@b..c", "@b.c", "a@", "a b@c.d", "a@b_c.d", "é@example.com",
	} {
		a, err := mail.ParseAddress(s)
		if isPlainAddress(s) && (err != nil || a.Address != s) {
			t.Errorf("%q: fast path accepts what net/mail refuses or rewrites (%v)", s, err)
		}
	}
}
