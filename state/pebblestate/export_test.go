package pebblestate

import "github.com/cockroachdb/pebble/v2"

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
