package postmark

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var est = time.FixedZone("", -5*60*60)

func TestSendEmail(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithUserAgent("postform/test"))
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testHeaders(t, r, "postform/test")
		testBody(t, r, `{"From":"Joe <joe@example.com>","To":"ann@example.com","Subject":"Hi & bye",`+
			`"HtmlBody":"<p>Hello</p>","TextBody":"Hello","Headers":[{"Name":"X-Campaign","Value":"c1"}],`+
			`"TrackOpens":false,"TrackLinks":"None","Metadata":{"a":"1","pf_id":"abc"},`+
			`"Attachments":[{"Name":"a.txt","Content":"aGk=","ContentType":"text/plain"}],"MessageStream":"outbound"}`)
		writeJSON(w, 200, fixture(t, "send-response.json"))
	})

	got, err := c.SendEmail(context.Background(), Message{
		From:          "Joe <joe@example.com>",
		To:            "ann@example.com",
		Subject:       "Hi & bye",
		HtmlBody:      "<p>Hello</p>",
		TextBody:      "Hello",
		Headers:       []Header{{Name: "X-Campaign", Value: "c1"}},
		TrackOpens:    ptr(false),
		TrackLinks:    "None",
		Metadata:      map[string]string{"pf_id": "abc", "a": "1"},
		Attachments:   []Attachment{{Name: "a.txt", Content: "aGk=", ContentType: "text/plain"}},
		MessageStream: "outbound",
	})
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	want := SendResult{
		To:          "receiver@example.com",
		SubmittedAt: time.Date(2014, 2, 17, 7, 25, 1, 417864500, est),
		MessageID:   "0a129aee-e1cd-480d-b08d-4f48548ff48d",
		ErrorCode:   0,
		Message:     "OK",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result mismatch (-want +got):\n%s", diff)
	}
}

// TestSendEmailMinimal: every optional field is left out, From and To are
// always present, and a nil TrackOpens is not sent at all.
func TestSendEmailMinimal(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/email", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, `{"From":"","To":""}`)
		writeJSON(w, 200, fixture(t, "send-response-test-token.json"))
	})
	got, err := c.SendEmail(context.Background(), Message{Headers: []Header{}, Metadata: map[string]string{}})
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	want := SendResult{
		To:          "postmark-sdk-smoke-recipient@example.invalid",
		SubmittedAt: time.Date(2026, 9, 30, 16, 3, 52, 789275300, time.UTC),
		MessageID:   "4bba52b4-8a54-4eb8-b7d3-22fe251ffc99",
		Message:     "Test job accepted",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result mismatch (-want +got):\n%s", diff)
	}
}

