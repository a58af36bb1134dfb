package postmark

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// Template is a server-side template as GET /templates/{idOrAlias}
// returns it.
//
// See https://postmarkapp.com/developer/api/templates-api#get-a-template
type Template struct {
	TemplateID     int64 `json:"TemplateId"`
	Name           string
	Alias          string
	Subject        string
	HtmlBody       string
	TextBody       string
	TemplateType   string // "Standard" or "Layout"
	LayoutTemplate string `json:",omitempty"`
	Active         bool
}

// GetTemplate fetches a server template by its numeric ID (when id is not
// zero) or else by its alias.
func (c *Client) GetTemplate(ctx context.Context, id int64, alias string) (*Template, error) {
	ref := alias
	if id != 0 {
		ref = strconv.FormatInt(id, 10)
	}
	seg, err := pathSegment("template id or alias", ref)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodGet, "templates/"+seg, nil)
	if err != nil {
		return nil, err
	}
	t := new(Template)
	if _, err := c.do(req, t); err != nil {
		return nil, err
	}
	return t, nil
}

// TemplateValidation is the request of POST /templates/validate: template
// content to check, and a model to render it with. At least one of
// Subject, HtmlBody and TextBody must be set.
//
// See https://postmarkapp.com/developer/api/templates-api#validate-template
type TemplateValidation struct {
	Subject  string `json:",omitempty"`
	HtmlBody string `json:",omitempty"`
	TextBody string `json:",omitempty"`
	// TestRenderModel is a JSON object; empty means {}.
	TestRenderModel json.RawMessage `json:",omitempty"`
	// InlineCSSForHTMLTestRender is Postmark's InlineCssForHtmlTestRender
	// (true when nil): render the HTML as a send with InlineCss would.
	InlineCSSForHTMLTestRender *bool `json:"InlineCssForHtmlTestRender,omitempty"`
	// TemplateType is "Standard" (the default) or "Layout".
	TemplateType string `json:",omitempty"`
	// LayoutTemplate names the layout a standard template renders inside.
	LayoutTemplate string `json:",omitempty"`
}

// TemplateValidationResult is the answer of POST /templates/validate.
type TemplateValidationResult struct {
	AllContentIsValid      bool
	Subject                RenderedPart
	HtmlBody               RenderedPart
	TextBody               RenderedPart
	SuggestedTemplateModel json.RawMessage
}

// RenderedPart is one validated part of a template.
type RenderedPart struct {
	ContentIsValid   bool
	ValidationErrors []TemplateError
	RenderedContent  string
}

// TemplateError locates one problem in a template part.
type TemplateError struct {
	Message           string
	Line              int
	CharacterPosition int
}

// ValidateTemplate checks template content and renders it with the test
// model (POST /templates/validate). Invalid content is data
// (AllContentIsValid false, with ValidationErrors), not an error.
func (c *Client) ValidateTemplate(ctx context.Context, v TemplateValidation) (*TemplateValidationResult, error) {
	if len(v.TestRenderModel) == 0 {
		v.TestRenderModel = json.RawMessage("{}")
	}
	body, err := newRequestBody(func(b []byte) ([]byte, error) {
		enc, err := json.Marshal(v)
		return append(b, enc...), err
	})
	defer body.release()
	if err != nil {
		return nil, &requestError{method: http.MethodPost, path: "/templates/validate", err: err}
	}
	req, err := c.newBodyRequest(ctx, http.MethodPost, "templates/validate", body)
	if err != nil {
		return nil, err
	}
	res := new(TemplateValidationResult)
	if _, err := c.do(req, res); err != nil {
		return nil, err
	}
	return res, nil
}
