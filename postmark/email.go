package postmark

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Header is one custom email header.
type Header struct {
	Name  string
	Value string
}

// Attachment is one file attached to a message. Content is the file's
// bytes in standard base64. ContentID ("cid:…") makes it an inline image.
type Attachment struct {
	Name        string
	Content     string
	ContentType string
	ContentID   string `json:",omitempty"`
}

// Message is the body of POST /email and one item of POST /email/batch,
// with exactly the documented fields. From and To are always sent; every
// other field is left out when empty. TrackOpens is a pointer so that an
// explicit false can be sent (it overrides nothing server-side when nil).
// The JSON tags document the wire form; appendMessage (encode.go) writes
// it, so a new field must be added there as well.
//
// See https://postmarkapp.com/developer/api/email-api
type Message struct {
	From          string
	To            string
	Cc            string            `json:",omitempty"`
	Bcc           string            `json:",omitempty"`
	Subject       string            `json:",omitempty"`
	Tag           string            `json:",omitempty"`
	HtmlBody      string            `json:",omitempty"`
	TextBody      string            `json:",omitempty"`
	ReplyTo       string            `json:",omitempty"`
	Headers       []Header          `json:",omitempty"`
	TrackOpens    *bool             `json:",omitempty"`
	TrackLinks    string            `json:",omitempty"`
	Metadata      map[string]string `json:",omitempty"`
	Attachments   []Attachment      `json:",omitempty"`
	MessageStream string            `json:",omitempty"`
}

// TemplatedMessage is the body of POST /email/withTemplate and one item of
// POST /email/batchWithTemplates. Give TemplateID or TemplateAlias (an ID
// of 0 is left out). TemplateModel is sent as given and must be a JSON
// object; nil leaves it out, which Postmark rejects (ErrorCode 1120).
// InlineCSS is sent as "InlineCss"; nil means Postmark's default (true).
// As with Message, appendTemplatedMessage (encode.go) writes the JSON.
//
// See https://postmarkapp.com/developer/api/templates-api#email-with-template
type TemplatedMessage struct {
	TemplateID    int64           `json:"TemplateId,omitempty"`
	TemplateAlias string          `json:",omitempty"`
	TemplateModel json.RawMessage `json:",omitempty"`
	InlineCSS     *bool           `json:"InlineCss,omitempty"`
	From          string
	To            string
	Cc            string            `json:",omitempty"`
	Bcc           string            `json:",omitempty"`
	Tag           string            `json:",omitempty"`
	ReplyTo       string            `json:",omitempty"`
	Headers       []Header          `json:",omitempty"`
	TrackOpens    *bool             `json:",omitempty"`
	TrackLinks    string            `json:",omitempty"`
	Metadata      map[string]string `json:",omitempty"`
	Attachments   []Attachment      `json:",omitempty"`
	MessageStream string            `json:",omitempty"`
}

// SendResult is Postmark's answer for one message. ErrorCode 0 means
// accepted, with MessageID and SubmittedAt set; any other ErrorCode is a
// per-message refusal explained by Message (for example 406, inactive
// recipient, or 300, invalid request), and MessageID is then usually
// empty. Decide on ErrorCode, never on Message.
type SendResult struct {
	To          string
	SubmittedAt time.Time
	MessageID   string
	ErrorCode   int
	Message     string
}