func TestSendBatch(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/email/batch", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testHeaders(t, r, DefaultUserAgent)
		testBody(t, r, `[{"From":"s@example.com","To":"receiver1@example.com","TextBody":"1","TrackOpens":true,"Metadata":{"pf_id":"p1"}},`+
			`{"From":"s@example.com","To":"example@example.com","TextBody":"2","Metadata":{"pf_id":"p2"}},`+
			`{"From":"s@example.com","To":"not-an-address","TextBody":"3","Metadata":{"pf_id":"p3"}},`+
			`{"From":"s@example.com","To":"receiver2@example.com","Tag":"t","TextBody":"4","Metadata":{"pf_id":"p4"},"MessageStream":"broadcast"}]`)
		writeJSON(w, 200, fixture(t, "batch-response.json"))
	})
	msgs := []Message{
		{From: "s@example.com", To: "receiver1@example.com", TextBody: "1", TrackOpens: ptr(true), Metadata: map[string]string{"pf_id": "p1"}},
		{From: "s@example.com", To: "example@example.com", TextBody: "2", Metadata: map[string]string{"pf_id": "p2"}},
		{From: "s@example.com", To: "not-an-address", TextBody: "3", Metadata: map[string]string{"pf_id": "p3"}},
		{From: "s@example.com", To: "receiver2@example.com", Tag: "t", TextBody: "4", Metadata: map[string]string{"pf_id": "p4"}, MessageStream: "broadcast"},
	}
	got, err := c.SendBatch(context.Background(), msgs)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	submitted := time.Date(2010, 11, 26, 12, 1, 5, 179474800, est)
	want := []SendResult{
		{To: "receiver1@example.com", SubmittedAt: submitted, MessageID: "b7bc2f4a-e38e-4336-af7d-e6c392c2f817", Message: "OK"},
		{ErrorCode: 406, Message: "You tried to send to a recipient that has been marked as inactive. Found inactive addresses: example@example.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression. "},
		{ErrorCode: 300, Message: "Invalid 'To' address: 'not-an-address'."},
		{To: "receiver2@example.com", SubmittedAt: submitted, MessageID: "e2ecbbfc-fe12-463d-b933-9fe22915106d", Message: "OK"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
}

func TestSendBatchEmptySendsNothing(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t) // any request would hit the failing catch-all
	res, err := c.SendBatch(context.Background(), nil)
	if err != nil || res == nil || len(res) != 0 {
		t.Errorf("SendBatch(nil) = %v, %v; want empty non-nil slice and no error", res, err)
	}
	res, err = c.SendBatchWithTemplates(context.Background(), []TemplatedMessage{})
	if err != nil || res == nil || len(res) != 0 {
		t.Errorf("SendBatchWithTemplates(empty) = %v, %v; want empty non-nil slice and no error", res, err)
	}
}

// TestSendBatchCountMismatch: results are matched by position, so an
// answer with a different number of items is an ambiguous error.
func TestSendBatchCountMismatch(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`[{"ErrorCode":0,"Message":"OK","MessageID":"x"}]`, `[]`, `null`} {
		c, mux, _ := setup(t)
		mux.HandleFunc("/email/batch", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, []byte(body))
		})
		res, err := c.SendBatch(context.Background(), []Message{{From: "a@x.test", To: "b@x.test"}, {From: "a@x.test", To: "c@x.test"}})
		var rErr *ResponseError
		if !asErr(err, &rErr) || rErr.StatusCode != 200 {
			t.Fatalf("body %s: err = %v, want *ResponseError with status 200", body, err)
		}
		if res != nil {
			t.Errorf("body %s: results = %v, want nil", body, res)
		}
		if got := Classify(err); got != ClassAmbiguous {
			t.Errorf("body %s: Classify = %v, want ambiguous", body, got)
		}
		noToken(t, err)
	}
}

func TestSendWithTemplate(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/email/withTemplate", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testHeaders(t, r, DefaultUserAgent)
		testBody(t, r, `{"TemplateId":42,"TemplateModel":{"name":"Ann","items":[1,2]},"InlineCss":false,`+
			`"From":"s@example.com","To":"ann@example.com","Cc":"c@example.com","Bcc":"b@example.com","Tag":"welcome",`+
			`"ReplyTo":"r@example.com","TrackOpens":true,"TrackLinks":"HtmlOnly","Metadata":{"pf_id":"x"},"MessageStream":"broadcast"}`)
		writeJSON(w, 200, fixture(t, "send-response.json"))
	})
	got, err := c.SendWithTemplate(context.Background(), TemplatedMessage{
		TemplateID:    42,
		TemplateModel: json.RawMessage(`{"name":"Ann","items":[1,2]}`),
		InlineCSS:     ptr(false),
		From:          "s@example.com",
		To:            "ann@example.com",
		Cc:            "c@example.com",
		Bcc:           "b@example.com",
		Tag:           "welcome",
		ReplyTo:       "r@example.com",
		TrackOpens:    ptr(true),
		TrackLinks:    "HtmlOnly",
		Metadata:      map[string]string{"pf_id": "x"},
		MessageStream: "broadcast",
	})
	if err != nil {
		t.Fatalf("SendWithTemplate: %v", err)
	}
	if got.MessageID != "0a129aee-e1cd-480d-b08d-4f48548ff48d" || got.ErrorCode != 0 {
		t.Errorf("result = %+v, want the fixture's MessageID and ErrorCode 0", got)
	}
}

