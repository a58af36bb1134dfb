package postmark

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Eastern time must work on hosts without a zoneinfo database
)

// eastern is Postmark's time zone: search dates are interpreted in it, and
// time stamps without an offset are taken to be in it.
var eastern = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		// should never happen because time/tzdata is embedded; a fixed
		// EST offset is the least wrong fallback.
		return time.FixedZone("EST", -5*60*60)
	}
	return loc
})

// searchTime formats t for the fromdate/todate query parameters: wall
// clock time in US Eastern time, without an offset.
func searchTime(t time.Time) string {
	return t.In(eastern()).Format("2006-01-02T15:04:05")
}

// parseTime accepts RFC 3339 with any number of fractional digits (Postmark
// sends seven) and an offset or Z, and the same without an offset, or a
// bare date, which are taken as US Eastern time. "" is the zero time.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	// Go's parser accepts a fractional second after "05" even though the
	// layout does not show one.
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, eastern()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("postmark: unrecognised time %q", s)
}

// pmTime decodes a Postmark time stamp (a string or null).
type pmTime time.Time

func (p *pmTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = pmTime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("postmark: time stamp is not a string: %s", truncate(b))
	}
	t, err := parseTime(s)
	if err != nil {
		return err
	}
	*p = pmTime(t)
	return nil
}

// flexInt decodes an integer sent as a JSON number, a numeric string or
// null (TotalCount is a number in the docs, a string in postmark.js).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			*f = 0
			return nil
		}
		b = []byte(strings.TrimSpace(s))
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("postmark: not an integer: %s", truncate(b))
	}
	*f = flexInt(n)
	return nil
}

// flexStrings decodes a flat JSON object whose values may be strings,
// numbers, booleans or null into strings: numbers keep their literal text,
// booleans become "true"/"false", null becomes "", and nested values keep
// their compact JSON text.
type flexStrings map[string]string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*f = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(flexStrings, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) == 0 || string(v) == "null":
			out[k] = ""
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out[k] = s
		case v[0] == '{' || v[0] == '[':
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return err
			}
			out[k] = buf.String()
		default: // number, true, false
			out[k] = string(v)
		}
	}
	*f = out
	return nil
}

func truncate(b []byte) string {
	const limit = 40
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}
