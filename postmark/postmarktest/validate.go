package postmarktest

import (
	"fmt"
	"net/mail"
	"path"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Postmark ErrorCodes produced by the simulator (reference §5).
const (
	codeOK                   = 0
	codeBadToken             = 10
	codeMaintenance          = 100
	codeServerError          = 101
	codeInvalidRequest       = 300
	codeInvalidJSON          = 402
	codeInvalidField         = 403
	codeInactive             = 406
	codeBatchTooLarge        = 410
	codeForbiddenAttachment  = 411
	codeRateLimited          = 429 // the legacy ErrorCode, used in 429 bodies
	codeQueryInvalid         = 700
	codeMessageNotFound      = 701
	codeBounceQueryInvalid   = 1000
	codeBounceNotFound       = 1001
	codeTemplateNotFound     = 1101
	codeTemplateModelMissing = 1120
	codeUnknownStream        = 1235
	codeStreamCannotSend     = 1236

	// codeTooLarge is not a Postmark ErrorCode: it tells the handler to
	// answer the whole request with HTTP 413.
	codeTooLarge = -413
)

// Postmark's documented limits (reference §2, §3).
const (
	maxBatch         = 500
	maxRecipients    = 50
	maxFromLen       = 255
	maxSubjectLen    = 2000
	maxTagLen        = 1000
	maxMetadataKeys  = 10
	maxMetadataKey   = 20
	maxMetadataValue = 80
	maxMessageBytes  = 10 << 20
	maxRequestBytes  = 50 << 20
)

// forbiddenExtensions are the attachment file types Postmark refuses (411).
var forbiddenExtensions = map[string]bool{
	"vbs": true, "exe": true, "bin": true, "bat": true, "chm": true, "com": true, "cpl": true,
	"crt": true, "hlp": true, "hta": true, "inf": true, "ins": true, "isp": true, "jse": true,
	"lnk": true, "mdb": true, "pcd": true, "pif": true, "reg": true, "scr": true, "sct": true,
	"shs": true, "vbe": true, "vba": true, "wsf": true, "wsh": true, "wsl": true, "msc": true,
	"msi": true, "msp": true, "mst": true,
}

// trackLinksValues maps each valid TrackLinks value to a shared copy, so
// stored messages do not each keep their own.
var trackLinksValues = map[string]string{"": "", "None": "None", "HtmlAndText": "HtmlAndText", "HtmlOnly": "HtmlOnly", "TextOnly": "TextOnly"}

// Recipient kinds.
const (
	kindTo uint8 = iota
	kindCc
	kindBcc
)

// recipient is one parsed address of To, Cc or Bcc. Email keeps the
// sender's spelling; comparisons lower-case it.
type recipient struct {
	Name  string
	Email string
	Kind  uint8
}

// prepared is a message that passed validation and awaits acceptance.
type prepared struct {
	stream      string
	from        string
	fromAddr    string // the bare address of From
	to, cc, bcc string
	subject     string
	tag         string
	html, text  bodyText
	trackOpens  bool
	trackLinks  string
	meta        []kv
	rcpts       []recipient
	attachments []string
}

// bodyText is a message body waiting to be stored: a string, or bytes of
// the request's buffers (which are reused once the request is answered).
type bodyText struct {
	s string
	b []byte
}

func (t bodyText) len() int { return len(t.s) + len(t.b) }

// appendPrefix appends the first n bytes of the body to dst.
func (t bodyText) appendPrefix(dst []byte, n int) []byte {
	if t.b != nil {
		return append(dst, t.b[:n]...)
	}
	return append(dst, t.s[:n]...)
}

// verdict is the outcome of validating or accepting one message.
type verdict struct {
	code int
	msg  string
}

func fail(code int, format string, args ...any) verdict {
	return verdict{code: code, msg: fmt.Sprintf(format, args...)}
}

// prepare validates a plain send request against Postmark's rules and
// returns the message to accept, or the ErrorCode it earns.
func (s *Server) prepare(p *prepared, m *wireMessage, memo *fromMemo) verdict {
	*p = prepared{
		from: m.From, to: m.To, cc: m.Cc, bcc: m.Bcc,
		subject: m.Subject, tag: m.Tag,
		html: bodyText{m.HtmlBody, m.htmlRaw}, text: bodyText{m.TextBody, m.textRaw},
		trackLinks: m.TrackLinks, meta: m.Metadata.pairs,
	}
	if m.TrackOpens != nil {
		p.trackOpens = *m.TrackOpens
	}
	size := len(m.From) + len(m.To) + len(m.Cc) + len(m.Bcc) + len(m.Subject) + len(m.Tag) +
		p.html.len() + p.text.len() + len(m.ReplyTo)
	for _, a := range m.Attachments {
		size += len(a.Name) + len(a.Content) + len(a.ContentType) + len(a.ContentID)
	}
	for _, h := range m.Headers {
		size += len(h.Name) + len(h.Value)
	}
	if size > maxMessageBytes {
		return fail(codeTooLarge, "Message exceeds the 10 MB size limit.")
	}
	if v := s.checkStream(m.MessageStream, p); v.code != codeOK {
		return v
	}
	if v := checkCommon(m.From, m.ReplyTo, m.Tag, m.TrackLinks, m.Headers, &m.Metadata, p, memo); v.code != codeOK {
		return v
	}
	if v := checkRecipients(p); v.code != codeOK {
		return v
	}
	if v := checkContent(p.subject, p.html, p.text); v.code != codeOK {
		return v
	}
	v := checkAttachments(m.Attachments, p)
	if v.code == codeOK && !m.packed {
		p.pack()
	}
	return v
}

// checkStream resolves the MessageStream (default "outbound").
func (s *Server) checkStream(stream string, p *prepared) verdict {
	if stream == "" {
		stream = "outbound"
	}
	p.stream = stream
	if stream == "inbound" {
		return fail(codeStreamCannotSend, "The message stream 'inbound' does not support sending.")
	}
	name, ok := s.streams[stream]
	if !ok {
		return fail(codeUnknownStream, "The 'MessageStream' provided does not exist on this server.")
	}
	p.stream = name // the shared copy
	return verdict{}
}

// checkCommon validates the fields shared by plain and templated sends.
func checkCommon(from, replyTo, tag, trackLinks string, headers []wireHeader, md *metadata, p *prepared, memo *fromMemo) verdict {
	if strings.TrimSpace(from) == "" {
		return fail(codeInvalidRequest, "Invalid 'From' address: ''.")
	}
	if utf16Len(from) > maxFromLen {
		return fail(codeInvalidRequest, "The 'From' field is too long: at most %d characters are allowed.", maxFromLen)
	}
	addr, ok := memo.parse(from)
	p.fromAddr = addr.Email
	if !ok {
		return fail(codeInvalidRequest, "Invalid 'From' address: '%s'.", from)
	}
	if strings.TrimSpace(replyTo) != "" {
		if _, ok := parseList(replyTo, kindTo, nil); !ok {
			return fail(codeInvalidRequest, "Invalid 'ReplyTo' address: '%s'.", replyTo)
		}
	}
	if utf16Len(tag) > maxTagLen {
		return fail(codeInvalidRequest, "The 'Tag' field is too long: at most %d characters are allowed.", maxTagLen)
	}
	tl, ok := trackLinksValues[trackLinks]
	if !ok {
		return fail(codeInvalidRequest, "Invalid 'TrackLinks' value: '%s'. Use None, HtmlAndText, HtmlOnly or TextOnly.", trackLinks)
	}
	p.trackLinks = tl
	for _, h := range headers {
		if strings.TrimSpace(h.Name) == "" {
			return fail(codeInvalidRequest, "Header names must not be empty.")
		}
	}
	if md.dupKey != "" {
		return fail(codeInvalidRequest, "Metadata keys must be unique (case-insensitively): '%s' appears more than once.", md.dupKey)
	}
	if len(md.pairs) > maxMetadataKeys {
		return fail(codeInvalidRequest, "Too many metadata fields: at most %d are allowed.", maxMetadataKeys)
	}
	for _, e := range md.pairs {
		if e.Key == "" {
			return fail(codeInvalidRequest, "Metadata keys must not be empty.")
		}
		if utf16Len(e.Key) > maxMetadataKey {
			return fail(codeInvalidRequest, "Metadata key '%s' is too long: at most %d characters are allowed.", e.Key, maxMetadataKey)
		}
		if utf16Len(e.Value) > maxMetadataValue {
			return fail(codeInvalidRequest, "Metadata value for '%s' is too long: at most %d characters are allowed.", e.Key, maxMetadataValue)
		}
	}
	return verdict{}
}

// checkRecipients parses To, Cc and Bcc into p.rcpts.
func checkRecipients(p *prepared) verdict {
	if strings.TrimSpace(p.to) == "" {
		return fail(codeInvalidRequest, "Zero recipients specified.")
	}
	rcpts := make([]recipient, 0, 1)
	for _, f := range []struct {
		name  string
		value string
		kind  uint8
	}{{"To", p.to, kindTo}, {"Cc", p.cc, kindCc}, {"Bcc", p.bcc, kindBcc}} {
		if strings.TrimSpace(f.value) == "" {
			continue
		}
		var ok bool
		rcpts, ok = parseList(f.value, f.kind, rcpts)
		if !ok {
			return fail(codeInvalidRequest, "Invalid '%s' address: '%s'.", f.name, f.value)
		}
	}
	if len(rcpts) > maxRecipients {
		return fail(codeInvalidRequest, "You may not send to more than %d recipients (To, Cc and Bcc together); this message has %d.", maxRecipients, len(rcpts))
	}
	p.rcpts = rcpts
	return verdict{}
}

// checkContent validates the subject and bodies of a (rendered) message.
func checkContent(subject string, html, text bodyText) verdict {
	if utf16Len(subject) > maxSubjectLen {
		return fail(codeInvalidRequest, "The 'Subject' field is too long: at most %d characters are allowed.", maxSubjectLen)
	}
	if html.len() == 0 && text.len() == 0 {
		return fail(codeInvalidRequest, "Provide either email TextBody or HtmlBody or both.")
	}
	return verdict{}
}

// checkAttachments refuses forbidden file types and records the names.
func checkAttachments(atts []wireAttachment, p *prepared) verdict {
	for _, a := range atts {
		if strings.TrimSpace(a.Name) == "" {
			return fail(codeInvalidRequest, "Attachments must have a Name.")
		}
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(a.Name), "."))
		if forbiddenExtensions[ext] {
			return fail(codeForbiddenAttachment, "Attachment file type not allowed: '%s'.", a.Name)
		}
		p.attachments = append(p.attachments, a.Name)
	}
	return verdict{}
}

