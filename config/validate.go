package config

import (
	"encoding/base64"
	"fmt"
	"net/mail"
	"path"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Postmark's per-message limits (see shared/reference/postmark-api.md).
const (
	maxRecipients     = 50
	maxFromLen        = 255 // UTF-16 code units
	maxSubjectLen     = 2000
	maxTagLen         = 1000
	maxBodyBytes      = 5 << 20
	maxMessageBytes   = 10 << 20 // attachments counted after base64 encoding
	maxMetadataKeys   = 9        // Postmark allows 10; pf_id is reserved
	maxMetadataKeyLen = 20
	maxMetadataValLen = 80
	reservedMetadata  = "pf_id"
)

// trackLinksValues are the values Postmark accepts for TrackLinks.
var trackLinksValues = []string{"None", "HtmlAndText", "HtmlOnly", "TextOnly"}

// forbiddenExtensions are attachment extensions Postmark rejects (ErrorCode
// 411).
var forbiddenExtensions = []string{"vbs", "exe", "bin", "bat", "chm", "com", "cpl", "crt", "hlp", "hta", "inf", "ins", "isp", "jse", "lnk", "mdb", "pcd", "pif", "reg", "scr", "sct", "shs", "vbe", "vba", "wsf", "wsh", "wsl", "msc", "msi", "msp", "mst"}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// shown returns the value to quote in a diagnostic, hiding sensitive ones.
func (e *msgEval) shown(field, value string) string {
	if slices.Contains(e.m.Sensitive, field) {
		return "(sensitive)"
	}
	return fmt.Sprintf("%q", value)
}

// check reports a problem with the value of a field, pointing at the
// tightest source range and naming the argument when that range is in a
// data file.
func (e *msgEval) check(summary, field, detail string, expr hcl.Expression) {
	subject := e.r.subjectFor(expr)
	e.diags = append(e.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail + e.r.sourceNote(field, expr, subject),
		Subject:  subject,
	})
}

