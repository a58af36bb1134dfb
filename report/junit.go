package report

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/postform/postform/state"
)

// JUnit mapping. Every selected message is one testcase named by its
// address, with classname "postform.batch.NAME", inside one testsuite per
// batch (name = batch name):
//
//   - delivered, opened, clicked: passed (an empty testcase);
//   - failed, bounced: <failure message=… type=…> whose type is
//     "ErrorCode N" for a refusal or the bounce type (HardBounce, …) for a
//     bounce, and whose text lists the message's details;
//   - pending, transient, uncertain, unsent, unknown: <skipped message=…>,
//     since the run has not decided them yet. errors is always 0.

// junitCase is one testcase element: a pass when Failure and Skipped are
// both nil.
type junitCase struct {
	Classname string
	Name      string
	Failure   *junitFailure
	Skipped   *junitSkipped
}

type junitFailure struct {
	Message string
	Type    string
	Text    string // details, one "name: value" per line
}

type junitSkipped struct {
	Message string
}

func xmlName(local string) xml.Name { return xml.Name{Local: local} }

// encode writes the testcase with tokens rather than struct tags so the
// failure text keeps literal newlines (the struct encoder writes them as
// &#xA;, which is valid but unreadable in the raw file).
func (c junitCase) encode(enc *xml.Encoder) error {
	start := xml.StartElement{Name: xmlName("testcase"), Attr: []xml.Attr{
		{Name: xmlName("classname"), Value: c.Classname},
		{Name: xmlName("name"), Value: c.Name},
	}}
	tokens := []xml.Token{start}
	switch {
	case c.Failure != nil:
		f := xml.StartElement{Name: xmlName("failure"), Attr: []xml.Attr{
			{Name: xmlName("message"), Value: c.Failure.Message},
			{Name: xmlName("type"), Value: c.Failure.Type},
		}}
		tokens = append(tokens, f, xml.CharData(c.Failure.Text), f.End())
	case c.Skipped != nil:
		sk := xml.StartElement{Name: xmlName("skipped"), Attr: []xml.Attr{
			{Name: xmlName("message"), Value: c.Skipped.Message},
		}}
		tokens = append(tokens, sk, sk.End())
	}
	tokens = append(tokens, start.End())
	for _, t := range tokens {
		if err := enc.EncodeToken(t); err != nil {
			return err
		}
	}
	return nil
}

// junitCounts are a testsuite's (or the testsuites') count attributes.
type junitCounts struct {
	tests, failures, skipped int
}

func (c *junitCounts) add(o Outcome) {
	c.tests++
	switch {
	case o.Failure():
		c.failures++
	case !o.Success():
		c.skipped++
	}
}

func (c junitCounts) attrs() []xml.Attr {
	return []xml.Attr{
		{Name: xml.Name{Local: "tests"}, Value: strconv.Itoa(c.tests)},
		{Name: xml.Name{Local: "failures"}, Value: strconv.Itoa(c.failures)},
		{Name: xml.Name{Local: "errors"}, Value: "0"},
		{Name: xml.Name{Local: "skipped"}, Value: strconv.Itoa(c.skipped)},
	}
}

// junitSegment is a run of consecutive records of one batch. Records come
// in address order, which keeps each batch together; segments make the
// writer correct (if less tidy: a batch may then appear in several
// testsuites) for a Source that does not.
type junitSegment struct {
	batch  string
	counts junitCounts
}

func newJUnitCase(p prepared) junitCase {
	c := junitCase{Classname: "postform.batch." + p.Batch, Name: p.Address}
	switch p.Outcome {
	case OutcomeDelivered, OutcomeOpened, OutcomeClicked:
		// passed
	case OutcomeFailed:
		typ := "failed"
		if p.ErrorCode != 0 {
			typ = "ErrorCode " + strconv.Itoa(p.ErrorCode)
		}
		msg := "refused by Postmark"
		if p.ErrorCode != 0 {
			msg += " (ErrorCode " + strconv.Itoa(p.ErrorCode) + ")"
		}
		if p.ErrorMessage != "" {
			msg += ": " + p.ErrorMessage
		}
		c.Failure = &junitFailure{Message: msg, Type: typ, Text: junitDetails(p)}
	case OutcomeBounced:
		typ := p.BounceType
		if typ == "" {
			typ = "Bounce"
		}
		msg := "bounced: " + typ
		if p.Inactive {
			msg += " (recipient deactivated by Postmark)"
		}
		c.Failure = &junitFailure{Message: msg, Type: typ, Text: junitDetails(p)}
	default:
		c.Skipped = &junitSkipped{Message: skipReason(p)}
	}
	return c
}

