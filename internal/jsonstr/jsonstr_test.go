package jsonstr

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// reference is encoding/json's output for s with HTML escaping off.
func reference(t testing.TB, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	var cases []string
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "abcdefgh"+string([]byte{byte(c)})+"ijklmnop")
	}
	for r := rune(0); r <= utf8.MaxRune; r += 1 + r/64 {
		cases = append(cases, string(r), "0123456789"+string(r))
	}
	cases = append(cases, "", "\u2028\u2029", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80", `"\"`,
		"<p>Hello & welcome</p>", strings.Repeat("plain ascii text ", 100))
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", " ", "<", "&", "\"", "\\", "\n", "\t", "\x01", "\x7f", "é", "€", "😀", "\u2028", "\xff", "\xc3"}
	for range 5000 {
		var sb strings.Builder
		for range rng.IntN(40) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, sb.String())
	}
	for _, s := range cases {
		if got, want := Append([]byte("x"), s), append([]byte("x"), reference(t, s)...); !bytes.Equal(got, want) {
			t.Fatalf("Append(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "plain", "<a&b>", "\u2028", "\xff\xfe", "tab\there", "quote\"back\\slash"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Append(nil, s), reference(t, s); !bytes.Equal(got, want) {
			t.Fatalf("Append(%q) = %q, want %q", s, got, want)
		}
	})
}