// validate applies Postmark's per-message rules, so that problems are found by
// validate and plan rather than by the API during apply.
func (e *msgEval) validate() {
	m := e.m
	b := e.r.b
	src := b.src

	switch err := e.r.checkFrom(m.From); {
	case m.From == "":
		e.check("Missing sender", "from", "from is empty. Set it to a sender address such as \"Acme News <news@acme.example>\".", src.From)
	case err != nil:
		e.check("Invalid sender address", "from", fmt.Sprintf("invalid From address %s (%s). Use one address such as \"Acme News <news@acme.example>\"; quote display names that contain punctuation.", e.shown("from", m.From), strings.TrimPrefix(err.Error(), "mail: ")), src.From)
	case utf16Len(m.From) > maxFromLen:
		e.check("Sender too long", "from", fmt.Sprintf("the From address is %d characters long; Postmark allows at most %d.", utf16Len(m.From), maxFromLen), src.From)
	}

	recipients := 0
	for _, f := range []struct {
		field, label, value string
		expr                hcl.Expression
	}{
		{"to", "To", m.To, src.To},
		{"cc", "Cc", m.Cc, src.Cc},
		{"bcc", "Bcc", m.Bcc, src.Bcc},
		{"reply_to", "Reply-To", m.ReplyTo, src.ReplyTo},
	} {
		if strings.TrimSpace(f.value) == "" {
			if f.field == "to" {
				e.check("Missing recipient", "to", "to is empty, so the message has no recipient. Rows without an address can be left out with the for expression's if clause.", f.expr)
			}
			continue
		}
		n, err := countAddresses(f.value)
		if err != nil {
			summary := "Invalid recipient address"
			if f.field == "reply_to" {
				summary = "Invalid reply-to address"
			}
			e.check(summary, f.field, fmt.Sprintf("invalid %s address %s (%s). Give one address or a comma-separated list, such as \"Ann <ann@example.com>, bob@example.com\".", f.label, e.shown(f.field, f.value), strings.TrimPrefix(err.Error(), "mail: ")), f.expr)
			continue
		}
		if f.field != "reply_to" {
			recipients += n
		}
	}
	if recipients > maxRecipients {
		e.check("Too many recipients", "to", fmt.Sprintf("the message has %d recipients across To, Cc and Bcc; Postmark allows at most %d per message. Split the recipients into separate messages with for_each.", recipients, maxRecipients), src.To)
	}

	htmlLen, textLen := m.BodySizes()
	if !b.UsesServerTemplate {
		if htmlLen == 0 && textLen == 0 && !e.failed["html"] && !e.failed["text"] && !e.failed["data"] {
			expr := src.HTML
			if b.content != nil && b.content.html != nil {
				expr = b.content.html
			} else if b.content != nil && b.content.text != nil {
				expr = b.content.text
			}
			e.check("Missing message body", "html", "both the HTML and the text body rendered empty. Postmark rejects a message without a body; check the template's conditions and data.", expr)
		}
		var contentSubject hcl.Expression
		if b.content != nil {
			contentSubject = b.content.subject
		}
		if n := utf16Len(m.Subject); n > maxSubjectLen {
			e.check("Subject too long", "subject", fmt.Sprintf("the subject is %d characters long; Postmark allows at most %d.", n, maxSubjectLen), contentSubject)
		}
		if htmlLen > maxBodyBytes {
			e.check("Body too large", "html", fmt.Sprintf("the HTML body is %d bytes; Postmark allows at most %d.", htmlLen, maxBodyBytes), b.content.html)
		}
		if textLen > maxBodyBytes {
			e.check("Body too large", "text", fmt.Sprintf("the text body is %d bytes; Postmark allows at most %d.", textLen, maxBodyBytes), b.content.text)
		}
	}
	if n := utf16Len(m.Tag); n > maxTagLen {
		e.check("Tag too long", "tag", fmt.Sprintf("the tag is %d characters long; Postmark allows at most %d.", n, maxTagLen), src.Tag)
	}

	e.validateMetadata()

	if m.TrackLinks != "" && !slices.Contains(trackLinksValues, m.TrackLinks) {
		suggestion := ""
		for _, v := range trackLinksValues {
			if strings.EqualFold(v, m.TrackLinks) {
				suggestion = fmt.Sprintf(" Did you mean %q?", v)
			}
		}
		if suggestion == "" {
			suggestion = didYouMean(m.TrackLinks, trackLinksValues)
		}
		e.check("Invalid track_links value", "track_links", fmt.Sprintf("%q is not a link tracking mode. Use \"None\", \"HtmlAndText\", \"HtmlOnly\" or \"TextOnly\".%s", m.TrackLinks, suggestion), src.TrackLinks)
	}
	if b.streamPerMessage && !streamIDPattern.MatchString(m.MessageStream) {
		e.check("Invalid message stream", "message_stream", streamDetail(m.MessageStream), src.MessageStream)
	}
	for _, h := range m.Headers {
		if h.Name == "" || strings.ContainsAny(h.Name, ": \t\r\n") {
			e.check("Invalid header name", "headers", fmt.Sprintf("%q is not a valid header name: it must be non-empty, without spaces or colons.", h.Name), src.Headers)
		}
	}

	size := len(m.Subject) + htmlLen + textLen + len(m.TemplateModel)
	for _, a := range m.Attachments {
		ext := strings.TrimPrefix(strings.ToLower(path.Ext(a.Name)), ".")
		if slices.Contains(forbiddenExtensions, ext) {
			e.check("Forbidden attachment type", "attachments", fmt.Sprintf("Postmark does not accept attachments with the extension .%s (%s).", ext, a.Name), src.Attachments)
		}
		size += base64.StdEncoding.EncodedLen(len(a.Content))
	}
	for _, h := range m.Headers {
		size += len(h.Name) + len(h.Value)
	}
	if size > maxMessageBytes {
		e.check("Message too large", "attachments", fmt.Sprintf("the message is about %.1f MB with attachments base64-encoded; Postmark allows at most 10 MB per message.", float64(size)/(1<<20)), src.Attachments)
	}
}