// skipReason explains an undecided outcome in one line.
func skipReason(p prepared) string {
	var msg string
	switch p.Outcome {
	case OutcomePending:
		msg = "pending: accepted by Postmark, no delivery outcome yet"
	case OutcomeTransient:
		msg = "transient: delivery deferred, Postmark is still trying"
	case OutcomeUncertain:
		msg = "uncertain: may or may not have been accepted; the next apply reconciles it before any resend"
	case OutcomeUnsent:
		msg = "unsent: not accepted by Postmark"
	default:
		msg = fmt.Sprintf("unknown: status %q, delivery %q", p.Status, p.Delivery)
	}
	if p.Outcome != OutcomePending && p.Outcome != OutcomeTransient {
		switch {
		case p.ErrorCode != 0:
			msg += fmt.Sprintf("; last error %d: %s", p.ErrorCode, p.ErrorMessage)
		case p.ErrorMessage != "":
			msg += "; last error: " + p.ErrorMessage
		}
	}
	return msg
}

// junitDetails is the text of a failure element: one "name: value" line
// per known field.
func junitDetails(p prepared) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("address", p.Address)
	line("to", p.Recipients)
	line("status", string(p.Status))
	line("delivery_status", string(p.Delivery))
	line("message_id", p.MessageID)
	line("submitted_at", formatTime(p.SubmittedAt))
	if p.ErrorCode != 0 {
		line("error_code", strconv.Itoa(p.ErrorCode))
	}
	line("error_message", p.ErrorMessage)
	line("bounce_type", p.BounceType)
	if p.BounceID != 0 {
		line("bounce_id", strconv.FormatInt(p.BounceID, 10))
	}
	if p.Inactive {
		line("inactive", "true")
	}
	line("last_event_at", formatTime(p.LastEventAt))
	line("attempts", strconv.Itoa(p.Attempts))
	return b.String()
}

// writeJUnit writes the JUnit XML file in two passes over src: the first
// counts each batch (a testsuite's count attributes precede its
// testcases), the second writes the testcases.
func writeJUnit(ctx context.Context, w io.Writer, src Source, filter StatusFilter, opts Options) error {
	var segs []junitSegment
	var total junitCounts
	err := src(ctx, func(r state.Record) error {
		if !filter.Match(r) {
			return nil
		}
		if len(segs) == 0 || segs[len(segs)-1].batch != r.Batch {
			segs = append(segs, junitSegment{batch: r.Batch})
		}
		o := OutcomeOf(r)
		segs[len(segs)-1].counts.add(o)
		total.add(o)
		return nil
	})
	if err != nil {
		return err
	}

	// The header and the version comment are written by hand: the
	// encoder would put the root element on the comment's line.
	if _, err := io.WriteString(w, xml.Header+"<!--"+junitComment(opts)+"-->\n"); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	name := opts.Title
	if name == "" {
		name = "postform"
	}
	root := xml.StartElement{Name: xml.Name{Local: "testsuites"}}
	root.Attr = append([]xml.Attr{{Name: xml.Name{Local: "name"}, Value: name}}, total.attrs()...)
	if err := enc.EncodeToken(root); err != nil {
		return fmt.Errorf("report: %w", err)
	}

	cur := -1 // index in segs of the open testsuite
	var got junitCounts
	closeSuite := func() error {
		if got != segs[cur].counts {
			return ErrSourceChanged
		}
		if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "testsuite"}}); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	}
	err = src(ctx, func(r state.Record) error {
		if !filter.Match(r) {
			return nil
		}
		if cur < 0 || r.Batch != segs[cur].batch {
			if cur >= 0 {
				if err := closeSuite(); err != nil {
					return err
				}
			}
			cur++
			if cur >= len(segs) || segs[cur].batch != r.Batch {
				return ErrSourceChanged
			}
			got = junitCounts{}
			start := xml.StartElement{Name: xml.Name{Local: "testsuite"}}
			start.Attr = append([]xml.Attr{{Name: xml.Name{Local: "name"}, Value: r.Batch}}, segs[cur].counts.attrs()...)
			if !opts.Generated.IsZero() {
				// JUnit's schema wants a local date-time without zone; the
				// value is UTC.
				start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "timestamp"}, Value: opts.Generated.UTC().Format("2006-01-02T15:04:05")})
			}
			if err := enc.EncodeToken(start); err != nil {
				return fmt.Errorf("report: %w", err)
			}
		}
		p := prepare(r, opts.Redact)
		got.add(p.Outcome)
		if err := newJUnitCase(p).encode(enc); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if cur >= 0 {
		if err := closeSuite(); err != nil {
			return err
		}
	}
	if cur != len(segs)-1 {
		return ErrSourceChanged
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// junitComment is the text of the comment that versions the JUnit file.
// XML comments may not contain "--", so version strings are cleaned of it.
func junitComment(opts Options) string {
	s := " postform delivery report, format_version " + FormatVersion
	if opts.Version != "" {
		s += ", tool_version " + opts.Version
	}
	if !opts.Generated.IsZero() {
		s += ", generated_at " + formatTime(opts.Generated)
	}
	s += " "
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	return s
}
