package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// postmarkBlock is the source of the postmark block.
type postmarkBlock struct {
	ServerToken, BaseURL, MessageStream hcl.Expression // nil when absent
	DeclRange                           hcl.Range
}

var postmarkBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "server_token"},
		{Name: "base_url"},
		{Name: "message_stream"},
	},
}

func decodePostmarkBlock(block *hcl.Block) (*postmarkBlock, hcl.Diagnostics) {
	content, diags := bodyContent(block.Body, postmarkBlockSchema)
	return &postmarkBlock{
		ServerToken:   attrExpr(content, "server_token"),
		BaseURL:       attrExpr(content, "base_url"),
		MessageStream: attrExpr(content, "message_stream"),
		DeclRange:     block.DefRange,
	}, diags
}

// runnerBlock is the source of the runner block.
type runnerBlock struct {
	Parallelism, RateLimit, BatchSize, SendWindow, MaxErrors hcl.Expression
	DeclRange                                                hcl.Range
}

var runnerBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "parallelism"},
		{Name: "rate_limit"},
		{Name: "batch_size"},
		{Name: "send_window"},
		{Name: "max_errors"},
	},
}

func decodeRunnerBlock(block *hcl.Block) (*runnerBlock, hcl.Diagnostics) {
	content, diags := bodyContent(block.Body, runnerBlockSchema)
	return &runnerBlock{
		Parallelism: attrExpr(content, "parallelism"),
		RateLimit:   attrExpr(content, "rate_limit"),
		BatchSize:   attrExpr(content, "batch_size"),
		SendWindow:  attrExpr(content, "send_window"),
		MaxErrors:   attrExpr(content, "max_errors"),
		DeclRange:   block.DefRange,
	}, diags
}

// reportBlock is the source of one report block.
type reportBlock struct {
	Path, Format hcl.Expression
	DeclRange    hcl.Range
}

var reportBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path", Required: true},
		{Name: "format"},
	},
}

func decodeReportBlock(block *hcl.Block) (*reportBlock, hcl.Diagnostics) {
	content, diags := bodyContent(block.Body, reportBlockSchema)
	return &reportBlock{
		Path:      attrExpr(content, "path"),
		Format:    attrExpr(content, "format"),
		DeclRange: block.DefRange,
	}, diags
}

// local is one named value of a locals block.
type local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

func decodeLocalsBlock(block *hcl.Block) ([]*local, hcl.Diagnostics) {
	attrs, diags := block.Body.JustAttributes()
	var locals []*local
	for _, attr := range attrs {
		diags = append(diags, validName("local value", attr.Name, attr.NameRange)...)
		locals = append(locals, &local{Name: attr.Name, Expr: attr.Expr, DeclRange: attr.Range})
	}
	// JustAttributes returns a map; keep the source order so diagnostics
	// and duplicate checks are deterministic.
	sortByRange(locals, func(l *local) hcl.Range { return l.DeclRange })
	return locals, diags
}

// attrExpr returns the expression of the named attribute, or nil.
func attrExpr(content *hcl.BodyContent, name string) hcl.Expression {
	if content == nil {
		return nil
	}
	if attr, ok := content.Attributes[name]; ok {
		return attr.Expr
	}
	return nil
}

// validIdentifier reports whether s is an HCL identifier.
func validIdentifier(s string) bool { return hclsyntax.ValidIdentifier(s) }

// sortByRange sorts items by the start of their source ranges.
func sortByRange[T any](items []T, rng func(T) hcl.Range) {
	for i := 1; i < len(items); i++ {
		for j := i; j > 0; j-- {
			a, b := rng(items[j-1]), rng(items[j])
			if a.Filename < b.Filename || (a.Filename == b.Filename && a.Start.Byte <= b.Start.Byte) {
				break
			}
			items[j-1], items[j] = items[j], items[j-1]
		}
	}
}
