package config

import (
	"github.com/hashicorp/hcl/v2"
)

// template is the source of one template block. Each part is either an
// inline expression or a *_file path expression, never both.
type template struct {
	Name                            string
	Subject, HTML, Text             hcl.Expression
	SubjectFile, HTMLFile, TextFile hcl.Expression
	DeclRange                       hcl.Range
}

var templateBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "subject"},
		{Name: "html"},
		{Name: "text"},
		{Name: "subject_file"},
		{Name: "html_file"},
		{Name: "text_file"},
	},
}

func decodeTemplateBlock(block *hcl.Block) (*template, hcl.Diagnostics) {
	t := &template{Name: block.Labels[0], DeclRange: block.DefRange}
	diags := validName("template", t.Name, block.LabelRanges[0])
	content, moreDiags := bodyContent(block.Body, templateBlockSchema)
	diags = append(diags, moreDiags...)

	t.Subject, t.SubjectFile = attrExpr(content, "subject"), attrExpr(content, "subject_file")
	t.HTML, t.HTMLFile = attrExpr(content, "html"), attrExpr(content, "html_file")
	t.Text, t.TextFile = attrExpr(content, "text"), attrExpr(content, "text_file")
	for _, pair := range [][2]string{{"subject", "subject_file"}, {"html", "html_file"}, {"text", "text_file"}} {
		if content.Attributes[pair[0]] != nil && content.Attributes[pair[1]] != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Conflicting template attributes",
				Detail:   "A template may set " + pair[0] + " or " + pair[1] + ", not both. Keep the inline template or the file.",
				Subject:  content.Attributes[pair[1]].NameRange.Ptr(),
				Context:  block.DefRange.Ptr(),
			})
		}
	}
	if t.HTML == nil && t.HTMLFile == nil && t.Text == nil && t.TextFile == nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing template body",
			Detail:   "A template needs an HTML or a text body: set html, html_file, text or text_file.",
			Subject:  block.DefRange.Ptr(),
		})
	}
	return t, diags
}