func TestSendWithTemplateInvalidModel(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t) // nothing may be sent
	_, err := c.SendWithTemplate(context.Background(), TemplatedMessage{TemplateAlias: "a", TemplateModel: json.RawMessage(`{not json`)})
	if err == nil {
		t.Fatal("SendWithTemplate with an invalid model succeeded")
	}
	if got := Classify(err); got != ClassRejected {
		t.Errorf("Classify = %v, want rejected (nothing was sent)", got)
	}
	if IsRetryable(err) {
		t.Error("IsRetryable = true for an encoding error")
	}
}

func TestSendBatchWithTemplates(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/email/batchWithTemplates", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testHeaders(t, r, DefaultUserAgent)
		testBody(t, r, `{"Messages":[`+
			`{"TemplateAlias":"welcome","TemplateModel":{"n":1},"From":"s@example.com","To":"a@example.com"},`+
			`{"TemplateAlias":"welcome","TemplateModel":{"n":2},"From":"s@example.com","To":"b@example.com","TrackOpens":false}]}`)
		writeJSON(w, 200, []byte(`[{"ErrorCode":0,"Message":"OK","MessageID":"m1","SubmittedAt":"2026-03-01T10:00:00.1234567Z","To":"a@example.com"},`+
			`{"ErrorCode":1101,"Message":"The Template's 'Alias' associated with this request is not valid or was not found."}]`))
	})
	got, err := c.SendBatchWithTemplates(context.Background(), []TemplatedMessage{
		{TemplateAlias: "welcome", TemplateModel: json.RawMessage(`{"n":1}`), From: "s@example.com", To: "a@example.com"},
		{TemplateAlias: "welcome", TemplateModel: json.RawMessage(`{"n":2}`), From: "s@example.com", To: "b@example.com", TrackOpens: ptr(false)},
	})
	if err != nil {
		t.Fatalf("SendBatchWithTemplates: %v", err)
	}
	want := []SendResult{
		{To: "a@example.com", SubmittedAt: time.Date(2026, 3, 1, 10, 0, 0, 123456700, time.UTC), MessageID: "m1", Message: "OK"},
		{ErrorCode: 1101, Message: "The Template's 'Alias' associated with this request is not valid or was not found."},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
}

// TestPreparedBatch: a batch encoded ahead sends the same body as SendBatch,
// once; a second send or an empty batch is refused, and Release is safe
// at any point.
func TestPreparedBatch(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	calls := 0
	mux.HandleFunc("/email/batch", func(w http.ResponseWriter, r *http.Request) {
		calls++
		testBody(t, r, `[{"From":"s@example.com","To":"a@example.com","TextBody":"1"}]`)
		writeJSON(w, 200, []byte(`[{"To":"a@example.com","SubmittedAt":"2026-11-25T10:00:00Z","MessageID":"m1","ErrorCode":0,"Message":"OK"}]`))
	})
	pb, err := c.PrepareBatch([]Message{{From: "s@example.com", To: "a@example.com", TextBody: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.SendPrepared(context.Background(), pb)
	if err != nil || len(res) != 1 || res[0].MessageID != "m1" {
		t.Fatalf("SendPrepared = %+v, %v", res, err)
	}
	if _, err := c.SendPrepared(context.Background(), pb); err == nil {
		t.Error("a prepared batch was sent twice")
	}
	pb.Release()
	pb.Release()
	if calls != 1 {
		t.Errorf("%d requests, want 1", calls)
	}
	unsent, err := c.PrepareBatchWithTemplates([]TemplatedMessage{{TemplateAlias: "x", From: "s@example.com", To: "a@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	unsent.Release()
	if _, err := c.PrepareBatch(nil); err == nil {
		t.Error("PrepareBatch(nil) succeeded")
	}
}
