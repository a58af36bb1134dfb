package report

import (
	"regexp"
	"strings"
)

// emailLike finds anything shaped like an e-mail address inside free
// text: recipients lists ("Ann <ann@example.com>, bob@example.com"),
// message addresses (batch.x["ann@example.com"]) and Postmark error texts
// ("Found inactive addresses: ann@example.com."). The local part stops at
// characters that delimit addresses in those texts (quotes, brackets,
// commas, spaces); the domain may be empty so that a malformed
// "ann@@example" still loses its local part.
var emailLike = regexp.MustCompile(`[^\s@<>()\[\],;:"']+@[^\s@<>()\[\],;:"']*`)

// RedactEmail masks one address: it keeps the first character of the
// local part and the domain, so "ann@example.com" becomes
// "a***@example.com". A string without "@" is returned unchanged.
func RedactEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	local, domain := addr[:at], addr[at+1:]
	first := ""
	for _, r := range local {
		first = string(r)
		break
	}
	return first + "***@" + domain
}

// RedactText masks every e-mail address found in s (see [RedactEmail]) and
// leaves the rest, display names and punctuation included, as it was.
func RedactText(s string) string {
	if strings.IndexByte(s, '@') < 0 {
		return s
	}
	return emailLike.ReplaceAllStringFunc(s, RedactEmail)
}
