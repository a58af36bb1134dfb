package postmark

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestListBounces(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/bounces", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testHeaders(t, r, DefaultUserAgent)
		testEmptyBody(t, r)
		testQuery(t, r, url.Values{
			"count":         {"500"},
			"offset":        {"0"},
			"type":          {"HardBounce"},
			"emailFilter":   {"blackhole"},
			"tag":           {"Invitation"},
			"messageID":     {"2c1b63fe-43f2-4db5-91b0-8bdfa44a9316"},
			"messagestream": {"outbound"},
			"inactive":      {"false"},
			"fromdate":      {"2014-01-15T00:00:00"},
		})
		writeJSON(w, 200, fixture(t, "bounces-search.json"))
	})
	got, err := c.ListBounces(context.Background(), BounceSearch{
		Count:         500,
		Type:          "HardBounce",
		EmailFilter:   "blackhole",
		Tag:           "Invitation",
		MessageID:     "2c1b63fe-43f2-4db5-91b0-8bdfa44a9316",
		MessageStream: "outbound",
		Inactive:      ptr(false),
		FromDate:      time.Date(2014, 1, 15, 5, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatalf("ListBounces: %v", err)
	}
	want := &BounceList{TotalCount: 1, Bounces: []Bounce{{
		RecordType: "Bounce", ID: 692560173, Type: "HardBounce", TypeCode: 1, Name: "Hard bounce", Tag: "Invitation",
		MessageID: "2c1b63fe-43f2-4db5-91b0-8bdfa44a9316", ServerID: 23, MessageStream: "outbound",
		Description: "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
		Details:     "action: failed\r\n", Email: "anything@blackhole.postmarkapp.com", From: "sender@example.com",
		BouncedAt: time.Date(2014, 1, 15, 16, 9, 19, 0, time.UTC), Inactive: true, CanActivate: true, Subject: "SC API5 Test",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list mismatch (-want +got):\n%s", diff)
	}
}

func TestListBouncesDefaults(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/bounces", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"count": {"100"}, "offset": {"0"}})
		writeJSON(w, 200, []byte(`{"TotalCount":"0","Bounces":[]}`))
	})
	got, err := c.ListBounces(context.Background(), BounceSearch{})
	if err != nil {
		t.Fatalf("ListBounces: %v", err)
	}
	if got.TotalCount != 0 || len(got.Bounces) != 0 {
		t.Errorf("got %+v, want an empty list", got)
	}
}

// TestGetBounce decodes the bounce webhook fixture, which has the shape of
// a single bounce with Content.
func TestGetBounce(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/bounces/692560173", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testHeaders(t, r, DefaultUserAgent)
		testEmptyBody(t, r)
		writeJSON(w, 200, fixture(t, "bounce-webhook.json"))
	})
	got, err := c.GetBounce(context.Background(), 692560173)
	if err != nil {
		t.Fatalf("GetBounce: %v", err)
	}
	want := &Bounce{
		RecordType: "Bounce", ID: 692560173, Type: "HardBounce", TypeCode: 1, Name: "Hard bounce", Tag: "Test",
		MessageID: "883953f4-6105-42a2-a16a-77a8eac79483", ServerID: 23, MessageStream: "outbound",
		Description: "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
		Details:     "Test bounce details", Email: "margareth@nasa.com", From: "alanturing@computers.com",
		BouncedAt:     time.Date(2026, 11, 5, 16, 33, 54, 907025900, time.UTC),
		DumpAvailable: true, Inactive: true, CanActivate: true, Subject: "Saying Hello!", Content: "<Full dump of bounce>",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bounce mismatch (-want +got):\n%s", diff)
	}
}

func TestGetBounceNotFound(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/bounces/1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 422, []byte(`{"ErrorCode":1001,"Message":"This bounce was not found."}`))
	})
	_, err := c.GetBounce(context.Background(), 1)
	want := &APIError{StatusCode: 422, ErrorCode: 1001, Message: "This bounce was not found.", Method: "GET", Path: "/pm/bounces/1"}
	var got *APIError
	if !asErr(err, &got) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("APIError mismatch (-want +got):\n%s", diff)
	}
}

func TestDumpSuppressions(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/message-streams/{stream}/suppressions/dump", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testHeaders(t, r, DefaultUserAgent)
		testEmptyBody(t, r)
		if s := r.PathValue("stream"); s != "broadcast" {
			t.Errorf("stream = %q", s)
		}
		testQuery(t, r, url.Values{
			"SuppressionReason": {"HardBounce"},
			"Origin":            {"Recipient"},
			"EmailAddress":      {"a@example.com"},
			"todate":            {"2026-03-01T00:00:00"},
		})
		writeJSON(w, 200, []byte(`{"Suppressions":[
			{"EmailAddress":"a@example.com","SuppressionReason":"HardBounce","Origin":"Recipient","CreatedAt":"2026-02-01T10:00:00"},
			{"EmailAddress":"b@example.com","SuppressionReason":"ManualSuppression","Origin":"Customer","CreatedAt":"2026-02-02T10:00:00.1234567-05:00"}]}`))
	})
	got, err := c.DumpSuppressions(context.Background(), "broadcast", SuppressionSearch{
		SuppressionReason: "HardBounce",
		Origin:            "Recipient",
		EmailAddress:      "a@example.com",
		ToDate:            time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatalf("DumpSuppressions: %v", err)
	}
	want := []Suppression{
		{EmailAddress: "a@example.com", SuppressionReason: "HardBounce", Origin: "Recipient", CreatedAt: time.Date(2026, 2, 1, 15, 0, 0, 0, time.UTC)},
		{EmailAddress: "b@example.com", SuppressionReason: "ManualSuppression", Origin: "Customer", CreatedAt: time.Date(2026, 2, 2, 15, 0, 0, 123456700, time.UTC)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suppressions mismatch (-want +got):\n%s", diff)
	}
}

func TestDumpSuppressionsEmpty(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/message-streams/outbound/suppressions/dump", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{})
		writeJSON(w, 200, []byte(`{"Suppressions":null}`))
	})
	got, err := c.DumpSuppressions(context.Background(), "outbound", SuppressionSearch{})
	if err != nil {
		t.Fatalf("DumpSuppressions: %v", err)
	}
	if got == nil || len(got) != 0 {
		t.Errorf("got %#v, want an empty non-nil slice", got)
	}
	if _, err := c.DumpSuppressions(context.Background(), "..", SuppressionSearch{}); Classify(err) != ClassRejected {
		t.Errorf("stream \"..\": err = %v, want rejected before any request", err)
	}
}
