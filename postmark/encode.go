package postmark

import (
	"github.com/postform/postform/internal/jsonstr"

	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Request bodies are written by hand rather than by encoding/json: a batch
// of 500 messages is over a megabyte, and encoding/json's reflection,
// escaping and copying made it the client's largest CPU cost. The output
// is byte for byte what json.Encoder with SetEscapeHTML(false) produced
// for the same value, without the trailing newline: same field order and
// names, same omissions, same string escaping (U+FFFD for invalid UTF-8,
// \u2028 and \u2029 escaped, '<', '>' and '&' kept). A field added to
// Message, TemplatedMessage, Header or Attachment must be added here too;
// TestEncodeEveryField fails until it is.

// appendMessages appends ms as a JSON array (the POST /email/batch body).
func appendMessages(b []byte, ms []Message) []byte {
	start := len(b)
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMessage(b, &ms[i])
		if i == 0 {
			b = growForBatch(b, len(b)-start, len(ms))
		}
	}
	return append(b, ']')
}

// growForBatch makes room for the rest of a batch once its first item,
// first bytes long, is written: items of one batch tend to be alike, and
// growing once beats doubling a megabyte buffer again and again.
func growForBatch(b []byte, first, n int) []byte {
	return slices.Grow(b, first*(n-1)+first*(n-1)/8+2)
}

// appendTemplatedBatch appends {"Messages":[...]} (the POST
// /email/batchWithTemplates body). It fails only on an invalid
// TemplateModel.
func appendTemplatedBatch(b []byte, ms []TemplatedMessage) ([]byte, error) {
	start := len(b)
	b = append(b, `{"Messages":[`...)
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendTemplatedMessage(b, &ms[i]); err != nil {
			return b, err
		}
		if i == 0 {
			b = growForBatch(b, len(b)-start, len(ms))
		}
	}
	return append(b, "]}"...), nil
}

// appendMessage appends m as a JSON object, in Message's field order.
func appendMessage(b []byte, m *Message) []byte {
	b = append(b, `{"From":`...)
	b = jsonstr.Append(b, m.From)
	b = append(b, `,"To":`...)
	b = jsonstr.Append(b, m.To)
	b = appendStringField(b, `,"Cc":`, m.Cc)
	b = appendStringField(b, `,"Bcc":`, m.Bcc)
	b = appendStringField(b, `,"Subject":`, m.Subject)
	b = appendStringField(b, `,"Tag":`, m.Tag)
	b = appendStringField(b, `,"HtmlBody":`, m.HtmlBody)
	b = appendStringField(b, `,"TextBody":`, m.TextBody)
	b = appendStringField(b, `,"ReplyTo":`, m.ReplyTo)
	b = appendCommon(b, m.Headers, m.TrackOpens, m.TrackLinks, m.Metadata, m.Attachments, m.MessageStream)
	return append(b, '}')
}

// appendTemplatedMessage appends m as a JSON object, in TemplatedMessage's
// field order. TemplateModel is validated and compacted as encoding/json
// does for a json.RawMessage, and an invalid one is the only error.
func appendTemplatedMessage(b []byte, m *TemplatedMessage) ([]byte, error) {
	start := len(b)
	b = append(b, '{')
	if m.TemplateID != 0 {
		b = append(b, `"TemplateId":`...)
		b = strconv.AppendInt(b, m.TemplateID, 10)
	}
	if m.TemplateAlias != "" {
		b = appendComma(b, start)
		b = append(b, `"TemplateAlias":`...)
		b = jsonstr.Append(b, m.TemplateAlias)
	}
	if len(m.TemplateModel) > 0 {
		b = appendComma(b, start)
		b = append(b, `"TemplateModel":`...)
		var err error
		if b, err = appendCompactJSON(b, m.TemplateModel); err != nil {
			return b[:start], &json.MarshalerError{Type: reflect.TypeFor[json.RawMessage](), Err: err}
		}
	}
	if m.InlineCSS != nil {
		b = appendComma(b, start)
		b = append(b, `"InlineCss":`...)
		b = strconv.AppendBool(b, *m.InlineCSS)
	}
	b = appendComma(b, start)
	b = append(b, `"From":`...)
	b = jsonstr.Append(b, m.From)
	b = append(b, `,"To":`...)
	b = jsonstr.Append(b, m.To)
	b = appendStringField(b, `,"Cc":`, m.Cc)
	b = appendStringField(b, `,"Bcc":`, m.Bcc)
	b = appendStringField(b, `,"Tag":`, m.Tag)
	b = appendStringField(b, `,"ReplyTo":`, m.ReplyTo)
	b = appendCommon(b, m.Headers, m.TrackOpens, m.TrackLinks, m.Metadata, m.Attachments, m.MessageStream)
	return append(b, '}'), nil
}

// appendComma separates a field from the previous one of the object that
// starts at b[start].
func appendComma(b []byte, start int) []byte {
	if len(b) > start+1 {
		return append(b, ',')
	}
	return b
}

