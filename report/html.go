package report

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/postform/postform/state"
)

// MaxProblemRows caps the HTML page's table of failed and bounced
// messages; the page says how many more there are. The CSV and JSON
// reports list every message.
const MaxProblemRows = 1000

// latencyBuckets are the upper bounds of the delivery-latency histogram
// (DeliveredAt − SubmittedAt); the last bucket has no bound.
var latencyBuckets = []struct {
	upper time.Duration
	label string
}{
	{time.Second, "<1s"},
	{5 * time.Second, "1–5s"},
	{30 * time.Second, "5–30s"},
	{time.Minute, "30s–1m"},
	{5 * time.Minute, "1–5m"},
	{30 * time.Minute, "5–30m"},
	{0, ">30m"},
}

// latencyBucket returns the histogram bucket for d. A negative latency
// (clocks disagree) counts as the fastest bucket.
func latencyBucket(d time.Duration) int {
	for i, b := range latencyBuckets {
		if b.upper != 0 && d < b.upper {
			return i
		}
	}
	return len(latencyBuckets) - 1
}

// latencyOf returns r's delivery latency, and false when either time is
// unknown.
func latencyOf(r state.Record) (time.Duration, bool) {
	if r.DeliveredAt.IsZero() || r.SubmittedAt.IsZero() {
		return 0, false
	}
	return r.DeliveredAt.Sub(r.SubmittedAt), true
}

// htmlAggregate is everything the HTML page needs, gathered in one pass.
// Its size does not depend on the number of records, apart from the
// capped problem rows and one entry per distinct bounce type, error code
// and batch.
type htmlAggregate struct {
	sum       *summarizer
	latency   []int
	measured  int
	totalLat  time.Duration
	maxLat    time.Duration
	bounces   map[string]*htmlReason
	failures  map[int]*htmlReason
	problems  []htmlProblem
	moreProbs int
}

type htmlReason struct {
	Label    string
	Count    int
	Inactive int    // bounces only: how many deactivated the recipient
	Sample   string // failures only: the first error message seen
}

type htmlProblem struct {
	Address, To, Outcome, Reason, MessageID, SubmittedAt string
}

func (a *htmlAggregate) add(r state.Record, redact bool) {
	a.sum.add(r)
	if d, ok := latencyOf(r); ok {
		a.latency[latencyBucket(d)]++
		a.measured++
		a.totalLat += d
		a.maxLat = max(a.maxLat, d)
	}
	o := OutcomeOf(r)
	if !o.Failure() {
		return
	}
	p := prepare(r, redact)
	var reason string
	switch o {
	case OutcomeBounced:
		typ := cmp.Or(p.BounceType, "Bounce")
		b := a.bounces[typ]
		if b == nil {
			b = &htmlReason{Label: typ}
			a.bounces[typ] = b
		}
		b.Count++
		if p.Inactive {
			b.Inactive++
		}
		reason = typ
		if p.Inactive {
			reason += " (recipient deactivated)"
		}
	case OutcomeFailed:
		f := a.failures[p.ErrorCode]
		if f == nil {
			label := "—"
			if p.ErrorCode != 0 {
				label = strconv.Itoa(p.ErrorCode)
			}
			f = &htmlReason{Label: label, Sample: p.ErrorMessage}
			a.failures[p.ErrorCode] = f
		}
		f.Count++
		reason = p.ErrorMessage
		if p.ErrorCode != 0 {
			reason = fmt.Sprintf("%d: %s", p.ErrorCode, p.ErrorMessage)
		}
	}
	if len(a.problems) >= MaxProblemRows {
		a.moreProbs++
		return
	}
	a.problems = append(a.problems, htmlProblem{
		Address:     p.Address,
		To:          p.Recipients,
		Outcome:     string(o),
		Reason:      reason,
		MessageID:   p.MessageID,
		SubmittedAt: formatTime(p.SubmittedAt),
	})
}

// htmlPage is the template's data; every value is ready to print.
type htmlPage struct {
	Title         string
	FormatVersion string
	Version       string
	Generated     string
	Redacted      bool
	Filter        []string
	Total         string
	Failures      string
	Outcomes      []htmlOutcome
	Batches       []htmlBatch
	Bounces       []htmlReason
	FailReasons   []htmlReason
	Chart         htmlChart
	Problems      []htmlProblem
	MoreProblems  string
}

type htmlOutcome struct {
	Word, Count, Percent string
	Zero                 bool
}

type htmlBatch struct {
	Name                                              string
	Total, Delivered, Pending, Bounced, Failed, Other string
}

type htmlChart struct {
	Measured, Mean, Max string
	Bars                []htmlBar
	Width, Height       int
	BaseY               int
}

