// Package config loads, evaluates and expands postform configurations: every
// *.pf.hcl file of a configuration directory, plus variables files, templates
// and data files, all read through an [fs.FS] given to [NewParser].
//
// # Stages
//
// [Parser.LoadConfig] parses and decodes the files into a [Config], which
// holds source (expressions with ranges), not values, and checks what can be
// checked without values: unknown blocks and arguments (with "did you mean"
// suggestions), duplicate names (citing the earlier declaration), invalid
// combinations such as a template with both html and html_file.
//
// [Config.Evaluate] takes [Inputs] (-var, -var-file, environment) and
// evaluates, in order: variables, locals (sorted by their references; a
// cycle is one diagnostic naming both ends), the postmark and runner blocks,
// templates (parsing *_file templates once), batches (resolving
// template = template.NAME statically, evaluating for_each, and evaluating
// once every argument that does not depend on each), and reports. It
// returns an [Evaluated].
//
// [Batch.Messages] expands a batch into messages one at a time. Nothing is
// retained between messages, so memory does not grow with the number of
// recipients (apart from the set of keys seen, to detect duplicates).
//
// Every problem is a [hcl.Diagnostic] with a source range; the package never
// prints. [Parser.Files] returns every file read, including synthetic files
// for -var and PF_VAR_ values and the data files, for
// [hcl.NewDiagnosticTextWriter] snippets.
//
// # Language
//
// Blocks: postmark (at most one: server_token, base_url, message_stream),
// runner (at most one: parallelism, rate_limit, batch_size, send_window,
// max_errors), variable "NAME" (type, default, description, sensitive,
// validation { condition, error_message }), locals (any number), template
// "NAME" (subject, html, text inline, or subject_file, html_file, text_file),
// batch "NAME" and report (path, format; any number).
//
// A batch has for_each, from, to, cc, bcc, reply_to, tag, metadata, headers
// (a map, or a list of { name, value }), track_opens, track_links,
// message_stream, attachments (a list of { name, content or path,
// content_type, content_id }; path reads binary files), data, and its
// content from exactly one of: template = template.NAME, a
// postmark_template { alias or id, model } block (a template stored on the
// Postmark server), or inline subject, html and text.
//
// Subjects and bodies are HCL templates (${...}, %{ if }, %{ for }) evaluated
// per message with the attributes of data as top-level variables, alongside
// var, local and each.
//
// # for_each
//
// for_each takes a map or object (each.key is the map key), or a set of
// strings (each.key and each.value are the string). A list is rejected: it
// has no keys, and keys are message identities across runs, so turn it into a
// map with a for expression, { for s in local.list : s.email => s }. Without
// for_each a batch has one message, addressed batch.NAME.
//
// A for_each of the form
//
//	{ for r in csvfile("subscribers.csv") : r.email => r if r.opted_in == "yes" }
//
// (optionally with an index variable, without the grouping "...") is
// streamed: the file is read once, and for every row the condition, key and
// value are evaluated, then the message. Anywhere else, csvfile returns a
// list of objects like csvdecode. Duplicate keys in a stream are reported on
// the later row.
//
// Message addresses are batch.NAME["key"], the key written as an HCL string
// literal.
//
// # HTML escaping
//
// Every value interpolated into an HTML body (html, html_file) is
// HTML-escaped, including inside %{ if } and %{ for } directives, unless it
// is marked with raw(x); the mark survives string functions applied to the
// value. An html argument that is a plain expression rather than a template
// (html = each.value.body) counts as one interpolation. Literal template text
// is never escaped, nor are subjects and text bodies.
//
// # Variables
//
// Values come from, in increasing precedence (Terraform's order): the
// default, PF_VAR_name environment variables, postform.pfvars,
// *.auto.pfvars (in name order), -var-file arguments, then -var arguments,
// each in command-line order. Values of primitive or undeclared type are
// taken literally from -var and the environment; others are parsed as HCL
// expressions. Values of sensitive variables carry the funcs.Sensitive mark,
// so that anything derived from them is listed in [Message.Sensitive].
//
// # Functions
//
// go-cty's stdlib functions (without the operator-shaped ones and without
// anything reading the clock), try and can, type conversions (tostring,
// tolist, toset, ...), and postform's own file, templatefile, csvfile, env
// and raw (package config/funcs). File functions read through the
// configuration filesystem and refuse paths leaving it. Inside the postmark
// block, env of an unset variable without a default is "" rather than an
// error, so that validate and plan work without credentials, and those reads
// are not recorded in snapshots.
//
// # Message validation
//
// Each message is checked against Postmark's rules before anything could be
// sent: addresses (net/mail), at most 50 recipients, a body, subject and tag
// lengths, metadata (at most 9 user keys since postform reserves pf_id, key
// 20 and value 80 characters, no keys equal but for case), size (10 MB with
// attachments base64-encoded), track_links values, stream IDs and attachment
// types. Problems are diagnostics whose Detail starts with the message
// address and whose Subject is the tightest range: the argument, the
// template interpolation, or the data file row or field.
//
// # Snapshots
//
// [Evaluated.Snapshot] (and [Evaluated.FullSnapshot], which adds reads made
// while iterating messages) records the files, inputs and environment
// variables an evaluation read, so that a plan can later be evaluated again
// identically with NewParser(snapshot.FS()) and snapshot.Inputs(). The
// server token is never recorded.
package config
