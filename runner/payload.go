package runner

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/zeebo/xxh3"

	"github.com/postform/postform/config"
	"github.com/postform/postform/postmark"
)

// PFIDKey is the metadata key that carries a message's idempotency key.
const PFIDKey = "pf_id"

// payload is one message translated for the wire. Exactly one of plain and
// tmpl is set. It is built, sent, recorded and dropped: a run never holds
// more payloads than its in-flight requests need.
type payload struct {
	address    string
	batch, key string
	plain      *postmark.Message
	tmpl       *postmark.TemplatedMessage
	digest     string
	stream     string
	recipients string
	tag        string
	size       int // approximate JSON size in bytes
}

// templated reports whether the payload goes to /email/batchWithTemplates.
func (p *payload) templated() bool { return p.tmpl != nil }

// setPFID stamps the idempotency key into the payload's metadata.
func (p *payload) setPFID(id string) {
	md := p.metadata()
	md[PFIDKey] = id
}

func (p *payload) metadata() map[string]string {
	if p.plain != nil {
		if p.plain.Metadata == nil {
			p.plain.Metadata = map[string]string{}
		}
		return p.plain.Metadata
	}
	if p.tmpl.Metadata == nil {
		p.tmpl.Metadata = map[string]string{}
	}
	return p.tmpl.Metadata
}

// buildPayload translates an evaluated message into its wire form and
// computes the content digest (the canonical JSON of the payload without
// pf_id), which identifies "the same content" across runs and plan files.
func buildPayload(m *config.Message) *payload {
	p := &payload{
		address:    m.Address,
		batch:      m.Batch,
		key:        m.Key,
		stream:     m.MessageStream,
		recipients: joinRecipients(m.To, m.Cc, m.Bcc),
		tag:        m.Tag,
	}
	if p.stream == "" {
		p.stream = "outbound"
	}
	headers := make([]postmark.Header, 0, len(m.Headers))
	for _, h := range m.Headers {
		headers = append(headers, postmark.Header{Name: h.Name, Value: h.Value})
	}
	if len(headers) == 0 {
		headers = nil
	}
	var atts []postmark.Attachment
	for _, a := range m.Attachments {
		atts = append(atts, postmark.Attachment{
			Name:        a.Name,
			Content:     base64.StdEncoding.EncodeToString(a.Content),
			ContentType: a.ContentType,
			ContentID:   a.ContentID,
		})
	}
	var md map[string]string
	if len(m.Metadata) > 0 {
		md = make(map[string]string, len(m.Metadata)+1)
		for k, v := range m.Metadata {
			md[k] = v
		}
	}
	if m.TemplateAlias != "" || m.TemplateID != 0 {
		p.tmpl = &postmark.TemplatedMessage{
			TemplateID:    m.TemplateID,
			TemplateAlias: m.TemplateAlias,
			TemplateModel: json.RawMessage(m.TemplateModel),
			From:          m.From,
			To:            m.To,
			Cc:            m.Cc,
			Bcc:           m.Bcc,
			Tag:           m.Tag,
			ReplyTo:       m.ReplyTo,
			Headers:       headers,
			TrackOpens:    m.TrackOpens,
			TrackLinks:    m.TrackLinks,
			Metadata:      md,
			Attachments:   atts,
			MessageStream: p.stream,
		}
		if len(p.tmpl.TemplateModel) == 0 {
			p.tmpl.TemplateModel = json.RawMessage("{}")
		}
	} else {
		p.plain = &postmark.Message{
			From:          m.From,
			To:            m.To,
			Cc:            m.Cc,
			Bcc:           m.Bcc,
			Subject:       m.Subject,
			Tag:           m.Tag,
			HtmlBody:      m.HTMLBody,
			TextBody:      m.TextBody,
			ReplyTo:       m.ReplyTo,
			Headers:       headers,
			TrackOpens:    m.TrackOpens,
			TrackLinks:    m.TrackLinks,
			Metadata:      md,
			Attachments:   atts,
			MessageStream: p.stream,
		}
	}
	p.digest, p.size = p.fingerprint()
	return p
}

