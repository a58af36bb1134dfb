package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

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
