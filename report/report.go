package report

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"

	"github.com/postform/postform/state"
)

// FormatVersion is the version of the report layouts written by this
// package. It appears in the JSON document, in a comment at the top of
// the JUnit file and in a meta tag of the HTML page. A change that could
// break a reader (a renamed or removed field or column, a changed
// meaning) bumps the major number; additions bump the minor number.
const FormatVersion = "1.0"

// Format names a report file format.
type Format string

// The report formats.
const (
	FormatJSON  Format = "json"
	FormatCSV   Format = "csv"
	FormatJUnit Format = "junit"
	FormatHTML  Format = "html"
)

// Formats lists every format, in the order help texts show them.
var Formats = []Format{FormatJSON, FormatCSV, FormatJUnit, FormatHTML}

// ParseFormat returns the format named s (case-insensitive: json, csv,
// junit, html). An unknown name is an error that lists the valid ones.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Formats {
		if f == known {
			return f, nil
		}
	}
	return "", fmt.Errorf("report: unknown format %q (valid: json, csv, junit, html)", s)
}

// FormatFromPath guesses a format from a file name's extension: .json,
// .csv, .xml (JUnit), .html or .htm. It reports false for anything else.
func FormatFromPath(path string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return FormatJSON, true
	case ".csv":
		return FormatCSV, true
	case ".xml":
		return FormatJUnit, true
	case ".html", ".htm":
		return FormatHTML, true
	}
	return "", false
}

// Source streams records: it calls fn for each record, in address order,
// and stops with fn's error if fn returns one. A Source may be called more
// than once (JSON and JUnit read it twice: to count, then to write), and
// each call must yield the same records; state.Each bound to a store and
// a filter is the usual Source. Writers report an error, rather than a
// wrong file, when the second pass disagrees with the first.
type Source func(ctx context.Context, fn func(state.Record) error) error

// Options shape a report. The zero value writes every record unredacted,
// with no title, time or version.
type Options struct {
	// Statuses selects records by outcome words; see ParseStatusFilter.
	// Empty selects every record. Counts in the report describe the
	// selected records only.
	Statuses []string
	// Redact masks e-mail addresses ("a***@example.com") wherever they
	// appear: recipients, the key part of message addresses
	// (batch.x["a***@example.com"]), keys and error messages.
	Redact bool
	// Title names the run (for example the configuration directory) in
	// the HTML page and the JUnit testsuites element.
	Title string
	// Generated is when the report was made. The package never reads the
	// clock, so the same state and options give the same bytes; a zero
	// time is left out of the report.
	Generated time.Time
	// Version is the postform version that wrote the report.
	Version string
}

// Write writes the report of format f for the records src yields to w.
// Output is buffered and flushed before Write returns; on error, w may
// hold part of a report (use WriteFile for an all-or-nothing file).
func Write(ctx context.Context, w io.Writer, f Format, src Source, opts Options) error {
	filter, err := ParseStatusFilter(opts.Statuses)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	switch f {
	case FormatJSON:
		err = writeJSON(ctx, bw, src, filter, opts)
	case FormatCSV:
		err = writeCSV(ctx, bw, src, filter, opts)
	case FormatJUnit:
		err = writeJUnit(ctx, bw, src, filter, opts)
	case FormatHTML:
		err = writeHTML(ctx, bw, src, filter, opts)
	default:
		return fmt.Errorf("report: unknown format %q (valid: json, csv, junit, html)", string(f))
	}
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteFile writes the report to path atomically: the report goes to a
// temporary file in path's directory, which is synced, closed and renamed
// over path only when the whole report was written. On any error path is
// left as it was (absent, or holding the previous report) and the
// temporary file is removed. Missing parent directories are created with
// mode 0755; the file gets mode 0644 whatever the umask.
func WriteFile(ctx context.Context, path string, f Format, src Source, opts Options) (err error) {
	// Check everything that needs no I/O first, so a bad format or filter
	// never creates directories.
	if _, err := ParseFormat(string(f)); err != nil {
		return err
	}
	if _, err := ParseStatusFilter(opts.Statuses); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	pf, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(0o644))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		// A no-op once CloseAtomicallyReplace succeeded; otherwise it
		// closes and removes the temporary file.
		if cerr := pf.Cleanup(); cerr != nil && err == nil {
			err = fmt.Errorf("report: %w", cerr)
		}
	}()
	if err := Write(ctx, pf, f, src, opts); err != nil {
		return err
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// prepared is a record ready for output: redacted if asked, with its
// outcome worked out once.
type prepared struct {
	state.Record
	Outcome Outcome
}

func prepare(r state.Record, redact bool) prepared {
	if redact {
		r.Address = RedactText(r.Address)
		r.Key = RedactText(r.Key)
		r.Recipients = RedactText(r.Recipients)
		r.ErrorMessage = RedactText(r.ErrorMessage)
		r.Tag = RedactText(r.Tag)
	}
	return prepared{Record: r, Outcome: OutcomeOf(r)}
}

// formatTime renders t in UTC as RFC 3339 with as many fractional digits
// as needed, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ErrSourceChanged is returned by the JSON and JUnit writers when their
// second pass over the Source yields different records from the first
// (state was written while the report was being made). WriteFile then
// leaves the previous file in place; trying again is safe.
var ErrSourceChanged = errors.New("report: records changed while the report was written")