// fingerprint returns the content digest of the payload and an upper
// bound of its JSON size. The digest hashes every field that reaches the
// wire (except pf_id), each with its name and length, in a fixed order;
// hashing the fields directly costs a fraction of encoding the JSON just to
// hash it, and a million-message run would do that a million times.
//
// The hash is XXH3-128, not a cryptographic one: the digest only tells
// "same content as sent" from "changed" (and a plan from a stale one), and
// it hashes every byte of every message. SHA-256 cost ~3 s of CPU on a
// million messages; XXH3 a small fraction of that. A collision could only
// make a changed message look unchanged, which sends nothing twice.
func (p *payload) fingerprint() (string, int) {
	// The fields are laid out in one reused buffer and hashed at once:
	// cheaper than a hash.Hash Write per field, each copying its string.
	bp := fingerprintBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= 1<<20 {
			*bp = buf
			fingerprintBufs.Put(bp)
		}
	}()
	size := 256 // braces, keys, quotes and the pf_id metadata entry
	field := func(name, v string) {
		if v == "" {
			return
		}
		buf = append(buf, name...)
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(v)))
		buf = append(buf, v...)
		size += len(name) + jsonLen(v) + 8
	}
	common := func(from, to, cc, bcc, tag, replyTo string, headers []postmark.Header, trackOpens *bool, trackLinks string,
		md map[string]string, atts []postmark.Attachment, stream string) {
		field("From", from)
		field("To", to)
		field("Cc", cc)
		field("Bcc", bcc)
		field("Tag", tag)
		field("ReplyTo", replyTo)
		for _, hd := range headers {
			field("Header.Name", hd.Name)
			field("Header.Value", hd.Value)
		}
		if trackOpens != nil {
			field("TrackOpens", strconv.FormatBool(*trackOpens))
		}
		field("TrackLinks", trackLinks)
		keys := make([]string, 0, len(md))
		for k := range md {
			if k != PFIDKey {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			field("Metadata.Key", k)
			field("Metadata.Value", md[k])
		}
		for _, a := range atts {
			field("Attachment.Name", a.Name)
			field("Attachment.ContentType", a.ContentType)
			field("Attachment.ContentID", a.ContentID)
			field("Attachment.Content", a.Content)
		}
		field("MessageStream", stream)
	}
	if t := p.tmpl; t != nil {
		field("Kind", "template")
		if t.TemplateID != 0 {
			field("TemplateID", strconv.FormatInt(t.TemplateID, 10))
		}
		field("TemplateAlias", t.TemplateAlias)
		field("TemplateModel", string(t.TemplateModel))
		if t.InlineCSS != nil {
			field("InlineCss", strconv.FormatBool(*t.InlineCSS))
		}
		common(t.From, t.To, t.Cc, t.Bcc, t.Tag, t.ReplyTo, t.Headers, t.TrackOpens, t.TrackLinks, t.Metadata, t.Attachments, t.MessageStream)
	} else {
		m := p.plain
		field("Kind", "email")
		field("Subject", m.Subject)
		field("HtmlBody", m.HtmlBody)
		field("TextBody", m.TextBody)
		common(m.From, m.To, m.Cc, m.Bcc, m.Tag, m.ReplyTo, m.Headers, m.TrackOpens, m.TrackLinks, m.Metadata, m.Attachments, m.MessageStream)
	}
	sum := xxh3.Hash128(buf).Bytes()
	return hex.EncodeToString(sum[:]), size
}

// fingerprintBufs holds fingerprint's scratch buffers.
var fingerprintBufs = sync.Pool{New: func() any { return new([]byte) }}

// jsonLen estimates the length of v as a JSON string body: encoding/json
// writes <, > and & as \u00XX, and quotes, backslashes, newlines, returns
// and tabs with a backslash. Other control characters and U+2028/U+2029
// (six bytes each) are not counted; requests are split well under
// Postmark's 50 MB, which leaves room for them.
func jsonLen(v string) int {
	return len(v) +
		5*(strings.Count(v, "<")+strings.Count(v, ">")+strings.Count(v, "&")) +
		strings.Count(v, `"`) + strings.Count(v, `\`) +
		strings.Count(v, "\n") + strings.Count(v, "\r") + strings.Count(v, "\t")
}

func joinRecipients(lists ...string) string {
	var parts []string
	for _, l := range lists {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, ", ")
}

var pfidEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// pfID derives a message's idempotency key from the state lineage, the
// message address and a generation salt (empty for the first send; the
// previous MessageID for a -replace resend, so that reconciling the
// replacement never adopts the original). 26 characters, well inside
// Postmark's 80-character metadata value limit.
func pfID(lineage, address, salt string) string {
	h := sha256.New()
	h.Write([]byte("postform/pf_id/v1\x00"))
	h.Write([]byte(lineage))
	h.Write([]byte{0})
	h.Write([]byte(address))
	h.Write([]byte{0})
	h.Write([]byte(salt))
	sum := h.Sum(nil)
	return strings.ToLower(pfidEncoding.EncodeToString(sum[:16]))
}

// templateName names a server template for display.
func templateName(m *config.Message) string {
	if m.TemplateAlias != "" {
		return m.TemplateAlias
	}
	if m.TemplateID != 0 {
		return "id " + strconv.FormatInt(m.TemplateID, 10)
	}
	return ""
}
