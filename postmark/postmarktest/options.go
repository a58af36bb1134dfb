package postmarktest

import (
	"time"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultToken         = "sim-token"
	DefaultDeliveryDelay = 50 * time.Millisecond
	DefaultMaxBodyBytes  = 64 << 20
)

// Options configures a Server. The zero value is a usable, fault-free
// simulator that accepts the token "sim-token".
//
// Every random decision (fault injection, MessageIDs) comes from a
// math/rand/v2 PCG source seeded with Seed, so a run is reproducible when the
// requests arrive in the same order.
type Options struct {
	// Token is the server token expected in X-Postmark-Server-Token.
	// Empty means DefaultToken.
	Token string
	// AcceptAnyToken makes any non-empty token valid.
	AcceptAnyToken bool

	// ServerID and ServerName are what GET /server answers. Zero and empty
	// mean an ID derived from Token (so two simulators with different
	// tokens are two servers, and one token is the same server in every
	// process) and the name "Simulated server <ID>".
	ServerID   int64
	ServerName string

	// Seed seeds the fault and MessageID generators.
	Seed uint64

	// Latency is the least time each request takes (real time, not the Now
	// clock): each response is sent no sooner than Latency after the
	// request arrived; the request body is read and checked during that
	// time, and nothing is accepted until it has passed. The rate limit,
	// the fault draw and the read endpoints also act only once it has
	// passed. A request whose client gives up before then is not accepted
	// (Stats counts it as "canceled").
	Latency time.Duration

	// RateLimit is the number of requests per second accepted, with a burst
	// of max(1, RateLimit) requests; requests above it get HTTP 429.
	// Zero means unlimited. The bucket refills by the Now clock.
	RateLimit float64

	// Per send request (POST /email, /email/batch, /email/withTemplate,
	// /email/batchWithTemplates), the probability of each fault. One uniform
	// draw is made per send request and compared against the cumulative
	// probabilities in this order: Rate429, Rate500, Rate503,
	// RateAcceptedDrop, Rate500Accepted. Their sum should not exceed 1.
	//
	// Rate429, Rate500 and Rate503 answer before anything is accepted (503
	// carries ErrorCode 100). RateAcceptedDrop accepts and stores the
	// request's messages and then closes the connection without any response:
	// the ambiguous case. Rate500Accepted accepts and stores the messages and
	// then answers HTTP 500 (ErrorCode 101), also ambiguous.
	Rate429, Rate500, Rate503 float64
	RateAcceptedDrop          float64
	Rate500Accepted           float64

	// SearchLag is how long an accepted message stays invisible to
	// /messages/outbound search and details (which answer 422/701 meanwhile).
	SearchLag time.Duration

	// DeliveryDelay is the time between acceptance and the first delivery
	// event. Zero means DefaultDeliveryDelay; negative means immediately.
	DeliveryDelay time.Duration

	// Streams lists message streams known besides "outbound" and
	// "broadcast". Sending to any other stream fails with ErrorCode 1235;
	// "inbound" fails with 1236.
	Streams []string

	// Templates are the server-side templates for /email/withTemplate and
	// /email/batchWithTemplates, keyed by alias. A Template with an empty
	// Alias takes its map key. Templates are found by TemplateId or alias.
	Templates map[string]Template
	// AnyTemplate makes an unknown TemplateId or TemplateAlias render a
	// generic stand-in instead of failing with ErrorCode 1101, so that a
	// dry run (postform apply -simulate) of a configuration that uses
	// server templates works without describing them.
	AnyTemplate bool

	// MaxBodyBytes is the total budget for stored HtmlBody and TextBody
	// bytes. Once it is spent, later messages are stored with truncated or
	// empty bodies (their metadata and events are unaffected). Zero means
	// DefaultMaxBodyBytes; negative means store no bodies.
	MaxBodyBytes int64

	// Now is the clock used for SubmittedAt, search visibility, events,
	// bounces and the rate limiter. Nil means time.Now. Tests inject a
	// virtual clock to move events forward without sleeping.
	Now func() time.Time
}

// Template is a server-side template. Subject, HtmlBody and TextBody may use
// Mustache-like placeholders: {{name}} and {{a.b}} (HTML-escaped in HtmlBody)
// and {{{name}}} (never escaped), filled from the request's TemplateModel.
// Missing values render as the empty string. Sections ({{#...}}) are not
// supported.
type Template struct {
	ID       int64
	Alias    string
	Subject  string
	HtmlBody string
	TextBody string
}

func (o Options) withDefaults() Options {
	if o.Token == "" {
		o.Token = DefaultToken
	}
	switch {
	case o.DeliveryDelay == 0:
		o.DeliveryDelay = DefaultDeliveryDelay
	case o.DeliveryDelay < 0:
		o.DeliveryDelay = 0
	}
	switch {
	case o.MaxBodyBytes == 0:
		o.MaxBodyBytes = DefaultMaxBodyBytes
	case o.MaxBodyBytes < 0:
		o.MaxBodyBytes = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
