package postmark

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultSearchCount is the page size sent when a search's Count is zero.
const DefaultSearchCount = 100

// OutboundSearch holds the filters of GET /messages/outbound. Count and
// Offset are always sent (Count 0 means DefaultSearchCount; Postmark
// allows at most 500, and Count+Offset at most 10,000). Empty strings and
// zero times are left out. FromDate and ToDate are inclusive and sent as
// US Eastern wall-clock time, as Postmark interprets them. MetadataKey and
// MetadataValue form the single metadata_<key>=<value> filter Postmark
// allows per search (exact match). MessageStream defaults to "outbound"
// on Postmark's side: pass it explicitly for other streams.
//
// See https://postmarkapp.com/developer/api/messages-api#outbound-message-search
type OutboundSearch struct {
	Count         int
	Offset        int
	Recipient     string
	FromEmail     string
	Tag           string
	Status        string // queued, sent or processed
	Subject       string
	MessageStream string
	FromDate      time.Time
	ToDate        time.Time
	MetadataKey   string
	MetadataValue string
}

func (s OutboundSearch) query() url.Values {
	q := url.Values{}
	setPage(q, s.Count, s.Offset)
	setIf(q, "recipient", s.Recipient)
	setIf(q, "fromemail", s.FromEmail)
	setIf(q, "tag", s.Tag)
	setIf(q, "status", s.Status)
	setIf(q, "subject", s.Subject)
	setIf(q, "messagestream", s.MessageStream)
	setTime(q, "fromdate", s.FromDate)
	setTime(q, "todate", s.ToDate)
	if s.MetadataKey != "" {
		q.Set("metadata_"+s.MetadataKey, s.MetadataValue)
	}
	return q
}

// OutboundList is one page of an outbound search. TotalCount is the number
// of matches over all pages; Postmark lists newest first.
type OutboundList struct {
	TotalCount int
	Messages   []OutboundMessage
}

