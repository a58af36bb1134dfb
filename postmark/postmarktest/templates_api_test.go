package postmarktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/postform/postform/postmark"
	"github.com/postform/postform/postmark/postmarktest"
)

func templateClient(t *testing.T, opts postmarktest.Options) *postmark.Client {
	t.Helper()
	sim := postmarktest.NewServer(t, opts)
	c, err := postmark.NewClient(sim.Token(), postmark.WithBaseURL(sim.URL()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGetTemplateByAliasAndID(t *testing.T) {
	c := templateClient(t, postmarktest.Options{Templates: map[string]postmarktest.Template{
		"receipt": {ID: 41, Subject: "Receipt {{n}}", HtmlBody: "<p>{{amount}}</p>", TextBody: "{{amount}}"},
	}})
	ctx := context.Background()
	byAlias, err := c.GetTemplate(ctx, 0, "receipt")
	if err != nil {
		t.Fatal(err)
	}
	if byAlias.TemplateID != 41 || byAlias.Alias != "receipt" || byAlias.Subject != "Receipt {{n}}" || !byAlias.Active {
		t.Errorf("by alias: %+v", byAlias)
	}
	byID, err := c.GetTemplate(ctx, 41, "")
	if err != nil {
		t.Fatal(err)
	}
	if byID.HtmlBody != "<p>{{amount}}</p>" {
		t.Errorf("by id: %+v", byID)
	}
	_, err = c.GetTemplate(ctx, 0, "nope")
	var apiErr *postmark.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || apiErr.ErrorCode != 1101 {
		t.Errorf("unknown alias: %v, want 422 / ErrorCode 1101", err)
	}
}

func TestValidateTemplateRendersLikeASend(t *testing.T) {
	c := templateClient(t, postmarktest.Options{})
	res, err := c.ValidateTemplate(context.Background(), postmark.TemplateValidation{
		Subject:         "Receipt for {{name}}",
		HtmlBody:        "<p>{{name}} paid {{{amount_html}}} for {{order.id}}</p>",
		TextBody:        "{{name}} paid {{order.id}}",
		TestRenderModel: json.RawMessage(`{"name":"Ann & Bo","amount_html":"<b>€5</b>","order":{"id":7}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AllContentIsValid || !res.Subject.ContentIsValid || !res.HtmlBody.ContentIsValid {
		t.Fatalf("not valid: %+v", res)
	}
	if got, want := res.Subject.RenderedContent, "Receipt for Ann & Bo"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	if got, want := res.HtmlBody.RenderedContent, "<p>Ann &amp; Bo paid <b>€5</b> for 7</p>"; got != want {
		t.Errorf("html %q, want %q", got, want)
	}
	if got, want := res.TextBody.RenderedContent, "Ann & Bo paid 7"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	var suggested map[string]any
	if err := json.Unmarshal(res.SuggestedTemplateModel, &suggested); err != nil {
		t.Fatal(err)
	}
	if suggested["name"] != "name_Value" || suggested["order"].(map[string]any)["id"] != "id_Value" {
		t.Errorf("suggested model %v", suggested)
	}
}

func TestValidateTemplateReportsUnclosedPlaceholder(t *testing.T) {
	c := templateClient(t, postmarktest.Options{})
	res, err := c.ValidateTemplate(context.Background(), postmark.TemplateValidation{
		Subject:  "fine",
		HtmlBody: "<p>line one</p>\n<p>{{name</p>",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.AllContentIsValid || !res.Subject.ContentIsValid || res.HtmlBody.ContentIsValid {
		t.Fatalf("validity: %+v", res)
	}
	errs := res.HtmlBody.ValidationErrors
	if len(errs) != 1 || errs[0].Line != 2 || errs[0].CharacterPosition != 4 || !strings.Contains(errs[0].Message, "never closed") {
		t.Errorf("errors %+v, want one at line 2, position 4", errs)
	}
}

func TestValidateTemplateNeedsContent(t *testing.T) {
	c := templateClient(t, postmarktest.Options{})
	_, err := c.ValidateTemplate(context.Background(), postmark.TemplateValidation{})
	var apiErr *postmark.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || apiErr.ErrorCode != 403 {
		t.Errorf("empty request: %v, want 422 / ErrorCode 403", err)
	}
}
