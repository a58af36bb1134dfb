package views

import (
	"github.com/postform/postform/internal/jsonstr"

	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/postform/postform/runner"
)

// encodeLine is what JSONLines wrote for v before the per-message events
// were encoded by hand: json.Encoder with HTML escaping off. It returns nil
// when encoding/json refuses v (nothing was written then).
func encodeLine(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil
	}
	return buf.Bytes()
}

// legacyPlannedMessage is PlanJSON.PlannedMessage as it was when it built a
// map for JSONLines.Emit: the reference the hand encoder must match.
func legacyPlannedMessage(v *PlanJSON, e runner.PlanEntry) map[string]any {
	m := map[string]any{
		"address": v.red(e.Address),
		"batch":   e.Batch,
		"key":     v.red(e.Key),
		"action":  string(e.Action),
		"to":      v.red(e.To),
		"subject": e.Subject,
	}
	if slices.Contains(e.Sensitive, "to") {
		m["to"] = "(sensitive)"
	}
	if slices.Contains(e.Sensitive, "subject") {
		m["subject"] = "(sensitive)"
	}
	if e.Template != "" {
		m["template"] = e.Template
	}
	if e.Digest != "" {
		m["digest"] = e.Digest
	}
	if e.MessageID != "" {
		m["message_id"] = e.MessageID
	}
	if !e.SentAt.IsZero() {
		m["submitted_at"] = e.SentAt.UTC()
	}
	if e.ErrorCode != 0 {
		m["error_code"] = e.ErrorCode
		m["error_message"] = v.red(e.Error)
	}
	if len(e.Diags) > 0 {
		diags := e.Diags
		if v.redact {
			diags = redactDiags(diags)
		}
		m["diagnostics"] = JSONDiagnostics(diags, v.files)
	}
	m["type"] = "planned_message"
	return m
}

// legacyMessageResult is ApplyJSON.MessageResult as it was (see above).
func legacyMessageResult(v *ApplyJSON, r runner.MessageResult) map[string]any {
	m := map[string]any{"address": v.red(r.Address), "outcome": string(r.Outcome), "attempts": r.Attempts}
	if r.MessageID != "" {
		m["message_id"] = r.MessageID
	}
	if r.ErrorCode != 0 || r.Error != "" {
		m["error_code"] = r.ErrorCode
		m["error_message"] = v.red(r.Error)
	}
	m["type"] = "message_result"
	return m
}

// TestPerMessageEventsMatchMapEncoding holds planned_message and
// message_result to the bytes the map-based encoding wrote, on random events
// with and without -redact.
func TestPerMessageEventsMatchMapEncoding(t *testing.T) {
	g := newEventGen(1)
	var buf bytes.Buffer
	j := NewJSONLines(&buf, "dev")
	var dropped int
	for i := range 20000 {
		redact := i%2 == 1
		pv := NewPlanJSON(j, redact, genFiles)
		av := NewApplyJSON(j, redact)

		e := g.planEntry()
		buf.Reset()
		pv.PlannedMessage(e)
		want := encodeLine(t, legacyPlannedMessage(pv, e))
		if want == nil {
			dropped++
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("planned_message for %#v (redact=%v):\n got %q\nwant %q", e, redact, buf.Bytes(), want)
		}

		r := g.messageResult()
		buf.Reset()
		av.MessageResult(r)
		if want := encodeLine(t, legacyMessageResult(av, r)); !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("message_result for %#v (redact=%v):\n got %q\nwant %q", r, redact, buf.Bytes(), want)
		}
	}
	if dropped == 0 {
		t.Errorf("no event with a submitted_at encoding/json refuses; the generator should cover that case")
	}
}

// fillValue sets v to a random value, every field and element included.
// With full, nothing is left zero (pointers, slices and strings included), so
// an encoder that forgets a field, even an omitempty one, differs from
// encoding/json.
func fillValue(t *testing.T, g *eventGen, v reflect.Value, full bool) {
	t.Helper()
	zero := !full && g.r.IntN(4) == 0
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		at := g.time()
		for full && at.IsZero() {
			at = g.time()
		}
		v.Set(reflect.ValueOf(at))
		return
	case zero:
		v.SetZero()
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := g.str()
		for full && s == "" {
			s = g.str()
		}
		v.SetString(s)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n := g.int()
		for full && n == 0 {
			n = g.int()
		}
		v.SetInt(int64(n))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(t, g, v.Elem(), full)
	case reflect.Slice:
		n := g.r.IntN(4)
		if full && n == 0 {
			n = 1
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fillValue(t, g, v.Index(i), full)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fillValue(t, g, v.Field(i), full)
		}
	default:
		t.Fatalf("fillValue cannot fill a %s; teach it (and the encoder under test) about the new field", v.Type())
	}
}