// fromMemo remembers the last From parsed for a request: a batch nearly
// always has a single sender, and net/mail is costly for "Name <addr>".
// A nil *fromMemo parses every time.
type fromMemo struct {
	in  string
	out recipient
	ok  bool
	set bool
}

func (f *fromMemo) parse(s string) (recipient, bool) {
	if f != nil && f.set && f.in == s {
		return f.out, f.ok
	}
	r, ok := parseAddress(s)
	if f != nil {
		*f = fromMemo{in: s, out: r, ok: ok, set: true}
	}
	return r, ok
}

// parseAddress parses one address the way net/mail does, with a fast path
// for the common bare address.
func parseAddress(s string) (recipient, bool) {
	s = strings.TrimSpace(s)
	if isPlainAddress(s) {
		return recipient{Email: s}, true
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return recipient{}, false
	}
	return recipient{Name: a.Name, Email: a.Address}, true
}

// parseList parses a comma-separated address list and appends it to dst.
func parseList(s string, kind uint8, dst []recipient) ([]recipient, bool) {
	s = strings.TrimSpace(s)
	if isPlainAddress(s) {
		return append(dst, recipient{Email: s, Kind: kind}), true
	}
	list, err := mail.ParseAddressList(s)
	if err != nil || len(list) == 0 {
		return dst, false
	}
	for _, a := range list {
		dst = append(dst, recipient{Name: a.Name, Email: a.Address, Kind: kind})
	}
	return dst, true
}

