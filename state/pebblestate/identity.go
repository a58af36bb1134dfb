package pebblestate

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"github.com/postform/postform/state"
)

// This file holds what identifies a store beyond its lineage: the Postmark
// server it is bound to, the generations of removed records (tombstones)
// and small named values.

func tombstoneKey(address string) []byte {
	return append([]byte{kindTombstone}, address...)
}

func valueKey(name string) []byte {
	return append([]byte{kindValue}, name...)
}

// loadTombstones reads every tombstone into memory.
func (s *Store) loadTombstones() error {
	s.tombs = map[string]int{}
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{kindTombstone},
		UpperBound: prefixEnd([]byte{kindTombstone}),
	})
	if err != nil {
		return fmt.Errorf("pebblestate: reading tombstones: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		g, n := binary.Varint(it.Value())
		if n <= 0 || n != len(it.Value()) || g < 1 {
			return fmt.Errorf("pebblestate: %s: tombstone of %s: %w", s.path, it.Key()[1:], errCorrupt)
		}
		s.tombs[string(it.Key()[1:])] = int(g)
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblestate: reading tombstones: %w", err)
	}
	return nil
}

// clearTombstones adds to b the removal of the tombstones of the addresses
// in put. The caller holds s.mu.
func (s *Store) clearTombstones(b *pebble.Batch, put map[string]int) error {
	if len(s.tombs) == 0 {
		return nil
	}
	for a := range put {
		if _, ok := s.tombs[a]; ok {
			if err := b.Delete(tombstoneKey(a), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// Tombstones returns the next generation of each removed address among
// addresses. The result is never nil.
func (s *Store) Tombstones(ctx context.Context, addresses []string) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	if len(s.tombs) == 0 {
		return out, nil
	}
	for _, a := range addresses {
		if g, ok := s.tombs[a]; ok {
			out[a] = g
		}
	}
	return out, nil
}

// loadServer reads the server the store is bound to.
func (s *Store) loadServer() error {
	id, found, err := s.metaValue("server_id")
	if err != nil || !found {
		return err
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("pebblestate: %s: server id %q: %w", s.path, id, errCorrupt)
	}
	name, _, err := s.metaValue("server_name")
	if err != nil {
		return err
	}
	s.server = state.Server{ID: n, Name: name}
	return nil
}

// Bind binds the store to srv, or checks that it is bound to it.
func (s *Store) Bind(ctx context.Context, srv state.Server) error {
	if !srv.Bound() {
		return fmt.Errorf("pebblestate: bind: no server given")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server.Bound() && s.server.ID != srv.ID {
		return &state.ServerMismatchError{Stored: s.server, Requested: srv}
	}
	if s.server == srv {
		return nil
	}
	err := s.write(ctx, func(b *pebble.Batch) error {
		if err := b.Set(metaKey("server_id"), strconv.AppendInt(nil, srv.ID, 10), nil); err != nil {
			return err
		}
		return b.Set(metaKey("server_name"), []byte(srv.Name), nil)
	})
	if err != nil {
		return fmt.Errorf("pebblestate: bind: %w", err)
	}
	s.server = srv
	return nil
}

// Values returns the named values among names that are set. The result is
// never nil.
func (s *Store) Values(ctx context.Context, names []string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range names {
		v, found, err := s.get(valueKey(n))
		if err != nil {
			return nil, fmt.Errorf("pebblestate: values: %w", err)
		}
		if found {
			out[n] = string(v)
		}
	}
	return out, nil
}

// SetValues sets (or, for an empty value, removes) named values in one
// batch. An empty map is a no-op and leaves the serial unchanged.
func (s *Store) SetValues(ctx context.Context, values map[string]string) error {
	if len(values) == 0 {
		return nil
	}
	for n := range values {
		if n == "" {
			return fmt.Errorf("pebblestate: set values: empty name")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.write(ctx, func(b *pebble.Batch) error {
		for n, v := range values {
			var err error
			if v == "" {
				err = b.Delete(valueKey(n), nil)
			} else {
				err = b.Set(valueKey(n), []byte(v), nil)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pebblestate: set values: %w", err)
	}
	return nil
}
