package config

import (
	"bytes"
	"encoding/csv"
	"hash/maphash"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// rowRef locates a data row: its byte offset, line and index.
type rowRef struct {
	off   int64
	line  int32
	index int32
}

// keySet detects duplicate for_each keys in a streamed data file. Keeping
// every key as a string costs about 70 bytes per row; keySet keeps a 64-bit
// hash and the row instead (about 25 bytes), and when two keys share a hash
// it recomputes the earlier row's key from the file to tell a true duplicate
// from a collision. Colliding distinct keys are then kept exactly.
type keySet struct {
	hash  func(string) uint64
	seen  map[uint64]rowRef
	exact map[string]rowRef
	// keyAt recomputes the key of an earlier row; ok is false when it
	// cannot (the row's key expression failed).
	keyAt func(rowRef) (string, bool)
}

func newKeySet(keyAt func(rowRef) (string, bool)) *keySet {
	seed := maphash.MakeSeed()
	return &keySet{
		hash:  func(s string) uint64 { return maphash.String(seed, s) },
		seen:  make(map[uint64]rowRef),
		keyAt: keyAt,
	}
}

// add records key for row and reports the earlier row that produced the same
// key, if any.
func (s *keySet) add(key string, row rowRef) (rowRef, bool) {
	if first, ok := s.exact[key]; ok {
		return first, true
	}
	h := s.hash(key)
	first, ok := s.seen[h]
	if !ok {
		s.seen[h] = row
		return rowRef{}, false
	}
	if earlier, ok := s.keyAt(first); ok && earlier == key {
		return first, true
	}
	if s.exact == nil {
		s.exact = make(map[string]rowRef)
	}
	s.exact[strings.Clone(key)] = row
	return rowRef{}, false
}

// keyAt recomputes the for_each key of an earlier row of the renderer's
// data file. It is called only when two keys share a hash, on a renderer
// of the key set's own, so it may set the renderer's row freely.
func (r *renderer) keyAt(ref rowRef) (string, bool) {
	cs := r.b.csv
	rd := csv.NewReader(bytes.NewReader(cs.src[ref.off:]))
	rd.FieldsPerRecord = len(cs.header)
	record, err := rd.Read()
	if err != nil {
		return "", false
	}
	r.env.key, r.env.value, r.env.record = "", cty.NilVal, record
	r.index, r.iterSet, r.eachSet = int(ref.index), false, false
	v, diags := r.evalIter(cs.key)
	if diags.HasErrors() || containsMarked(v) {
		return "", false
	}
	conv, err := convert.Convert(v, cty.String)
	if err != nil || conv.IsNull() || !conv.IsKnown() {
		return "", false
	}
	return conv.AsString(), true
}