// UnmarshalJSON accepts TotalCount as a number or a string.
func (l *OutboundList) UnmarshalJSON(b []byte) error {
	var w struct {
		TotalCount flexInt
		Messages   []OutboundMessage
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*l = OutboundList{TotalCount: int(w.TotalCount), Messages: w.Messages}
	return nil
}

// Recipient is one address of a message's To, Cc or Bcc list. Name is
// empty when Postmark sends null.
type Recipient struct {
	Email string
	Name  string
}

// OutboundMessage is the summary of one sent message. ReceivedAt is when
// Postmark accepted it. Status is Postmark's own processing state
// (Queued, Sent, Processed) and says nothing about delivery; delivery is
// in MessageDetails.MessageEvents. Attachments lists file names only.
type OutboundMessage struct {
	Tag           string
	MessageID     string
	MessageStream string
	To            []Recipient
	Cc            []Recipient
	Bcc           []Recipient
	Recipients    []string
	ReceivedAt    time.Time
	From          string
	Subject       string
	Attachments   []string
	Status        string
	TrackOpens    bool
	TrackLinks    string
	Metadata      map[string]string
	Sandboxed     bool
}

// outboundWire is OutboundMessage as it arrives.
type outboundWire struct {
	Tag           string
	MessageID     string
	MessageStream string
	To            []recipientWire
	Cc            []recipientWire
	Bcc           []recipientWire
	Recipients    []string
	ReceivedAt    pmTime
	From          string
	Subject       string
	Attachments   []string
	Status        string
	TrackOpens    bool
	TrackLinks    string
	Metadata      flexStrings
	Sandboxed     bool
}

type recipientWire struct {
	Email *string
	Name  *string
}

func (w outboundWire) convert() OutboundMessage {
	return OutboundMessage{
		Tag:           w.Tag,
		MessageID:     w.MessageID,
		MessageStream: w.MessageStream,
		To:            recipients(w.To),
		Cc:            recipients(w.Cc),
		Bcc:           recipients(w.Bcc),
		Recipients:    w.Recipients,
		ReceivedAt:    time.Time(w.ReceivedAt),
		From:          w.From,
		Subject:       w.Subject,
		Attachments:   w.Attachments,
		Status:        w.Status,
		TrackOpens:    w.TrackOpens,
		TrackLinks:    w.TrackLinks,
		Metadata:      w.Metadata,
		Sandboxed:     w.Sandboxed,
	}
}

func recipients(ws []recipientWire) []Recipient {
	if ws == nil {
		return nil
	}
	out := make([]Recipient, len(ws))
	for i, w := range ws {
		if w.Email != nil {
			out[i].Email = *w.Email
		}
		if w.Name != nil {
			out[i].Name = *w.Name
		}
	}
	return out
}

// UnmarshalJSON accepts time stamps with or without an offset, null names
// and metadata values that are not strings.
func (m *OutboundMessage) UnmarshalJSON(b []byte) error {
	var w outboundWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = w.convert()
	return nil
}

// MessageDetails is one message with its bodies and its events. Body is
// the raw SMTP source (Postmark truncates it at about 1 MB). The
// OutboundMessage fields are promoted.
type MessageDetails struct {
	OutboundMessage
	TextBody      string
	HtmlBody      string
	Body          string
	MessageEvents []MessageEvent
}

// UnmarshalJSON decodes the summary fields and the details fields.
func (d *MessageDetails) UnmarshalJSON(b []byte) error {
	var w struct {
		outboundWire
		TextBody      string
		HtmlBody      string
		Body          string
		MessageEvents []MessageEvent
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = MessageDetails{
		OutboundMessage: w.convert(),
		TextBody:        w.TextBody,
		HtmlBody:        w.HtmlBody,
		Body:            w.Body,
		MessageEvents:   w.MessageEvents,
	}
	return nil
}

// MessageEvent is one thing that happened to a message for one recipient.
// Type is Delivered, Transient, Bounced, Opened, LinkClicked or
// SubscriptionChanged; the keys of Details depend on it (for example
// BounceID for Bounced, SuppressSending for SubscriptionChanged). Details
// values are strings even when Postmark sends numbers or booleans
// (BounceID 374814878 becomes "374814878", true becomes "true", null "").
type MessageEvent struct {
	Recipient  string
	Type       string
	ReceivedAt time.Time
	Details    map[string]string
}

// UnmarshalJSON decodes Details tolerantly.
func (e *MessageEvent) UnmarshalJSON(b []byte) error {
	var w struct {
		Recipient  string
		Type       string
		ReceivedAt pmTime
		Details    flexStrings
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = MessageEvent{Recipient: w.Recipient, Type: w.Type, ReceivedAt: time.Time(w.ReceivedAt), Details: w.Details}
	return nil
}

// ListOutboundMessages searches sent messages (GET /messages/outbound).
// To find the message carrying a metadata value, set MetadataKey,
// MetadataValue and MessageStream. Search lags acceptance: a message
// accepted moments ago may not be listed yet.
//
// See https://postmarkapp.com/developer/api/messages-api#outbound-message-search
func (c *Client) ListOutboundMessages(ctx context.Context, s OutboundSearch) (*OutboundList, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "messages/outbound", s.query())
	if err != nil {
		return nil, err
	}
	list := new(OutboundList)
	if _, err := c.do(req, list); err != nil {
		return nil, err
	}
	return list, nil
}

// GetOutboundMessageDetails returns one message with its bodies and events
// (GET /messages/outbound/{id}/details). An unknown id is an *APIError
// with status 422 and ErrorCode 701, which shortly after a send can also
// mean "not visible yet".
//
// See https://postmarkapp.com/developer/api/messages-api#outbound-message-details
func (c *Client) GetOutboundMessageDetails(ctx context.Context, id string) (*MessageDetails, error) {
	seg, err := pathSegment("message ID", id)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodGet, "messages/outbound/"+seg+"/details", nil)
	if err != nil {
		return nil, err
	}
	d := new(MessageDetails)
	if _, err := c.do(req, d); err != nil {
		return nil, err
	}
	return d, nil
}

func setPage(q url.Values, count, offset int) {
	if count <= 0 {
		count = DefaultSearchCount
	}
	offset = max(offset, 0)
	q.Set("count", strconv.Itoa(count))
	q.Set("offset", strconv.Itoa(offset))
}

func setIf(q url.Values, key, value string) {
	if strings.TrimSpace(value) != "" {
		q.Set(key, value)
	}
}

func setTime(q url.Values, key string, t time.Time) {
	if !t.IsZero() {
		q.Set(key, searchTime(t))
	}
}
