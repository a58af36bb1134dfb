package postmarktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"strings"
)

// findTemplate resolves a template by id (which wins when both are given,
// as at Postmark) or by alias.
func (s *Server) findTemplate(id int64, alias string) (*Template, verdict) {
	switch {
	case id != 0:
		if t, ok := s.templatesByID[id]; ok {
			return t, verdict{}
		}
		if s.opts.AnyTemplate {
			return genericTemplate(fmt.Sprintf("id %d", id)), verdict{}
		}
		return nil, fail(codeTemplateNotFound, "The template with ID %d was not found.", id)
	case alias != "":
		if t, ok := s.templatesByAlias[alias]; ok {
			return t, verdict{}
		}
		if s.opts.AnyTemplate {
			return genericTemplate(alias), verdict{}
		}
		return nil, fail(codeTemplateNotFound, "The template with alias '%s' was not found.", alias)
	default:
		return nil, fail(codeTemplateNotFound, "Either 'TemplateId' or 'TemplateAlias' is required.")
	}
}

// prepareTemplated validates a templated send, renders it and validates the
// rendered message like a plain send.
func (s *Server) prepareTemplated(p *prepared, m *wireTemplateMessage, memo *fromMemo) verdict {
	*p = prepared{
		from: m.From, to: m.To, cc: m.Cc, bcc: m.Bcc, tag: m.Tag,
		trackLinks: m.TrackLinks, meta: m.Metadata.pairs,
	}
	if m.TrackOpens != nil {
		p.trackOpens = *m.TrackOpens
	}
	if v := s.checkStream(m.MessageStream, p); v.code != codeOK {
		return v
	}
	t, v := s.findTemplate(m.TemplateId, m.TemplateAlias)
	if v.code != codeOK {
		return v
	}
	model := bytes.TrimSpace(m.TemplateModel)
	if len(model) == 0 || string(model) == "null" {
		return fail(codeTemplateModelMissing, "The 'TemplateModel' field is required.")
	}
	var data any
	dec := json.NewDecoder(bytes.NewReader(model))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		return fail(codeInvalidJSON, "Received invalid JSON input.")
	}
	if _, ok := data.(map[string]any); !ok {
		return fail(codeInvalidField, "Invalid request field(s): TemplateModel.")
	}
	p.subject = render(t.Subject, data, false)
	p.html = bodyText{s: render(t.HtmlBody, data, true)}
	p.text = bodyText{s: render(t.TextBody, data, false)}
	if v := checkCommon(m.From, m.ReplyTo, m.Tag, m.TrackLinks, m.Headers, &m.Metadata, p, memo); v.code != codeOK {
		return v
	}
	if v := checkRecipients(p); v.code != codeOK {
		return v
	}
	if v := checkContent(p.subject, p.html, p.text); v.code != codeOK {
		return v
	}
	v = checkAttachments(m.Attachments, p)
	if v.code == codeOK {
		p.pack()
	}
	return v
}

// render fills {{path}} and {{{path}}} placeholders from the model. In HTML
// bodies {{path}} is HTML-escaped; {{{path}}} never is.
func render(tmpl string, model any, escapeHTML bool) string {
	if !strings.Contains(tmpl, "{{") {
		return tmpl
	}
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i])
		rest = rest[i:]
		open, closing, raw := "{{", "}}", false
		if strings.HasPrefix(rest, "{{{") {
			open, closing, raw = "{{{", "}}}", true
		}
		j := strings.Index(rest[len(open):], closing)
		if j < 0 {
			b.WriteString(rest)
			return b.String()
		}
		name := strings.TrimSpace(rest[len(open) : len(open)+j])
		rest = rest[len(open)+j+len(closing):]
		val := lookupPath(model, name)
		if escapeHTML && !raw {
			val = html.EscapeString(val)
		}
		b.WriteString(val)
	}
}

// lookupPath resolves a dotted path in a decoded JSON model and formats the
// value; missing values and objects render as "".
func lookupPath(model any, path string) string {
	cur := model
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		if cur, ok = obj[part]; !ok {
			return ""
		}
	}
	switch v := cur.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	default:
		return ""
	}
}

// genericTemplate stands in for a server template the simulator was not
// given (Options.AnyTemplate): it names the template and renders nothing
// from the model, so any model is accepted.
func genericTemplate(name string) *Template {
	return &Template{
		Alias:    name,
		Subject:  "Simulated template " + name,
		HtmlBody: "<p>Simulated rendering of server template " + html.EscapeString(name) + ".</p>",
		TextBody: "Simulated rendering of server template " + name + ".",
	}
}
