package postmark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// The hand decoder of decode.go must give exactly what encoding/json gives
// (json.Decoder and SendResult.UnmarshalJSON, the path it replaces): the
// same results, and the same error text when there is an error.

// decodeResultsJSON is the reference: the decoding client.go did before
// decode.go existed.
func decodeResultsJSON(r io.Reader) ([]SendResult, error) {
	var res []SendResult
	err := json.NewDecoder(r).Decode(&res)
	return res, err
}

func decodeResultJSON(r io.Reader) (SendResult, error) {
	var res SendResult
	err := json.NewDecoder(r).Decode(&res)
	return res, err
}

// readers returns the ways a body may arrive: all at once, a byte at a
// time, half reads, data with io.EOF, and cut short by a network error.
func readers(body []byte) map[string]func() io.Reader {
	return map[string]func() io.Reader{
		"whole":   func() io.Reader { return bytes.NewReader(body) },
		"onebyte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) },
		"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(body)) },
		"dataerr": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(body)) },
		"reset": func() io.Reader {
			return io.MultiReader(bytes.NewReader(body), iotest.ErrReader(errConnReset))
		},
	}
}

var errConnReset = errors.New("connection reset by peer")

// checkSame decodes body with both paths, as a batch answer and as a
// single answer, through every reader, and fails on any difference.
func checkSame(t testing.TB, body []byte) {
	t.Helper()
	for name, open := range readers(body) {
		want, wantErr := decodeResultsJSON(open())
		var got []SendResult
		gotErr := decodeSendResults(open(), &got)
		if msg := sameResults(want, wantErr, got, gotErr); msg != "" {
			t.Fatalf("batch, %s reader, body %q:\n%s", name, body, msg)
		}
		// With the capacity sendMany gives it.
		got = make([]SendResult, 0, 4)
		gotErr = decodeSendResults(open(), &got)
		if msg := sameResults(want, wantErr, got, gotErr); msg != "" {
			t.Fatalf("batch with capacity, %s reader, body %q:\n%s", name, body, msg)
		}

		want1, wantErr1 := decodeResultJSON(open())
		var got1 SendResult
		gotErr1 := decodeSendResult(open(), &got1)
		if msg := sameResults([]SendResult{want1}, wantErr1, []SendResult{got1}, gotErr1); msg != "" {
			t.Fatalf("single, %s reader, body %q:\n%s", name, body, msg)
		}
	}
}

// sameResults compares exactly: == on each SendResult compares the
// time's location pointer too.
func sameResults(want []SendResult, wantErr error, got []SendResult, gotErr error) string {
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		return fmt.Sprintf("error = %v, want %v", gotErr, wantErr)
	}
	if wantErr != nil {
		return ""
	}
	if (want == nil) != (got == nil) || len(want) != len(got) {
		return fmt.Sprintf("results = %#v (nil %t), want %#v (nil %t)", got, got == nil, want, want == nil)
	}
	for i := range want {
		w, g := want[i], got[i]
		if !sameTime(w.SubmittedAt, g.SubmittedAt) {
			return fmt.Sprintf("result %d: SubmittedAt = %#v\nwant %#v", i, g.SubmittedAt, w.SubmittedAt)
		}
		w.SubmittedAt, g.SubmittedAt = time.Time{}, time.Time{}
		if w != g {
			return fmt.Sprintf("result %d = %#v\nwant %#v", i, got[i], want[i])
		}
	}
	return ""
}

// sameTime reports whether two times are the same instant shown the same
// way. == would also compare *Location pointers, and time.Parse makes a
// new one for every offset that is not a whole number of hours.
func sameTime(x, y time.Time) bool {
	if x == y {
		return true
	}
	xn, xo := x.Zone()
	yn, yo := y.Zone()
	return x.Equal(y) && xn == yn && xo == yo && x.Location().String() == y.Location().String() &&
		x.Format(time.RFC3339Nano) == y.Format(time.RFC3339Nano)
}

// handled reports whether the hand decoder takes body without falling
// back to encoding/json.
func handled(body []byte) bool {
	d := newResultDecoder(bytes.NewReader(body))
	defer d.release()
	_, ok := d.results(nil)
	return ok
}

func TestSendResultsDecoderFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"batch-response.json", "send-response.json", "send-response-test-token.json", "error-response.json", "error-inactive-recipient.json"} {
		body := fixture(t, name)
		checkSame(t, body)
		checkSame(t, append([]byte("["), append(body, ']')...))
	}
	if !handled(fixture(t, "batch-response.json")) {
		t.Error("batch-response.json fell back to encoding/json")
	}
	if !handled(benchBatchAnswer(500, "2026-09-30T16:03:52.7892753Z")) || !handled(benchBatchAnswer(500, "2010-11-26T12:01:05.1794748-05:00")) {
		t.Error("the benchmark's answer fell back to encoding/json")
	}
}

// TestSendResultsDecoderCases covers each quirk of SendResult.UnmarshalJSON
// and of encoding/json on purpose; TestSendResultsDecoderEquivalence adds
// random ones. fast lists the bodies the hand decoder must take itself.
func TestSendResultsDecoderCases(t *testing.T) {
	t.Parallel()
	fast := []string{
		// Like json.Decoder, stop at the end of the value.
		`[{}]]`, `[{"To":"a"}] trailing`, `[{"To":"a"}]{"x":1}`,
		`[]`, ` [ ] `, "\t\r\n[{}]", `[null]`, `[{},null,{}]`,
		`[{"To":"a@x.test","SubmittedAt":"2026-09-30T16:03:52.7892753Z","MessageID":"m","ErrorCode":0,"Message":"OK"}]`,
		`[{"Message":"OK","ErrorCode":0,"MessageID":"m","SubmittedAt":"2026-09-30T16:03:52Z","To":"a"}]`,
		// Case-insensitive names, exact match, duplicates (last wins).
		`[{"to":"a","TO":"b","messageid":"c","MESSAGEID":"d","errorcode":1,"message":"m","submittedat":"2026-01-02T03:04:05Z"}]`,
		`[{"To":"a","To":"b"}]`,
		`[{"To":"a","To":null}]`, `[{"Message":"a","Message":null,"MessageID":null}]`,
		`[{"SubmittedAt":"2026-01-02T03:04:05Z","SubmittedAt":null}]`,
		`[{"ErrorCode":5,"ErrorCode":null}]`,
		// Names written with escapes.
		`[{"\u0054o":"a","Messag\u0065":"b","\u0045rrorCode":"7"}]`,
		// Unknown fields of every kind, nested.
		`[{"X":1,"Y":-0.5e+3,"Z":[1,[2,{"a":[true,false,null]}],{}],"W":{"k":"v\n"},"To":"a","V":"","U":[]}]`,
		`[{"X":"` + strings.Repeat("y", 200<<10) + `","To":"a"}]`,
		`[{"Errors":{"To":["bad"]},"ErrorCode":300,"Message":"Invalid 'To' address: 'x'."}]`,
		// Escapes, Unicode, surrogate pairs, lone surrogates, invalid UTF-8.
		`[{"Message":"\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00"}]`,
		`[{"Message":"\ud800","To":"\udc00x","MessageID":"\ud800\u0041"}]`,
		`[{"Message":"\ud83d\ud83d\ude00","To":"\ud83dx\ude00"}]`,
		"[{\"Message\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}]",
		"[{\"Message\":\"bad \xff \xc3 \xed\xa0\x80 \xef\xbf\xbd end\"}]",
		"[{\"To\":\"\xc3\",\"Message\":\"\\n\xff\"}]",
		// ErrorCode as number, numeric string, blank, padded, signed.
		`[{"ErrorCode":406},{"ErrorCode":-0},{"ErrorCode":"406"},{"ErrorCode":" 300 "},{"ErrorCode":""},{"ErrorCode":"  "},{"ErrorCode":"+7"},{"ErrorCode":"-12"}]`,
		`[{"ErrorCode":9223372036854775807},{"ErrorCode":-9223372036854775808},{"ErrorCode":"\u0034\u0030\u0036"}]`,
		"[{\"ErrorCode\":\"\\u00a0 5\\t\"}]",
		// Times: Z with any number of digits, offsets, no offset, a bare
		// date, spaces, an empty string.
		`[{"SubmittedAt":"2026-09-30T16:03:52Z"},{"SubmittedAt":"2026-09-30T16:03:52.1Z"},{"SubmittedAt":"2026-09-30T16:03:52.123456789Z"},{"SubmittedAt":"2026-09-30T16:03:52.1234567891234Z"}]`,
		`[{"SubmittedAt":"2010-11-26T12:01:05.1794748-05:00"},{"SubmittedAt":"2010-11-26T12:01:05+00:00"},{"SubmittedAt":"2010-07-26T12:01:05.5+05:30"}]`,
		`[{"SubmittedAt":"2014-02-17T07:25:01"},{"SubmittedAt":"2014-02-17 07:25:01.5"},{"SubmittedAt":"2014-02-17"},{"SubmittedAt":" 2014-02-17T07:25:01Z "},{"SubmittedAt":""}]`,
		`[{"SubmittedAt":"2024-02-29T00:00:00Z"},{"SubmittedAt":"2000-02-29T23:59:59Z"},{"SubmittedAt":"0000-01-01T00:00:00Z"}]`,
		`[{"SubmittedAt":"2026-09-30T16:03:52,5Z"},{"SubmittedAt":"2026-09-30T16:03:52\u005a"}]`,
	}
	fallback := []string{
		``, ` `, `null`, ` null `, `{}`, `[`, `[{`, `[{}`, `[{},`, `[{},]`, `[,{}]`, `[{"To":"a",}]`,
		"\ufeff[]", `[1]`, `["x"]`, `[true]`, `[[]]`, `[[{}]]`,
		`{"To":"a"}`, `"text"`, `42`, `[{"To":1}]`, `[{"To":true}]`, `[{"To":{}}]`, `[{"MessageID":["a"]}]`,
		`[{"Message":"a"},{"Message":5}]`,
		`[{"ErrorCode":1.5}]`, `[{"ErrorCode":1e3}]`, `[{"ErrorCode":1.0}]`, `[{"ErrorCode":"1.0"}]`, `[{"ErrorCode":"x"}]`,
		`[{"ErrorCode":true}]`, `[{"ErrorCode":{}}]`, `[{"ErrorCode":[]}]`, `[{"ErrorCode":99999999999999999999}]`,
		`[{"ErrorCode":"0x10"}]`, `[{"ErrorCode":"1_000"}]`, `[{"ErrorCode":01}]`, `[{"ErrorCode":-}]`, `[{"ErrorCode":+1}]`,
		`[{"SubmittedAt":5}]`, `[{"SubmittedAt":"yesterday"}]`, `[{"SubmittedAt":"2026-02-30T00:00:00Z"}]`,
		`[{"SubmittedAt":"2026-13-01T00:00:00Z"}]`, `[{"SubmittedAt":"2026-01-01T24:00:00Z"}]`, `[{"SubmittedAt":"2026-01-01T00:00:60Z"}]`,
		`[{"SubmittedAt":"2026-09-30T16:03:52.Z"}]`, `[{"SubmittedAt":"2026-09-30t16:03:52z"}]`, `[{"SubmittedAt":{}}]`, `[{"SubmittedAt":true}]`,
		`[{"To":"a\x"}]`, `[{"To":"\u12"}]`, `[{"To":"\u12g4"}]`, `[{"To":"\'"}]`, "[{\"To\":\"a\nb\"}]", "[{\"To\":\"a\x00\"}]",
		`[{"To" "a"}]`, `[{"To":"a" "Message":"b"}]`, `[{To:"a"}]`, `[{"To":'a'}]`, `[{"X":tru}]`, `[{"X":nul}]`, `[{"X":nulll}]`,
		`[{"X":[1,]}]`, `[{"X":{"a"}}]`, `[{"X":{"a":}}]`, `[{"X":.5}]`, `[{"X":1.}]`, `[{"X":1e}]`, `[{"X":-a}]`,
		`[{"X":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}]`,
		`[{"X":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}]`,
		// Names that encoding/json folds beyond ASCII (long s, Kelvin sign).
		`[{"Meſſage":"a","ſubmittedAt":"2026-01-02T03:04:05Z"}]`, `[{"\u017fubmittedAt":"2026-01-02T03:04:05Z"}]`,
		`[{"Tö":"a"}]`, "[{\"T\xff\":\"a\"}]",
	}
	for _, body := range fast {
		checkSame(t, []byte(body))
		if !handled([]byte(body)) {
			t.Errorf("fell back on %s", body)
		}
	}
	for _, body := range fallback {
		checkSame(t, []byte(body))
		if handled([]byte(body)) {
			t.Errorf("did not fall back on %.100s", body)
		}
	}
}

