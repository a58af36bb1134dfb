package pebblestate

import (
	"github.com/cockroachdb/pebble/v2"

	"github.com/postform/postform/state"
)

// StoredIntents counts the intents stored in s (not those in memory).
func StoredIntents(s *Store) (int, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindIntent}, UpperBound: prefixEnd([]byte{kindIntent})})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n, it.Error()
}

// SetLayoutVersion overwrites the layout version s records, as a newer
// postform would.
func SetLayoutVersion(s *Store, v string) error {
	return s.db.Set(metaKey("version"), []byte(v), pebble.Sync)
}

// SetMaxTrackedUnsettled changes how many unsettled addresses a store
// tracks in memory, and returns a function restoring the old value.
func SetMaxTrackedUnsettled(n int) func() {
	old := maxTrackedUnsettled
	maxTrackedUnsettled = n
	return func() { maxTrackedUnsettled = old }
}

// IndexEntries returns the entries of the unsettled ("u") and open ("o")
// indexes as "u address=value" strings, in key order.
func IndexEntries(s *Store) ([]string, error) {
	var out []string
	for _, kind := range []byte{kindUnsettled, kindOpen} {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kind}, UpperBound: prefixEnd([]byte{kind})})
		if err != nil {
			return nil, err
		}
		for it.First(); it.Valid(); it.Next() {
			out = append(out, string(kind)+" "+string(it.Key()[1:])+"="+string(it.Value()))
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EncodeRecordForTest and DecodeRecordForTest expose the record codec.
func EncodeRecordForTest(r *state.Record) []byte { return encodeRecord(nil, r) }

func DecodeRecordForTest(address string, b []byte) (state.Record, error) {
	return decodeRecord(address, b)
}
