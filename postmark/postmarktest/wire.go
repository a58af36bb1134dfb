package postmarktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The wire structs below are the simulator's own reading of the Postmark
// API; they deliberately do not reuse the client package's types, so that
// the simulator is an independent check of the client.

// wireHeader is one custom header of a send request.
type wireHeader struct {
	Name  string
	Value string
}

// wireAttachment is one attachment of a send request. Content is base64.
type wireAttachment struct {
	Name        string
	Content     string
	ContentType string
	ContentID   string
}

// wireMessage is the body of POST /email and an item of POST /email/batch.
// Its fields are the documented field set; any other field is rejected.
type wireMessage struct {
	From          string
	To            string
	Cc            string
	Bcc           string
	Subject       string
	Tag           string
	HtmlBody      string
	TextBody      string
	ReplyTo       string
	Headers       []wireHeader
	TrackOpens    *bool
	TrackLinks    string
	Metadata      metadata
	Attachments   []wireAttachment
	MessageStream string

	// Set by the fast decoder only (encoding/json ignores unexported
	// fields): the bodies as bytes of the request buffers, which HtmlBody
	// and TextBody then leave empty, and whether the short fields already
	// share one allocation.
	htmlRaw, textRaw []byte
	packed           bool
}

// wireTemplateMessage is the body of POST /email/withTemplate and an item
// of POST /email/batchWithTemplates.
type wireTemplateMessage struct {
	TemplateId    int64
	TemplateAlias string
	TemplateModel json.RawMessage
	InlineCss     *bool
	From          string
	To            string
	Cc            string
	Bcc           string
	Tag           string
	ReplyTo       string
	Headers       []wireHeader
	TrackOpens    *bool
	TrackLinks    string
	Metadata      metadata
	Attachments   []wireAttachment
	MessageStream string
}

// wireTemplateBatch is the body of POST /email/batchWithTemplates.
type wireTemplateBatch struct {
	Messages []wireTemplateMessage
}

// sendResult is the answer for one sent message (single or batch item).
type sendResult struct {
	To          string `json:",omitempty"`
	SubmittedAt string `json:",omitempty"`
	MessageID   string `json:",omitempty"`
	ErrorCode   int
	Message     string
}

// apiError is Postmark's error envelope.
type apiError struct {
	ErrorCode int
	Message   string
}

type wireAddress struct {
	Email string
	Name  *string
}

// wireSummary is one message of GET /messages/outbound.
type wireSummary struct {
	Tag           string
	MessageID     string
	MessageStream string
	To            []wireAddress
	Cc            []wireAddress
	Bcc           []wireAddress
	Recipients    []string
	ReceivedAt    string
	From          string
	Subject       string
	Attachments   []string
	Status        string
	TrackOpens    bool
	TrackLinks    string
	Metadata      map[string]string
	Sandboxed     bool
}

type wireSearchResult struct {
	TotalCount int
	Messages   []wireSummary
}

type wireEvent struct {
	Recipient  string
	Type       string
	ReceivedAt string
	Details    map[string]string
}

// wireDetails is the body of GET /messages/outbound/{id}/details.
type wireDetails struct {
	TextBody string
	HtmlBody string
	Body     string
	wireSummary
	MessageEvents []wireEvent
}

// wireBounce is one bounce record.
type wireBounce struct {
	RecordType    string
	ID            int64
	Type          string
	TypeCode      int
	Name          string
	Tag           string
	MessageID     string
	ServerID      int
	MessageStream string
	Description   string
	Details       string
	Email         string
	From          string
	BouncedAt     string
	DumpAvailable bool
	Inactive      bool
	CanActivate   bool
	Subject       string
	Content       string `json:",omitempty"`
}

type wireBounceList struct {
	TotalCount int
	Bounces    []wireBounce
}

type wireSuppression struct {
	EmailAddress      string
	SuppressionReason string
	Origin            string
	CreatedAt         string
}

type wireSuppressionDump struct {
	Suppressions []wireSuppression
}

// kv is one metadata pair.
type kv struct{ Key, Value string }

// metadata decodes a JSON object of string values, keeping the pairs in
// order and remembering a key that repeats (compared case-insensitively),
// which encoding/json's map decoding would silently merge.
type metadata struct {
	pairs  []kv
	dupKey string
}

// errMetadataType reports a Metadata value that is not an object of strings.
var errMetadataType = errors.New("metadata must be an object of string values")

// UnmarshalJSON reads the object with a small scanner instead of a
// json.Decoder: metadata is on every message of a batch, and the token API
// costs more than the rest of the message. encoding/json has already checked
// that b is one well-formed JSON value.
func (m *metadata) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*m = metadata{}
		return nil
	}
	if len(b) < 2 || b[0] != '{' {
		return errMetadataType
	}
	var out metadata
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != '}' {
		key, n, err := scanString(b, i)
		if err != nil {
			return err
		}
		i = skipSpace(b, n)
		if i >= len(b) || b[i] != ':' {
			return errMetadataType
		}
		i = skipSpace(b, i+1)
		val, n, err := scanString(b, i)
		if err != nil {
			return err
		}
		i = skipSpace(b, n)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		if out.dupKey == "" {
			for _, p := range out.pairs {
				if strings.EqualFold(p.Key, key) {
					out.dupKey = key
					break
				}
			}
		}
		out.pairs = append(out.pairs, kv{key, val})
	}
	*m = out
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the JSON string starting at b[i] and returns it and the
// index after it. A value that is not a string is errMetadataType.
func scanString(b []byte, i int) (string, int, error) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, errMetadataType
	}
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++ // skip the escaped character
		case '"':
			if !escaped {
				return string(b[i+1 : j]), j + 1, nil
			}
			var str string
			if err := json.Unmarshal(b[i:j+1], &str); err != nil {
				return "", 0, err
			}
			return str, j + 1, nil
		}
	}
	return "", 0, errMetadataType
}

// decodeError classifies a JSON decoding failure into Postmark's codes:
// 402 for malformed JSON, 403 for a field that is unknown or has the wrong
// type (naming the field).
func decodeError(err error) (code int, msg string) {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return codeInvalidField, fmt.Sprintf("Invalid request field(s): %s.", lastField(typeErr.Field))
	case errors.Is(err, errMetadataType):
		return codeInvalidField, "Invalid request field(s): Metadata."
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return codeInvalidField, fmt.Sprintf("Invalid request field(s): %s.", name)
	default:
		return codeInvalidJSON, "Received invalid JSON input."
	}
}

// lastField turns encoding/json's dotted field path ("Messages.0.To") into
// the name of the offending field.
func lastField(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	if path == "" {
		return "(body)"
	}
	return path
}

// Time formats.
const (
	// wireTimeLayout is Postmark's documented time stamp: seven fractional
	// digits and a numeric offset.
	wireTimeLayout = "2006-01-02T15:04:05.0000000-07:00"
)

// eastern is US Eastern time, in which Postmark reports time stamps and
// reads search dates. Its data comes from time/tzdata (imported in doc.go) so
// the simulator behaves the same on machines without a zoneinfo database.
var eastern = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		// Should never happen because time/tzdata is embedded; keep a fixed
		// EST offset rather than failing.
		return time.FixedZone("EST", -5*3600)
	}
	return loc
}()

func formatTime(t time.Time) string {
	return t.In(eastern).Format(wireTimeLayout)
}
