// Package views renders postform's output: human text for people and
// versioned JSON lines for machines, chosen once per command. The runner
// reports through hooks; views implement them. Nothing else in postform
// writes to the terminal.
package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/postform/postform/report"
)

// UIVersion is the version of the JSON lines format (-json).
const UIVersion = "1.0"

// Streams are the command's standard streams and what is known about them.
type Streams struct {
	Out, Err io.Writer
	OutTTY   bool // stdout is a terminal
	ErrTTY   bool // stderr is a terminal
	Width    int  // terminal width (78 when unknown)
	Color    bool // colour allowed (a TTY and no -no-color)
}

// DetectStreams inspects w for terminal-ness (an *os.File with a TTY).
func DetectStreams(out, errw io.Writer, noColor bool) Streams {
	s := Streams{Out: out, Err: errw, Width: 78}
	type fder interface{ Fd() uintptr }
	if f, ok := out.(fder); ok && term.IsTerminal(int(f.Fd())) {
		s.OutTTY = true
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			s.Width = w
		}
	}
	if f, ok := errw.(fder); ok && term.IsTerminal(int(f.Fd())) {
		s.ErrTTY = true
	}
	s.Color = s.OutTTY && !noColor
	return s
}

// JSONLines writes one JSON object per line, starting with a version
// message. It is safe for concurrent use: each event is encoded and written
// with one Write call while holding a lock, so lines never interleave.
type JSONLines struct {
	mu  sync.Mutex
	w   io.Writer
	enc *json.Encoder // Emit's events; writes to w
	// line is the buffer the hand-encoded per-message events are built in,
	// reused from one event to the next.
	line []byte
}

// maxKeptLine bounds the buffer JSONLines keeps between events, so one huge
// event does not pin its memory for the rest of the run.
const maxKeptLine = 64 << 10

// NewJSONLines starts a stream on w and writes the version header.
func NewJSONLines(w io.Writer, toolVersion string) *JSONLines {
	j := &JSONLines{w: w, enc: json.NewEncoder(w)}
	j.enc.SetEscapeHTML(false)
	j.Emit("version", map[string]any{"ui_version": UIVersion, "postform": toolVersion})
	return j
}

// Emit writes one typed event.
func (j *JSONLines) Emit(typ string, fields map[string]any) {
	m := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		m[k] = v
	}
	m["type"] = typ
	j.mu.Lock()
	defer j.mu.Unlock()
	_ = j.enc.Encode(m)
}

// emitPlannedMessage writes a planned_message line.
func (j *JSONLines) emitPlannedMessage(ev *plannedMessageEvent) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, ok := ev.appendJSON(j.line[:0])
	j.writeLine(b, ok)
}

// emitMessageResult writes a message_result line.
func (j *JSONLines) emitMessageResult(ev *messageResultEvent) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.writeLine(ev.appendJSON(j.line[:0]), true)
}

// writeLine ends b with a newline and writes it when ok (an event
// encoding/json would refuse is dropped, as Emit drops it), then keeps b's
// storage for the next event. j.mu must be held.
func (j *JSONLines) writeLine(b []byte, ok bool) {
	if ok {
		b = append(b, '\n')
		_, _ = j.w.Write(b)
	}
	if cap(b) <= maxKeptLine {
		j.line = b[:0]
	} else {
		j.line = nil
	}
}

// Diagnostic is the JSON form of an hcl.Diagnostic.
type Diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Address  string `json:"address,omitempty"`
	Range    *Range `json:"range,omitempty"`
	Snippet  string `json:"snippet,omitempty"`
}

// Range is a source range in JSON output.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Pos is a source position.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSONDiagnostic converts d, with the source line as a snippet when known.
func JSONDiagnostic(d *hcl.Diagnostic, files map[string]*hcl.File) Diagnostic {
	out := Diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
	if d.Severity == hcl.DiagWarning {
		out.Severity = "warning"
	}
	if d.Subject != nil {
		r := d.Subject
		out.Range = &Range{Filename: r.Filename,
			Start: Pos{r.Start.Line, r.Start.Column, r.Start.Byte},
			End:   Pos{r.End.Line, r.End.Column, r.End.Byte}}
		if f := files[r.Filename]; f != nil && r.Start.Line > 0 {
			if line, ok := sourceLine(f.Bytes, r.Start.Line); ok {
				out.Snippet = strings.TrimRight(line, "\r")
			}
		}
	}
	return out
}

// sourceLine returns line n (from 1) of src, without its newline, and
// whether src has that line. It finds the line without splitting the whole
// file: an invalid message's diagnostic is converted once per message.
func sourceLine(src []byte, n int) (string, bool) {
	for ; n > 1; n-- {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			return "", false
		}
		src = src[i+1:]
	}
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return string(src), true
}

// JSONDiagnostics converts a list, never returning nil.
func JSONDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) []Diagnostic {
	out := make([]Diagnostic, 0, len(diags))
	for _, d := range diags {
		out = append(out, JSONDiagnostic(d, files))
	}
	return out
}

// WriteDiagnostics renders diags for people with file:line:col, the source
// snippet and the wrapped detail.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File, width int, color bool) {
	if len(diags) == 0 {
		return
	}
	var buf bytes.Buffer
	dw := hcl.NewDiagnosticTextWriter(&buf, files, uint(width), color)
	for _, d := range diags {
		buf.Reset()
		_ = dw.WriteDiagnostic(d)
		out := buf.Bytes()
		if r := d.Subject; r != nil {
			// hcl's writer names the file and line only; editors and people
			// scanning a long list want the column too: "on f.pf.hcl:12:55".
			old := fmt.Sprintf("  on %s line %d", r.Filename, r.Start.Line)
			loc := fmt.Sprintf("  on %s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
			out = bytes.Replace(out, []byte(old), []byte(loc), 1)
		}
		_, _ = w.Write(out)
		fmt.Fprintln(w)
	}
}

// ErrorDiag makes a source-less diagnostic for failures outside the
// configuration (I/O, API, state).
func ErrorDiag(summary string, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: err.Error()}
}

// Commas formats n with thousands separators.
func Commas(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Redact masks the local part of every address-like word in s:
// "ann@example.com" becomes "a***@example.com". It is the reports' rule,
// so -redact hides the same things on the terminal and in files.
func Redact(s string) string { return report.RedactText(s) }
