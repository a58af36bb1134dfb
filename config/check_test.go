package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestCheckMatchesMessages: Batch.Check reports exactly what Messages
// reports, message by message, while keeping only the first message's
// bodies; the sizes it measures (HTML escaping included) are the lengths
// Messages renders, and a body that fails to render or is too large fails
// the same way.
func TestCheckMatchesMessages(t *testing.T) {
	const rows = 600
	fsys := streamFS(rows)
	csv := string(fsys["subscribers.csv"].Data)
	// Characters that HTML escaping lengthens, in a name every body shows.
	csv = strings.Replace(csv, ",Name5,", `,"<Tom & ""Jerry"" 'O'>",`, 1)
	fsys["subscribers.csv"].Data = []byte(csv)
	fsys["main.pf.hcl"].Data = []byte(string(fsys["main.pf.hcl"].Data) + `
batch "maps" {
  for_each = { a = "x", b = "<y>", c = "zz" }
  from     = "a@example.com"
  to       = "b@example.com"
  subject  = "s ${each.value}"
  html     = "<p>${each.value}</p>"
  text     = each.key == "c" ? "" : "t ${each.value}"
}
`)
	_, ev := mustEvaluate(t, fsys, Inputs{})
	for _, b := range ev.Batches {
		var full, checked []*Message
		var fullDiags, checkedDiags []string
		for m, d := range b.Messages() {
			full = append(full, m)
			fullDiags = append(fullDiags, fmt.Sprint(d.Errs()))
		}
		for m, d := range b.Check() {
			checked = append(checked, m)
			checkedDiags = append(checkedDiags, fmt.Sprint(d.Errs()))
		}
		if len(full) != len(checked) || len(full) == 0 {
			t.Fatalf("batch %s: %d messages, Check gave %d", b.Name, len(full), len(checked))
		}
		if d := cmp.Diff(fullDiags, checkedDiags); d != "" {
			t.Errorf("batch %s: diagnostics differ (-Messages +Check):\n%s", b.Name, d)
		}
		if checked[0].Measured || checked[0].HTMLBody != full[0].HTMLBody {
			t.Errorf("batch %s: the first checked message is not complete", b.Name)
		}
		for i := 1; i < len(full); i++ {
			m := checked[i]
			if !m.Measured || m.HTMLBody != "" || m.TextBody != "" {
				t.Fatalf("batch %s message %d: Measured %v with bodies %q / %q", b.Name, i, m.Measured, m.HTMLBody, m.TextBody)
			}
			h, x := m.BodySizes()
			if h != len(full[i].HTMLBody) || x != len(full[i].TextBody) {
				t.Errorf("batch %s message %d: sizes %d/%d, want %d/%d", b.Name, i, h, x, len(full[i].HTMLBody), len(full[i].TextBody))
			}
			if d := cmp.Diff(full[i], m, cmpopts.IgnoreFields(Message{}, "HTMLBody", "TextBody", "Measured", "HTMLSize", "TextSize")); d != "" {
				t.Errorf("batch %s message %d differs (-Messages +Check):\n%s", b.Name, i, d)
			}
		}
	}
}

// TestCheckFindsBodyProblems: a measured body still fails on a bad
// interpolation and on its size.
func TestCheckFindsBodyProblems(t *testing.T) {
	big := strings.Repeat("x", maxBodyBytes)
	fsys := files(map[string]string{
		"main.pf.hcl": `
batch "b" {
  for_each = { a = "ok", b = "ok", c = ["a list"], d = "big" }
  from     = "a@example.com"
  to       = "b@example.com"
  subject  = "s"
  data     = { v = each.value, pad = each.key == "d" ? "` + big + `" : "" }
  html     = "<p>${v}</p>${pad}"
}
`})
	_, ev := mustEvaluate(t, fsys, Inputs{})
	got := map[string]string{}
	for m, d := range ev.Batches[0].Check() {
		got[m.Key] = fmt.Sprint(d.Errs())
	}
	if got["a"] != "[]" || got["b"] != "[]" {
		t.Errorf("valid messages reported %q and %q", got["a"], got["b"])
	}
	if !strings.Contains(got["c"], "Invalid template interpolation value") || !strings.Contains(got["c"], "only strings, numbers and bools") {
		t.Errorf("a list interpolated into a measured body: %q", got["c"])
	}
	if !strings.Contains(got["d"], "Body too large") {
		t.Errorf("an over-size measured body: %q", got["d"])
	}
}