// TestEventEncodersMatchEncodingJSON fills every field of each hand-encoded
// type by reflection and compares appendJSON with encoding/json. A field
// added to one of these structs but not to its appendJSON fails here.
func TestEventEncodersMatchEncodingJSON(t *testing.T) {
	appenders := map[string]struct {
		typ    reflect.Type
		append func(b []byte, v any) ([]byte, bool)
	}{
		"planned_message": {reflect.TypeFor[plannedMessageEvent](), func(b []byte, v any) ([]byte, bool) {
			return v.(*plannedMessageEvent).appendJSON(b)
		}},
		"message_result": {reflect.TypeFor[messageResultEvent](), func(b []byte, v any) ([]byte, bool) {
			return v.(*messageResultEvent).appendJSON(b), true
		}},
		"diagnostic": {reflect.TypeFor[Diagnostic](), func(b []byte, v any) ([]byte, bool) {
			return v.(*Diagnostic).appendJSON(b), true
		}},
		"pos": {reflect.TypeFor[Pos](), func(b []byte, v any) ([]byte, bool) {
			return v.(*Pos).appendJSON(b), true
		}},
	}
	g := newEventGen(2)
	for name, a := range appenders {
		t.Run(name, func(t *testing.T) {
			for i := range 3000 {
				full := i%3 != 2
				p := reflect.New(a.typ)
				if i > 0 { // the first one stays zero
					fillValue(t, g, p.Elem(), full)
				}
				want := encodeLine(t, p.Interface())
				got, ok := a.append([]byte("prefix"), p.Interface())
				if !ok {
					if want != nil {
						t.Fatalf("appendJSON refused %#v; encoding/json wrote %q", p.Elem().Interface(), want)
					}
					continue
				}
				got = append(bytes.TrimPrefix(got, []byte("prefix")), '\n')
				if !bytes.Equal(got, want) {
					t.Fatalf("appendJSON(%#v):\n got %q\nwant %q", p.Elem().Interface(), got, want)
				}
			}
		})
	}
	// The struct's field order is the order of the lines' keys, which used
	// to come from maps: alphabetical.
	for _, typ := range []reflect.Type{reflect.TypeFor[plannedMessageEvent](), reflect.TypeFor[messageResultEvent]()} {
		var names []string
		for f := range typ.Fields() {
			names = append(names, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		if !slices.IsSorted(names) {
			t.Errorf("%s's JSON names are not in alphabetical order: %q", typ, names)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	var cases []string
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"z")
	}
	for r := rune(0); r <= utf8.MaxRune; r += 1 + r/64 {
		cases = append(cases, string(r), "x"+string(r))
	}
	cases = append(cases, "\u2028\u2029", "a\u2028b\u2029c", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80", "\xe2\x80\xa8\xe2",
		`"\"`, "<a href='x'>&amp;</a>", "\x00\x1f\x7f", "")
	g := newEventGen(3)
	for range 20000 {
		cases = append(cases, g.str())
	}
	for _, s := range cases {
		want := bytes.TrimSuffix(encodeLine(t, s), []byte("\n"))
		if got := jsonstr.Append(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("jsonstr.Append(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestAppendJSONTime(t *testing.T) {
	for _, at := range []time.Time{
		time.Now(), // carries a monotonic reading
		time.Now().UTC(),
		time.Date(2025, 11, 3, 9, 41, 7, 0, time.UTC),
		time.Date(2025, 11, 3, 9, 41, 7, 120000000, time.UTC),
		time.Date(2025, 11, 3, 9, 41, 7, 1, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		at = at.UTC()
		want := encodeLine(t, at)
		got, ok := appendJSONTime(nil, at)
		switch {
		case !ok && want != nil:
			t.Errorf("appendJSONTime(%v) refused; encoding/json wrote %q", at, want)
		case ok && !bytes.Equal(append(got, '\n'), want):
			t.Errorf("appendJSONTime(%v) = %q, want %q", at, got, want)
		}
	}
}

func TestSourceLine(t *testing.T) {
	g := newEventGen(4)
	for range 5000 {
		var b strings.Builder
		for range g.r.IntN(6) {
			b.WriteString([]string{"a", "\n", "\r\n", "", "line", "\n\n"}[g.r.IntN(6)])
		}
		src := b.String()
		lines := strings.Split(src, "\n")
		for n := 1; n <= len(lines)+2; n++ {
			want, wantOK := "", n <= len(lines)
			if wantOK {
				want = lines[n-1]
			}
			if got, ok := sourceLine([]byte(src), n); got != want || ok != wantOK {
				t.Fatalf("sourceLine(%q, %d) = %q, %v; want %q, %v", src, n, got, ok, want, wantOK)
			}
		}
	}
}

// TestJSONLinesConcurrentMixed writes hand-encoded and Emit events from
// several goroutines: each line must stay whole.
func TestJSONLinesConcurrentMixed(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf, "dev")
	pv := NewPlanJSON(j, false, nil)
	av := NewApplyJSON(j, true)
	const workers, each = 6, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				addr := fmt.Sprintf(`batch.x["u%d-%d@example.com"]`, w, i)
				switch i % 3 {
				case 0:
					pv.PlannedMessage(runner.PlanEntry{Address: addr, Batch: "x", Action: runner.ActionSend,
						Subject: strings.Repeat("long ", i), SentAt: time.Now()})
				case 1:
					av.MessageResult(runner.MessageResult{Address: addr, Outcome: runner.OutcomeSent, Attempts: 1})
				default:
					j.Emit("diagnostic", map[string]any{"summary": addr})
				}
			}
		})
	}
	wg.Wait()
	objs := decodeLines(t, buf.String())
	if len(objs) != 1+workers*each {
		t.Fatalf("got %d lines, want %d", len(objs), 1+workers*each)
	}
}
