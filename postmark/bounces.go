package postmark

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// BounceSearch holds the filters of GET /bounces. Count and Offset are
// always sent (Count 0 means DefaultSearchCount). Type is one bounce type
// such as "HardBounce"; EmailFilter is a substring match; Inactive nil
// returns both active and inactive bounces. Dates are inclusive and sent
// in US Eastern time.
//
// See https://postmarkapp.com/developer/api/bounce-api#bounces
type BounceSearch struct {
	Count         int
	Offset        int
	Type          string
	EmailFilter   string
	Tag           string
	MessageID     string
	MessageStream string
	Inactive      *bool
	FromDate      time.Time
	ToDate        time.Time
}

func (s BounceSearch) query() url.Values {
	q := url.Values{}
	setPage(q, s.Count, s.Offset)
	setIf(q, "type", s.Type)
	setIf(q, "emailFilter", s.EmailFilter)
	setIf(q, "tag", s.Tag)
	setIf(q, "messageID", s.MessageID)
	setIf(q, "messagestream", s.MessageStream)
	if s.Inactive != nil {
		q.Set("inactive", strconv.FormatBool(*s.Inactive))
	}
	setTime(q, "fromdate", s.FromDate)
	setTime(q, "todate", s.ToDate)
	return q
}

// BounceList is one page of a bounce search.
type BounceList struct {
	TotalCount int
	Bounces    []Bounce
}

// UnmarshalJSON accepts TotalCount as a number or a string.
func (l *BounceList) UnmarshalJSON(b []byte) error {
	var w struct {
		TotalCount flexInt
		Bounces    []Bounce
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*l = BounceList{TotalCount: int(w.TotalCount), Bounces: w.Bounces}
	return nil
}

// Bounce is one bounce record. Inactive means this bounce deactivated the
// address (later sends to it fail with ErrorCode 406); CanActivate says
// whether it can be reactivated (false for spam complaints). Content, the
// raw bounce, is only filled by GetBounce.
type Bounce struct {
	RecordType    string
	ID            int64
	Type          string
	TypeCode      int
	Name          string
	Tag           string
	MessageID     string
	ServerID      int64
	MessageStream string
	Description   string
	Details       string
	Email         string
	From          string
	BouncedAt     time.Time
	DumpAvailable bool
	Inactive      bool
	CanActivate   bool
	Subject       string
	Content       string
}

// UnmarshalJSON accepts BouncedAt with or without an offset and ID given
// as a number or a string (old documentation says string).
func (bn *Bounce) UnmarshalJSON(b []byte) error {
	var w struct {
		RecordType    string
		ID            flexInt
		Type          string
		TypeCode      flexInt
		Name          string
		Tag           string
		MessageID     string
		ServerID      flexInt
		MessageStream string
		Description   string
		Details       string
		Email         string
		From          string
		BouncedAt     pmTime
		DumpAvailable bool
		Inactive      bool
		CanActivate   bool
		Subject       string
		Content       string
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*bn = Bounce{
		RecordType:    w.RecordType,
		ID:            int64(w.ID),
		Type:          w.Type,
		TypeCode:      int(w.TypeCode),
		Name:          w.Name,
		Tag:           w.Tag,
		MessageID:     w.MessageID,
		ServerID:      int64(w.ServerID),
		MessageStream: w.MessageStream,
		Description:   w.Description,
		Details:       w.Details,
		Email:         w.Email,
		From:          w.From,
		BouncedAt:     time.Time(w.BouncedAt),
		DumpAvailable: w.DumpAvailable,
		Inactive:      w.Inactive,
		CanActivate:   w.CanActivate,
		Subject:       w.Subject,
		Content:       w.Content,
	}
	return nil
}

// ListBounces searches bounces (GET /bounces).
//
// See https://postmarkapp.com/developer/api/bounce-api#bounces
func (c *Client) ListBounces(ctx context.Context, s BounceSearch) (*BounceList, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "bounces", s.query())
	if err != nil {
		return nil, err
	}
	list := new(BounceList)
	if _, err := c.do(req, list); err != nil {
		return nil, err
	}
	return list, nil
}

// GetBounce returns one bounce, including its raw Content (GET
// /bounces/{id}).
//
// See https://postmarkapp.com/developer/api/bounce-api#single-bounce
func (c *Client) GetBounce(ctx context.Context, id int64) (*Bounce, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "bounces/"+strconv.FormatInt(id, 10), nil)
	if err != nil {
		return nil, err
	}
	bn := new(Bounce)
	if _, err := c.do(req, bn); err != nil {
		return nil, err
	}
	return bn, nil
}

// SuppressionSearch holds the filters of the suppression dump. Empty
// fields and zero times are left out. SuppressionReason is HardBounce,
// SpamComplaint or ManualSuppression; Origin is Recipient, Customer or
// Admin. Dates are sent in US Eastern time.
type SuppressionSearch struct {
	SuppressionReason string
	Origin            string
	EmailAddress      string
	FromDate          time.Time
	ToDate            time.Time
}

func (s SuppressionSearch) query() url.Values {
	q := url.Values{}
	setIf(q, "SuppressionReason", s.SuppressionReason)
	setIf(q, "Origin", s.Origin)
	setIf(q, "EmailAddress", s.EmailAddress)
	setTime(q, "fromdate", s.FromDate)
	setTime(q, "todate", s.ToDate)
	return q
}

// Suppression is one address that a stream will not send to.
type Suppression struct {
	EmailAddress      string
	SuppressionReason string
	Origin            string
	CreatedAt         time.Time
}

// UnmarshalJSON accepts CreatedAt with or without an offset.
func (s *Suppression) UnmarshalJSON(b []byte) error {
	var w struct {
		EmailAddress      string
		SuppressionReason string
		Origin            string
		CreatedAt         pmTime
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = Suppression{EmailAddress: w.EmailAddress, SuppressionReason: w.SuppressionReason, Origin: w.Origin, CreatedAt: time.Time(w.CreatedAt)}
	return nil
}

// DumpSuppressions lists the suppressed addresses of one message stream
// (GET /message-streams/{stream}/suppressions/dump). The list is not
// paged. The result is never nil.
//
// See https://postmarkapp.com/developer/api/suppressions-api#suppression-dump
func (c *Client) DumpSuppressions(ctx context.Context, stream string, s SuppressionSearch) ([]Suppression, error) {
	seg, err := pathSegment("message stream", stream)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodGet, "message-streams/"+seg+"/suppressions/dump", s.query())
	if err != nil {
		return nil, err
	}
	var w struct{ Suppressions []Suppression }
	if _, err := c.do(req, &w); err != nil {
		return nil, err
	}
	if w.Suppressions == nil {
		w.Suppressions = []Suppression{}
	}
	return w.Suppressions, nil
}