// isPlainAddress reports whether s is a bare dot-atom address
// (local@domain) with ASCII characters only. Every such string is also
// accepted by net/mail, so this is a pure speed-up for the common case.
func isPlainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	return isDotAtom(s[:at], atext) && isDotAtom(s[at+1:], domainText)
}

func isDotAtom(s string, allowed func(byte) bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	prevDot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if prevDot {
				return false
			}
			prevDot = true
			continue
		}
		prevDot = false
		if !allowed(c) {
			return false
		}
	}
	return true
}

func atext(c byte) bool {
	return domainText(c) || strings.IndexByte("!#$%&'*+/=?^_`{|}~", c) >= 0
}

func domainText(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// utf16Len counts s in UTF-16 code units, the unit of Postmark's limits.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		n += utf16.RuneLen(r)
		i += size
	}
	return n
}

// pack copies the short strings of a valid message into one allocation, so
// a stored message is a few heap objects instead of a dozen; this keeps the
// memory and garbage-collection cost of a million stored messages down.
// Bodies stay separate because the body budget may drop them.
func (p *prepared) pack() {
	fields := []*string{&p.from, &p.to, &p.cc, &p.bcc, &p.subject, &p.tag}
	for i := range p.meta {
		fields = append(fields, &p.meta[i].Key, &p.meta[i].Value)
	}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	buf := make([]byte, 0, n)
	ends := make([]int, len(fields))
	for i, f := range fields {
		buf = append(buf, *f...)
		ends[i] = len(buf)
	}
	all := string(buf)
	start := 0
	for i, f := range fields {
		*f = all[start:ends[i]]
		start = ends[i]
	}
	if p.fromAddr == strings.TrimSpace(p.from) {
		p.fromAddr = strings.TrimSpace(p.from)
	}
	for i := range p.rcpts {
		if p.rcpts[i].Email == strings.TrimSpace(p.to) {
			p.rcpts[i].Email = strings.TrimSpace(p.to)
		}
	}
}