func (e *msgEval) validateMetadata() {
	md := e.m.Metadata
	expr := e.r.b.src.Metadata
	if len(md) == 0 {
		return
	}
	if len(md) > maxMetadataKeys {
		e.check("Too many metadata keys", "metadata", fmt.Sprintf("metadata has %d keys; at most %d are allowed, because Postmark allows 10 and postform reserves %s.", len(md), maxMetadataKeys, reservedMetadata), expr)
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	seen := make(map[string]string, len(md))
	for _, k := range keys {
		// Problems point at the item's key or value when metadata is
		// written as an object constructor.
		lower := strings.ToLower(k)
		switch {
		case lower == reservedMetadata:
			e.checkAt("Reserved metadata key", fmt.Sprintf("the metadata key %q is reserved: postform sets %s on every message to make sends exactly-once. Rename the key.", k, reservedMetadata), e.metadataKeyRange(k, expr))
		case seen[lower] != "":
			e.checkAt("Duplicate metadata key", fmt.Sprintf("the metadata keys %q and %q differ only in case; Postmark rejects that. Rename one of them.", seen[lower], k), e.metadataKeyRange(k, expr))
		}
		seen[lower] = k
		if n := utf8.RuneCountInString(k); n > maxMetadataKeyLen {
			e.checkAt("Metadata key too long", fmt.Sprintf("the metadata key %q is %d characters long; Postmark allows at most %d.", k, n, maxMetadataKeyLen), e.metadataKeyRange(k, expr))
		}
		if n := utf8.RuneCountInString(md[k]); n > maxMetadataValLen {
			valueAt := expr
			if item, ok := e.r.b.metadataRanges[k]; ok {
				valueAt = item.expr
			}
			e.check("Metadata value too long", "metadata", fmt.Sprintf("the value of metadata key %q is %d characters long; Postmark allows at most %d.", k, n, maxMetadataValLen), valueAt)
		}
	}
}

// checkFrom validates a sender address, remembering the last valid one: most
// batches send every message from the same address.
func (r *renderer) checkFrom(from string) error {
	if from != "" && from == r.validFrom {
		return nil
	}
	_, err := mail.ParseAddress(from)
	if err == nil {
		r.validFrom = from
	}
	return err
}

// countAddresses validates a comma-separated address list and counts its
// addresses. A plain address (local@domain, the usual case) is checked
// without net/mail's full parser.
func countAddresses(s string) (int, error) {
	if simpleAddress(s) {
		return 1, nil
	}
	list, err := mail.ParseAddressList(s)
	return len(list), err
}

// simpleAddress reports whether s is a bare addr-spec made of dot-atoms
// (RFC 5322), such as ann.lee+news@mail.example.com. Everything it accepts,
// net/mail accepts too; anything else is left to net/mail.
func simpleAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	return dotAtom(s[:at], true) && dotAtom(s[at+1:], false)
}

func dotAtom(s string, local bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	prevDot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
		case local && strings.IndexByte("!#$%&'*+/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
		prevDot = false
	}
	return true
}

// metadataKeyRange returns the range of a metadata item's key, or of the
// whole metadata expression when it is not an object constructor.
func (e *msgEval) metadataKeyRange(key string, expr hcl.Expression) *hcl.Range {
	if item, ok := e.r.b.metadataRanges[key]; ok {
		return item.keyRange.Ptr()
	}
	return e.r.subjectFor(expr)
}

// checkAt reports a problem at a given range.
func (e *msgEval) checkAt(summary, detail string, subject *hcl.Range) {
	e.diags = append(e.diags, errorDiag(summary, detail, subject))
}