// appendCommon appends the fields that Message and TemplatedMessage share
// after ReplyTo, each preceded by a comma and left out when empty.
func appendCommon(b []byte, headers []Header, trackOpens *bool, trackLinks string,
	metadata map[string]string, attachments []Attachment, stream string) []byte {
	if len(headers) > 0 {
		b = append(b, `,"Headers":[`...)
		for i, h := range headers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"Name":`...)
			b = jsonstr.Append(b, h.Name)
			b = append(b, `,"Value":`...)
			b = jsonstr.Append(b, h.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if trackOpens != nil {
		b = append(b, `,"TrackOpens":`...)
		b = strconv.AppendBool(b, *trackOpens)
	}
	b = appendStringField(b, `,"TrackLinks":`, trackLinks)
	if len(metadata) > 0 {
		b = append(b, `,"Metadata":`...)
		b = appendStringMap(b, metadata)
	}
	if len(attachments) > 0 {
		b = append(b, `,"Attachments":[`...)
		for i := range attachments {
			a := &attachments[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"Name":`...)
			b = jsonstr.Append(b, a.Name)
			b = append(b, `,"Content":`...)
			b = jsonstr.Append(b, a.Content)
			b = append(b, `,"ContentType":`...)
			b = jsonstr.Append(b, a.ContentType)
			b = appendStringField(b, `,"ContentID":`, a.ContentID)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return appendStringField(b, `,"MessageStream":`, stream)
}

// appendStringField appends key and s unless s is empty (omitempty).
func appendStringField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return jsonstr.Append(b, s)
}

// appendStringMap appends m as an object with its keys sorted, as
// encoding/json does.
func appendStringMap(b []byte, m map[string]string) []byte {
	var arr [8]string // metadata rarely has more keys; no allocation then
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, k)
		b = append(b, ':')
		b = jsonstr.Append(b, m[k])
	}
	return append(b, '}')
}

// appendCompactJSON appends raw with insignificant space removed, failing
// when raw is not valid JSON. It is the transformation encoding/json
// applies to a json.RawMessage when HTML escaping is off.
func appendCompactJSON(b []byte, raw []byte) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	err := json.Compact(buf, raw)
	return buf.Bytes(), err
}

// Request bodies live in pooled buffers. A buffer goes back to the pool
// only when nobody can read it any more: the sender has finished with the
// request and every reader the transport opened (the body, and any copy
// from GetBody for a retry) is closed. A transport that never closes a
// body only costs the pool that buffer; the garbage collector takes it.

// maxPooledBody keeps the occasional huge body (attachments) from being
// held by the pool.
const maxPooledBody = 8 << 20

var bodyBufs = sync.Pool{
	New: func() any {
		b := make([]byte, 0, 16<<10)
		return &b
	},
}

// requestBody is one encoded request body shared by its readers.
type requestBody struct {
	buf  *[]byte // from bodyBufs; nil once released
	b    []byte  // the encoded body, within *buf
	refs atomic.Int32
}

// newRequestBody encodes a body with encode into a pooled buffer. The
// caller holds one reference and must call release when done with the
// request, including when encode fails.
func newRequestBody(encode func([]byte) ([]byte, error)) (*requestBody, error) {
	buf := bodyBufs.Get().(*[]byte)
	rb := &requestBody{buf: buf}
	rb.refs.Store(1)
	b, err := encode((*buf)[:0])
	*buf = b[:0] // keep the grown capacity, even on error
	rb.b = b
	return rb, err
}

// retain adds a reference unless the body is already released.
func (rb *requestBody) retain() bool {
	for {
		n := rb.refs.Load()
		if n <= 0 {
			return false
		}
		if rb.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference; the last one returns the buffer to the pool.
func (rb *requestBody) release() {
	if rb.refs.Add(-1) != 0 {
		return
	}
	buf := rb.buf
	rb.buf, rb.b = nil, nil
	if cap(*buf) <= maxPooledBody {
		bodyBufs.Put(buf)
	}
}

// errBodyReleased is returned by GetBody when called after the request is
// over, which net/http never does.
var errBodyReleased = errors.New("postmark: request body already released")

// reader opens a reader on the body, taking a reference that its Close
// drops.
func (rb *requestBody) reader() (io.ReadCloser, error) {
	if !rb.retain() {
		return nil, errBodyReleased
	}
	return &bodyReader{rb: rb, b: rb.b}, nil
}

// bodyReader reads a requestBody. After Close it reads nothing, so a
// recycled buffer is never exposed. The mutex makes a Close from another
// goroutine (a transport tearing down a connection) safe.
type bodyReader struct {
	mu  sync.Mutex
	rb  *requestBody // nil once closed
	b   []byte
	off int
}

var errReadAfterClose = errors.New("postmark: read from closed request body")

func (r *bodyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rb == nil {
		return 0, errReadAfterClose
	}
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *bodyReader) Close() error {
	r.mu.Lock()
	rb := r.rb
	r.rb, r.b = nil, nil
	r.mu.Unlock()
	if rb != nil {
		rb.release()
	}
	return nil
}
