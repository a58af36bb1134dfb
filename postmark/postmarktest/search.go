package postmarktest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxPageEnd is the documented limit on count+offset for searches.
const maxPageEnd = 10000

// query holds a request's query parameters with lower-cased names (Postmark
// matches them case-insensitively) and the first value of each.
type query map[string]string

func queryOf(r *http.Request) query {
	q := make(query)
	for k, vs := range r.URL.Query() {
		lk := strings.ToLower(k)
		if _, seen := q[lk]; !seen && len(vs) > 0 {
			q[lk] = vs[0]
		}
	}
	return q
}

// page parses count and offset: both required, count in 1..500, offset ≥
// 0, count+offset ≤ 10,000. The error message is empty when they are valid.
func (q query) page() (count, offset int, msg string) {
	c, okc := q["count"]
	o, oko := q["offset"]
	if !okc || !oko {
		return 0, 0, "The 'count' and 'offset' parameters are required."
	}
	count, err1 := strconv.Atoi(c)
	offset, err2 := strconv.Atoi(o)
	switch {
	case err1 != nil || count < 1 || count > maxBatch:
		return 0, 0, "The 'count' parameter must be a number between 1 and 500."
	case err2 != nil || offset < 0:
		return 0, 0, "The 'offset' parameter must be a non-negative number."
	case count+offset > maxPageEnd:
		return 0, 0, "The sum of 'count' and 'offset' must not exceed 10000."
	}
	return count, offset, ""
}

// dateRange parses fromdate and todate, read in US Eastern time, as an
// inclusive range of Unix nanoseconds. A bare date as todate covers that
// whole day.
func (q query) dateRange() (from, to int64, msg string) {
	from, to = -1<<63, 1<<63-1
	if v, ok := q["fromdate"]; ok && v != "" {
		t, _, err := parseEastern(v)
		if err != nil {
			return 0, 0, "Invalid 'fromdate': " + v
		}
		from = t.UnixNano()
	}
	if v, ok := q["todate"]; ok && v != "" {
		t, day, err := parseEastern(v)
		if err != nil {
			return 0, 0, "Invalid 'todate': " + v
		}
		if day {
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		to = t.UnixNano()
	}
	return from, to, ""
}

func parseEastern(v string) (t time.Time, dateOnly bool, err error) {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err = time.ParseInLocation(layout, v, eastern); err == nil {
			return t, layout == "2006-01-02", nil
		}
	}
	if t, err = time.Parse(time.RFC3339, v); err == nil {
		return t, false, nil
	}
	return t, false, err
}

