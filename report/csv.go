package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/postform/postform/state"
)

// csvColumns is the CSV layout of format version 1.0. Columns are only
// ever appended, never renamed, removed or reordered, within a major
// version.
var csvColumns = []string{
	"address", "batch", "key", "to", "message_id", "submitted_at", "status",
	"delivery_status", "error_code", "error_message", "bounce_type",
	"delivered_at", "last_event_at", "attempts",
}

// CSVHeader returns the CSV report's header row: address, batch, key, to,
// message_id, submitted_at, status, delivery_status, error_code,
// error_message, bounce_type, delivered_at, last_event_at, attempts.
//
// In the rows, times are RFC 3339 in UTC (fractional seconds only when
// present) and empty when unknown; error_code is empty when there was no
// error; status and delivery_status are the raw state values (see
// OutcomeOf for how they combine).
//
// Spreadsheet safety: a cell whose text starts with "=", "+", "-", "@",
// a tab or a carriage return would be run as a formula by spreadsheet
// programs (CSV injection), and recipients, keys and error messages come
// from outside data. Such cells are written with a leading single quote
// ("'=cmd()"), which spreadsheets show as text. The CSV is therefore not
// lossless for such values; the JSON report is.
func CSVHeader() []string {
	return append([]string(nil), csvColumns...)
}

// neutralizeFormula guards one CSV cell against formula injection; see
// CSVHeader.
func neutralizeFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func writeCSV(ctx context.Context, w io.Writer, src Source, filter StatusFilter, opts Options) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	row := make([]string, len(csvColumns))
	err := src(ctx, func(r state.Record) error {
		if !filter.Match(r) {
			return nil
		}
		p := prepare(r, opts.Redact)
		errorCode := ""
		if p.ErrorCode != 0 {
			errorCode = strconv.Itoa(p.ErrorCode)
		}
		row = append(row[:0],
			p.Address,
			p.Batch,
			p.Key,
			p.Recipients,
			p.MessageID,
			formatTime(p.SubmittedAt),
			string(p.Status),
			string(p.Delivery),
			errorCode,
			p.ErrorMessage,
			p.BounceType,
			formatTime(p.DeliveredAt),
			formatTime(p.LastEventAt),
			strconv.Itoa(p.Attempts),
		)
		for i := range row {
			row[i] = neutralizeFormula(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
