package postmark

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Send answers (POST /email, /email/withTemplate and the two batch
// endpoints) are decoded by hand rather than by encoding/json: a batch
// answer holds up to 500 results, and the Decoder's reflection plus one
// SendResult.UnmarshalJSON call (itself a json.Unmarshal) per result cost
// about 3 µs each, ten times what this decoder needs.
//
// The hand decoder takes only what it can decode exactly as encoding/json
// and SendResult.UnmarshalJSON do: JSON syntax in full, field names
// matched exactly or ASCII case-insensitively, unknown fields skipped,
// string escapes (with encoding/json's U+FFFD for invalid UTF-8 and lone
// surrogates), null for any field, ErrorCode as a number or a numeric
// string, and SubmittedAt as parseTime reads it. Anything else (a
// non-ASCII field name, a wrong type, a syntax error, a truncated body,
// deep nesting) makes it decline, and encoding/json then decodes the same
// byte stream: the bytes already read followed by the rest of the body,
// or by the read error that ended it. Results and error messages are
// therefore those of encoding/json.
//
// Like json.Decoder, it stops reading once the top-level value is
// complete. (Unlike it, when a result is incomplete in what has arrived,
// it reads on to that result's closing bracket before looking at the
// rest, so a syntax error inside a result that then stalls is reported
// when the body ends or the request times out, not at once.)
//
// The string fields of one answer share a single allocation.
//
// TestSendResultsDecoderEquivalence and FuzzDecodeSendResults compare the
// two paths; a change to SendResult or to its UnmarshalJSON must be
// mirrored in parseResult.

const (
	// minResponseRead is the least spare room offered to one Read.
	minResponseRead = 4 << 10
	// maxPooledResponse keeps an unusually large answer's buffers out of
	// the pool.
	maxPooledResponse = 1 << 20
	// maxPooledSpans is maxPooledResponse counted in results.
	maxPooledSpans = maxPooledResponse / 48
	// maxSkipDepth bounds nesting inside unknown fields.
	maxSkipDepth = 64
)

// parseStatus is the outcome of parsing one piece of the buffer.
type parseStatus uint8

const (
	parsed   parseStatus = iota
	needMore             // the piece runs past what has been read so far
	declined             // not understood: leave the whole answer to encoding/json
)

// span is a string of one result as a range of resultDecoder.strs.
type span struct{ off, end int }

// resultStrings holds the string fields of one result until the batch is
// complete and they can share one allocation.
type resultStrings struct{ to, messageID, message span }

// resultDecoder decodes send answers from a body. Its buffers are pooled:
// nothing it returns refers to them (strings are copied out, and the
// fallback json.Decoder copies what it reads).
type resultDecoder struct {
	r     io.Reader
	buf   []byte // everything read from r so far
	err   error  // the error (io.EOF included) that ended r, once seen
	strs  []byte // unescaped contents of the string fields decoded so far
	spans []resultStrings
	tmp   []byte // scratch for unescaping names, times and numbers
}

var resultDecoders = sync.Pool{New: func() any { return new(resultDecoder) }}

func newResultDecoder(r io.Reader) *resultDecoder {
	d := resultDecoders.Get().(*resultDecoder)
	d.r = r
	return d
}

func (d *resultDecoder) release() {
	d.r, d.err = nil, nil
	d.buf = poolable(d.buf)
	d.strs = poolable(d.strs)
	d.tmp = poolable(d.tmp)
	if cap(d.spans) > maxPooledSpans {
		d.spans = nil
	}
	d.spans = d.spans[:0]
	resultDecoders.Put(d)
}

func poolable(b []byte) []byte {
	if cap(b) > maxPooledResponse {
		return nil
	}
	return b[:0]
}

// decodeSendResults decodes a batch answer (a JSON array of results) from
// r into *out, reusing *out's capacity, exactly as
// json.NewDecoder(r).Decode(out) would.
func decodeSendResults(r io.Reader, out *[]SendResult) error {
	d := newResultDecoder(r)
	defer d.release()
	res, ok := d.results((*out)[:0])
	if !ok {
		return d.fallback(out)
	}
	*out = res
	return nil
}

// decodeSendResult decodes a single-send answer (one JSON object) from r
// into *out, exactly as json.NewDecoder(r).Decode(out) would.
func decodeSendResult(r io.Reader, out *SendResult) error {
	d := newResultDecoder(r)
	defer d.release()
	i, ok := d.skipSpace(0)
	if !ok || d.buf[i] != '{' {
		// A null answer is valid but never sent; encoding/json has it.
		return d.fallback(out)
	}
	res, _, ok := d.oneResult(i)
	if !ok {
		return d.fallback(out)
	}
	strs := string(d.strs)
	d.spans[0].set(&res, strs)
	*out = res
	return nil
}

// fallback decodes with encoding/json what the hand decoder declined: the
// bytes read so far, then the rest of the body, or the error that ended it.
func (d *resultDecoder) fallback(v any) error {
	rest := d.r
	if d.err != nil {
		rest = errReader{d.err}
	}
	return json.NewDecoder(io.MultiReader(bytes.NewReader(d.buf), rest)).Decode(v)
}

// errReader replays the error that ended a body.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// more reads once more from the body into buf. It reports whether new
// bytes arrived; false means the body has ended (d.err says how).
func (d *resultDecoder) more() bool {
	if d.err != nil {
		return false
	}
	if cap(d.buf)-len(d.buf) < minResponseRead {
		d.buf = slices.Grow(d.buf, max(len(d.buf), 4*minResponseRead))
	}
	for {
		n, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+n]
		if err != nil {
			d.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// skipSpace returns the index of the first non-space byte at or after i,
// reading more as needed; false means the body ended first.
func (d *resultDecoder) skipSpace(i int) (int, bool) {
	for {
		i = skipWS(d.buf, i)
		if i < len(d.buf) {
			return i, true
		}
		if !d.more() {
			return i, false
		}
	}
}

// results parses a whole batch answer, appending to res. It reports false
// when it declines.
func (d *resultDecoder) results(res []SendResult) ([]SendResult, bool) {
	i, ok := d.skipSpace(0)
	if !ok || d.buf[i] != '[' {
		return nil, false
	}
	if i, ok = d.skipSpace(i + 1); !ok {
		return nil, false
	}
	if d.buf[i] == ']' {
		if res == nil {
			res = []SendResult{}
		}
		return res, true
	}
	for {
		var r SendResult
		if r, i, ok = d.oneResult(i); !ok {
			return nil, false
		}
		res = append(res, r)
		if i, ok = d.skipSpace(i); !ok {
			return nil, false
		}
		switch d.buf[i] {
		case ',':
			if i, ok = d.skipSpace(i + 1); !ok {
				return nil, false
			}
		case ']':
			strs := string(d.strs)
			for k := range d.spans {
				d.spans[k].set(&res[k], strs)
			}
			return res, true
		default:
			return nil, false
		}
	}
}

func (s *resultStrings) set(r *SendResult, strs string) {
	r.To = strs[s.to.off:s.to.end]
	r.MessageID = strs[s.messageID.off:s.messageID.end]
	r.Message = strs[s.message.off:s.message.end]
}

// oneResult parses the result that starts at buf[i], reading more as
// needed, and records its strings in d.spans. It returns the index just
// past the result.
func (d *resultDecoder) oneResult(i int) (SendResult, int, bool) {
	strsLen := len(d.strs)
	var tr closeTracker
	for {
		var r SendResult
		var ss resultStrings
		end, st := d.parseResult(i, &r, &ss)
		switch st {
		case parsed:
			d.spans = append(d.spans, ss)
			return r, end, true
		case needMore:
			d.strs = d.strs[:strsLen]
			// Parse again only once the result may be complete, so that
			// a body arriving in small pieces is not rescanned from the
			// result's start for each of them.
			if d.buf[i] != '{' {
				if !d.more() {
					return SendResult{}, 0, false
				}
				continue
			}
			if tr.done {
				// should never happen because a valid prefix that runs
				// past the closing bracket cannot be; declining is safe.
				return SendResult{}, 0, false
			}
			if tr.pos == 0 {
				tr.pos = i
			}
			for !tr.closed(d.buf) {
				if !d.more() {
					return SendResult{}, 0, false
				}
			}
		default:
			return SendResult{}, 0, false
		}
	}
}

// closeTracker finds where the object or array starting at buf[pos]
// closes, resuming where it left off as more bytes arrive. It only
// balances brackets outside strings; the parser checks everything else.
type closeTracker struct {
	pos      int
	depth    int
	inString bool
	escaped  bool
	done     bool
}

// closed reports whether the value is closed within b.
func (t *closeTracker) closed(b []byte) bool {
	for ; !t.done && t.pos < len(b); t.pos++ {
		c := b[t.pos]
		switch {
		case t.inString:
			switch {
			case t.escaped:
				t.escaped = false
			case c == '\\':
				t.escaped = true
			case c == '"':
				t.inString = false
			}
		case c == '"':
			t.inString = true
		case c == '{' || c == '[':
			t.depth++
		case c == '}' || c == ']':
			if t.depth--; t.depth <= 0 {
				t.done = true
			}
		}
	}
	return t.done
}

// Result fields, as SendResult.UnmarshalJSON's wire struct names them.
type resultField uint8

const (
	fieldUnknown resultField = iota
	fieldTo
	fieldSubmittedAt
	fieldMessageID
	fieldErrorCode
	fieldMessage
)

var resultFieldNames = [...]string{
	fieldTo:          "To",
	fieldSubmittedAt: "SubmittedAt",
	fieldMessageID:   "MessageID",
	fieldErrorCode:   "ErrorCode",
	fieldMessage:     "Message",
}

// parseResult parses one result (an object or null) at buf[i] into r and
// ss, with the semantics of SendResult.UnmarshalJSON: later duplicates
// win; null leaves a string field as it was and zeroes SubmittedAt and
// ErrorCode.
func (d *resultDecoder) parseResult(i int, r *SendResult, ss *resultStrings) (int, parseStatus) {
	b := d.buf
	if i >= len(b) {
		return i, needMore
	}
	switch b[i] {
	case 'n':
		return literal(b, i, "null")
	case '{':
	default:
		return i, declined
	}
	if i = skipWS(b, i+1); i >= len(b) {
		return i, needMore
	}
	if b[i] == '}' {
		return i + 1, parsed
	}
	for {
		if i >= len(b) {
			return i, needMore
		}
		if b[i] != '"' {
			return i, declined
		}
		f, end, st := d.parseName(b, i)
		if st != parsed {
			return end, st
		}
		if i = skipWS(b, end); i >= len(b) {
			return i, needMore
		}
		if b[i] != ':' {
			return i, declined
		}
		if i = skipWS(b, i+1); i >= len(b) {
			return i, needMore
		}
		switch f {
		case fieldTo:
			end, st = d.parseStringField(b, i, &ss.to)
		case fieldMessageID:
			end, st = d.parseStringField(b, i, &ss.messageID)
		case fieldMessage:
			end, st = d.parseStringField(b, i, &ss.message)
		case fieldSubmittedAt:
			end, st = d.parseTimeField(b, i, &r.SubmittedAt)
		case fieldErrorCode:
			end, st = d.parseIntField(b, i, &r.ErrorCode)
		default:
			end, st = skipValue(b, i, 0)
		}
		if st != parsed {
			return end, st
		}
		if i = skipWS(b, end); i >= len(b) {
			return i, needMore
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, parsed
		default:
			return i, declined
		}
	}
}

// parseName parses an object member name at b[i] and says which field it
// names. encoding/json matches names exactly first, then by a Unicode
// case folding of its own; only the ASCII part of that folding is
// reproduced here, so a name with any non-ASCII character is declined.
func (d *resultDecoder) parseName(b []byte, i int) (resultField, int, parseStatus) {
	name, end, st := d.unquoted(b, i)
	if st != parsed {
		return fieldUnknown, end, st
	}
	for _, c := range name {
		if c >= utf8.RuneSelf {
			return fieldUnknown, end, declined
		}
	}
	switch string(name) {
	case "To":
		return fieldTo, end, parsed
	case "SubmittedAt":
		return fieldSubmittedAt, end, parsed
	case "MessageID":
		return fieldMessageID, end, parsed
	case "ErrorCode":
		return fieldErrorCode, end, parsed
	case "Message":
		return fieldMessage, end, parsed
	}
	for f := fieldTo; f <= fieldMessage; f++ {
		if equalFoldASCII(name, resultFieldNames[f]) {
			return f, end, parsed
		}
	}
	return fieldUnknown, end, parsed
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// unquoted scans the string at b[i] and returns its contents: a slice of
// b when it holds no escape, else unescaped into d.tmp (valid until the
// next call).
func (d *resultDecoder) unquoted(b []byte, i int) ([]byte, int, parseStatus) {
	end, plain, st := scanString(b, i)
	if st != parsed {
		return nil, end, st
	}
	s := b[i+1 : end-1]
	if !plain {
		d.tmp = appendUnquoted(d.tmp[:0], s)
		s = d.tmp
	}
	return s, end, parsed
}

// parseStringField parses a string or null for a string field. null
// leaves the field as it was, as encoding/json does.
func (d *resultDecoder) parseStringField(b []byte, i int, sp *span) (int, parseStatus) {
	switch b[i] {
	case 'n':
		return literal(b, i, "null")
	case '"':
	default:
		return i, declined
	}
	end, plain, st := scanString(b, i)
	if st != parsed {
		return end, st
	}
	off := len(d.strs)
	if plain {
		d.strs = append(d.strs, b[i+1:end-1]...)
	} else {
		d.strs = appendUnquoted(d.strs, b[i+1:end-1])
	}
	*sp = span{off, len(d.strs)}
	return end, parsed
}

// parseTimeField parses SubmittedAt as pmTime does: null is the zero
// time, a string goes through parseTime, anything else is an error.
func (d *resultDecoder) parseTimeField(b []byte, i int, t *time.Time) (int, parseStatus) {
	switch b[i] {
	case 'n':
		*t = time.Time{}
		return literal(b, i, "null")
	case '"':
	default:
		return i, declined
	}
	s, end, st := d.unquoted(b, i)
	if st != parsed {
		return end, st
	}
	v, ok := parseStamp(s)
	if !ok {
		var err error
		if v, err = parseTime(string(s)); err != nil {
			return i, declined
		}
	}
	*t = v
	return end, parsed
}

// parseIntField parses ErrorCode as flexInt does: null is 0, a number or
// a numeric string (spaces trimmed; blank is 0) is parsed with
// strconv.ParseInt, anything else is an error.
func (d *resultDecoder) parseIntField(b []byte, i int, n *int) (int, parseStatus) {
	var digits []byte
	var end int
	switch c := b[i]; {
	case c == 'n':
		*n = 0
		return literal(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		var st parseStatus
		if end, st = scanNumber(b, i); st != parsed {
			return end, st
		}
		digits = b[i:end]
	case c == '"':
		var st parseStatus
		if digits, end, st = d.unquoted(b, i); st != parsed {
			return end, st
		}
		if digits = bytes.TrimSpace(digits); len(digits) == 0 {
			*n = 0
			return end, parsed
		}
	default:
		return i, declined
	}
	v, ok := parseInt64(digits)
	if !ok {
		return i, declined
	}
	*n = int(v)
	return end, parsed
}

// parseInt64 is strconv.ParseInt(string(b), 10, 64) without the error.
func parseInt64(b []byte) (int64, bool) {
	if len(b) > 0 && len(b) <= 18 {
		var v int64
		for _, c := range b {
			if c < '0' || c > '9' {
				goto slow
			}
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
slow:
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}

// parseStamp parses the forms Postmark sends, "2006-01-02T15:04:05Z" and
// "2006-01-02T15:04:05-05:00" with any number of fractional digits or
// none, giving what time.Parse with time.RFC3339Nano gives (the zone is
// Local when Local has that offset at that instant, as time.Parse
// decides), without converting s to a string. Anything else reports
// false, for parseTime to decide.
func parseStamp(s []byte) (time.Time, bool) {
	const minLen = len("2006-01-02T15:04:05Z")
	if len(s) < minLen || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digitsAt(s, 0, 4)
	month, ok2 := digitsAt(s, 5, 2)
	day, ok3 := digitsAt(s, 8, 2)
	hour, ok4 := digitsAt(s, 11, 2)
	minute, ok5 := digitsAt(s, 14, 2)
	sec, ok6 := digitsAt(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) >= 2 && rest[0] == '.' && isDigit(rest[1]) {
		n := skipDigits(rest, 1)
		for k, c := range rest[1:n] {
			if k == 9 {
				break
			}
			nsec = nsec*10 + int(c-'0')
		}
		for k := n - 1; k < 9; k++ {
			nsec *= 10
		}
		rest = rest[n:]
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if len(rest) == 1 && rest[0] == 'Z' {
		return t, true
	}
	if len(rest) != len("-07:00") || rest[0] != '+' && rest[0] != '-' || rest[3] != ':' {
		return time.Time{}, false
	}
	oh, ok1 := digitsAt(rest, 1, 2)
	om, ok2 := digitsAt(rest, 4, 2)
	if !ok1 || !ok2 || oh > 23 || om > 59 {
		return time.Time{}, false
	}
	offset := (oh*60 + om) * 60
	if rest[0] == '-' {
		offset = -offset
	}
	t = t.Add(-time.Duration(offset) * time.Second)
	if _, local := t.In(time.Local).Zone(); local == offset {
		return t.In(time.Local), true
	}
	// FixedZone returns a shared Location for whole hours, as in
	// time.Parse; other offsets get a new one there and here.
	return t.In(time.FixedZone("", offset)), true
}

func digitsAt(s []byte, at, n int) (int, bool) {
	v := 0
	for _, c := range s[at : at+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	// April, June, September and November have 30 days.
	return 31 - int(m-1)%7%2
}

// Scanning helpers. Each takes the buffer and the index where its piece
// starts, and returns the index just past it with a status; running off
// the end of b is needMore, never declined, because the body may go on.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func literal(b []byte, i int, word string) (int, parseStatus) {
	for k := range len(word) {
		if i+k >= len(b) {
			return i + k, needMore
		}
		if b[i+k] != word[k] {
			return i, declined
		}
	}
	return i + len(word), parsed
}

// scanString checks the string at b[i] (which is '"') as encoding/json's
// scanner does. plain reports that its contents need no unescaping: no
// escapes and valid UTF-8.
func scanString(b []byte, i int) (end int, plain bool, st parseStatus) {
	j := i + 1
	plain = true
	ascii := true
	for {
		// The common case: printable ASCII.
		for j < len(b) && plainASCII[b[j]] {
			j++
		}
		if j >= len(b) {
			return j, false, needMore
		}
		switch c := b[j]; {
		case c == '"':
			if !ascii && plain {
				plain = utf8.Valid(b[i+1 : j])
			}
			return j + 1, plain, parsed
		case c == '\\':
			plain = false
			if j+1 >= len(b) {
				return j, false, needMore
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				for k := j + 2; k < j+6; k++ {
					if k >= len(b) {
						return k, false, needMore
					}
					if !isHex(b[k]) {
						return k, false, declined
					}
				}
				j += 6
			default:
				return j, false, declined
			}
		case c < ' ':
			return j, false, declined
		default: // non-ASCII
			ascii = false
			j++
		}
	}
}

// plainASCII marks the bytes that stand for themselves inside a string:
// printable ASCII other than '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// appendUnquoted appends the contents of a string that scanString
// accepted, unescaped as encoding/json does: a valid surrogate pair is
// one character, a lone surrogate and each byte of invalid UTF-8 become
// U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for k := 0; k < len(s); {
		c := s[k]
		switch {
		case c == '\\':
			switch e := s[k+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[k+2 : k+6])
				k += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if k+6 <= len(s) && s[k] == '\\' && s[k+1] == 'u' {
						r2 = hex4(s[k+2 : k+6])
					}
					if pair := utf16.DecodeRune(r, r2); pair != unicode.ReplacementChar {
						k += 6
						r = pair
					} else {
						r = unicode.ReplacementChar
					}
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			k += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			k++
		default:
			r, size := utf8.DecodeRune(s[k:])
			dst = utf8.AppendRune(dst, r)
			k += size
		}
	}
	return dst
}

func hex4(s []byte) rune {
	var r rune
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// scanNumber checks the number at b[i] against JSON's grammar. The
// caller checks that a delimiter follows it.
func scanNumber(b []byte, i int) (int, parseStatus) {
	j := i
	if b[j] == '-' {
		if j++; j >= len(b) {
			return j, needMore
		}
	}
	switch {
	case b[j] == '0':
		j++
	case '1' <= b[j] && b[j] <= '9':
		j = skipDigits(b, j+1)
	default:
		return j, declined
	}
	if j >= len(b) {
		return j, needMore
	}
	if b[j] == '.' {
		if j++; j >= len(b) {
			return j, needMore
		}
		if !isDigit(b[j]) {
			return j, declined
		}
		if j = skipDigits(b, j); j >= len(b) {
			return j, needMore
		}
	}
	if b[j] == 'e' || b[j] == 'E' {
		if j++; j >= len(b) {
			return j, needMore
		}
		if b[j] == '+' || b[j] == '-' {
			if j++; j >= len(b) {
				return j, needMore
			}
		}
		if !isDigit(b[j]) {
			return j, declined
		}
		if j = skipDigits(b, j); j >= len(b) {
			return j, needMore
		}
	}
	return j, parsed
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipDigits(b []byte, j int) int {
	for j < len(b) && isDigit(b[j]) {
		j++
	}
	return j
}

// skipValue checks any JSON value at b[i] (an unknown field's).
func skipValue(b []byte, i, depth int) (int, parseStatus) {
	if i >= len(b) {
		return i, needMore
	}
	switch c := b[i]; {
	case c == '"':
		end, _, st := scanString(b, i)
		return end, st
	case c == '-' || isDigit(c):
		return scanNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '{' || c == '[':
		if depth >= maxSkipDepth {
			return i, declined
		}
		return skipContainer(b, i, depth)
	default:
		return i, declined
	}
}

func skipContainer(b []byte, i, depth int) (int, parseStatus) {
	object := b[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	if i = skipWS(b, i+1); i >= len(b) {
		return i, needMore
	}
	if b[i] == closer {
		return i + 1, parsed
	}
	for {
		var st parseStatus
		if object {
			if b[i] != '"' {
				return i, declined
			}
			if i, _, st = scanString(b, i); st != parsed {
				return i, st
			}
			if i = skipWS(b, i); i >= len(b) {
				return i, needMore
			}
			if b[i] != ':' {
				return i, declined
			}
			i = skipWS(b, i+1)
		}
		if i, st = skipValue(b, i, depth+1); st != parsed {
			return i, st
		}
		if i = skipWS(b, i); i >= len(b) {
			return i, needMore
		}
		switch b[i] {
		case ',':
			if i = skipWS(b, i+1); i >= len(b) {
				return i, needMore
			}
		case closer:
			return i + 1, parsed
		default:
			return i, declined
		}
	}
}