// handleSearch serves GET /messages/outbound.
// https://postmarkapp.com/developer/api/messages-api
func (s *Server) handleSearch(r *http.Request) (int, any) {
	q := queryOf(r)
	count, offset, msg := q.page()
	if msg != "" {
		return http.StatusUnprocessableEntity, apiError{codeQueryInvalid, msg}
	}
	from, to, msg := q.dateRange()
	if msg != "" {
		return http.StatusUnprocessableEntity, apiError{codeQueryInvalid, msg}
	}
	stream := q["messagestream"]
	if stream == "" {
		stream = "outbound"
	}
	var metaK, metaV string
	metaFilters := 0
	for k, v := range q {
		if strings.HasPrefix(k, "metadata_") {
			metaFilters++
			metaK, metaV = strings.TrimPrefix(k, "metadata_"), v
		}
	}
	if metaFilters > 1 {
		return http.StatusUnprocessableEntity, apiError{codeQueryInvalid, "Only one metadata filter is allowed per search."}
	}
	status := strings.ToLower(q["status"])
	switch status {
	case "", "sent", "processed", "queued":
	default:
		return http.StatusUnprocessableEntity, apiError{codeQueryInvalid, fmt.Sprintf("Invalid 'status': %s.", q["status"])}
	}

	now := s.now()
	visibleBefore := now - int64(s.opts.SearchLag)
	match := func(m *stored) bool {
		if m.receivedAt > visibleBefore || m.stream != stream || m.receivedAt < from || m.receivedAt > to {
			return false
		}
		if status == "queued" {
			return false // every simulated message is handed to the recipient's server at once
		}
		if v, ok := q["tag"]; ok && v != "" && !strings.EqualFold(m.tag, v) {
			return false
		}
		if v, ok := q["fromemail"]; ok && v != "" && !strings.EqualFold(m.fromAddr, v) {
			return false
		}
		if v, ok := q["subject"]; ok && v != "" && !strings.Contains(strings.ToLower(m.subject), strings.ToLower(v)) {
			return false
		}
		if v, ok := q["recipient"]; ok && v != "" {
			found := false
			for _, rc := range m.rcpts {
				if strings.EqualFold(rc.Email, v) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}

	res := wireSearchResult{Messages: []wireSummary{}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	collect := func(m *stored) {
		if !match(m) {
			return
		}
		if res.TotalCount >= offset && len(res.Messages) < count {
			res.Messages = append(res.Messages, summaryOf(m))
		}
		res.TotalCount++
	}
	if metaFilters == 1 {
		// The metadata index makes reconciliation lookups O(1) in the number
		// of stored messages. Newest first: walk the hits backwards.
		hits := s.store.lookupMeta(metaK, metaV)
		for i := len(hits) - 1; i >= 0; i-- {
			collect(s.store.at(hits[i]))
		}
		return http.StatusOK, res
	}
	for i := int64(s.store.n) - 1; i >= 0; i-- {
		collect(s.store.at(uint32(i)))
	}
	return http.StatusOK, res
}

// summaryOf renders the search summary of a stored message.
func summaryOf(m *stored) wireSummary {
	w := wireSummary{
		Tag: m.tag, MessageID: formatID(m.id), MessageStream: m.stream,
		To: []wireAddress{}, Cc: []wireAddress{}, Bcc: []wireAddress{},
		Recipients: make([]string, 0, len(m.rcpts)),
		ReceivedAt: formatTime(time.Unix(0, m.receivedAt)),
		From:       m.from, Subject: m.subject,
		Attachments: append([]string{}, m.attachments...),
		Status:      "Sent", TrackOpens: m.trackOpens, TrackLinks: m.trackLinks,
		Metadata: make(map[string]string, len(m.meta)),
	}
	if w.TrackLinks == "" {
		w.TrackLinks = "None"
	}
	for _, r := range m.rcpts {
		a := wireAddress{Email: r.Email}
		if r.Name != "" {
			name := r.Name
			a.Name = &name
		}
		switch r.Kind {
		case kindTo:
			w.To = append(w.To, a)
		case kindCc:
			w.Cc = append(w.Cc, a)
		default:
			w.Bcc = append(w.Bcc, a)
		}
		w.Recipients = append(w.Recipients, r.Email)
	}
	for _, e := range m.meta {
		w.Metadata[e.Key] = e.Value
	}
	return w
}

// handleDetails serves GET /messages/outbound/{id}/details. A message not
// yet visible (SearchLag) is "not found", like an unknown one.
// https://postmarkapp.com/developer/api/messages-api
func (s *Server) handleDetails(r *http.Request) (int, any) {
	notFound := apiError{codeMessageNotFound, "This message was not found."}
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		return http.StatusUnprocessableEntity, notFound
	}
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx, ok := s.store.byID[id]
	if !ok {
		return http.StatusUnprocessableEntity, notFound
	}
	m := s.store.at(idx)
	if m.receivedAt+int64(s.opts.SearchLag) > now {
		return http.StatusUnprocessableEntity, notFound
	}
	text := s.store.body(m.text)
	d := wireDetails{
		TextBody: text, HtmlBody: s.store.body(m.html),
		Body:          rawSource(m, text),
		wireSummary:   summaryOf(m),
		MessageEvents: s.eventsFor(m, now),
	}
	return http.StatusOK, d
}

// rawSource synthesizes a short SMTP source for the details' Body.
func rawSource(m *stored, text string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", m.from, m.to)
	if m.cc != "" {
		fmt.Fprintf(&b, "Cc: %s\r\n", m.cc)
	}
	fmt.Fprintf(&b, "Subject: %s\r\nMessage-ID: <%s@sim.postmarkapp.invalid>\r\n\r\n%s", m.subject, formatID(m.id), text)
	return b.String()
}

// handleBounces serves GET /bounces.
// https://postmarkapp.com/developer/api/bounce-api
func (s *Server) handleBounces(r *http.Request) (int, any) {
	q := queryOf(r)
	count, offset, msg := q.page()
	if msg == "" {
		var from, to int64
		from, to, msg = q.dateRange()
		if msg == "" {
			return s.listBounces(q, count, offset, from, to)
		}
	}
	return http.StatusUnprocessableEntity, apiError{codeBounceQueryInvalid, msg}
}

func (s *Server) listBounces(q query, count, offset int, from, to int64) (int, any) {
	stream := q["messagestream"]
	if stream == "" {
		stream = "outbound"
	}
	typ := q["type"]
	if typ != "" {
		known := false
		for _, k := range bounceKinds {
			if strings.EqualFold(k.Type, typ) {
				known = true
			}
		}
		if !known && !strings.EqualFold(typ, "SpamComplaint") {
			return http.StatusUnprocessableEntity, apiError{codeBounceQueryInvalid, fmt.Sprintf("Invalid bounce 'type': %s.", typ)}
		}
	}
	var inactive *bool
	if v := q["inactive"]; v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return http.StatusUnprocessableEntity, apiError{codeBounceQueryInvalid, "The 'inactive' parameter must be true or false."}
		}
		inactive = &b
	}
	now := s.now()
	res := wireBounceList{Bounces: []wireBounce{}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.store.bounces) - 1; i >= 0; i-- {
		b := &s.store.bounces[i]
		if b.at > now || b.at < from || b.at > to {
			continue
		}
		m := s.store.at(b.msg)
		switch {
		case m.stream != stream,
			typ != "" && !strings.EqualFold(b.kind.Type, typ),
			inactive != nil && b.inactive != *inactive,
			q["emailfilter"] != "" && !strings.Contains(strings.ToLower(b.email), strings.ToLower(q["emailfilter"])),
			q["tag"] != "" && !strings.EqualFold(m.tag, q["tag"]),
			q["messageid"] != "" && !strings.EqualFold(formatID(m.id), q["messageid"]):
			continue
		}
		if res.TotalCount >= offset && len(res.Bounces) < count {
			res.Bounces = append(res.Bounces, bounceOf(b, m))
		}
		res.TotalCount++
	}
	return http.StatusOK, res
}

