package postmarktest

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reads and writes the JSON of the send endpoints without
// reflection. Decoding is a fast path only: it accepts the common shape
// of a plain send (exactly spelled field names, each at most once, values
// of the documented types, valid UTF-8, no escaped surrogates) and gives up
// on anything else, in which case the request is decoded again with
// encoding/json. Whatever it accepts decodes to exactly what encoding/json
// would produce, so every error, and every oddity of encoding/json such as
// case-insensitive field names, stays encoding/json's.

// fastDecoder decodes from in. Unescaped strings are written to scratch,
// whose capacity is at least len(in) so that it never moves: decoded
// []byte values point into in or scratch and stay valid while both do.
type fastDecoder struct {
	in      []byte
	i       int
	scratch []byte
	s       *Server
	pack    strings.Builder
	meta    [][2][]byte
}

// special marks the bytes a string scan must stop at.
var special = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func (d *fastDecoder) space() {
	for d.i < len(d.in) {
		switch d.in[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and reports the next byte (0 at the end).
func (d *fastDecoder) next() byte {
	d.space()
	if d.i < len(d.in) {
		return d.in[d.i]
	}
	return 0
}

// literal consumes lit if it comes next.
func (d *fastDecoder) literal(lit string) bool {
	if bytes.HasPrefix(d.in[d.i:], []byte(lit)) {
		d.i += len(lit)
		return true
	}
	return false
}

// str reads the string at d.i and returns its unescaped bytes.
func (d *fastDecoder) str() ([]byte, bool) {
	if d.next() != '"' {
		return nil, false
	}
	b := d.in
	start := d.i + 1
	ascii := true
	for i := start; i < len(b); i++ {
		c := b[i]
		if !special[c] {
			continue
		}
		switch {
		case c == '"':
			d.i = i + 1
			if !ascii && !utf8.Valid(b[start:i]) {
				return nil, false
			}
			return b[start:i], true
		case c == '\\':
			return d.strEscaped(start, i)
		case c < 0x20:
			return nil, false
		default:
			ascii = false
		}
	}
	return nil, false
}

// strEscaped finishes a string that has an escape at esc.
func (d *fastDecoder) strEscaped(start, esc int) ([]byte, bool) {
	b := d.in
	mark := len(d.scratch)
	out := append(d.scratch, b[start:esc]...)
	i := esc
	for i < len(b) {
		// Copy the run of ordinary bytes up to the next special one.
		j := i
		for j < len(b) && !special[b[j]] {
			j++
		}
		out = append(out, b[i:j]...)
		i = j
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			d.scratch = out
			if !utf8.Valid(out[mark:]) {
				return nil, false
			}
			return out[mark:len(out):len(out)], true
		case c < 0x20:
			return nil, false
		case c != '\\': // a byte of a multi-byte character, checked at the end
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return nil, false
		}
		switch b[i+1] {
		case '"', '\\', '/':
			out = append(out, b[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b[i+2:])
			if !ok || utf16.IsSurrogate(r) {
				return nil, false // encoding/json decides
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return nil, false
		}
		i += 2
	}
	return nil, false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// strOrNull reads a string or null (which leaves a field unset).
func (d *fastDecoder) strOrNull() ([]byte, bool) {
	if d.next() == 'n' {
		return nil, d.literal("null")
	}
	return d.str()
}

// end reports whether only white space is left.
func (d *fastDecoder) end() bool {
	d.space()
	return d.i == len(d.in)
}

// Field bits of a plain send message, to refuse repeated fields.
const (
	fFrom = 1 << iota
	fTo
	fCc
	fBcc
	fSubject
	fTag
	fHtmlBody
	fTextBody
	fReplyTo
	fHeaders
	fTrackOpens
	fTrackLinks
	fMetadata
	fAttachments
	fMessageStream
)

var messageFields = map[string]int{
	"From": fFrom, "To": fTo, "Cc": fCc, "Bcc": fBcc, "Subject": fSubject, "Tag": fTag,
	"HtmlBody": fHtmlBody, "TextBody": fTextBody, "ReplyTo": fReplyTo, "Headers": fHeaders,
	"TrackOpens": fTrackOpens, "TrackLinks": fTrackLinks, "Metadata": fMetadata,
	"Attachments": fAttachments, "MessageStream": fMessageStream,
}

// messages decodes a batch, an array of messages, appending them to msgs
// (which must be empty).
func (d *fastDecoder) messages(msgs []wireMessage) ([]wireMessage, bool) {
	if d.next() != '[' {
		return nil, false
	}
	d.i++
	if d.next() == ']' {
		d.i++
		return msgs, d.end()
	}
	for {
		msgs = append(msgs, wireMessage{})
		if !d.message(&msgs[len(msgs)-1]) {
			return nil, false
		}
		switch d.next() {
		case ',':
			d.i++
		case ']':
			d.i++
			return msgs, d.end()
		default:
			return nil, false
		}
	}
}

// message decodes one message object into m. The short fields that a
// stored message keeps share one allocation; bodies stay in the buffers.
func (d *fastDecoder) message(m *wireMessage) bool {
	if d.next() != '{' {
		return false
	}
	d.i++
	var short [6][]byte // From, To, Cc, Bcc, Subject, Tag
	var replyTo, trackLinks, stream []byte
	d.meta = d.meta[:0]
	hasMeta := false
	seen := 0
	if d.next() == '}' {
		d.i++
	} else {
		for {
			key, ok := d.str()
			if !ok || d.next() != ':' {
				return false
			}
			d.i++
			f := messageFields[string(key)]
			if f == 0 || seen&f != 0 {
				return false // unknown, differently spelled or repeated
			}
			seen |= f
			switch f {
			case fFrom:
				short[0], ok = d.strOrNull()
			case fTo:
				short[1], ok = d.strOrNull()
			case fCc:
				short[2], ok = d.strOrNull()
			case fBcc:
				short[3], ok = d.strOrNull()
			case fSubject:
				short[4], ok = d.strOrNull()
			case fTag:
				short[5], ok = d.strOrNull()
			case fHtmlBody:
				m.htmlRaw, ok = d.strOrNull()
			case fTextBody:
				m.textRaw, ok = d.strOrNull()
			case fReplyTo:
				replyTo, ok = d.strOrNull()
			case fTrackLinks:
				trackLinks, ok = d.strOrNull()
			case fMessageStream:
				stream, ok = d.strOrNull()
			case fTrackOpens:
				switch {
				case d.next() == 't' && d.literal("true"):
					m.TrackOpens = &boolTrue
				case d.next() == 'f' && d.literal("false"):
					m.TrackOpens = &boolFalse
				default:
					ok = d.literal("null")
					m.TrackOpens = nil
				}
			case fMetadata:
				hasMeta, ok = d.metadata()
			case fHeaders:
				m.Headers, ok = d.headers()
			case fAttachments:
				m.Attachments, ok = d.attachments()
			}
			if !ok {
				return false
			}
			c := d.next()
			d.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return false
			}
		}
	}

	// One allocation for the short fields and the metadata.
	n := 0
	for _, f := range short {
		n += len(f)
	}
	for _, e := range d.meta {
		n += len(e[0]) + len(e[1])
	}
	d.pack = strings.Builder{}
	d.pack.Grow(n)
	for _, f := range short {
		d.pack.Write(f)
	}
	for _, e := range d.meta {
		d.pack.Write(e[0])
		d.pack.Write(e[1])
	}
	all := d.pack.String()
	cut := func(k int) string {
		s := all[:k]
		all = all[k:]
		return s
	}
	m.From, m.To, m.Cc, m.Bcc = cut(len(short[0])), cut(len(short[1])), cut(len(short[2])), cut(len(short[3]))
	m.Subject, m.Tag = cut(len(short[4])), cut(len(short[5]))
	if hasMeta {
		pairs := make([]kv, len(d.meta))
		for i, e := range d.meta {
			pairs[i] = kv{cut(len(e[0])), cut(len(e[1]))}
			if m.Metadata.dupKey == "" {
				for _, p := range pairs[:i] {
					if strings.EqualFold(p.Key, pairs[i].Key) {
						m.Metadata.dupKey = pairs[i].Key
						break
					}
				}
			}
		}
		m.Metadata.pairs = pairs
	}
	if len(replyTo) > 0 {
		m.ReplyTo = string(replyTo)
	}
	if tl, ok := trackLinksValues[string(trackLinks)]; ok {
		m.TrackLinks = tl
	} else {
		m.TrackLinks = string(trackLinks)
	}
	if name, ok := d.s.streams[string(stream)]; ok {
		m.MessageStream = name
	} else {
		m.MessageStream = string(stream)
	}
	m.packed = true
	return true
}

var boolTrue, boolFalse = true, false

// metadata reads an object of string values into d.meta. It reports
// whether there was an object (null leaves Metadata empty).
func (d *fastDecoder) metadata() (bool, bool) {
	switch d.next() {
	case 'n':
		return false, d.literal("null")
	case '{':
		d.i++
	default:
		return false, false
	}
	if d.next() == '}' {
		d.i++
		return true, true
	}
	for {
		k, ok := d.str()
		if !ok || d.next() != ':' {
			return false, false
		}
		d.i++
		v, ok := d.str()
		if !ok {
			return false, false
		}
		d.meta = append(d.meta, [2][]byte{k, v})
		switch d.next() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true, true
		default:
			return false, false
		}
	}
}

// object reads an object whose values are all strings, calling set with
// each key and value; set refuses unknown keys.
func (d *fastDecoder) object(set func(key, val []byte) bool) bool {
	if d.next() != '{' {
		return false
	}
	d.i++
	if d.next() == '}' {
		d.i++
		return true
	}
	for {
		k, ok := d.str()
		if !ok || d.next() != ':' {
			return false
		}
		d.i++
		v, ok := d.strOrNull()
		if !ok || !set(k, v) {
			return false
		}
		switch d.next() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// array reads null or an array, calling elem for each element.
func (d *fastDecoder) array(elem func() bool) (isNull, ok bool) {
	switch d.next() {
	case 'n':
		return true, d.literal("null")
	case '[':
		d.i++
	default:
		return false, false
	}
	if d.next() == ']' {
		d.i++
		return false, true
	}
	for {
		if !elem() {
			return false, false
		}
		switch d.next() {
		case ',':
			d.i++
		case ']':
			d.i++
			return false, true
		default:
			return false, false
		}
	}
}

func (d *fastDecoder) headers() ([]wireHeader, bool) {
	out := []wireHeader{}
	isNull, ok := d.array(func() bool {
		out = append(out, wireHeader{})
		h := &out[len(out)-1]
		return d.object(stringFields(map[string]*string{"Name": &h.Name, "Value": &h.Value}))
	})
	if isNull {
		out = nil
	}
	return out, ok
}

func (d *fastDecoder) attachments() ([]wireAttachment, bool) {
	out := []wireAttachment{}
	isNull, ok := d.array(func() bool {
		out = append(out, wireAttachment{})
		a := &out[len(out)-1]
		return d.object(stringFields(map[string]*string{
			"Name": &a.Name, "Content": &a.Content, "ContentType": &a.ContentType, "ContentID": &a.ContentID,
		}))
	})
	if isNull {
		out = nil
	}
	return out, ok
}

// stringFields returns a setter for object that fills the named string
// fields, each at most once. A null value leaves the field as it is.
func stringFields(fields map[string]*string) func(key, val []byte) bool {
	seen := make(map[string]bool, len(fields))
	return func(key, val []byte) bool {
		dst, ok := fields[string(key)]
		if !ok || seen[string(key)] {
			return false
		}
		seen[string(key)] = true
		if val != nil {
			*dst = string(val)
		}
		return true
	}
}
