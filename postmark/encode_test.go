package postmark

import (
	"github.com/postform/postform/internal/jsonstr"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// stdEncode is how request bodies were encoded before encode.go: a
// json.Encoder without HTML escaping, trailing newline dropped.
func stdEncode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkEquivalent fails unless got (our encoding of v) is byte for byte
// what stdEncode gives for v. (Equal bytes are valid JSON and decode to
// what json.Marshal's output decodes to: the two differ only in HTML
// escaping, which decodes to the same characters.)
func checkEquivalent(t testing.TB, v any, got []byte) {
	t.Helper()
	want, err := stdEncode(v)
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("bytes differ from encoding/json:\n got: %q\nwant: %q", got, want)
	}
}

// pieces are the building blocks of generated strings: everything that
// string escaping treats specially, and plain runs long enough to reach
// the word-at-a-time path with a special byte at any offset.
var pieces = []string{
	"", "a", "Ann", "hello world", "0123456789abcdef", "ann@example.com",
	`"`, `\`, `\"`, `\u0041`, "/", "'",
	"<p>", "</p>", "&amp;", "<a href=\"https://example.com/?a=1&b=2\">link</a>", "<script>alert(1)</script>",
	"\x00", "\x01", "\b", "\t", "\n", "\v", "\f", "\r", "\x1b", "\x1f", "\x7f", " ",
	"é", "ß", "日本語", "😀", "\u00a0", "\ufeff", "\ufffd", "\U0010ffff",
	"\u2027", "\u2028", "\u2029", "\u202a",
	"\xff", "\xfe", "\x80", "\xc3", "\xc3\x28", "\xe2\x80", "\xe2\x28\xa1", "\xed\xa0\x80",
	"\xf0\x9f\x98", "\xf4\x90\x80\x80", "\xc0\xaf",
	strings.Repeat("x", 7), strings.Repeat("y", 8), strings.Repeat("z", 9), strings.Repeat("plain text ", 40),
}

func genString(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		return ""
	case 1: // arbitrary bytes
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	var sb strings.Builder
	for range r.IntN(12) {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

func genBool(r *rand.Rand) *bool {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return ptr(false)
	}
	return ptr(true)
}

func genHeaders(r *rand.Rand) []Header {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []Header{}
	}
	hs := make([]Header, 1+r.IntN(3))
	for i := range hs {
		hs[i] = Header{Name: genString(r), Value: genString(r)}
	}
	return hs
}

func genMetadata(r *rand.Rand) map[string]string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	m := make(map[string]string)
	for range 1 + r.IntN(12) { // past the 8 keys sorted without allocating
		m[genString(r)] = genString(r)
	}
	return m
}

func genAttachments(r *rand.Rand) []Attachment {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []Attachment{}
	}
	as := make([]Attachment, 1+r.IntN(3))
	for i := range as {
		as[i] = Attachment{Name: genString(r), Content: genString(r), ContentType: genString(r), ContentID: genString(r)}
	}
	return as
}

func genMessage(r *rand.Rand) Message {
	return Message{
		From: genString(r), To: genString(r), Cc: genString(r), Bcc: genString(r),
		Subject: genString(r), Tag: genString(r), HtmlBody: genString(r), TextBody: genString(r),
		ReplyTo: genString(r), Headers: genHeaders(r), TrackOpens: genBool(r), TrackLinks: genString(r),
		Metadata: genMetadata(r), Attachments: genAttachments(r), MessageStream: genString(r),
	}
}

// models are valid template models, some with insignificant space, HTML
// and U+2028 that compaction must treat as encoding/json does.
var models = []string{
	"", `{}`, `{"name":"Ann"}`, ` { "name" : "Ann & <Co>" , "items" : [ 1 , 2.5e3 , true , null ] } `,
	"{\"s\":\"a\u2028b\\u2029c\",\n\t\"n\":{\"m\":[]}}", `{"esc":"\"\\\/\b\f\n\r\t\u00e9"}`, `[]`, `null`, `"x"`, `0`,
}

func genTemplated(r *rand.Rand) TemplatedMessage {
	var id int64
	switch r.IntN(3) {
	case 1:
		id = r.Int64()
	case 2:
		id = -r.Int64N(1000)
	}
	var model json.RawMessage
	if k := r.IntN(len(models) + 1); k < len(models) {
		model = json.RawMessage(models[k])
	}
	m := genMessage(r)
	return TemplatedMessage{
		TemplateID: id, TemplateAlias: genString(r), TemplateModel: model, InlineCSS: genBool(r),
		From: m.From, To: m.To, Cc: m.Cc, Bcc: m.Bcc, Tag: m.Tag, ReplyTo: m.ReplyTo,
		Headers: m.Headers, TrackOpens: m.TrackOpens, TrackLinks: m.TrackLinks,
		Metadata: m.Metadata, Attachments: m.Attachments, MessageStream: m.MessageStream,
	}
}

func TestEncodeMessageMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var batch []Message
	for range 3000 {
		m := genMessage(r)
		checkEquivalent(t, m, appendMessage(nil, &m))
		batch = append(batch, m)
	}
	checkEquivalent(t, batch[:1], appendMessages(nil, batch[:1]))
	checkEquivalent(t, batch, appendMessages([]byte{}, batch))
	checkEquivalent(t, Message{}, appendMessage(nil, &Message{}))
}

func TestEncodeTemplatedMessageMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	var batch []TemplatedMessage
	for range 3000 {
		m := genTemplated(r)
		got, err := appendTemplatedMessage(nil, &m)
		if err != nil {
			t.Fatalf("appendTemplatedMessage(%+v): %v", m, err)
		}
		checkEquivalent(t, m, got)
		batch = append(batch, m)
	}
	got, err := appendTemplatedBatch(nil, batch)
	if err != nil {
		t.Fatal(err)
	}
	checkEquivalent(t, struct{ Messages []TemplatedMessage }{batch}, got)
	got, _ = appendTemplatedMessage(nil, &TemplatedMessage{})
	checkEquivalent(t, TemplatedMessage{}, got)
}

// fillAll sets every field of the struct v points to, recursively, to a
// non-zero value, so that a field the encoder does not know is caught.
func fillAll(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("<" + path + ">")
	case reflect.Int64:
		v.SetInt(int64(len(path)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(t, v.Elem(), path)
	case reflect.Struct:
		for i := range v.NumField() {
			fillAll(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(`{"path":"` + path + `"}`))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fillAll(t, v.Index(0), path+"[0]")
		fillAll(t, v.Index(1), path+"[1]")
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for _, k := range []string{"k1", "k2"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fillAll(t, e, path+"."+k)
			v.SetMapIndex(reflect.ValueOf(k), e)
		}
	default:
		t.Fatalf("%s: no test value for a %s; teach fillAll and encode.go about it", path, v.Type())
	}
}

// Every field of the wire types is encoded as encoding/json would; a field
// added to them without a line in encode.go fails here.
func TestEncodeEveryField(t *testing.T) {
	t.Parallel()
	var m Message
	fillAll(t, reflect.ValueOf(&m).Elem(), "Message")
	checkEquivalent(t, m, appendMessage(nil, &m))

	var tm TemplatedMessage
	fillAll(t, reflect.ValueOf(&tm).Elem(), "TemplatedMessage")
	got, err := appendTemplatedMessage(nil, &tm)
	if err != nil {
		t.Fatal(err)
	}
	checkEquivalent(t, tm, got)
}

// An invalid TemplateModel fails with encoding/json's error and leaves the
// buffer as it was.
func TestEncodeInvalidTemplateModel(t *testing.T) {
	t.Parallel()
	for _, model := range []string{`{not json`, `{"a":1`, `{} {}`, "\"\xff", ` `, `{"a":01}`} {
		m := TemplatedMessage{TemplateAlias: "a", TemplateModel: json.RawMessage(model), From: "s@example.com"}
		_, wantErr := stdEncode(m)
		got, err := appendTemplatedMessage([]byte("prefix"), &m)
		if wantErr == nil || err == nil {
			t.Errorf("model %q: error = %v, encoding/json's = %v, want both to fail", model, err, wantErr)
			continue
		}
		if err.Error() != wantErr.Error() {
			t.Errorf("model %q: error = %q, want encoding/json's %q", model, err, wantErr)
		}
		if string(got) != "prefix" {
			t.Errorf("model %q: buffer = %q, want it unchanged", model, got)
		}
		var me *json.MarshalerError
		if !errors.As(err, &me) {
			t.Errorf("model %q: error %T is not a *json.MarshalerError", model, err)
		}
	}
}

// FuzzEncodeMessage checks both message encoders against encoding/json for
// arbitrary field contents. Run it with
// go test -fuzz FuzzEncodeMessage -fuzztime 30s ./postmark/
func FuzzEncodeMessage(f *testing.F) {
	f.Add("s@example.com", "a@example.com", "Hi", "<p>Hello &amp; \"welcome\"</p>", "Hello\n", "tag", "X-A", "v", "pf_id", "pf-1", "a.txt", "aGk=", "", uint8(2), int64(42), []byte(`{"n":1}`))
	f.Add("", "", "", "", "", "", "", "", "", "", "", "", "", uint8(0), int64(0), []byte(nil))
	f.Add("\xff\xfe", "\u2028\u2029", "\x00\x1f\x7f", `\"\\`, "日本語😀", "\xed\xa0\x80", "\t", "\r\n", "\xc3", "\ufffd", "x", "y", "cid:z", uint8(1), int64(-7), []byte("{\"a\":\"\u2028<>&\"}"))
	f.Add("0123456789abcdef\"", "abcdefg\\", "abcdefgh\x01", "<<<<<<<<>>>>>>>>", "", "", "", "", "", "", "", "", "", uint8(1), int64(1), []byte(`{not json`))
	f.Fuzz(func(t *testing.T, from, to, subject, html, text, tag, hName, hValue, mKey, mValue, aName, aContent, aCID string,
		track uint8, id int64, model []byte) {
		var trackOpens *bool
		if track%3 > 0 {
			trackOpens = ptr(track%3 == 2)
		}
		var headers []Header
		if hName != "" || hValue != "" {
			headers = []Header{{Name: hName, Value: hValue}, {Name: hValue, Value: hName}}
		}
		var metadata map[string]string
		if mKey != "" || mValue != "" {
			metadata = map[string]string{mKey: mValue, mValue: mKey, "pf_id": from}
		}
		var attachments []Attachment
		if aName != "" {
			attachments = []Attachment{{Name: aName, Content: aContent, ContentType: text, ContentID: aCID}}
		}
		m := Message{
			From: from, To: to, Cc: tag, Bcc: subject, Subject: subject, Tag: tag, HtmlBody: html, TextBody: text,
			ReplyTo: to, Headers: headers, TrackOpens: trackOpens, TrackLinks: aCID, Metadata: metadata,
			Attachments: attachments, MessageStream: mKey,
		}
		checkEquivalent(t, m, appendMessage(nil, &m))

		tm := TemplatedMessage{
			TemplateID: id, TemplateAlias: subject, TemplateModel: json.RawMessage(model), InlineCSS: trackOpens,
			From: from, To: to, Cc: html, Bcc: text, Tag: tag, ReplyTo: hValue, Headers: headers,
			TrackOpens: trackOpens, TrackLinks: aName, Metadata: metadata, Attachments: attachments, MessageStream: aCID,
		}
		got, err := appendTemplatedMessage(nil, &tm)
		if _, wantErr := stdEncode(tm); wantErr != nil || err != nil {
			if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
				t.Fatalf("model %q: error = %v, want encoding/json's %v", model, err, wantErr)
			}
			return
		}
		checkEquivalent(t, tm, got)
	})
}

// Bodies go out with a Content-Length (never chunked), can be reread
// through GetBody until the request is over, and stay intact when many
// requests share the buffer pool concurrently.
func TestRequestBodyContentLength(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	batches := make([][]Message, 8)
	for i := range batches {
		for range 1 + r.IntN(50) {
			batches[i] = append(batches[i], genMessage(r))
		}
	}
	c, mux, _ := setup(t)
	mux.HandleFunc("/email/batch", func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
		}
		if req.ContentLength != int64(len(body)) || len(req.TransferEncoding) != 0 {
			t.Errorf("Content-Length = %d, Transfer-Encoding = %v for a %d-byte body", req.ContentLength, req.TransferEncoding, len(body))
		}
		var ms []Message
		if err := json.Unmarshal(body, &ms); err != nil {
			t.Errorf("decoding body: %v", err)
		}
		var out bytes.Buffer
		out.WriteByte('[')
		for i, m := range ms {
			if i > 0 {
				out.WriteByte(',')
			}
			// Echo the text body, so the client can check that it sent the
			// batch it meant to.
			msg, _ := json.Marshal(m.TextBody)
			fmt.Fprintf(&out, `{"ErrorCode":0,"Message":%s}`, msg)
		}
		out.WriteByte(']')
		writeJSON(w, 200, out.Bytes())
	})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				ms := batches[(g+i)%len(batches)]
				res, err := c.SendBatch(context.Background(), ms)
				if err != nil {
					t.Errorf("SendBatch: %v", err)
					return
				}
				for j := range res {
					var want string
					_ = json.Unmarshal(jsonstr.Append(nil, ms[j].TextBody), &want)
					if res[j].Message != want {
						t.Errorf("batch %d item %d came back as %q, want %q", (g+i)%len(batches), j, res[j].Message, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestRequestBodyLifetime(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testToken)
	if err != nil {
		t.Fatal(err)
	}
	m := Message{From: "s@example.com", To: "a@example.com", HtmlBody: "<p>x</p>"}
	body, err := newRequestBody(func(b []byte) ([]byte, error) {
		return appendMessage(b, &m), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.newBodyRequest(context.Background(), http.MethodPost, "email", body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"From":"s@example.com","To":"a@example.com","HtmlBody":"<p>x</p>"}`
	if req.ContentLength != int64(len(want)) {
		t.Errorf("ContentLength = %d, want %d", req.ContentLength, len(want))
	}
	for i, open := range []func() (io.ReadCloser, error){
		func() (io.ReadCloser, error) { return req.Body, nil }, req.GetBody, req.GetBody,
	} {
		rc, err := open()
		if err != nil {
			t.Fatalf("reader %d: %v", i, err)
		}
		got, err := io.ReadAll(rc)
		if err != nil || string(got) != want {
			t.Errorf("reader %d read %q, %v; want %q", i, got, err, want)
		}
		_ = rc.Close()
		if n, err := rc.Read(make([]byte, 8)); n != 0 || err == nil {
			t.Errorf("reader %d: Read after Close = %d, %v; want an error", i, n, err)
		}
		_ = rc.Close() // a second Close must not release twice
	}
	if got := body.refs.Load(); got != 1 {
		t.Errorf("references = %d with every reader closed, want 1 (the sender's)", got)
	}
	body.release()
	if _, err := req.GetBody(); !errors.Is(err, errBodyReleased) {
		t.Errorf("GetBody after release: %v, want errBodyReleased", err)
	}
}

// benchBatch is a realistic 500-message batch: HTML ≈1.9 KB, text ≈0.8 KB,
// subject, from, to, tag, three metadata keys, TrackOpens and TrackLinks.
func benchBatch() []Message {
	html := `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Your invoice</title></head>` +
		`<body style="font-family: Arial, sans-serif; color: #333333;"><table width="100%" cellpadding="0" cellspacing="0">` +
		strings.Repeat(`<tr><td style="padding: 8px 16px;"><p>Hello Ann, here is your invoice for this month &amp; a summary of your plan.</p>`+
			`<a href="https://example.com/invoices/2026-09?utm_source=email&utm_medium=invoice">View invoice</a></td></tr>`, 7) +
		`</table><p style="font-size: 12px;">You receive this email because you have an account. Ünsubscribe: “link”.</p></body></html>`
	text := strings.Repeat("Hello Ann, here is your invoice for this month and a summary of your plan.\n", 10) +
		"View it at https://example.com/invoices/2026-09\n"
	ms := make([]Message, 500)
	for i := range ms {
		ms[i] = Message{
			From:       "Billing <billing@example.com>",
			To:         fmt.Sprintf("customer%d@example.org", i),
			Subject:    "Your invoice for September 2026",
			Tag:        "invoice",
			HtmlBody:   html,
			TextBody:   text,
			TrackOpens: ptr(true),
			TrackLinks: "HtmlAndText",
			Metadata: map[string]string{
				"pf_id":    fmt.Sprintf("pf-%040d", i),
				"customer": fmt.Sprintf("cus_%08d", i),
				"batch":    "invoices-2026-09",
			},
		}
	}
	return ms
}

// BenchmarkEncodeBatch500 compares encoding/json (the encoder newRequest
// used before) with the append encoder on one 500-message batch body.
func BenchmarkEncodeBatch500(b *testing.B) {
	ms := benchBatch()
	want, err := stdEncode(ms)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("body: %d bytes, %d per message", len(want), len(want)/len(ms))
	perMessage := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ms)), "ns/msg")
	}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdEncode(ms); err != nil {
				b.Fatal(err)
			}
		}
		perMessage(b)
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, _ := newRequestBody(func(dst []byte) ([]byte, error) {
				return appendMessages(dst, ms), nil
			})
			if len(body.b) != len(want) {
				b.Fatalf("body is %d bytes, want %d", len(body.b), len(want))
			}
			body.release()
		}
		perMessage(b)
	})
	// A pool miss (after garbage collections emptied it): a fresh buffer.
	b.Run("append-cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got := appendMessages(make([]byte, 0, 16<<10), ms); len(got) != len(want) {
				b.Fatalf("body is %d bytes, want %d", len(got), len(want))
			}
		}
		perMessage(b)
	})
}

func TestBenchBatchEquivalent(t *testing.T) {
	t.Parallel()
	ms := benchBatch()
	checkEquivalent(t, ms, appendMessages(nil, ms))
}