// TestSendResultsDecoderReadsNoFurther: like json.Decoder, the decoder
// stops reading once the answer is complete, so a server that keeps the
// body open after it does not stall the send.
func TestSendResultsDecoderReadsNoFurther(t *testing.T) {
	t.Parallel()
	stall := iotest.ErrReader(errors.New("read past the end of the answer"))
	for name, open := range readers(fixture(t, "batch-response.json")) {
		if name == "reset" || name == "dataerr" {
			continue
		}
		var got []SendResult
		if err := decodeSendResults(io.MultiReader(open(), stall), &got); err != nil || len(got) != 4 {
			t.Errorf("%s: %d results, %v", name, len(got), err)
		}
		var one SendResult
		if err := decodeSendResult(io.MultiReader(open(), stall), &one); err == nil {
			t.Errorf("%s: single decode of an array succeeded", name)
		}
	}
	var one SendResult
	if err := decodeSendResult(io.MultiReader(bytes.NewReader(fixture(t, "send-response.json")), stall), &one); err != nil || one.MessageID == "" {
		t.Errorf("single: %+v, %v", one, err)
	}
}

// TestSendResultsDecoderEquivalence compares the two paths on many random
// answers built from realistic and adversarial pieces, then on truncated
// and mutated copies of them.
func TestSendResultsDecoderEquivalence(t *testing.T) {
	t.Parallel()
	n := 3000
	if testing.Short() || raceEnabled {
		n = 400
	}
	rng := rand.New(rand.NewPCG(20260930, 1))
	var fastCount, mutated int
	for range n {
		body := randomAnswer(rng)
		checkSame(t, body)
		if handled(body) {
			fastCount++
		}
		for range 3 {
			m := mutate(rng, body)
			checkSame(t, m)
			mutated++
		}
	}
	// The generator is meant to stay mostly within what the hand decoder
	// takes; otherwise the comparison only tests encoding/json against
	// itself.
	if fastCount < n/3 {
		t.Errorf("only %d of %d random answers took the hand decoder", fastCount, n)
	}
	t.Logf("%d answers (%d by the hand decoder), %d mutated copies", n, fastCount, mutated)
}

