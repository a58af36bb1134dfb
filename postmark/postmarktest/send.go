package postmarktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// decodeBody decodes the request body into v with the documented field set
// only, within limit bytes. It returns status 0 on success, or the HTTP
// status and error body to answer.
func decodeBody(r *http.Request, limit int64, v any) (int, any) {
	body := http.MaxBytesReader(nil, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Anything but white space after the value is invalid JSON.
		if _, err = dec.Token(); err == io.EOF {
			return 0, nil
		} else if err == nil {
			err = errors.New("trailing data after the JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge, apiError{0, fmt.Sprintf("The request body exceeds the %d MB limit.", limit>>20)}
	}
	if errors.Is(err, io.EOF) {
		return http.StatusUnprocessableEntity, apiError{codeInvalidJSON, "Received invalid JSON input."}
	}
	code, msg := decodeError(err)
	return http.StatusUnprocessableEntity, apiError{code, msg}
}

// handleEmail serves POST /email.
// https://postmarkapp.com/developer/api/email-api
func (s *Server) handleEmail(r *http.Request) (int, any) {
	var m wireMessage
	if status, body := decodeBody(r, maxMessageBytes, &m); status != 0 {
		return status, body
	}
	p, v := s.prepare(&m, nil)
	return s.acceptOne(p, v)
}

// handleWithTemplate serves POST /email/withTemplate.
// https://postmarkapp.com/developer/api/templates-api
func (s *Server) handleWithTemplate(r *http.Request) (int, any) {
	var m wireTemplateMessage
	if status, body := decodeBody(r, maxMessageBytes, &m); status != 0 {
		return status, body
	}
	p, v := s.prepareTemplated(&m, nil)
	return s.acceptOne(p, v)
}

// acceptOne finishes a single send: 422 with the ErrorCode on failure, 200
// with the send result on success.
func (s *Server) acceptOne(p prepared, v verdict) (int, any) {
	if v.code == codeTooLarge {
		return http.StatusRequestEntityTooLarge, apiError{0, v.msg}
	}
	ps := []prepared{p}
	vs := []verdict{v}
	res := s.accept(ps, vs, false)
	if res[0].ErrorCode != codeOK {
		return http.StatusUnprocessableEntity, apiError{res[0].ErrorCode, res[0].Message}
	}
	return http.StatusOK, res[0]
}

// handleBatch serves POST /email/batch: a bare array of up to 500 messages,
// answered with per-item results in request order inside HTTP 200.
// https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails
func (s *Server) handleBatch(r *http.Request) (int, any) {
	var msgs []wireMessage
	if status, body := decodeBody(r, maxRequestBytes, &msgs); status != 0 {
		return status, body
	}
	if len(msgs) > maxBatch {
		return http.StatusUnprocessableEntity, apiError{codeBatchTooLarge, "You may only send up to 500 messages in a single batched request."}
	}
	ps := make([]prepared, len(msgs))
	vs := make([]verdict, len(msgs))
	var memo fromMemo
	for i := range msgs {
		ps[i], vs[i] = s.prepare(&msgs[i], &memo)
		if vs[i].code == codeTooLarge {
			return http.StatusRequestEntityTooLarge, apiError{0, fmt.Sprintf("Message %d: %s", i, vs[i].msg)}
		}
	}
	return http.StatusOK, s.accept(ps, vs, true)
}

// handleBatchWithTemplates serves POST /email/batchWithTemplates, whose
// body is {"Messages":[...]}.
// https://postmarkapp.com/developer/api/templates-api
func (s *Server) handleBatchWithTemplates(r *http.Request) (int, any) {
	var batch wireTemplateBatch
	if status, body := decodeBody(r, maxRequestBytes, &batch); status != 0 {
		return status, body
	}
	if batch.Messages == nil {
		return http.StatusUnprocessableEntity, apiError{codeInvalidRequest, "The 'Messages' field is required."}
	}
	if len(batch.Messages) > maxBatch {
		return http.StatusUnprocessableEntity, apiError{codeBatchTooLarge, "You may only send up to 500 messages in a single batched request."}
	}
	ps := make([]prepared, len(batch.Messages))
	vs := make([]verdict, len(batch.Messages))
	var memo fromMemo
	for i := range batch.Messages {
		ps[i], vs[i] = s.prepareTemplated(&batch.Messages[i], &memo)
		if vs[i].code == codeTooLarge {
			return http.StatusRequestEntityTooLarge, apiError{0, vs[i].msg}
		}
	}
	return http.StatusOK, s.accept(ps, vs, true)
}

// accept stores the valid messages of one request under a single short
// critical section and returns one result per message, in order. Messages
// whose recipients are all inactive on their stream get ErrorCode 406.
func (s *Server) accept(ps []prepared, vs []verdict, batch bool) []sendResult {
	res := make([]sendResult, len(ps))
	ids := make([][16]byte, len(ps))
	s.mu.Lock()
	now := s.now()
	for i := range ps {
		if vs[i].code != codeOK {
			continue
		}
		mask, inactive := s.store.inactive(&ps[i], now)
		if len(inactive) == len(ps[i].rcpts) {
			vs[i] = inactiveVerdict(inactive, batch)
			continue
		}
		ids[i] = s.store.at(s.store.add(&ps[i], now, s.opts.DeliveryDelay, mask)).id
	}
	s.mu.Unlock()

	submitted := formatTime(time.Unix(0, now))
	for i := range ps {
		if vs[i].code != codeOK {
			res[i] = sendResult{ErrorCode: vs[i].code, Message: vs[i].msg}
			continue
		}
		res[i] = sendResult{
			To: ps[i].to, SubmittedAt: submitted, MessageID: formatID(ids[i]),
			ErrorCode: codeOK, Message: "OK",
		}
	}
	return res
}

// inactiveVerdict builds the 406 answer. Postmark words it differently for
// a single send and a batch item (reference §2, §3); both are kept.
func inactiveVerdict(addrs []string, batch bool) verdict {
	list := strings.Join(addrs, ", ")
	if batch {
		return fail(codeInactive, "You tried to send to a recipient that has been marked as inactive. Found inactive addresses: %s. "+
			"Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression. ", list)
	}
	return fail(codeInactive, "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: %s. "+
		"Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.", list)
}
