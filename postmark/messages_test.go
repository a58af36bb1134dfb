package postmark

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestListOutboundMessages(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/messages/outbound", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testHeaders(t, r, DefaultUserAgent)
		testEmptyBody(t, r)
		testQuery(t, r, url.Values{
			"count":          {"50"},
			"offset":         {"100"},
			"recipient":      {"ann@example.com"},
			"fromemail":      {"s@example.com"},
			"tag":            {"welcome"},
			"status":         {"sent"},
			"subject":        {"Hi there"},
			"messagestream":  {"broadcast"},
			"fromdate":       {"2026-07-01T12:00:00"}, // EDT, UTC-4
			"todate":         {"2027-01-15T12:30:00"}, // EST, UTC-5
			"metadata_pf_id": {"a1b2&c=3"},
		})
		writeJSON(w, 200, fixture(t, "outbound-search.json"))
	})
	got, err := c.ListOutboundMessages(context.Background(), OutboundSearch{
		Count:         50,
		Offset:        100,
		Recipient:     "ann@example.com",
		FromEmail:     "s@example.com",
		Tag:           "welcome",
		Status:        "sent",
		Subject:       "Hi there",
		MessageStream: "broadcast",
		FromDate:      time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC),
		ToDate:        time.Date(2027, 1, 15, 17, 30, 0, 0, time.UTC),
		MetadataKey:   "pf_id",
		MetadataValue: "a1b2&c=3",
	})
	if err != nil {
		t.Fatalf("ListOutboundMessages: %v", err)
	}
	want := &OutboundList{
		TotalCount: 194,
		Messages: []OutboundMessage{
			{
				Tag: "Invitation", MessageID: "0ac29aee-e1cd-480d-b08d-4f48548ff48d", MessageStream: "outbound",
				To: []Recipient{{Email: "john.doe@yahoo.com"}}, Cc: []Recipient{}, Bcc: []Recipient{},
				Recipients:  []string{"john.doe@yahoo.com"},
				ReceivedAt:  time.Date(2014, 2, 20, 7, 25, 2, 878271500, est),
				From:        `"Joe" <joe@domain.com>`,
				Subject:     "staging",
				Attachments: []string{},
				Status:      "Sent", TrackOpens: true, TrackLinks: "HtmlOnly",
				Metadata: map[string]string{"color": "blue", "send_key": "6f1c2f0e-3b7a-4c1e-9a51-2d8f0c4b7e11"},
			},
			{
				Tag: "Invitation", MessageID: "2ab11c6e-61d6-4ed4-9a42-6b8f8c2f1e7a", MessageStream: "outbound",
				To: []Recipient{{Email: "jane.roe@example.com", Name: "Jane Roe"}}, Cc: []Recipient{}, Bcc: []Recipient{},
				Recipients:  []string{"jane.roe@example.com"},
				ReceivedAt:  time.Date(2014, 2, 20, 7, 25, 1, 120331200, est),
				From:        `"Joe" <joe@domain.com>`,
				Subject:     "staging",
				Attachments: []string{"invoice.pdf"},
				Status:      "Queued", TrackLinks: "None",
				Metadata: map[string]string{},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list mismatch (-want +got):\n%s", diff)
	}
}

// TestListOutboundMessagesDefaults: an empty search sends only the paging
// parameters, and TotalCount given as a string decodes.
func TestListOutboundMessagesDefaults(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/messages/outbound", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"count": {"100"}, "offset": {"0"}})
		body := bytes.Replace(fixture(t, "outbound-search.json"), []byte(`"TotalCount": 194`), []byte(`"TotalCount": "194"`), 1)
		writeJSON(w, 200, body)
	})
	got, err := c.ListOutboundMessages(context.Background(), OutboundSearch{Offset: -3})
	if err != nil {
		t.Fatalf("ListOutboundMessages: %v", err)
	}
	if got.TotalCount != 194 || len(got.Messages) != 2 {
		t.Errorf("TotalCount=%d, %d messages; want 194 and 2", got.TotalCount, len(got.Messages))
	}
}