func randomAnswer(rng *rand.Rand) []byte {
	var b []byte
	b = appendSpace(rng, b)
	b = append(b, '[')
	items := rng.IntN(8)
	for i := range items {
		if i > 0 {
			b = appendSpace(rng, b)
			b = append(b, ',')
		}
		b = appendSpace(rng, b)
		if rng.IntN(30) == 0 {
			b = append(b, "null"...)
		} else {
			b = randomResult(rng, b)
		}
		b = appendSpace(rng, b)
	}
	b = append(b, ']')
	return appendSpace(rng, b)
}

func appendSpace(rng *rand.Rand, b []byte) []byte {
	if rng.IntN(3) > 0 {
		return b
	}
	for range rng.IntN(3) + 1 {
		b = append(b, " \t\r\n"[rng.IntN(4)])
	}
	return b
}

func randomResult(rng *rand.Rand, b []byte) []byte {
	type member struct{ name, value string }
	var ms []member
	add := func(name string, value string) {
		if rng.IntN(8) > 0 {
			ms = append(ms, member{name, value})
		}
	}
	add("To", randomString(rng))
	add("SubmittedAt", randomTime(rng))
	add("MessageID", randomString(rng))
	add("ErrorCode", randomCode(rng))
	add("Message", randomString(rng))
	for range rng.IntN(3) {
		ms = append(ms, member{randomUnknownName(rng), randomValue(rng, 0)})
	}
	if rng.IntN(6) == 0 && len(ms) > 0 { // a duplicate
		m := ms[rng.IntN(len(ms))]
		ms = append(ms, member{m.name, randomString(rng)})
	}
	rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	b = append(b, '{')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSpace(rng, b)
		b = append(b, quoteName(rng, m.name)...)
		b = appendSpace(rng, b)
		b = append(b, ':')
		b = appendSpace(rng, b)
		b = append(b, m.value...)
		b = appendSpace(rng, b)
	}
	return append(b, '}')
}

