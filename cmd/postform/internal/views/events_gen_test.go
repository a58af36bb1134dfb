package views

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/runner"
)

// eventGen makes random hook events whose strings mix everything JSON
// escaping has to get right: quotes, backslashes, control characters, HTML
// characters, U+2028/U+2029, multi-byte text, invalid UTF-8, and addresses
// for -redact.
type eventGen struct{ r *rand.Rand }

func newEventGen(seed uint64) *eventGen {
	return &eventGen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var genPieces = []string{
	"a", "Z", "0", " ", "news", "batch.x", "[", "]", `"`, `\`, "/", "<", ">", "&", "<script>", "a&b",
	"\x00", "\x01", "\x07", "\b", "\t", "\n", "\v", "\f", "\r", "\x1b", "\x1f", "\x7f",
	"\u2028", "\u2029", "\u2027", "\u202a", "é", "ü", "日本語", "😀", "\u00a0", "\ufeff", "\ufffd",
	"\xff", "\xfe", "\xc3", "\xc3(", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\x80",
	"ann@example.com", "bob.smith+tag@example.org", "o&neil@example.com", "josé@example.com", "@", "x@y",
}

func (g *eventGen) str() string {
	switch g.r.IntN(6) {
	case 0:
		return ""
	case 1:
		return genPieces[g.r.IntN(len(genPieces))]
	}
	var b strings.Builder
	for range g.r.IntN(12) {
		b.WriteString(genPieces[g.r.IntN(len(genPieces))])
	}
	return b.String()
}

func (g *eventGen) maybe(s func() string) string {
	if g.r.IntN(3) == 0 {
		return ""
	}
	return s()
}

func (g *eventGen) int() int {
	switch g.r.IntN(5) {
	case 0:
		return 0
	case 1:
		return g.r.IntN(1000) - 500
	case 2:
		return []int{406, 300, 422, 1 << 31, -1 << 63, 1<<63 - 1}[g.r.IntN(6)]
	}
	return g.r.IntN(100000)
}

var genActions = []runner.Action{runner.ActionSend, runner.ActionReplace, runner.ActionSent, runner.ActionChanged,
	runner.ActionInvalid, runner.ActionSuppressed, runner.ActionFailed, runner.ActionReconcile, "", "weird\"<action>\u2028"}

var genOutcomes = []runner.Outcome{runner.OutcomeSent, runner.OutcomeAdopted, runner.OutcomeFailed, runner.OutcomeUnsent,
	runner.OutcomeUncertain, runner.OutcomeResend, "", "odd\\\x00"}

// genFiles backs diagnostics' snippets (PlanJSON looks source lines up).
var genFiles = map[string]*hcl.File{
	"main.pf.hcl":  {Bytes: []byte("batch \"x\" {\r\n  to = \"ann@example.com\"\n  subject = \"<b>\u2028\xff\"\n\n")},
	"empty.pf.hcl": {Bytes: nil},
}

func (g *eventGen) time() time.Time {
	switch g.r.IntN(8) {
	case 0, 1:
		return time.Time{}
	case 2:
		// Outside what time.Time.MarshalJSON accepts.
		return time.Date([]int{-1, 10000, 12345}[g.r.IntN(3)], 1, 2, 3, 4, 5, 6, time.UTC)
	case 3:
		return time.Date(g.r.IntN(10000), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), 0, time.UTC)
	case 4:
		// A zone, which .UTC() drops.
		return time.Date(2024, 2, 29, 23, 59, 59, 987654321, time.FixedZone("X", -7*3600-30*60))
	case 5:
		// Near the edges of the accepted years, in a zone that moves it across.
		return time.Date([]int{0, 9999, 1, 10000}[g.r.IntN(4)], 1, 1, 0, 30, 0, 0, time.FixedZone("E", []int{3600, -3600}[g.r.IntN(2)]))
	}
	ns := []int{0, 1, 10, 100, 120000000, 123456789, 999999999, 500000}[g.r.IntN(8)]
	return time.Date(1970+g.r.IntN(100), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), ns, time.UTC)
}

func (g *eventGen) diags() hcl.Diagnostics {
	n := 0
	if g.r.IntN(3) == 0 {
		n = 1 + g.r.IntN(3)
	}
	var out hcl.Diagnostics
	for range n {
		d := &hcl.Diagnostic{Severity: hcl.DiagnosticSeverity(g.r.IntN(3)), Summary: g.str(), Detail: g.str()}
		if g.r.IntN(2) == 0 {
			name := []string{"main.pf.hcl", "empty.pf.hcl", "missing.pf.hcl", g.str()}[g.r.IntN(4)]
			line := g.r.IntN(7) - 1
			d.Subject = &hcl.Range{Filename: name,
				Start: hcl.Pos{Line: line, Column: g.int(), Byte: g.int()},
				End:   hcl.Pos{Line: g.int(), Column: g.int(), Byte: g.int()}}
		}
		out = append(out, d)
	}
	return out
}

func (g *eventGen) sensitive() []string {
	var out []string
	for _, f := range []string{"to", "subject", "from", "text", "template_model"} {
		if g.r.IntN(3) == 0 {
			out = append(out, f)
		}
	}
	return out
}

func (g *eventGen) planEntry() runner.PlanEntry {
	return runner.PlanEntry{
		Address: g.str(), Batch: g.str(), Key: g.str(), Action: genActions[g.r.IntN(len(genActions))],
		To: g.str(), Subject: g.str(), Template: g.maybe(g.str), Digest: g.maybe(g.str),
		Sensitive: g.sensitive(), Diags: g.diags(), MessageID: g.maybe(g.str), SentAt: g.time(),
		ErrorCode: g.int(), Error: g.maybe(g.str),
	}
}

func (g *eventGen) messageResult() runner.MessageResult {
	return runner.MessageResult{
		Address: g.str(), Outcome: genOutcomes[g.r.IntN(len(genOutcomes))], MessageID: g.maybe(g.str),
		ErrorCode: g.int(), Error: g.maybe(g.str), Attempts: g.int(),
	}
}