func TestGetOutboundMessageDetails(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/messages/outbound/{id}/details", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testHeaders(t, r, DefaultUserAgent)
		testEmptyBody(t, r)
		testQuery(t, r, url.Values{})
		if id := r.PathValue("id"); id != "07311c54-0687-4ab9-b034-b54b5bad88ba" {
			t.Errorf("id = %q", id)
		}
		writeJSON(w, 200, fixture(t, "message-details.json"))
	})
	got, err := c.GetOutboundMessageDetails(context.Background(), "07311c54-0687-4ab9-b034-b54b5bad88ba")
	if err != nil {
		t.Fatalf("GetOutboundMessageDetails: %v", err)
	}
	wantSummary := OutboundMessage{
		Tag: "product-orders", MessageID: "07311c54-0687-4ab9-b034-b54b5bad88ba", MessageStream: "outbound",
		To: []Recipient{{Email: "john.doe@yahoo.com"}}, Cc: []Recipient{}, Bcc: []Recipient{{Email: "badrecipient@example.com"}},
		Recipients:  []string{"john.doe@yahoo.com", "badrecipient@example.com"},
		ReceivedAt:  time.Date(2014, 2, 14, 11, 12, 54, 805424200, est),
		From:        `"Joe" <joe@domain.com>`,
		Subject:     "Parts Order #5454",
		Attachments: []string{"test-file.txt"},
		Status:      "Sent", TrackOpens: true, TrackLinks: "HtmlAndText",
		Metadata: map[string]string{"send_key": "6f1c2f0e-3b7a-4c1e-9a51-2d8f0c4b7e11"},
	}
	if diff := cmp.Diff(wantSummary, got.OutboundMessage); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
	if got.TextBody != "Thank you for your order..." || got.HtmlBody != "<p>Thank you for your order...</p>" || got.Body != "SMTP dump data" {
		t.Errorf("bodies = %q, %q, %q", got.TextBody, got.HtmlBody, got.Body)
	}
	var types []string
	for _, e := range got.MessageEvents {
		types = append(types, e.Type)
	}
	if diff := cmp.Diff([]string{"Transient", "Delivered", "Opened", "LinkClicked", "Bounced", "SubscriptionChanged"}, types); diff != "" {
		t.Errorf("event types mismatch (-want +got):\n%s", diff)
	}
	bounced := MessageEvent{
		Recipient:  "badrecipient@example.com",
		Type:       "Bounced",
		ReceivedAt: time.Date(2014, 2, 14, 11, 20, 15, 805424200, est),
		Details: map[string]string{
			"Summary":  "smtp;550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
			"BounceID": "374814878",
		},
	}
	if diff := cmp.Diff(bounced, got.MessageEvents[4]); diff != "" {
		t.Errorf("bounced event mismatch (-want +got):\n%s", diff)
	}
	if got := got.MessageEvents[3].Details["ClickLocation"]; got != "HTML" {
		t.Errorf("LinkClicked ClickLocation = %q, want HTML", got)
	}
}

// TestMessageDetailsTolerantDecoding: Details values that are numbers,
// booleans, null or nested arrive as strings; a time stamp without an
// offset is US Eastern time; null names and metadata decode.
func TestMessageDetailsTolerantDecoding(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/messages/outbound/{id}/details", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []byte(`{"MessageID":"m","To":[{"Email":"a@x.test","Name":null}],"Cc":null,"Metadata":null,
			"ReceivedAt":"2026-07-04T09:30:00.5","MessageEvents":[{"Recipient":"a@x.test","Type":"Bounced","ReceivedAt":null,
			"Details":{"BounceID":374814878,"SuppressSending":true,"Gone":null,"Big":1.5e3,"Nested":{"a": [1, 2]},"S":"x"}}]}`))
	})
	got, err := c.GetOutboundMessageDetails(context.Background(), "m")
	if err != nil {
		t.Fatalf("GetOutboundMessageDetails: %v", err)
	}
	wantDetails := map[string]string{"BounceID": "374814878", "SuppressSending": "true", "Gone": "", "Big": "1.5e3", "Nested": `{"a":[1,2]}`, "S": "x"}
	if diff := cmp.Diff(wantDetails, got.MessageEvents[0].Details); diff != "" {
		t.Errorf("details mismatch (-want +got):\n%s", diff)
	}
	if !got.MessageEvents[0].ReceivedAt.IsZero() {
		t.Errorf("null ReceivedAt = %v, want zero", got.MessageEvents[0].ReceivedAt)
	}
	if want := time.Date(2026, 7, 4, 13, 30, 0, 500000000, time.UTC); !got.ReceivedAt.Equal(want) {
		t.Errorf("ReceivedAt = %v, want %v (Eastern daylight time)", got.ReceivedAt, want)
	}
	if got.To[0].Name != "" || got.Cc != nil || got.Metadata != nil {
		t.Errorf("To=%v Cc=%v Metadata=%v", got.To, got.Cc, got.Metadata)
	}
}

func TestGetOutboundMessageDetailsEscapesID(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/messages/outbound/{id}/details", func(w http.ResponseWriter, r *http.Request) {
		if got, want := r.URL.EscapedPath(), "/messages/outbound/a%2Fb%20c%3F/details"; got != want {
			t.Errorf("escaped path = %q, want %q", got, want)
		}
		if id := r.PathValue("id"); id != "a/b c?" {
			t.Errorf("id = %q, want %q", id, "a/b c?")
		}
		writeJSON(w, 200, []byte(`{"MessageID":"a/b c?"}`))
	})
	got, err := c.GetOutboundMessageDetails(context.Background(), "a/b c?")
	if err != nil {
		t.Fatalf("GetOutboundMessageDetails: %v", err)
	}
	if got.MessageID != "a/b c?" {
		t.Errorf("MessageID = %q", got.MessageID)
	}
	for _, bad := range []string{"", ".", ".."} {
		_, err := c.GetOutboundMessageDetails(context.Background(), bad)
		if err == nil || Classify(err) != ClassRejected {
			t.Errorf("id %q: err = %v, want a rejected error before any request", bad, err)
		}
	}
}
