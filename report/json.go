package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/postform/postform/state"
)

// jsonHeader is the start of the JSON document. Field order is the
// document's key order.
type jsonHeader struct {
	FormatVersion string   `json:"format_version"`
	ToolVersion   string   `json:"tool_version"`
	GeneratedAt   string   `json:"generated_at,omitempty"`
	Redacted      bool     `json:"redacted"`
	Filter        []string `json:"filter"`
	Summary       Summary  `json:"summary"`
}

// jsonMessage is one element of the JSON document's messages array. Every
// key is always present; unknown times are null.
type jsonMessage struct {
	Address        string  `json:"address"`
	Batch          string  `json:"batch"`
	Key            string  `json:"key"`
	To             string  `json:"to"`
	Stream         string  `json:"stream"`
	Tag            string  `json:"tag"`
	Outcome        Outcome `json:"outcome"`
	Status         string  `json:"status"`
	DeliveryStatus string  `json:"delivery_status"`
	MessageID      string  `json:"message_id"`
	PFID           string  `json:"pf_id"`
	Digest         string  `json:"digest"`
	SubmittedAt    *string `json:"submitted_at"`
	FirstAttemptAt *string `json:"first_attempt_at"`
	LastAttemptAt  *string `json:"last_attempt_at"`
	Attempts       int     `json:"attempts"`
	ErrorCode      int     `json:"error_code"`
	ErrorMessage   string  `json:"error_message"`
	BounceType     string  `json:"bounce_type"`
	BounceID       int64   `json:"bounce_id"`
	Inactive       bool    `json:"inactive"`
	DeliveredAt    *string `json:"delivered_at"`
	LastEventAt    *string `json:"last_event_at"`
	CheckedAt      *string `json:"checked_at"`
	Duplicates     int     `json:"duplicates"`
}

// jsonTime is t in the report's time format, or nil (null) when unknown.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

func newJSONMessage(p prepared) jsonMessage {
	return jsonMessage{
		Address:        p.Address,
		Batch:          p.Batch,
		Key:            p.Key,
		To:             p.Recipients,
		Stream:         p.Stream,
		Tag:            p.Tag,
		Outcome:        p.Outcome,
		Status:         string(p.Status),
		DeliveryStatus: string(p.Delivery),
		MessageID:      p.MessageID,
		PFID:           p.PFID,
		Digest:         p.Digest,
		SubmittedAt:    jsonTime(p.SubmittedAt),
		FirstAttemptAt: jsonTime(p.FirstAttemptAt),
		LastAttemptAt:  jsonTime(p.LastAttemptAt),
		Attempts:       p.Attempts,
		ErrorCode:      p.ErrorCode,
		ErrorMessage:   p.ErrorMessage,
		BounceType:     p.BounceType,
		BounceID:       p.BounceID,
		Inactive:       p.Inactive,
		DeliveredAt:    jsonTime(p.DeliveredAt),
		LastEventAt:    jsonTime(p.LastEventAt),
		CheckedAt:      jsonTime(p.CheckedAt),
		Duplicates:     p.Duplicates,
	}
}

// writeJSON writes the JSON document. The first pass over src counts (the
// summary precedes the messages); the second writes one message per line
// so that a million messages never sit in memory together.
func writeJSON(ctx context.Context, w io.Writer, src Source, filter StatusFilter, opts Options) error {
	sum, err := summarize(ctx, src, filter)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<" in "Ann <ann@example.com>" readable
	hdr := jsonHeader{
		FormatVersion: FormatVersion,
		ToolVersion:   opts.Version,
		GeneratedAt:   formatTime(opts.Generated),
		Redacted:      opts.Redact,
		Filter:        filter.Words(),
		Summary:       sum,
	}
	if err := enc.Encode(hdr); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// Reopen the header object: drop its closing "}\n" and start the
	// messages array.
	head := bytes.TrimSuffix(buf.Bytes(), []byte("}\n"))
	if _, err := fmt.Fprintf(w, "%s,\"messages\":[", head); err != nil {
		return fmt.Errorf("report: %w", err)
	}

	var seen outcomeTally
	first := true
	err = src(ctx, func(r state.Record) error {
		if !filter.Match(r) {
			return nil
		}
		p := prepare(r, opts.Redact)
		seen.add(p.Outcome)
		buf.Reset()
		if err := enc.Encode(newJSONMessage(p)); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		sep := ",\n"
		if first {
			sep, first = "\n", false
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		line := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !seen.matches(sum.ByOutcome) {
		return ErrSourceChanged
	}
	tail := "\n]}\n"
	if first {
		tail = "]}\n"
	}
	if _, err := io.WriteString(w, tail); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// outcomeTally counts outcomes on a second pass, to compare with the
// first pass's summary.
type outcomeTally map[Outcome]int

func (t *outcomeTally) add(o Outcome) {
	if *t == nil {
		*t = outcomeTally{}
	}
	(*t)[o]++
}

func (t outcomeTally) matches(want map[Outcome]int) bool {
	for o, n := range want {
		if t[o] != n {
			return false
		}
	}
	for o, n := range t {
		if want[o] != n {
			return false
		}
	}
	return true
}
