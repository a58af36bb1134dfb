package postmarktest

import (
	"github.com/postform/postform/internal/jsonstr"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reqBufPool holds request and scratch buffers for the send endpoints.
// Buffers above maxPooledBuf are left to the garbage collector.
var reqBufPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledBuf = 8 << 20

func getBuf(n int) *[]byte {
	b := reqBufPool.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, 0, n)
	}
	*b = (*b)[:0]
	return b
}

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		reqBufPool.Put(b)
	}
}

// readBody reads the whole request body, at most limit bytes, into a
// pooled buffer. It returns what was read even with an error.
func readBody(r *http.Request, limit int64) (*[]byte, error) {
	size := 512
	if r.ContentLength > 0 && r.ContentLength < limit {
		size = int(r.ContentLength) + 1 // room to see the end without growing
	}
	buf := getBuf(size)
	body := http.MaxBytesReader(nil, r.Body, limit)
	b := *buf
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			*buf = b
			if err == io.EOF {
				err = nil
			}
			return buf, err
		}
	}
}

// msgPool holds the message slices of batch requests.
var msgPool = sync.Pool{New: func() any { return new([]wireMessage) }}

// errReader replays a read error after the bytes read before it.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// decodeBody reads the request body, at most limit bytes, and decodes it.
// fast, if not nil, tries the reflection-free decoder (see fastjson.go)
// and stores its result only when it succeeds; otherwise the body is
// decoded into v with encoding/json and the documented field set only. It
// returns status 0 on success, or the HTTP status and error body to
// answer, and a function that releases the buffers the decoded values may
// point into.
func (s *Server) decodeBody(r *http.Request, limit int64, v any, fast func(*fastDecoder) bool) (int, any, func()) {
	buf, readErr := readBody(r, limit)
	data := *buf
	release := func() { putBuf(buf) }
	if readErr == nil && fast != nil {
		scratch := getBuf(len(data))
		d := fastDecoder{in: data, scratch: *scratch, s: s}
		if fast(&d) {
			return 0, nil, func() { putBuf(scratch); putBuf(buf) }
		}
		putBuf(scratch)
	}
	var in io.Reader = bytes.NewReader(data)
	if readErr != nil {
		in = io.MultiReader(in, errReader{readErr})
	}
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Anything but white space after the value is invalid JSON.
		if _, err = dec.Token(); err == io.EOF {
			return 0, nil, release
		} else if err == nil {
			err = errors.New("trailing data after the JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge, apiError{0, fmt.Sprintf("The request body exceeds the %d MB limit.", limit>>20)}, release
	}
	if errors.Is(err, io.EOF) {
		return http.StatusUnprocessableEntity, apiError{codeInvalidJSON, "Received invalid JSON input."}, release
	}
	code, msg := decodeError(err)
	return http.StatusUnprocessableEntity, apiError{code, msg}, release
}

// sendEndpoint reads and checks a send request (while the latency runs)
// and returns what is left to do once it has passed.
type sendEndpoint func(r *http.Request) pendingSend

// pendingSend is a checked send request awaiting acceptance: either a
// final answer (status non-zero) or messages to accept.
type pendingSend struct {
	status  int
	body    any
	ps      []prepared
	vs      []verdict
	single  bool
	release func() // returns the request buffers; may be nil
}

func answer(status int, body any, release func()) pendingSend {
	return pendingSend{status: status, body: body, release: release}
}

// commit accepts a pending send and returns the answer.
func (s *Server) commit(p pendingSend) (int, any) {
	if p.status != 0 {
		return p.status, p.body
	}
	res := s.accept(p.ps, p.vs, !p.single)
	if !p.single {
		return http.StatusOK, sendResults(res)
	}
	if res[0].ErrorCode != codeOK {
		return http.StatusUnprocessableEntity, apiError{res[0].ErrorCode, res[0].Message}
	}
	return http.StatusOK, res[0]
}

// handleEmail serves POST /email.
// https://postmarkapp.com/developer/api/email-api
func (s *Server) handleEmail(r *http.Request) pendingSend {
	var m wireMessage
	status, body, release := s.decodeBody(r, maxMessageBytes, &m, func(d *fastDecoder) bool {
		var fm wireMessage
		if d.message(&fm) && d.end() {
			m = fm
			return true
		}
		return false
	})
	if status != 0 {
		return answer(status, body, release)
	}
	var p prepared
	v := s.prepare(&p, &m, nil)
	return s.pendingOne(p, v, release)
}

// handleWithTemplate serves POST /email/withTemplate.
// https://postmarkapp.com/developer/api/templates-api
func (s *Server) handleWithTemplate(r *http.Request) pendingSend {
	var m wireTemplateMessage
	status, body, release := s.decodeBody(r, maxMessageBytes, &m, nil)
	if status != 0 {
		return answer(status, body, release)
	}
	var p prepared
	v := s.prepareTemplated(&p, &m, nil)
	return s.pendingOne(p, v, release)
}

// pendingOne finishes checking a single send: 413 for an oversized
// message, otherwise the message awaits acceptance (which answers 422 with
// the ErrorCode on failure, 200 with the send result on success).
func (s *Server) pendingOne(p prepared, v verdict, release func()) pendingSend {
	if v.code == codeTooLarge {
		return answer(http.StatusRequestEntityTooLarge, apiError{0, v.msg}, release)
	}
	return pendingSend{ps: []prepared{p}, vs: []verdict{v}, single: true, release: release}
}

// handleBatch serves POST /email/batch: a bare array of up to 500 messages,
// answered with per-item results in request order inside HTTP 200.
// https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails
func (s *Server) handleBatch(r *http.Request) pendingSend {
	var msgs []wireMessage
	pooled := msgPool.Get().(*[]wireMessage)
	status, body, release := s.decodeBody(r, maxRequestBytes, &msgs, func(d *fastDecoder) bool {
		m, ok := d.messages((*pooled)[:0])
		if ok {
			msgs, *pooled = m, m
		}
		return ok
	})
	releaseBufs := release
	release = func() {
		releaseBufs()
		if cap(*pooled) <= maxBatch {
			clear((*pooled)[:cap(*pooled)])
			msgPool.Put(pooled)
		}
	}
	if status != 0 {
		return answer(status, body, release)
	}
	if len(msgs) > maxBatch {
		return answer(http.StatusUnprocessableEntity, apiError{codeBatchTooLarge, "You may only send up to 500 messages in a single batched request."}, release)
	}
	ps := make([]prepared, len(msgs))
	vs := make([]verdict, len(msgs))
	var memo fromMemo
	for i := range msgs {
		vs[i] = s.prepare(&ps[i], &msgs[i], &memo)
		if vs[i].code == codeTooLarge {
			return answer(http.StatusRequestEntityTooLarge, apiError{0, fmt.Sprintf("Message %d: %s", i, vs[i].msg)}, release)
		}
	}
	return pendingSend{ps: ps, vs: vs, release: release}
}

// handleBatchWithTemplates serves POST /email/batchWithTemplates, whose
// body is {"Messages":[...]}.
// https://postmarkapp.com/developer/api/templates-api
func (s *Server) handleBatchWithTemplates(r *http.Request) pendingSend {
	var batch wireTemplateBatch
	status, body, release := s.decodeBody(r, maxRequestBytes, &batch, nil)
	if status != 0 {
		return answer(status, body, release)
	}
	if batch.Messages == nil {
		return answer(http.StatusUnprocessableEntity, apiError{codeInvalidRequest, "The 'Messages' field is required."}, release)
	}
	if len(batch.Messages) > maxBatch {
		return answer(http.StatusUnprocessableEntity, apiError{codeBatchTooLarge, "You may only send up to 500 messages in a single batched request."}, release)
	}
	ps := make([]prepared, len(batch.Messages))
	vs := make([]verdict, len(batch.Messages))
	var memo fromMemo
	for i := range batch.Messages {
		vs[i] = s.prepareTemplated(&ps[i], &batch.Messages[i], &memo)
		if vs[i].code == codeTooLarge {
			return answer(http.StatusRequestEntityTooLarge, apiError{0, vs[i].msg}, release)
		}
	}
	return pendingSend{ps: ps, vs: vs, release: release}
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

// sendResults is the answer of a batch send.
type sendResults []sendResult

// appendJSON writes rs as encoding/json would, without reflection.
func (rs sendResults) appendJSON(dst []byte) []byte {
	if rs == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = rs[i].appendJSON(dst)
	}
	return append(dst, ']')
}

// appendJSON writes r as encoding/json would, without reflection.
func (r sendResult) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if r.To != "" {
		dst = append(dst, `"To":`...)
		dst = jsonstr.Append(dst, r.To)
		dst = append(dst, ',')
	}
	if r.SubmittedAt != "" {
		dst = append(dst, `"SubmittedAt":`...)
		dst = jsonstr.Append(dst, r.SubmittedAt)
		dst = append(dst, ',')
	}
	if r.MessageID != "" {
		dst = append(dst, `"MessageID":`...)
		dst = jsonstr.Append(dst, r.MessageID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"ErrorCode":`...)
	dst = strconv.AppendInt(dst, int64(r.ErrorCode), 10)
	dst = append(dst, `,"Message":`...)
	dst = jsonstr.Append(dst, r.Message)
	return append(dst, '}')
}