// UnmarshalJSON decodes a result, accepting SubmittedAt with or without an
// offset and a missing or null value for any field. The client decodes
// send answers with the faster decoder of decode.go, which must give the
// same results; a change here must be made there too.
func (r *SendResult) UnmarshalJSON(b []byte) error {
	var w struct {
		To          string
		SubmittedAt pmTime
		MessageID   string
		ErrorCode   flexInt
		Message     string
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = SendResult{
		To:          w.To,
		SubmittedAt: time.Time(w.SubmittedAt),
		MessageID:   w.MessageID,
		ErrorCode:   int(w.ErrorCode),
		Message:     w.Message,
	}
	return nil
}

// SendEmail sends one message (POST /email). A refusal comes back as an
// *APIError (for example 422 with ErrorCode 406 when every recipient is
// inactive); on success the result's ErrorCode is 0.
//
// See https://postmarkapp.com/developer/api/email-api#send-a-single-email
func (c *Client) SendEmail(ctx context.Context, m Message) (SendResult, error) {
	return c.sendOne(ctx, "email", func(b []byte) ([]byte, error) {
		return appendMessage(b, &m), nil
	})
}

// SendWithTemplate sends one message rendered from a server-side template
// (POST /email/withTemplate).
//
// See https://postmarkapp.com/developer/api/templates-api#email-with-template
func (c *Client) SendWithTemplate(ctx context.Context, m TemplatedMessage) (SendResult, error) {
	return c.sendOne(ctx, "email/withTemplate", func(b []byte) ([]byte, error) {
		return appendTemplatedMessage(b, &m)
	})
}

// SendBatch sends up to 500 messages in one request (POST /email/batch,
// a bare JSON array). Postmark answers 200 even when items fail: the
// results are in request order, one per message, and a failed item has a
// non-zero ErrorCode; that is data, not an error. An error means the
// whole request failed (see Classify), or that the answer could not be
// matched to the request (*ResponseError, ambiguous). An empty ms sends
// nothing.
//
// See https://postmarkapp.com/developer/api/email-api#send-batch-emails
func (c *Client) SendBatch(ctx context.Context, ms []Message) ([]SendResult, error) {
	if len(ms) == 0 {
		return []SendResult{}, nil
	}
	return c.sendMany(ctx, "email/batch", len(ms), func(b []byte) ([]byte, error) {
		return appendMessages(b, ms), nil
	})
}

// SendBatchWithTemplates sends up to 500 templated messages in one request
// (POST /email/batchWithTemplates, body {"Messages": [...]}). Results
// behave as in SendBatch.
//
// See https://postmarkapp.com/developer/api/templates-api#send-batch-with-templates
func (c *Client) SendBatchWithTemplates(ctx context.Context, ms []TemplatedMessage) ([]SendResult, error) {
	if len(ms) == 0 {
		return []SendResult{}, nil
	}
	return c.sendMany(ctx, "email/batchWithTemplates", len(ms), func(b []byte) ([]byte, error) {
		return appendTemplatedBatch(b, ms)
	})
}

func (c *Client) sendOne(ctx context.Context, ref string, encode func([]byte) ([]byte, error)) (SendResult, error) {
	pb, err := prepare(ref, 1, encode)
	if err != nil {
		return SendResult{}, err
	}
	body := pb.body
	defer body.release()
	req, err := c.newBodyRequest(ctx, http.MethodPost, ref, body)
	if err != nil {
		return SendResult{}, err
	}
	var res SendResult
	if _, err := c.do(req, &res); err != nil {
		return SendResult{}, err
	}
	return res, nil
}

func (c *Client) sendMany(ctx context.Context, ref string, n int, encode func([]byte) ([]byte, error)) ([]SendResult, error) {
	pb, err := prepare(ref, n, encode)
	if err != nil {
		return nil, err
	}
	return c.SendPrepared(ctx, pb)
}

// PreparedBatch is a batch request encoded ahead of sending, so that a
// caller can do that work before it takes its turn on the wire (see
// PrepareBatch). It is sent once, with SendPrepared, or given up with
// Release.
type PreparedBatch struct {
	ref  string
	n    int
	body *requestBody // nil once sent or released
}

// PrepareBatch encodes ms as the body of a SendBatch request. ms must not
// be empty.
func (c *Client) PrepareBatch(ms []Message) (*PreparedBatch, error) {
	if len(ms) == 0 {
		return nil, errors.New("postmark: empty batch")
	}
	return prepare("email/batch", len(ms), func(b []byte) ([]byte, error) {
		return appendMessages(b, ms), nil
	})
}

// PrepareBatchWithTemplates encodes ms as the body of a
// SendBatchWithTemplates request. ms must not be empty.
func (c *Client) PrepareBatchWithTemplates(ms []TemplatedMessage) (*PreparedBatch, error) {
	if len(ms) == 0 {
		return nil, errors.New("postmark: empty batch")
	}
	return prepare("email/batchWithTemplates", len(ms), func(b []byte) ([]byte, error) {
		return appendTemplatedBatch(b, ms)
	})
}

func prepare(ref string, n int, encode func([]byte) ([]byte, error)) (*PreparedBatch, error) {
	body, err := newRequestBody(encode)
	if err != nil {
		body.release()
		return nil, &requestError{method: http.MethodPost, path: "/" + ref, err: fmt.Errorf("encoding request body: %w", err)}
	}
	return &PreparedBatch{ref: ref, n: n, body: body}, nil
}

// Release gives up a prepared batch that will not be sent. It is safe to
// call after SendPrepared, and more than once.
func (pb *PreparedBatch) Release() {
	if pb != nil && pb.body != nil {
		pb.body.release()
		pb.body = nil
	}
}

// SendPrepared sends pb, as SendBatch or SendBatchWithTemplates would have
// sent its messages, and releases it. A batch can be sent only once.
func (c *Client) SendPrepared(ctx context.Context, pb *PreparedBatch) ([]SendResult, error) {
	if pb == nil || pb.body == nil {
		return nil, errors.New("postmark: prepared batch already sent or released")
	}
	body := pb.body
	pb.body = nil
	defer body.release()
	req, err := c.newBodyRequest(ctx, http.MethodPost, pb.ref, body)
	if err != nil {
		return nil, err
	}
	// Sized for the expected answer, so that decoding appends in place.
	res := make([]SendResult, 0, pb.n)
	status, err := c.do(req, &res)
	if err != nil {
		return nil, err
	}
	if len(res) != pb.n {
		// Results are matched to messages by position, so a short or long
		// answer cannot be trusted for any item; some may be accepted.
		return nil, &ResponseError{
			Method:     req.Method,
			Path:       req.URL.EscapedPath(),
			StatusCode: status,
			Err:        fmt.Errorf("sent %d messages, got %d results", pb.n, len(res)),
		}
	}
	return res, nil
}