// quoteName spells a field name in one of the ways encoding/json matches
// it (or nearly does).
func quoteName(rng *rand.Rand, name string) string {
	if name == "" {
		return `""`
	}
	switch rng.IntN(30) {
	case 0, 6, 7:
		name = strings.ToLower(name)
	case 1, 8:
		name = strings.ToUpper(name)
	case 2, 9, 10: // random case
		var sb strings.Builder
		for _, r := range name {
			if rng.IntN(2) == 0 {
				sb.WriteString(strings.ToUpper(string(r)))
			} else {
				sb.WriteString(strings.ToLower(string(r)))
			}
		}
		name = sb.String()
	case 3: // an escaped letter
		i := rng.IntN(len(name))
		return `"` + name[:i] + fmt.Sprintf(`\u%04x`, name[i]) + name[i+1:] + `"`
	case 4: // a Unicode fold that encoding/json accepts for s and k
		name = strings.Replace(name, "s", "ſ", 1)
		name = strings.Replace(name, "k", "\u212a", 1)
	case 5: // near misses
		name = []string{name + " ", "_" + name, name[:len(name)-1], name + "s"}[rng.IntN(4)]
	}
	return strconv.Quote(name)
}

func randomUnknownName(rng *rand.Rand) string {
	return []string{"X", "Errors", "RequestID", "Details", "Metadata", "ToAddress", "", "Message_", "Submitted"}[rng.IntN(9)]
}

// randomString is a JSON value for a string field: mostly a string,
// sometimes null or another type.
func randomString(rng *rand.Rand) string {
	switch rng.IntN(40) {
	case 0:
		return "null"
	case 1:
		return randomValue(rng, 0)
	}
	return randomQuoted(rng)
}

var stringPieces = []string{
	"a", "receiver@example.com", "OK", "4bba52b4-8a54-4eb8-b7d3-22fe251ffc99", " ", "'", "<>&",
	`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u0041`, `\u00e9`, `\u20ac`, `\u2028`, `\u0000`, `\uFFFD`,
	`\ud83d\ude00`, `\uD83D\uDE00`, `\ud800`, `\udc00`, `\ud800\u0041`, `\ud800\ud800`, `\udbff\udfff`, `\ud83d\\`,
	"é", "€", "😀", "\u2028", "\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\xef\xbf\xbd",
}

func randomQuoted(rng *rand.Rand) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for range rng.IntN(6) {
		sb.WriteString(stringPieces[rng.IntN(len(stringPieces))])
	}
	sb.WriteByte('"')
	return sb.String()
}

func randomTime(rng *rand.Rand) string {
	switch rng.IntN(20) {
	case 0:
		return "null"
	case 1:
		return `""`
	case 2:
		return randomValue(rng, 0)
	case 3:
		return `"2014-02-17"`
	case 4:
		return `"2014-02-17T07:25:01"`
	case 5:
		return `"\u0032014-02-17T07:25:01Z"`
	case 6:
		return `"not a time"`
	}
	year := []int{2010, 2026, 2024, 2000, 1900, 0, 9999}[rng.IntN(7)]
	month, day, hour, minute, sec := 1+rng.IntN(12), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(60)
	if rng.IntN(8) == 0 { // some out of range
		month, day, hour, minute, sec = rng.IntN(14), rng.IntN(33), rng.IntN(25), rng.IntN(61), rng.IntN(61)
	}
	s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour, minute, sec)
	if rng.IntN(4) > 0 {
		s += "." + fmt.Sprintf("%07d", rng.IntN(10_000_000))[:1+rng.IntN(7)] + strings.Repeat("0", rng.IntN(6))
	}
	switch rng.IntN(6) {
	case 0:
		s += "-05:00"
	case 1:
		s += "+02:00"
	case 2:
		s += "+05:30"
	case 3:
		s += ""
	default:
		s += "Z"
	}
	if rng.IntN(20) == 0 {
		s = " " + s
	}
	return `"` + s + `"`
}

