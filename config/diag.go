package config

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
)

// quoteName quotes a file or variable name for diagnostic text.
func quoteName(s string) string { return strconv.Quote(s) }

// fsErrorText describes a filesystem error without repeating the path.
func fsErrorText(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "the file does not exist"
	}
	return err.Error()
}

// didYouMean returns " Did you mean "x"?" for the closest of candidates
// within a small edit distance of given, or "".
func didYouMean(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// rangeString formats a range as file:line for diagnostic details.
func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

func errorDiag(summary, detail string, subject *hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: subject}
}

// unsupportedName finds the argument name in HCL's "Unsupported argument"
// detail.
var unsupportedName = regexp.MustCompile(`named "([^"]+)"`)

// bodyContent is body.Content that adds a "did you mean" suggestion to
// unsupported arguments when HCL has none (it suggests only for some).
func bodyContent(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	content, diags := body.Content(schema)
	for _, d := range diags {
		if d.Summary != "Unsupported argument" || strings.Contains(d.Detail, "Did you mean") {
			continue
		}
		m := unsupportedName.FindStringSubmatch(d.Detail)
		if m == nil {
			continue
		}
		names := make([]string, 0, len(schema.Attributes))
		for _, a := range schema.Attributes {
			names = append(names, a.Name)
		}
		d.Detail += didYouMean(m[1], names)
	}
	return content, diags
}
