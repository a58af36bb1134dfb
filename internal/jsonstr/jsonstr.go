// Package jsonstr writes JSON strings the way encoding/json does with HTML
// escaping off, for the hand-written encoders of the client, the simulator
// and the JSON view: their output must stay byte-identical to what
// encoding/json would write, and they write millions of strings.
package jsonstr

import (
	"math/bits"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Word-at-a-time masks for Append's fast path.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// load64 reads s[i:i+8] as a little-endian word; the compiler turns it
// into one load.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// specialBytes has the high bit set in each byte of w that is a control
// character, '"', '\' or not ASCII. The lowest set bit is always exact
// (the borrows that cause false positives only run upwards from a true
// match), which is all skipPlain needs.
func specialBytes(w uint64) uint64 {
	ctl := (w - 0x20*lsb) &^ w
	quote := w ^ '"'*lsb
	quote = (quote - lsb) &^ quote
	bslash := w ^ '\\'*lsb
	bslash = (bslash - lsb) &^ bslash
	return (ctl | quote | bslash | w) & msb
}

// skipPlain returns the index of the first byte of s at or after i that
// Append cannot copy as it is, or len(s). It looks at eight bytes
// at a time.
func skipPlain(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := specialBytes(load64(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

// Append appends s to b as a JSON string: '"' and '\\' are escaped, as
// are control characters (\b, \f, \n, \r, \t, else \u00XX), U+2028 and
// U+2029; each byte of invalid UTF-8 becomes \ufffd. '<', '>' and '&' are
// kept as they are. This is encoding/json's output with HTML escaping off.
func Append(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := skipPlain(s, 0); i < len(s); i = skipPlain(s, i) {
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
