package config

import (
	"github.com/hashicorp/hcl/v2"
)

// batchBlock is the source of one batch block. Expressions are nil when the
// attribute is absent.
type batchBlock struct {
	Name string

	ForEach                    hcl.Expression
	From, To, Cc, Bcc, ReplyTo hcl.Expression
	Tag, Metadata, Headers     hcl.Expression
	TrackOpens, TrackLinks     hcl.Expression
	MessageStream, Attachments hcl.Expression
	Data                       hcl.Expression
	Subject, HTML, Text        hcl.Expression
	attrRanges                 map[string]hcl.Range // attribute name → whole attribute
	TemplateName               string               // from template = template.NAME
	TemplateRange              hcl.Range
	ServerTemplate             *serverTemplateBlock
	DeclRange                  hcl.Range
}

// serverTemplateBlock is a postmark_template block: a template stored on the
// Postmark server, rendered by Postmark with the model.
type serverTemplateBlock struct {
	Alias, ID, Model hcl.Expression
	DeclRange        hcl.Range
}

var batchBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each"},
		{Name: "from", Required: true},
		{Name: "to", Required: true},
		{Name: "cc"},
		{Name: "bcc"},
		{Name: "reply_to"},
		{Name: "tag"},
		{Name: "metadata"},
		{Name: "headers"},
		{Name: "track_opens"},
		{Name: "track_links"},
		{Name: "message_stream"},
		{Name: "attachments"},
		{Name: "data"},
		{Name: "template"},
		{Name: "subject"},
		{Name: "html"},
		{Name: "text"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "postmark_template"},
	},
}

var serverTemplateBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "alias"},
		{Name: "id"},
		{Name: "model"},
	},
}

func decodeBatchBlock(block *hcl.Block) (*batchBlock, hcl.Diagnostics) {
	b := &batchBlock{Name: block.Labels[0], DeclRange: block.DefRange, attrRanges: map[string]hcl.Range{}}
	diags := validName("batch", b.Name, block.LabelRanges[0])
	content, moreDiags := bodyContent(block.Body, batchBlockSchema)
	diags = append(diags, moreDiags...)
	for name, attr := range content.Attributes {
		b.attrRanges[name] = attr.Range
	}

	b.ForEach = attrExpr(content, "for_each")
	b.From, b.To = attrExpr(content, "from"), attrExpr(content, "to")
	b.Cc, b.Bcc, b.ReplyTo = attrExpr(content, "cc"), attrExpr(content, "bcc"), attrExpr(content, "reply_to")
	b.Tag, b.Metadata, b.Headers = attrExpr(content, "tag"), attrExpr(content, "metadata"), attrExpr(content, "headers")
	b.TrackOpens, b.TrackLinks = attrExpr(content, "track_opens"), attrExpr(content, "track_links")
	b.MessageStream, b.Attachments = attrExpr(content, "message_stream"), attrExpr(content, "attachments")
	b.Data = attrExpr(content, "data")
	b.Subject, b.HTML, b.Text = attrExpr(content, "subject"), attrExpr(content, "html"), attrExpr(content, "text")

	if attr, ok := content.Attributes["template"]; ok {
		b.TemplateRange = attr.Expr.Range()
		tr, travDiags := hcl.AbsTraversalForExpr(attr.Expr)
		name := ""
		if !travDiags.HasErrors() && len(tr) == 2 && tr.RootName() == "template" {
			if step, isAttr := tr[1].(hcl.TraverseAttr); isAttr {
				name = step.Name
			}
		}
		if name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid template reference",
				Detail:   "The template argument must be a reference to a template block, such as template.digest.",
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
		b.TemplateName = name
	}

	for _, sub := range content.Blocks {
		if b.ServerTemplate != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate postmark_template block",
				Detail:   "A batch may have only one postmark_template block; another was declared at " + rangeString(b.ServerTemplate.DeclRange) + ".",
				Subject:  sub.DefRange.Ptr(),
			})
			continue
		}
		sc, moreDiags := bodyContent(sub.Body, serverTemplateBlockSchema)
		diags = append(diags, moreDiags...)
		st := &serverTemplateBlock{
			Alias:     attrExpr(sc, "alias"),
			ID:        attrExpr(sc, "id"),
			Model:     attrExpr(sc, "model"),
			DeclRange: sub.DefRange,
		}
		switch {
		case st.Alias != nil && st.ID != nil:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Conflicting template identifiers",
				Detail:   "A postmark_template block names its template by alias or by id, not both.",
				Subject:  st.ID.Range().Ptr(),
				Context:  sub.DefRange.Ptr(),
			})
		case st.Alias == nil && st.ID == nil:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing template identifier",
				Detail:   "A postmark_template block needs an alias or an id naming a template on the Postmark server.",
				Subject:  sub.DefRange.Ptr(),
			})
		}
		b.ServerTemplate = st
	}

	inline := ""
	for _, name := range []string{"subject", "html", "text"} {
		if _, ok := content.Attributes[name]; ok && inline == "" {
			inline = name
		}
	}
	conflict := func(what string, rng hcl.Range) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Conflicting message content",
			Detail:   "A batch takes its content from one place: a template reference, a postmark_template block, or inline subject/html/text. This batch also sets " + what + "; remove one of them.",
			Subject:  rng.Ptr(),
			Context:  block.DefRange.Ptr(),
		})
	}
	switch {
	case b.ServerTemplate != nil && b.TemplateName != "":
		conflict("postmark_template", b.ServerTemplate.DeclRange)
	case b.ServerTemplate != nil && inline != "":
		conflict(inline, content.Attributes[inline].NameRange)
	case b.TemplateName != "" && inline != "":
		conflict(inline, content.Attributes[inline].NameRange)
	case b.ServerTemplate == nil && b.TemplateName == "" && b.HTML == nil && b.Text == nil:
		if _, hasTemplate := content.Attributes["template"]; !hasTemplate {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing message body",
				Detail:   "A batch needs content: set template = template.NAME, add a postmark_template block, or set html or text.",
				Subject:  block.DefRange.Ptr(),
			})
		}
	}
	return b, diags
}