type htmlBar struct {
	Label, Count         string
	X, Y, W, H           int
	LabelX, LabelY, TopY int
}

// chart geometry, in SVG user units.
const (
	chartWidth  = 700
	chartHeight = 260
	chartTop    = 24  // room for the count above the tallest bar
	chartBottom = 220 // the baseline; labels go below it
	chartLeft   = 10
	barGap      = 20
)

func buildChart(a *htmlAggregate) htmlChart {
	c := htmlChart{Width: chartWidth, Height: chartHeight, BaseY: chartBottom, Measured: formatCount(a.measured)}
	if a.measured > 0 {
		c.Mean = formatDuration(a.totalLat / time.Duration(a.measured))
		c.Max = formatDuration(a.maxLat)
	}
	peak := slices.Max(a.latency)
	n := len(latencyBuckets)
	slot := (chartWidth - chartLeft) / n
	for i, b := range latencyBuckets {
		h := 0
		if peak > 0 {
			h = a.latency[i] * (chartBottom - chartTop) / peak
		}
		if a.latency[i] > 0 && h == 0 {
			h = 1 // a non-empty bucket stays visible
		}
		x := chartLeft + i*slot
		c.Bars = append(c.Bars, htmlBar{
			Label:  b.label,
			Count:  formatCount(a.latency[i]),
			X:      x + barGap/2,
			W:      slot - barGap,
			Y:      chartBottom - h,
			H:      h,
			LabelX: x + slot/2,
			LabelY: chartBottom + 20,
			TopY:   chartBottom - h - 6,
		})
	}
	return c
}

func sortedReasons[K comparable](m map[K]*htmlReason) []htmlReason {
	out := make([]htmlReason, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b htmlReason) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Label, b.Label)
	})
	return out
}

func buildPage(a *htmlAggregate, filter StatusFilter, opts Options) htmlPage {
	s := a.sum.summary()
	p := htmlPage{
		Title:         cmp.Or(opts.Title, "postform"),
		FormatVersion: FormatVersion,
		Version:       opts.Version,
		Generated:     formatTime(opts.Generated),
		Redacted:      opts.Redact,
		Filter:        filter.Words(),
		Total:         formatCount(s.Total),
		Failures:      formatCount(s.Failures()),
		Bounces:       sortedReasons(a.bounces),
		FailReasons:   sortedReasons(a.failures),
		Chart:         buildChart(a),
		Problems:      a.problems,
	}
	if a.moreProbs > 0 {
		p.MoreProblems = formatCount(a.moreProbs)
	}
	for _, o := range Outcomes {
		n := s.ByOutcome[o]
		pct := "0%"
		if s.Total > 0 {
			pct = strconv.FormatFloat(float64(n)*100/float64(s.Total), 'f', 1, 64) + "%"
		}
		p.Outcomes = append(p.Outcomes, htmlOutcome{Word: string(o), Count: formatCount(n), Percent: pct, Zero: n == 0})
	}
	for _, b := range s.Batches {
		c := b.ByOutcome
		p.Batches = append(p.Batches, htmlBatch{
			Name:      b.Name,
			Total:     formatCount(b.Total),
			Delivered: formatCount(c[OutcomeDelivered] + c[OutcomeOpened] + c[OutcomeClicked]),
			Pending:   formatCount(c[OutcomePending] + c[OutcomeTransient]),
			Bounced:   formatCount(c[OutcomeBounced]),
			Failed:    formatCount(c[OutcomeFailed]),
			Other:     formatCount(c[OutcomeUncertain] + c[OutcomeUnsent] + c[OutcomeUnknown]),
		})
	}
	return p
}

// formatCount writes n with thousands separators: 9812 → "9,812".
func formatCount(n int) string {
	s := strconv.Itoa(n)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}