func randomCode(rng *rand.Rand) string {
	if rng.IntN(10) == 0 { // not an integer
		return []string{"9223372036854775808", `"abc"`, `"4e2"`, "1.5", "1e2", "true", "[]", `{}`}[rng.IntN(8)]
	}
	codes := []string{
		"0", "0", "0", "406", "300", "-0", "1101", "-1", "9223372036854775807", "-9223372036854775808",
		`"406"`, `" 300 "`, `""`, `"+5"`, "null", `"\u0034"`, `"0012"`,
	}
	return codes[rng.IntN(len(codes))]
}

// randomValue is any JSON value, for unknown fields and wrong types.
func randomValue(rng *rand.Rand, depth int) string {
	n := 8
	if depth > 3 {
		n = 6
	}
	switch rng.IntN(n) {
	case 0:
		return "null"
	case 1:
		return []string{"true", "false"}[rng.IntN(2)]
	case 2:
		return []string{"0", "-1", "3.25", "-0.5e+3", "1E-2", "12345678901234567890"}[rng.IntN(6)]
	case 3, 4, 5:
		return randomQuoted(rng)
	case 6:
		var parts []string
		for range rng.IntN(4) {
			parts = append(parts, randomValue(rng, depth+1))
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		var parts []string
		for range rng.IntN(4) {
			parts = append(parts, randomQuoted(rng)+":"+randomValue(rng, depth+1))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
}

// mutate truncates body, or replaces, inserts or deletes a byte.
func mutate(rng *rand.Rand, body []byte) []byte {
	b := bytes.Clone(body)
	if len(b) == 0 {
		return b
	}
	i := rng.IntN(len(b))
	const alphabet = "{}[]:,\" \\0123456789.eE+-nulltruefalseZTx\xff\x00"
	switch rng.IntN(4) {
	case 0:
		return b[:i]
	case 1:
		b[i] = alphabet[rng.IntN(len(alphabet))]
		return b
	case 2:
		return append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, body[i:]...)...)
	default:
		return append(b[:i], b[i+1:]...)
	}
}

// TestParseStamp checks the allocation-free time path against
// parseTime, which it must agree with wherever it answers.
func TestParseStamp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for range 20000 {
		s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", rng.IntN(10000), rng.IntN(14), rng.IntN(33), rng.IntN(25), rng.IntN(61), rng.IntN(61))
		if rng.IntN(3) > 0 {
			s += "." + strings.Repeat("0123456789"[rng.IntN(10):][:1], rng.IntN(13))
		}
		s += []string{"Z", "z", "+00:00", "-00:00", "-05:00", "-04:00", "+05:30", "+14:00", "-23:59", "+24:00", "-05:60", "-0500", "+5:00", ""}[rng.IntN(14)]
		checkStamp(t, []byte(s))
	}
}

// TestParseStampZones runs the comparison in child processes whose Local
// zone is UTC, Postmark's (where -05:00 and -04:00 stamps come back in
// Local) and one with a half-hour offset. Changing time.Local in this
// process would race with the other tests.
func TestParseStampZones(t *testing.T) {
	t.Parallel()
	if os.Getenv("POSTMARK_TEST_STAMP_ZONE") == "" {
		for _, tz := range []string{"UTC", "America/New_York", "Asia/Kolkata"} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestParseStampZones$", "-test.v")
			cmd.Env = append(os.Environ(), "TZ="+tz, "POSTMARK_TEST_STAMP_ZONE=1")
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("zone "+tz)) {
				t.Errorf("TZ=%s: %v\n%s", tz, err, out)
			}
		}
		return
	}
	t.Logf("zone %s", time.Local)
	for _, s := range []string{
		"2010-11-26T12:01:05.1794748-05:00", "2010-07-26T12:01:05.1794748-05:00", "2010-07-26T12:01:05-04:00",
		"2026-03-08T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00",
		"2026-09-30T16:03:52+00:00", "2026-09-30T16:03:52+05:30", "2026-09-30T16:03:52Z",
	} {
		checkStamp(t, []byte(s))
		if _, ok := parseStamp([]byte(s)); !ok {
			t.Errorf("parseStamp(%q) declined", s)
		}
	}
}

