package postmarktest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func details(t *testing.T, s *Server, id string) wireDetails {
	t.Helper()
	r := call(t, s, "GET", "/messages/outbound/"+id+"/details", nil)
	if r.status != 200 {
		t.Fatalf("details %s: %d %s", id, r.status, r.body)
	}
	var d wireDetails
	r.decode(t, &d)
	return d
}

// eventKinds lists "recipient Type" for each event.
func eventKinds(d wireDetails) []string {
	out := []string{}
	for _, e := range d.MessageEvents {
		out = append(out, e.Recipient+" "+e.Type)
	}
	return out
}

func TestEventsOverTime(t *testing.T) {
	t.Parallel()
	clock := newClock()
	const delay = time.Second
	s := NewServer(t, Options{Now: clock.Now, DeliveryDelay: delay})
	m := msg("plain@example.com, ann+transient@example.com, bob+open@example.com, HardBounce@bounce-testing.postmarkapp.com")
	m["HtmlBody"] = "<p>hi</p>"
	id := sendBatch(t, s, []map[string]any{m})[0]

	steps := []struct {
		at   time.Duration
		want []string
	}{
		{0, []string{}},
		{delay - time.Nanosecond, []string{}},
		{delay, []string{"plain@example.com Delivered", "ann+transient@example.com Transient", "bob+open@example.com Delivered", "HardBounce@bounce-testing.postmarkapp.com Bounced"}},
		{2 * delay, []string{"plain@example.com Delivered", "ann+transient@example.com Transient", "bob+open@example.com Delivered", "HardBounce@bounce-testing.postmarkapp.com Bounced", "bob+open@example.com Opened"}},
		{3 * delay, []string{"plain@example.com Delivered", "ann+transient@example.com Transient", "bob+open@example.com Delivered", "HardBounce@bounce-testing.postmarkapp.com Bounced", "bob+open@example.com Opened", "ann+transient@example.com Delivered"}},
	}
	start := clock.Now()
	for _, st := range steps {
		clock.Advance(start.Add(st.at).Sub(clock.Now()))
		d := details(t, s, id)
		if diff := cmp.Diff(st.want, eventKinds(d)); diff != "" {
			t.Errorf("at +%v (-want +got):\n%s", st.at, diff)
		}
	}
	d := details(t, s, id)
	if d.TextBody != "Hi there" || d.HtmlBody != "<p>hi</p>" || d.MessageID != id || len(d.Recipients) != 4 {
		t.Errorf("details = %+v", d)
	}
	for _, e := range d.MessageEvents {
		if !submittedAtRE.MatchString(e.ReceivedAt) {
			t.Errorf("event time %q", e.ReceivedAt)
		}
		switch e.Type {
		case "Delivered", "Transient":
			if e.Details["DeliveryMessage"] == "" || e.Details["DestinationServer"] == "" || e.Details["DestinationIP"] == "" {
				t.Errorf("%s details = %v", e.Type, e.Details)
			}
		case "Bounced":
			if e.Details["Summary"] == "" || e.Details["BounceID"] == "" {
				t.Errorf("bounce details = %v", e.Details)
			}
		}
	}

	r := call(t, s, "GET", "/messages/outbound/00000000-0000-4000-8000-000000000000/details", nil)
	if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeMessageNotFound {
		t.Errorf("unknown id: %d %+v", r.status, e)
	}
	r = call(t, s, "GET", "/messages/outbound/not-a-uuid/details", nil)
	if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeMessageNotFound {
		t.Errorf("malformed id: %d %+v", r.status, e)
	}
}

