package postmarktest

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// bounceTestingDomain is Postmark's domain for fake bounces: mail to
// <BounceType>@bounce-testing.postmarkapp.com bounces with that type.
const bounceTestingDomain = "bounce-testing.postmarkapp.com"

// bounceKind is one of Postmark's bounce types.
type bounceKind struct {
	Type        string
	Code        int
	Name        string
	Description string
	inactive    bool
}

var (
	hardBounce = bounceKind{"HardBounce", 1, "Hard bounce", "The server was unable to deliver your message (ex: unknown user, mailbox not found).", true}

	// bounceKinds maps a lower-case bounce-testing local part to its kind.
	// SpamComplaint cannot be faked at Postmark and falls back to HardBounce.
	bounceKinds = map[string]bounceKind{
		"hardbounce":    hardBounce,
		"spamcomplaint": hardBounce,
		"transient":     {"Transient", 2, "Message delayed", "The server could not temporarily deliver your message (ex: Message is delayed due to network troubles).", false},
		"unsubscribe":   {"Unsubscribe", 16, "Unsubscribe request", "Unsubscribe or Remove request.", false},
		"subscribe":     {"Subscribe", 32, "Subscribe request", "Subscribe request from someone wanting to get added to the mailing list.", false},
		"autoresponder": {"AutoResponder", 64, "Auto responder", "Automatic email responder (ex: \"Out of Office\" or \"On Vacation\").", false},
		"addresschange": {"AddressChange", 128, "Address change", "The recipient has requested an address change.", false},
		"dnserror":      {"DnsError", 256, "DNS error", "A temporary DNS error.", false},
		"spamnotification": {"SpamNotification", 512, "Spam notification",
			"The message was delivered, but was either blocked by the user, or classified as spam, bulk mail, or had rejected content.", false},
		"openrelaytest":     {"OpenRelayTest", 1024, "Open relay test", "The NDR is actually a test email message to see if the mail server is an open relay.", false},
		"unknown":           {"Unknown", 2048, "Unknown type", "Unable to classify the NDR.", false},
		"softbounce":        {"SoftBounce", 4096, "Soft bounce/Undeliverable", "Unable to temporarily deliver message (i.e. mailbox full, account disabled, exceeds quota, out of disk space).", false},
		"virusnotification": {"VirusNotification", 8192, "Virus notification", "The bounce is actually a virus notification warning about a virus/code infected message.", false},
		"challengeverification": {"ChallengeVerification", 16384, "Spam challenge verification",
			"The bounce is a challenge asking for verification you actually sent the email.", false},
		"bademailaddress": {"BadEmailAddress", 100000, "Invalid email address", "The address is not a valid email address.", false},
		"manuallydeactivated": {"ManuallyDeactivated", 100002, "Manually deactivated",
			"The email was manually deactivated.", false},
		"blocked":     {"Blocked", 100006, "ISP block", "The email was blocked by the ISP.", false},
		"dmarcpolicy": {"DMARCPolicy", 100009, "DMARC Policy", "An email was rejected due to DMARC policy.", false},
	}
)

// bounceKindFor reports the bounce an address produces: only addresses on
// the bounce-testing domain whose local part names a bounce type bounce.
func bounceKindFor(email string) (bounceKind, bool) {
	at := strings.LastIndexByte(email, '@')
	if at < 0 || !strings.EqualFold(email[at+1:], bounceTestingDomain) {
		return bounceKind{}, false
	}
	k, ok := bounceKinds[strings.ToLower(email[:at])]
	return k, ok
}

// Simulator conventions in the local part of any other address.
const (
	markTransient = "+transient" // Transient after the delay, Delivered after three delays
	markOpen      = "+open"      // Opened one delay after delivery
)

// event is one message event with its time in Unix nanoseconds.
type event struct {
	at        int64
	recipient string
	typ       string
	details   map[string]string
}

// eventsFor computes the events of message m that have happened by now.
// Nothing is scheduled at acceptance; the timeline follows from the
// acceptance time, the delay and the recipient address.
func (s *Server) eventsFor(m *stored, now int64) []wireEvent {
	d := int64(s.opts.DeliveryDelay)
	var evs []event
	for i, r := range m.rcpts {
		if m.inactive&(1<<i) != 0 {
			continue // inactive when the message was accepted: it gets nothing
		}
		domain := "example.com"
		if at := strings.LastIndexByte(r.Email, '@'); at >= 0 {
			domain = strings.ToLower(r.Email[at+1:])
		}
		if kind, ok := bounceKindFor(r.Email); ok {
			if b := s.store.bounceOf(m, r.Email); b != nil {
				evs = append(evs, event{b.at, r.Email, "Bounced", map[string]string{
					"Summary":  "smtp;550 5.1.1 " + kind.Description + " (simulated)",
					"BounceID": strconv.FormatInt(b.id, 10),
				}})
			}
			continue
		}
		local := strings.ToLower(r.Email)
		delivered := m.receivedAt + d
		if strings.Contains(local, markTransient) {
			evs = append(evs, event{m.receivedAt + d, r.Email, "Transient", smtpDetails(domain, "smtp;421 4.7.0 Try again later, closing connection. (simulated)")})
			delivered = m.receivedAt + 3*d
		}
		evs = append(evs, event{delivered, r.Email, "Delivered", smtpDetails(domain, "smtp;250 2.0.0 OK (simulated)")})
		if strings.Contains(local, markOpen) {
			evs = append(evs, event{delivered + max(d, 1), r.Email, "Opened", map[string]string{
				"Summary": "Email opened with postform-simulator/1.0",
			}})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	out := make([]wireEvent, 0, len(evs))
	for _, e := range evs {
		if e.at > now {
			continue
		}
		out = append(out, wireEvent{
			Recipient:  e.recipient,
			Type:       e.typ,
			ReceivedAt: formatTime(time.Unix(0, e.at)),
			Details:    e.details,
		})
	}
	return out
}

func smtpDetails(domain, reply string) map[string]string {
	return map[string]string{
		"DeliveryMessage":   reply,
		"DestinationServer": "mx.sim." + domain,
		"DestinationIP":     "127.0.0.1",
	}
}

// bounceOf finds the bounce record of recipient email on message m.
func (st *store) bounceOf(m *stored, email string) *bounceRec {
	idx, ok := st.byID[m.id]
	if !ok {
		return nil
	}
	// Bounces are appended in acceptance order, so a binary search finds the
	// first bounce of this message.
	i := sort.Search(len(st.bounces), func(i int) bool { return st.bounces[i].msg >= idx })
	for ; i < len(st.bounces) && st.bounces[i].msg == idx; i++ {
		if st.bounces[i].email == email {
			return &st.bounces[i]
		}
	}
	return nil
}
