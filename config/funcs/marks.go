package funcs

// markKind is the type of postform's cty marks. A private named type keeps the
// marks distinct from any mark another package might attach.
type markKind string

const (
	// Sensitive marks a value derived from a variable declared with
	// sensitive = true. Marks propagate through expressions and functions, so
	// anything computed from such a value carries it too.
	Sensitive = markKind("sensitive")

	// Raw marks a value that is inserted into an HTML body verbatim instead of
	// being HTML-escaped. Only the raw function attaches it.
	Raw = markKind("raw")
)