// formatDuration rounds d for people: milliseconds below a second,
// tenths of a second below a minute, whole seconds above.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second && d > -time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func writeHTML(ctx context.Context, w io.Writer, src Source, filter StatusFilter, opts Options) error {
	a := &htmlAggregate{
		sum:      newSummarizer(),
		latency:  make([]int, len(latencyBuckets)),
		bounces:  map[string]*htmlReason{},
		failures: map[int]*htmlReason{},
	}
	err := src(ctx, func(r state.Record) error {
		if filter.Match(r) {
			a.add(r, opts.Redact)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := htmlTemplate.Execute(w, buildPage(a, filter, opts)); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// htmlTemplate is the page. It is self-contained: inline CSS, inline SVG,
// no scripts and no external references, so it can be mailed, archived as
// a CI artifact or opened offline.
var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="postform{{with .Version}} {{.}}{{end}}; report format {{.FormatVersion}}">
<title>{{.Title}} — delivery report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
.meta{color:#59636e;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.zero td{color:#8c959f}
.delivered,.opened,.clicked{color:#1a7f37}.bounced,.failed{color:#cf222e}.pending,.transient{color:#9a6700}.uncertain,.unsent,.unknown{color:#59636e}
.big{font-size:1.25rem;font-weight:600}
.note{color:#59636e;font-style:italic}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
svg text{font:12px system-ui,sans-serif;fill:#1f2328}
svg rect.bar{fill:#218bff}
</style>
</head>
<body>
<h1>{{.Title}} — delivery report</h1>
<p class="meta">{{if .Generated}}Generated {{.Generated}}. {{end}}{{if .Version}}postform {{.Version}}. {{end}}Report format {{.FormatVersion}}.{{if .Redacted}} Addresses are redacted.{{end}}{{if .Filter}} Showing only: {{range $i, $w := .Filter}}{{if $i}}, {{end}}{{$w}}{{end}}.{{end}}</p>
<p class="big">{{.Total}} messages, {{.Failures}} failed or bounced.</p>

<h2>Outcomes</h2>
<table>
<thead><tr><th>Outcome</th><th class="n">Messages</th><th class="n">Share</th></tr></thead>
<tbody>
{{range .Outcomes}}<tr{{if .Zero}} class="zero"{{end}}><td class="{{.Word}}">{{.Word}}</td><td class="n">{{.Count}}</td><td class="n">{{.Percent}}</td></tr>
{{end}}</tbody>
</table>

<h2>Batches</h2>
{{if .Batches}}<table>
<thead><tr><th>Batch</th><th class="n">Messages</th><th class="n">Delivered</th><th class="n">Pending</th><th class="n">Bounced</th><th class="n">Failed</th><th class="n">Other</th></tr></thead>
<tbody>
{{range .Batches}}<tr><td><code>{{.Name}}</code></td><td class="n">{{.Total}}</td><td class="n">{{.Delivered}}</td><td class="n">{{.Pending}}</td><td class="n">{{.Bounced}}</td><td class="n">{{.Failed}}</td><td class="n">{{.Other}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">No messages.</p>{{end}}

<h2>Delivery latency</h2>
<p class="meta">Time from submission to delivery for {{.Chart.Measured}} delivered messages{{with .Chart.Mean}}; mean {{.}}{{end}}{{with .Chart.Max}}, slowest {{.}}{{end}}.</p>
<svg role="img" aria-label="Delivery latency histogram" width="{{.Chart.Width}}" height="{{.Chart.Height}}" viewBox="0 0 {{.Chart.Width}} {{.Chart.Height}}">
<line x1="0" y1="{{.Chart.BaseY}}" x2="{{.Chart.Width}}" y2="{{.Chart.BaseY}}" stroke="#8c959f"/>
{{range .Chart.Bars}}<g><rect class="bar" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Label}}: {{.Count}}</title></rect><text x="{{.LabelX}}" y="{{.TopY}}" text-anchor="middle">{{.Count}}</text><text x="{{.LabelX}}" y="{{.LabelY}}" text-anchor="middle">{{.Label}}</text></g>
{{end}}</svg>

<h2>Bounce reasons</h2>
{{if .Bounces}}<table>
<thead><tr><th>Bounce type</th><th class="n">Messages</th><th class="n">Recipient deactivated</th></tr></thead>
<tbody>
{{range .Bounces}}<tr><td>{{.Label}}</td><td class="n">{{.Count}}</td><td class="n">{{.Inactive}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">No bounces.</p>{{end}}

<h2>Failure reasons</h2>
{{if .FailReasons}}<table>
<thead><tr><th>Postmark ErrorCode</th><th class="n">Messages</th><th>Example message</th></tr></thead>
<tbody>
{{range .FailReasons}}<tr><td>{{.Label}}</td><td class="n">{{.Count}}</td><td>{{.Sample}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">No failures.</p>{{end}}

<h2>Failed and bounced messages</h2>
{{if .Problems}}<table>
<thead><tr><th>Address</th><th>To</th><th>Outcome</th><th>Reason</th><th>MessageID</th><th>Submitted</th></tr></thead>
<tbody>
{{range .Problems}}<tr><td><code>{{.Address}}</code></td><td>{{.To}}</td><td class="{{.Outcome}}">{{.Outcome}}</td><td>{{.Reason}}</td><td><code>{{.MessageID}}</code></td><td>{{.SubmittedAt}}</td></tr>
{{end}}</tbody>
</table>
{{with .MoreProblems}}<p class="note">{{.}} more not shown; the CSV and JSON reports list every message.</p>
{{end}}{{else}}<p class="note">None.</p>{{end}}
</body>
</html>
`))
