package config

import (
	"io/fs"
	"maps"
	"testing/fstest"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Inputs are the values a run supplies from outside the configuration
// directory: -var and -var-file arguments and the process environment. The
// config package never reads the process environment itself.
type Inputs struct {
	// Vars holds raw -var arguments ("name=value") in command-line order.
	// For variables whose type is a primitive (string, number, bool) or not
	// declared, the text after "=" is the value; for collection and
	// structural types it is parsed as an HCL expression.
	Vars []string
	// VarFiles holds the contents of -var-file arguments in command-line
	// order.
	VarFiles []VarFile
	// Env is the process environment: PF_VAR_name values and what env()
	// returns.
	Env map[string]string
}

// VarFile is the contents of one variables file given with -var-file.
type VarFile struct {
	Name string // as given on the command line; used in diagnostics
	Src  []byte
}

// Evaluated is a configuration with its variables, locals and block
// attributes evaluated. Batches expand into messages lazily through
// [Batch.Messages].
type Evaluated struct {
	Postmark  Postmark
	Runner    Runner
	Batches   []*Batch // in declaration order (files by name, then blocks)
	Reports   []Report
	Variables []VariableValue // in declaration order

	// Snapshot holds everything read while evaluating, so that the same
	// configuration can be evaluated again later from a plan file. Files read
	// while iterating messages (for example attachments whose path depends on
	// each.key) are added by [Evaluated.FullSnapshot].
	Snapshot Snapshot

	rec *recorder
}

// FullSnapshot returns Snapshot extended with every file and environment
// variable read so far, including reads made while iterating Messages. Call it
// after iterating every batch when writing a self-contained plan file. It is
// safe to call while other goroutines iterate messages.
func (e *Evaluated) FullSnapshot() Snapshot {
	return e.rec.snapshot(e.Snapshot.Vars, e.Snapshot.VarFiles)
}

// Postmark is the evaluated postmark block, with defaults filled in.
type Postmark struct {
	// ServerToken is the API token: server_token, or else the environment
	// variable POSTMARK_SERVER_TOKEN, or else empty. It must never be
	// printed. It is never recorded in a Snapshot.
	ServerToken string
	// BaseURL defaults to https://api.postmarkapp.com. Plain http is only
	// accepted for loopback hosts.
	BaseURL string
	// MessageStream is the default stream for every batch ("outbound").
	MessageStream string
	// DeclRange is the postmark block, or an empty range when it is absent.
	DeclRange hcl.Range
}

// Runner is the evaluated runner block, with defaults filled in.
type Runner struct {
	Parallelism int     // concurrent API requests; default 4, at least 1
	RateLimit   float64 // requests per second; default 20; 0 means unlimited
	BatchSize   int     // messages per /email/batch call; default 500, 1..500
	SendWindow  *SendWindow
	MaxErrors   int // stop after this many permanent failures; default 100; 0 means no limit
	DeclRange   hcl.Range
}

// SendWindow limits when apply may send. A zero time means no bound on that
// side.
type SendWindow struct {
	NotBefore, NotAfter time.Time
}

// Report is one evaluated report block.
type Report struct {
	Path      string // slash path relative to the configuration directory
	Format    string // "json", "csv", "junit" or "html"
	DeclRange hcl.Range
}

// VariableValue is the final value of one input variable, for plan display.
type VariableValue struct {
	Name  string
	Value cty.Value // marked with funcs.Sensitive when Sensitive
	// Sensitive is true when the variable is declared sensitive; show it as
	// "(sensitive)".
	Sensitive bool
	// Source names where the value came from: "default", "env"
	// (PF_VAR_name), a variables file name such as "postform.pfvars", or
	// "-var".
	Source string
}

// Header is one custom message header.
type Header struct {
	Name, Value string
}

// Attachment is one message attachment. Content is raw bytes; the runner
// base64-encodes it for the API.
type Attachment struct {
	Name, ContentType, ContentID string
	Content                      []byte
}

// BodySizes returns the sizes in bytes of the HTML and text bodies, also
// for a measured message.
func (m *Message) BodySizes() (html, text int) {
	if m.Measured {
		return m.HTMLSize, m.TextSize
	}
	return len(m.HTMLBody), len(m.TextBody)
}

// Message is one rendered message of a batch. Messages are produced one at a
// time by [Batch.Messages] and are not retained by the config package.
type Message struct {
	// Address is the message's identity across runs: batch.NAME["key"] with
	// the key in HCL string syntax, or batch.NAME for a batch without
	// for_each.
	Address    string
	Batch, Key string

	From, To, Cc, Bcc, ReplyTo  string
	Subject, HTMLBody, TextBody string
	Tag                         string
	// Metadata is the user's metadata; the runner adds the reserved pf_id
	// key, so at most 9 user keys are allowed.
	Metadata map[string]string
	Headers  []Header
	// TrackOpens is nil when track_opens is not set (the server setting
	// applies).
	TrackOpens *bool
	// TrackLinks is "", "None", "HtmlAndText", "HtmlOnly" or "TextOnly".
	TrackLinks    string
	MessageStream string // the batch's stream, or the postmark default
	Attachments   []Attachment

	// TemplateID or TemplateAlias is set, with TemplateModel holding a JSON
	// object, when the batch uses a postmark_template block; Subject,
	// HTMLBody and TextBody are then empty.
	TemplateID    int64
	TemplateAlias string
	TemplateModel []byte

	// Measured is set on messages from [Batch.Check] after the first: their
	// HTML and text bodies were measured and checked, not kept, so
	// HTMLBody and TextBody are empty and HTMLSize and TextSize hold their
	// sizes in bytes (zero otherwise; see BodySizes).
	Measured bool `json:"-"`
	HTMLSize int  `json:"-"`
	TextSize int  `json:"-"`

	// Sensitive names the fields whose value derived from a sensitive
	// variable: any of "from", "to", "cc", "bcc", "reply_to", "subject",
	// "html", "text", "tag", "metadata", "headers", "attachments",
	// "template_model". Show those as "(sensitive)".
	Sensitive []string

	// Range is the source of the message: the data row for messages from a
	// csvfile for_each, otherwise the batch block.
	Range hcl.Range
}

// Snapshot is everything needed to evaluate a configuration again, identically,
// without the original directory or environment: the files read through the
// configuration filesystem, the -var and -var-file inputs, and the
// environment variables that were read. It never holds the Postmark server
// token: environment reads made while evaluating the postmark block are not
// recorded.
type Snapshot struct {
	Files    map[string][]byte // by slash path relative to the configuration directory
	VarFiles []VarFile
	Vars     []string
	Env      map[string]string
}

// FS returns an in-memory filesystem holding Files, for [NewParser].
func (s Snapshot) FS() fs.FS {
	m := make(fstest.MapFS, len(s.Files))
	for name, data := range s.Files {
		m[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return m
}

// Inputs returns the inputs that reproduce the snapshot's evaluation.
func (s Snapshot) Inputs() Inputs {
	return Inputs{Vars: s.Vars, VarFiles: s.VarFiles, Env: maps.Clone(s.Env)}
}