func checkStamp(t testing.TB, s []byte) {
	t.Helper()
	got, ok := parseStamp(s)
	if !ok {
		return
	}
	want, err := parseTime(string(s))
	if _, off := want.Zone(); off%3600 != 0 {
		// A new *Location per call in time.Parse: == cannot hold.
		if err == nil && sameTime(got, want) {
			return
		}
	}
	if err != nil || got != want {
		t.Fatalf("parseStamp(%q) = %v, but parseTime = %v, %v", s, got, want, err)
	}
}

func FuzzDecodeSendResults(f *testing.F) {
	for _, name := range []string{"batch-response.json", "send-response.json", "send-response-test-token.json", "error-response.json"} {
		f.Add(fixture(f, name))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		f.Add(randomAnswer(rng))
	}
	f.Add([]byte(`[{"Meſſage":"a","to":"\ud83d\ude00","ErrorCode":" 406 ","SubmittedAt":"2014-02-17T07:25:01"}]`))
	f.Add([]byte(`[{"SubmittedAt":"2026-09-30T16:03:52.7892753Z","ErrorCode":"\u0034","X":[{"a":null}]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkSame(t, body)
		if len(body) <= 40 {
			checkStamp(t, body)
		}
	})
}

// raceEnabled is set by decode_race_test.go: the race detector makes
// sync.Pool drop items at random, so allocation counts mean nothing.
var raceEnabled bool

// TestSendResultsDecoderAllocs: decoding a batch answer into a slice of
// the right size allocates only the strings' shared backing (and here
// the reader).
func TestSendResultsDecoderAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful here")
	}
	body := benchBatchAnswer(500, "2026-09-30T16:03:52.7892753Z")
	res := make([]SendResult, 0, 500)
	decodeSendResults(bytes.NewReader(body), &res) // warm the pool
	allocs := testing.AllocsPerRun(20, func() {
		res = res[:0]
		if err := decodeSendResults(bytes.NewReader(body), &res); err != nil || len(res) != 500 {
			t.Fatalf("%d results, %v", len(res), err)
		}
	})
	if allocs > 2 {
		t.Errorf("%v allocations per answer, want at most 2", allocs)
	}
}

// benchBatchAnswer is a realistic answer to a batch of n: mostly
// accepted messages, every 50th refused as an inactive recipient.
func benchBatchAnswer(n int, submittedAt string) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%50 == 49 {
			fmt.Fprintf(&b, `{"ErrorCode":406,"Message":"You tried to send to a recipient that has been marked as inactive. Found inactive addresses: r%d@example.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression. "}`, i)
			continue
		}
		fmt.Fprintf(&b, `{"ErrorCode":0,"Message":"OK","MessageID":"4bba52b4-8a54-4eb8-b7d3-%012d","SubmittedAt":%q,"To":"recipient-%d@example.com"}`, i, submittedAt, i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// BenchmarkDecodeSendResults500 decodes a 500-result batch answer with the
// old path (encoding/json, as client.go did) and the hand decoder, for
// both time stamp forms Postmark uses (Z and a -05:00 offset).
func BenchmarkDecodeSendResults500(b *testing.B) {
	for _, stamp := range []struct{ name, value string }{
		{"Z", "2026-09-30T16:03:52.7892753Z"},
		{"offset", "2010-11-26T12:01:05.1794748-05:00"},
	} {
		body := benchBatchAnswer(500, stamp.value)
		b.Run("json/"+stamp.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				res, err := decodeResultsJSON(bytes.NewReader(body))
				if err != nil || len(res) != 500 {
					b.Fatalf("%d results, %v", len(res), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/500, "ns/result")
		})
		b.Run("hand/"+stamp.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				// As sendMany calls it: a fresh slice of the expected size.
				res := make([]SendResult, 0, 500)
				if err := decodeSendResults(bytes.NewReader(body), &res); err != nil || len(res) != 500 {
					b.Fatalf("%d results, %v", len(res), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/500, "ns/result")
		})
	}
}
