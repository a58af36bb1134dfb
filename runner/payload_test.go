package runner

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postform/postform/config"
)

func baseMessage() *config.Message {
	yes := true
	return &config.Message{
		Address: `batch.x["ann@example.com"]`, Batch: "x", Key: "ann@example.com",
		From: "News <news@acme.example>", To: "ann@example.com", Subject: "Hello <Ann> & co",
		HTMLBody: "<p>Hi &amp; welcome</p>", TextBody: "Hi", Tag: "t",
		Metadata: map[string]string{"a": "1", "b": "2"}, Headers: []config.Header{{Name: "X-A", Value: "1"}},
		TrackOpens: &yes, TrackLinks: "HtmlOnly", MessageStream: "outbound",
		Attachments: []config.Attachment{{Name: "a.txt", ContentType: "text/plain", Content: []byte("hello")}},
	}
}

func TestFingerprintSeesEveryField(t *testing.T) {
	base := buildPayload(baseMessage())
	no := false
	edits := map[string]func(m *config.Message){
		"from":         func(m *config.Message) { m.From = "other@acme.example" },
		"to":           func(m *config.Message) { m.To = "bob@example.com" },
		"cc":           func(m *config.Message) { m.Cc = "cc@example.com" },
		"subject":      func(m *config.Message) { m.Subject += "!" },
		"html":         func(m *config.Message) { m.HTMLBody += " " },
		"text":         func(m *config.Message) { m.TextBody += " " },
		"tag":          func(m *config.Message) { m.Tag = "u" },
		"metadata":     func(m *config.Message) { m.Metadata["a"] = "9" },
		"metadata key": func(m *config.Message) { m.Metadata = map[string]string{"a": "1", "c": "2"} },
		"header":       func(m *config.Message) { m.Headers[0].Value = "2" },
		"track opens":  func(m *config.Message) { m.TrackOpens = &no },
		"track unset":  func(m *config.Message) { m.TrackOpens = nil },
		"track links":  func(m *config.Message) { m.TrackLinks = "None" },
		"stream":       func(m *config.Message) { m.MessageStream = "broadcast" },
		"attachment":   func(m *config.Message) { m.Attachments[0].Content = []byte("hellO") },
		"moved text":   func(m *config.Message) { m.Subject, m.TextBody = m.Subject+m.TextBody, "" },
		"template":     func(m *config.Message) { m.TemplateAlias, m.TemplateModel = "receipt", []byte(`{}`) },
	}
	for name, edit := range edits {
		m := baseMessage()
		edit(m)
		if p := buildPayload(m); p.digest == base.digest {
			t.Errorf("%s: digest unchanged", name)
		}
	}
	// Same content, metadata built in another order, and pf_id stamped:
	// the same digest.
	m := baseMessage()
	m.Metadata = map[string]string{"b": "2", "a": "1"}
	p := buildPayload(m)
	p.setPFID("abc")
	again := buildPayload(baseMessage())
	if p.digest != base.digest || again.digest != base.digest {
		t.Error("digest depends on map order or on repeated builds")
	}
}

func TestPayloadSizeIsAnUpperBound(t *testing.T) {
	for _, html := range []string{"", "plain", strings.Repeat("<td>&nbsp;</td>", 500), strings.Repeat("é\"\\", 300)} {
		m := baseMessage()
		m.HTMLBody = html
		p := buildPayload(m)
		p.setPFID("abcdefghijklmnopqrstuvwxyz")
		body, _ := json.Marshal(p.plain)
		if len(body) > p.size {
			t.Errorf("estimated %d bytes, JSON is %d", p.size, len(body))
		}
	}
}