func TestHardBounceSuppressesLaterSends(t *testing.T) {
	t.Parallel()
	clock := newClock()
	const delay = time.Minute
	s := NewServer(t, Options{Now: clock.Now, DeliveryDelay: delay})
	hb := "hardbounce@bounce-testing.postmarkapp.com"
	first := sendBatch(t, s, []map[string]any{
		with(msg(hb), "Tag", "welcome"),
		msg("softbounce@bounce-testing.postmarkapp.com"),
		msg("spamcomplaint@bounce-testing.postmarkapp.com"),
		msg("nosuchtype@bounce-testing.postmarkapp.com"),
	})

	bounces := func(params string) wireBounceList {
		t.Helper()
		r := call(t, s, "GET", "/bounces?"+params, nil)
		if r.status != 200 {
			t.Fatalf("bounces: %d %s", r.status, r.body)
		}
		var l wireBounceList
		r.decode(t, &l)
		return l
	}
	if l := bounces("count=10&offset=0"); l.TotalCount != 0 {
		t.Fatalf("bounces before their time: %+v", l)
	}
	// Before the bounce happens, the address can still be sent to.
	if got := sendBatch(t, s, []map[string]any{msg(hb)}); got[0] == "" {
		t.Fatal("send before the bounce was refused")
	}

	clock.Advance(delay)
	l := bounces("count=10&offset=0")
	var types []string
	for _, b := range l.Bounces {
		types = append(types, fmt.Sprintf("%s %s %v", b.Email, b.Type, b.Inactive))
	}
	wantTypes := []string{ // newest first
		"hardbounce@bounce-testing.postmarkapp.com HardBounce true",
		"spamcomplaint@bounce-testing.postmarkapp.com HardBounce true",
		"softbounce@bounce-testing.postmarkapp.com SoftBounce false",
		"hardbounce@bounce-testing.postmarkapp.com HardBounce true",
	}
	if diff := cmp.Diff(wantTypes, types); diff != "" || l.TotalCount != 4 {
		t.Fatalf("bounces (-want +got):\n%s", diff)
	}
	oldest := l.Bounces[3]
	if oldest.MessageID != first[0] || oldest.Tag != "welcome" || oldest.TypeCode != 1 || !oldest.CanActivate ||
		oldest.RecordType != "Bounce" || oldest.MessageStream != "outbound" || oldest.From != "news@acme.example" {
		t.Errorf("bounce record = %+v", oldest)
	}
	d := details(t, s, first[0])
	if len(d.MessageEvents) != 1 || d.MessageEvents[0].Details["BounceID"] != strconv.FormatInt(oldest.ID, 10) {
		t.Errorf("details events = %+v, want a Bounced event for bounce %d", d.MessageEvents, oldest.ID)
	}
	if got := eventKinds(details(t, s, first[3])); len(got) != 1 || got[0] != "nosuchtype@bounce-testing.postmarkapp.com Delivered" {
		t.Errorf("unknown bounce type events = %v", got)
	}

	for _, tc := range []struct {
		params string
		total  int
	}{
		{"count=10&offset=0&type=SoftBounce", 1},
		{"count=10&offset=0&inactive=true", 3},
		{"count=10&offset=0&inactive=false", 1},
		{"count=10&offset=0&emailFilter=SPAM", 1},
		{"count=10&offset=0&tag=welcome", 1},
		{"count=10&offset=0&messageID=" + first[0], 1},
		{"count=10&offset=0&messagestream=broadcast", 0},
		{"count=1&offset=3", 4},
	} {
		if l := bounces(tc.params); l.TotalCount != tc.total {
			t.Errorf("%s: total %d, want %d", tc.params, l.TotalCount, tc.total)
		}
	}
	for _, params := range []string{"count=501&offset=0", "offset=0", "count=10", "count=1&offset=10000", "count=1&offset=0&type=Nope", "count=1&offset=0&inactive=maybe"} {
		r := call(t, s, "GET", "/bounces?"+params, nil)
		if e := r.apiErr(t); r.status != 422 || e.ErrorCode != codeBounceQueryInvalid {
			t.Errorf("%s: %d %+v, want 422/1000", params, r.status, e)
		}
	}

	r := call(t, s, "GET", fmt.Sprintf("/bounces/%d", oldest.ID), nil)
	var one wireBounce
	r.decode(t, &one)
	if r.status != 200 || one.ID != oldest.ID || one.Content == "" {
		t.Errorf("single bounce: %d %+v", r.status, one)
	}
	if r := call(t, s, "GET", "/bounces/12345", nil); r.status != 422 || r.apiErr(t).ErrorCode != codeBounceNotFound {
		t.Errorf("unknown bounce: %d %s", r.status, r.body)
	}

	// Now inactive on outbound (406 per item), still fine on broadcast.
	res := call(t, s, "POST", "/email/batch", []map[string]any{msg(hb), with(msg(hb), "MessageStream", "broadcast")})
	var items []sendResult
	res.decode(t, &items)
	if items[0].ErrorCode != codeInactive || items[1].ErrorCode != 0 {
		t.Errorf("after the hard bounce: %+v", items)
	}

	var dump wireSuppressionDump
	call(t, s, "GET", "/message-streams/outbound/suppressions/dump", nil).decode(t, &dump)
	var supp []string
	for _, x := range dump.Suppressions {
		supp = append(supp, x.EmailAddress+" "+x.SuppressionReason+" "+x.Origin)
	}
	want := []string{"hardbounce@bounce-testing.postmarkapp.com HardBounce Recipient", "spamcomplaint@bounce-testing.postmarkapp.com HardBounce Recipient"}
	if diff := cmp.Diff(want, supp); diff != "" {
		t.Errorf("suppressions (-want +got):\n%s", diff)
	}
	if r := call(t, s, "GET", "/message-streams/nope/suppressions/dump", nil); r.status != 422 {
		t.Errorf("unknown stream dump: %d", r.status)
	}
}

func TestManualSuppressionAndPartialSend(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := NewServer(t, Options{Now: clock.Now, DeliveryDelay: time.Second})
	s.Suppress("", "Gone@Example.com")
	id := sendBatch(t, s, []map[string]any{msg("ok@example.com, gone@example.com")})[0]
	clock.Advance(time.Hour)
	if got := eventKinds(details(t, s, id)); len(got) != 1 || got[0] != "ok@example.com Delivered" {
		t.Errorf("events = %v, want only the active recipient delivered", got)
	}
	var dump wireSuppressionDump
	call(t, s, "GET", "/message-streams/outbound/suppressions/dump?SuppressionReason=ManualSuppression", nil).decode(t, &dump)
	if len(dump.Suppressions) != 1 || dump.Suppressions[0].Origin != "Customer" {
		t.Errorf("dump = %+v", dump)
	}
}

func TestBodyBudget(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{MaxBodyBytes: 12, DeliveryDelay: -1})
	a := sendBatch(t, s, []map[string]any{with(msg("a@example.com"), "TextBody", "12345678")})[0]
	b := sendBatch(t, s, []map[string]any{with(msg("b@example.com"), "TextBody", "abcdefgh")})[0]
	c := sendBatch(t, s, []map[string]any{with(msg("c@example.com"), "TextBody", "ABCDEFGH")})[0]
	got := []string{details(t, s, a).TextBody, details(t, s, b).TextBody, details(t, s, c).TextBody}
	if diff := cmp.Diff([]string{"12345678", "abcd", ""}, got); diff != "" {
		t.Errorf("stored bodies (-want +got):\n%s", diff)
	}
	if ev := details(t, s, c).MessageEvents; len(ev) != 1 || ev[0].Type != "Delivered" {
		t.Errorf("events with DeliveryDelay < 0: %+v", ev)
	}
}
