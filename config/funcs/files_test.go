package funcs

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "a.txt", want: "a.txt"},
		{in: "./dir/../b/c.csv", want: "b/c.csv"},
		{in: "", err: "empty"},
		{in: "/etc/passwd", err: "relative"},
		{in: "../x", err: "escapes"},
		{in: "a/../../x", err: "escapes"},
		{in: ".", err: "escapes"},
		{in: `c:\x`, err: "relative"},
	} {
		got, err := CleanPath(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("CleanPath(%q) error = %v, want one mentioning %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestReadFS(t *testing.T) {
	read := ReadFS(fstest.MapFS{"d/a.txt": {Data: []byte("A")}})
	if b, err := read("d/./a.txt"); err != nil || string(b) != "A" {
		t.Errorf("read = %q, %v", b, err)
	}
	if _, err := read("../d/a.txt"); err == nil {
		t.Errorf("reading outside the directory succeeded")
	}
}
