package views

import (
	"github.com/postform/postform/internal/jsonstr"

	"strconv"
	"time"
)

// The JSON lines below are written once per message (planned_message by
// plan, message_result by apply), so they are encoded by hand rather than
// through encoding/json and a map: a million-message run writes a million
// of each. Every other event is rare and goes through [JSONLines.Emit].
//
// The output is a documented interface and must not change by a byte. The
// lines used to be encoded from maps, so their keys are in alphabetical
// order; each struct below lists its fields in that order, and its json
// tags say what encoding/json would write for it. The tests hold every
// appendJSON to encoding/json's bytes for the same struct (fields filled
// by reflection, so a field added without its encoder fails), and hold the
// views to the map-based encoding they replaced, on random events.

// plannedMessageEvent is a planned_message line.
type plannedMessageEvent struct {
	Action      string       `json:"action"`
	Address     string       `json:"address"`
	Batch       string       `json:"batch"`
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	Digest      string       `json:"digest,omitempty"`
	// ErrorCode and ErrorMessage are pointers because both appear whenever
	// the entry has an ErrorCode, even an empty message.
	ErrorCode    *int       `json:"error_code,omitempty"`
	ErrorMessage *string    `json:"error_message,omitempty"`
	Key          string     `json:"key"`
	MessageID    string     `json:"message_id,omitempty"`
	Subject      string     `json:"subject"`
	SubmittedAt  *time.Time `json:"submitted_at,omitempty"`
	Template     string     `json:"template,omitempty"`
	To           string     `json:"to"`
	Type         string     `json:"type"`
}

// appendJSON appends the event as one JSON object, without a newline. It
// reports false when encoding/json would have refused the event (a
// submitted_at outside years 0–9999): such a line has never been written.
func (ev *plannedMessageEvent) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"action":`...)
	b = jsonstr.Append(b, ev.Action)
	b = append(b, `,"address":`...)
	b = jsonstr.Append(b, ev.Address)
	b = append(b, `,"batch":`...)
	b = jsonstr.Append(b, ev.Batch)
	if len(ev.Diagnostics) > 0 {
		b = append(b, `,"diagnostics":[`...)
		for i := range ev.Diagnostics {
			if i > 0 {
				b = append(b, ',')
			}
			b = ev.Diagnostics[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if ev.Digest != "" {
		b = append(b, `,"digest":`...)
		b = jsonstr.Append(b, ev.Digest)
	}
	b = appendError(b, ev.ErrorCode, ev.ErrorMessage)
	b = append(b, `,"key":`...)
	b = jsonstr.Append(b, ev.Key)
	if ev.MessageID != "" {
		b = append(b, `,"message_id":`...)
		b = jsonstr.Append(b, ev.MessageID)
	}
	b = append(b, `,"subject":`...)
	b = jsonstr.Append(b, ev.Subject)
	if ev.SubmittedAt != nil {
		b = append(b, `,"submitted_at":`...)
		var ok bool
		if b, ok = appendJSONTime(b, *ev.SubmittedAt); !ok {
			return b, false
		}
	}
	if ev.Template != "" {
		b = append(b, `,"template":`...)
		b = jsonstr.Append(b, ev.Template)
	}
	b = append(b, `,"to":`...)
	b = jsonstr.Append(b, ev.To)
	b = append(b, `,"type":`...)
	b = jsonstr.Append(b, ev.Type)
	return append(b, '}'), true
}

// messageResultEvent is a message_result line.
type messageResultEvent struct {
	Address  string `json:"address"`
	Attempts int    `json:"attempts"`
	// ErrorCode and ErrorMessage appear together when the result has either.
	ErrorCode    *int    `json:"error_code,omitempty"`
	ErrorMessage *string `json:"error_message,omitempty"`
	MessageID    string  `json:"message_id,omitempty"`
	Outcome      string  `json:"outcome"`
	Type         string  `json:"type"`
}

// appendJSON appends the event as one JSON object, without a newline.
func (ev *messageResultEvent) appendJSON(b []byte) []byte {
	b = append(b, `{"address":`...)
	b = jsonstr.Append(b, ev.Address)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(ev.Attempts), 10)
	b = appendError(b, ev.ErrorCode, ev.ErrorMessage)
	if ev.MessageID != "" {
		b = append(b, `,"message_id":`...)
		b = jsonstr.Append(b, ev.MessageID)
	}
	b = append(b, `,"outcome":`...)
	b = jsonstr.Append(b, ev.Outcome)
	b = append(b, `,"type":`...)
	b = jsonstr.Append(b, ev.Type)
	return append(b, '}')
}

// appendJSON appends d as encoding/json writes a Diagnostic (declaration
// order, omitempty as tagged).
func (d *Diagnostic) appendJSON(b []byte) []byte {
	b = append(b, `{"severity":`...)
	b = jsonstr.Append(b, d.Severity)
	b = append(b, `,"summary":`...)
	b = jsonstr.Append(b, d.Summary)
	b = append(b, `,"detail":`...)
	b = jsonstr.Append(b, d.Detail)
	if d.Address != "" {
		b = append(b, `,"address":`...)
		b = jsonstr.Append(b, d.Address)
	}
	if r := d.Range; r != nil {
		b = append(b, `,"range":{"filename":`...)
		b = jsonstr.Append(b, r.Filename)
		b = append(b, `,"start":`...)
		b = r.Start.appendJSON(b)
		b = append(b, `,"end":`...)
		b = r.End.appendJSON(b)
		b = append(b, '}')
	}
	if d.Snippet != "" {
		b = append(b, `,"snippet":`...)
		b = jsonstr.Append(b, d.Snippet)
	}
	return append(b, '}')
}

func (p Pos) appendJSON(b []byte) []byte {
	b = append(b, `{"line":`...)
	b = strconv.AppendInt(b, int64(p.Line), 10)
	b = append(b, `,"column":`...)
	b = strconv.AppendInt(b, int64(p.Column), 10)
	b = append(b, `,"byte":`...)
	b = strconv.AppendInt(b, int64(p.Byte), 10)
	return append(b, '}')
}

// appendJSONTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, in t's own zone), and reports false where MarshalJSON fails:
// a year outside 0–9999. Callers pass UTC times, so the zone offset, the
// other thing MarshalJSON checks, is always valid.
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendError appends the optional error_code and error_message members
// that both per-message events carry.
func appendError(b []byte, code *int, msg *string) []byte {
	if code != nil {
		b = append(b, `,"error_code":`...)
		b = strconv.AppendInt(b, int64(*code), 10)
	}
	if msg != nil {
		b = append(b, `,"error_message":`...)
		b = jsonstr.Append(b, *msg)
	}
	return b
}
