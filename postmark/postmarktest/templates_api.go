package postmarktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The templates API: GET /templates/{idOrAlias} and
// POST /templates/validate, enough for postform preview to render a server
// template the way a send would.

// templateWire is a template as GET /templates/{idOrAlias} answers it.
type templateWire struct {
	TemplateId         int64
	Name               string
	Alias              string
	Subject            string
	HtmlBody           string
	TextBody           string
	TemplateType       string
	LayoutTemplate     *string
	Active             bool
	AssociatedServerId int64
}

// handleGetTemplate answers GET /templates/{idOrAlias}: a numeric path
// segment is an ID, anything else an alias (as at Postmark).
func (s *Server) handleGetTemplate(r *http.Request) (int, any) {
	ref := r.PathValue("ref")
	var id int64
	alias := ref
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil && n > 0 {
		id, alias = n, ""
	}
	t, v := s.findTemplate(id, alias)
	if v.code != codeOK {
		return http.StatusUnprocessableEntity, apiError{ErrorCode: v.code, Message: v.msg}
	}
	name := t.Alias
	if name == "" {
		name = fmt.Sprintf("Template %d", t.ID)
	}
	return http.StatusOK, templateWire{
		TemplateId: t.ID, Name: name, Alias: t.Alias, Subject: t.Subject, HtmlBody: t.HtmlBody,
		TextBody: t.TextBody, TemplateType: "Standard", Active: true, AssociatedServerId: s.ServerID(),
	}
}

// validateRequest is the body of POST /templates/validate.
type validateRequest struct {
	Subject                    *string
	HtmlBody                   *string
	TextBody                   *string
	TestRenderModel            json.RawMessage
	InlineCssForHtmlTestRender *bool
	TemplateType               string
	LayoutTemplate             string
}

// validatedPart is one part of the answer of POST /templates/validate.
type validatedPart struct {
	ContentIsValid   bool
	ValidationErrors []templateProblem
	RenderedContent  string
}

type templateProblem struct {
	Message           string
	Line              int
	CharacterPosition int
}

type validateResponse struct {
	AllContentIsValid      bool
	Subject                *validatedPart `json:",omitempty"`
	HtmlBody               *validatedPart `json:",omitempty"`
	TextBody               *validatedPart `json:",omitempty"`
	SuggestedTemplateModel map[string]any
}

// maxTemplateRequest bounds the body of a validate request; Postmark's
// own template limit is far below it.
const maxTemplateRequest = 10 << 20

// handleValidateTemplate answers POST /templates/validate: each given part
// is checked for unbalanced placeholders and rendered with the
// TestRenderModel exactly as a templated send renders it (HTML placeholders
// escaped, triple-brace ones not). Invalid content is an HTTP 200 answer
// with AllContentIsValid false, as at Postmark.
func (s *Server) handleValidateTemplate(r *http.Request) (int, any) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTemplateRequest+1))
	if err != nil {
		return http.StatusUnprocessableEntity, apiError{codeInvalidJSON, "Received invalid JSON input."}
	}
	if len(body) > maxTemplateRequest {
		return http.StatusRequestEntityTooLarge, apiError{0, "The request is too large."}
	}
	var req validateRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		code, msg := decodeError(err)
		return http.StatusUnprocessableEntity, apiError{code, msg}
	}
	if req.Subject == nil && req.HtmlBody == nil && req.TextBody == nil {
		return http.StatusUnprocessableEntity, apiError{codeInvalidField, "Provide at least one of Subject, HtmlBody or TextBody."}
	}
	var model any = map[string]any{}
	if m := bytes.TrimSpace(req.TestRenderModel); len(m) > 0 && string(m) != "null" {
		d := json.NewDecoder(bytes.NewReader(m))
		d.UseNumber()
		if err := d.Decode(&model); err != nil {
			return http.StatusUnprocessableEntity, apiError{codeInvalidJSON, "Received invalid JSON input."}
		}
		if _, ok := model.(map[string]any); !ok {
			return http.StatusUnprocessableEntity, apiError{codeInvalidField, "Invalid request field(s): TestRenderModel."}
		}
	}
	resp := validateResponse{AllContentIsValid: true, SuggestedTemplateModel: map[string]any{}}
	part := func(src *string, escape bool) *validatedPart {
		if src == nil {
			return nil
		}
		p := &validatedPart{ValidationErrors: checkPlaceholders(*src), RenderedContent: render(*src, model, escape)}
		p.ContentIsValid = len(p.ValidationErrors) == 0
		if p.ContentIsValid {
			suggest(resp.SuggestedTemplateModel, *src)
		} else {
			p.RenderedContent = ""
			resp.AllContentIsValid = false
		}
		if p.ValidationErrors == nil {
			p.ValidationErrors = []templateProblem{}
		}
		return p
	}
	resp.Subject = part(req.Subject, false)
	resp.HtmlBody = part(req.HtmlBody, true)
	resp.TextBody = part(req.TextBody, false)
	return http.StatusOK, resp
}

// checkPlaceholders finds placeholders that are opened and never closed,
// and empty ones, with their 1-based line and character position.
func checkPlaceholders(src string) []templateProblem {
	var out []templateProblem
	at := func(off int) (int, int) {
		line := 1 + strings.Count(src[:off], "\n")
		col := off - strings.LastIndexByte(src[:off], '\n')
		return line, col
	}
	for off := 0; ; {
		i := strings.Index(src[off:], "{{")
		if i < 0 {
			return out
		}
		start := off + i
		open, closing := "{{", "}}"
		if strings.HasPrefix(src[start:], "{{{") {
			open, closing = "{{{", "}}}"
		}
		j := strings.Index(src[start+len(open):], closing)
		if j < 0 {
			line, col := at(start)
			return append(out, templateProblem{Message: fmt.Sprintf("The '%s' at this position is never closed with '%s'.", open, closing), Line: line, CharacterPosition: col})
		}
		if strings.TrimSpace(src[start+len(open):start+len(open)+j]) == "" {
			line, col := at(start)
			out = append(out, templateProblem{Message: "A placeholder must name a model value.", Line: line, CharacterPosition: col})
		}
		off = start + len(open) + j + len(closing)
	}
}

// suggest adds every placeholder path of src to model, as Postmark's
// SuggestedTemplateModel does: a value "name_Value" at each path.
func suggest(model map[string]any, src string) {
	for rest := src; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return
		}
		rest = strings.TrimLeft(rest[i:], "{")
		j := strings.Index(rest, "}}")
		if j < 0 {
			return
		}
		path := strings.TrimSpace(rest[:j])
		rest = rest[j:]
		if path == "" || strings.ContainsAny(path, "#/^! ") {
			continue
		}
		parts := strings.Split(path, ".")
		cur := model
		for k, p := range parts {
			if k == len(parts)-1 {
				if _, ok := cur[p]; !ok {
					cur[p] = p + "_Value"
				}
				break
			}
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
	}
}