func bounceOf(b *bounceRec, m *stored) wireBounce {
	return wireBounce{
		RecordType: "Bounce", ID: b.id, Type: b.kind.Type, TypeCode: b.kind.Code, Name: b.kind.Name,
		Tag: m.tag, MessageID: formatID(m.id), ServerID: 1, MessageStream: m.stream,
		Description: b.kind.Description, Details: "smtp;550 simulated bounce (" + b.kind.Type + ")",
		Email: b.email, From: m.fromAddr, BouncedAt: formatTime(time.Unix(0, b.at)),
		DumpAvailable: false, Inactive: b.inactive, CanActivate: true, Subject: m.subject,
	}
}

// handleBounce serves GET /bounces/{id}.
// https://postmarkapp.com/developer/api/bounce-api
func (s *Server) handleBounce(r *http.Request) (int, any) {
	notFound := apiError{codeBounceNotFound, "This bounce was not found."}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return http.StatusUnprocessableEntity, notFound
	}
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.store.bounceByID[id]
	if !ok || s.store.bounces[i].at > now {
		return http.StatusUnprocessableEntity, notFound
	}
	b := &s.store.bounces[i]
	out := bounceOf(b, s.store.at(b.msg))
	out.Content = "Simulated bounce for " + b.email + " (" + b.kind.Type + ")."
	return http.StatusOK, out
}

// handleSuppressions serves GET /message-streams/{stream}/suppressions/dump.
// https://postmarkapp.com/developer/api/suppressions-api
func (s *Server) handleSuppressions(r *http.Request) (int, any) {
	stream := r.PathValue("stream")
	if _, ok := s.streams[stream]; !ok {
		return http.StatusUnprocessableEntity, apiError{1226, "The message stream for the provided 'ID' was not found."}
	}
	q := queryOf(r)
	from, to, msg := q.dateRange()
	if msg != "" {
		return http.StatusUnprocessableEntity, apiError{codeQueryInvalid, msg}
	}
	now := s.now()
	s.mu.RLock()
	list := s.store.sortedSuppressions(stream, now)
	s.mu.RUnlock()
	out := wireSuppressionDump{Suppressions: []wireSuppression{}}
	for _, sup := range list {
		if sup.since > to || sup.since < from {
			continue
		}
		if v := q["suppressionreason"]; v != "" && !strings.EqualFold(v, sup.reason) {
			continue
		}
		if v := q["origin"]; v != "" && !strings.EqualFold(v, sup.origin) {
			continue
		}
		if v := q["emailaddress"]; v != "" && !strings.EqualFold(v, sup.email) {
			continue
		}
		out.Suppressions = append(out.Suppressions, wireSuppression{
			EmailAddress: sup.email, SuppressionReason: sup.reason, Origin: sup.origin,
			CreatedAt: formatTime(time.Unix(0, sup.since)),
		})
	}
	return http.StatusOK, out
}
