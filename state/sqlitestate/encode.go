package sqlitestate

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/postform/postform/state"
)

// encodeTime turns t into UTC Unix nanoseconds, with the zero time as 0.
// Instants outside what int64 nanoseconds can hold are refused instead of
// silently wrapping.
func encodeTime(t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	if y := t.UTC().Year(); y < 1678 || y > 2261 {
		return 0, fmt.Errorf("time %s is out of the storable range (years 1678 to 2261)", t.Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// decodeTime is the inverse of encodeTime; non-zero times come back in UTC.
func decodeTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// recordArgs returns r's column values in recordColumns order.
func recordArgs(r *state.Record) ([]any, error) {
	if r.Address == "" {
		return nil, errors.New("record with an empty address")
	}
	var times [6]int64
	for i, t := range [...]time.Time{r.SubmittedAt, r.FirstAttemptAt, r.LastAttemptAt, r.DeliveredAt, r.LastEventAt, r.CheckedAt} {
		n, err := encodeTime(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Address, err)
		}
		times[i] = n
	}
	inactive := 0
	if r.Inactive {
		inactive = 1
	}
	return []any{
		r.Address, r.Batch, r.Key, r.Recipients, r.Stream, r.Tag, r.Digest, r.PFID,
		string(r.Status), r.MessageID, times[0], times[1], times[2], r.Attempts,
		r.ErrorCode, r.ErrorMessage, string(r.Delivery), r.BounceType, r.BounceID, inactive,
		times[3], times[4], times[5], r.Duplicates,
	}, nil
}

// scanner is satisfied by *sql.Row and *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanRecord reads one row selected with recordColumns.
func scanRecord(sc scanner) (state.Record, error) {
	var r state.Record
	var status, delivery string
	var submitted, first, last, delivered, lastEvent, checked int64
	var inactive int
	err := sc.Scan(
		&r.Address, &r.Batch, &r.Key, &r.Recipients, &r.Stream, &r.Tag, &r.Digest, &r.PFID,
		&status, &r.MessageID, &submitted, &first, &last, &r.Attempts,
		&r.ErrorCode, &r.ErrorMessage, &delivery, &r.BounceType, &r.BounceID, &inactive,
		&delivered, &lastEvent, &checked, &r.Duplicates,
	)
	if err != nil {
		return state.Record{}, err
	}
	r.Status = state.Status(status)
	r.Delivery = state.Delivery(delivery)
	r.SubmittedAt = decodeTime(submitted)
	r.FirstAttemptAt = decodeTime(first)
	r.LastAttemptAt = decodeTime(last)
	r.DeliveredAt = decodeTime(delivered)
	r.LastEventAt = decodeTime(lastEvent)
	r.CheckedAt = decodeTime(checked)
	r.Inactive = inactive != 0
	return r, nil
}

// eachRow scans every row into a record, calls fn, and closes rows.
func eachRow(rows *sql.Rows, fn func(state.Record)) error {
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return err
		}
		fn(r)
	}
	return rows.Err()
}

// chunks yields s in pieces of at most chunkSize.
func chunks(s []string) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		for len(s) > 0 {
			n := min(len(s), chunkSize)
			if !yield(s[:n]) {
				return
			}
			s = s[n:]
		}
	}
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// jsonStrings encodes s as a JSON array for json_each.
func jsonStrings(s []string) string {
	b, err := json.Marshal(s)
	if err != nil {
		// should never happen: a []string always marshals.
		panic(err)
	}
	return string(b)
}
