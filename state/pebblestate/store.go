package pebblestate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/postform/postform/state"
)

// schemaVersion is the layout this build writes (see encode.go). A store
// with a higher version was written by a newer postform and is refused.
const schemaVersion = 1

// Options configure Open.
type Options struct {
	// Target is the Postmark target the store belongs to (a base URL or
	// "simulator"). It is required. A new store records it; an existing
	// store must have recorded the same value.
	Target string
}

// TargetMismatchError reports an existing store that belongs to another
// Postmark target than the one requested.
type TargetMismatchError struct {
	Path      string // the store's directory
	Stored    string // target recorded in the store
	Requested string // Options.Target
}

func (e *TargetMismatchError) Error() string {
	return fmt.Sprintf("state %s belongs to target %q, not %q; each Postmark target needs its own state",
		e.Path, e.Stored, e.Requested)
}

// ErrSchemaTooNew is returned (wrapped) by Open for a store whose layout
// version is higher than this build of postform knows.
var ErrSchemaTooNew = errors.New("pebblestate: state was written by a newer postform")

// ErrInUse is returned (wrapped) by Open when another process has the
// store open.
var ErrInUse = errors.New("state is in use by another postform process")

// Store is a state.Store backed by one Pebble database directory. It is
// safe for concurrent use.
type Store struct {
	path    string
	lineage string
	target  string
	db      *pebble.DB

	closeOnce sync.Once
	closeErr  error

	// mu serialises writes. It guards serial, nextIntent, inflight and
	// intents, and is held across a commit that changes them so that
	// memory follows commits in order.
	mu         sync.Mutex
	serial     int64
	nextIntent uint64
	inflight   map[string]flight // records announced as sending (see inflight.go)
	intents    map[uint64]int    // intent id → its addresses still in flight
	// unsettledAddrs holds the addresses that have an entry in the
	// unsettled index, when unsettledKnown: settling a record then writes
	// a deletion of its entry only if it has one, instead of a tombstone
	// for every message sent. Unsettled records are the exception (failed
	// requests), so the set is small; past maxTrackedUnsettled it is given
	// up and deletions are written blindly.
	unsettledKnown bool
	unsettledAddrs map[string]struct{}
	// tombs holds every tombstone (address → next generation), so that a
	// Put clears one only where it exists. Removals are rare and small.
	tombs map[string]int
	// server is the Postmark server the store is bound to (meta values
	// server_id and server_name). Guarded by mu.
	server state.Server
}

// maxTrackedUnsettled bounds the memory spent on unsettledAddrs.
var maxTrackedUnsettled = 100_000

var _ state.Store = (*Store)(nil)

// Open opens the store in the directory path, creating it (mode 0700, and
// its parent likewise) when absent. A new store has a fresh random
// lineage, serial 0 and opts.Target. Opening an existing store fails with
// *TargetMismatchError when its target differs from opts.Target, and with
// ErrInUse while another process has it open.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Target == "" {
		return nil, errors.New("pebblestate: Options.Target is required")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("pebblestate: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("pebblestate: creating state directory: %w", err)
	}
	if err := os.Mkdir(abs, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("pebblestate: creating state directory: %w", err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("pebblestate: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("pebblestate: %s is not a directory (a state from an older postform?)", abs)
	}
	po := pebbleOptions()
	db, err := pebble.Open(abs, po)
	// The database holds its own reference to the cache while open.
	po.Cache.Unref()
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock held") {
			return nil, fmt.Errorf("pebblestate: %s: %w", abs, ErrInUse)
		}
		return nil, fmt.Errorf("pebblestate: opening %s: %w", abs, err)
	}
	s := &Store{path: abs, db: db}
	if err := s.setup(opts.Target); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadIntents(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadUnsettled(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadTombstones(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadServer(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// loadUnsettled reads the addresses of the unsettled index, unless there
// are too many to track.
func (s *Store) loadUnsettled() error {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{kindUnsettled},
		UpperBound: prefixEnd([]byte{kindUnsettled}),
	})
	if err != nil {
		return fmt.Errorf("pebblestate: reading the unsettled index: %w", err)
	}
	defer it.Close()
	set := map[string]struct{}{}
	for it.First(); it.Valid(); it.Next() {
		if len(set) == maxTrackedUnsettled {
			s.unsettledKnown, s.unsettledAddrs = false, nil
			return it.Error()
		}
		set[string(it.Key()[1:])] = struct{}{}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblestate: reading the unsettled index: %w", err)
	}
	s.unsettledKnown, s.unsettledAddrs = true, set
	return nil
}

// hasUnsettledEntry reports whether address may have an entry in the
// unsettled index. The caller holds s.mu.
func (s *Store) hasUnsettledEntry(address string) bool {
	if !s.unsettledKnown {
		return true
	}
	_, ok := s.unsettledAddrs[address]
	return ok
}

// noteUnsettled records, after a commit, whether address now has an entry
// in the unsettled index. The caller holds s.mu.
func (s *Store) noteUnsettled(address string, in bool) {
	if !s.unsettledKnown {
		return
	}
	if !in {
		delete(s.unsettledAddrs, address)
		return
	}
	if len(s.unsettledAddrs) >= maxTrackedUnsettled {
		s.unsettledKnown, s.unsettledAddrs = false, nil
		return
	}
	s.unsettledAddrs[address] = struct{}{}
}

// pebbleOptions tunes Pebble for postform's writes: one synced batch per
// request (a few hundred records), random keys, and a process that must
// stay within a few hundred megabytes.
func pebbleOptions() *pebble.Options {
	o := &pebble.Options{
		FS:                          privateFS{vfs.Default},
		Logger:                      quietLogger{},
		MemTableSize:                16 << 20,
		MemTableStopWritesThreshold: 4,
		// A block cache of 32 MB (Pebble's default is 8): re-planning a
		// million sent messages reads every record at random, and with the
		// default the filter and index blocks alone did not stay cached.
		Cache: pebble.NewCache(32 << 20),
		// An apply writes its records in random key order, so every
		// flushed table overlaps all of the base level. Letting level 0
		// gather more tables before merging them down (and a larger base
		// level) rewrites the base level far less often: in a
		// million-record write test, compaction CPU fell from ~9.4 s
		// (Pebble's defaults) to ~5.5 s. A million-message apply flushes
		// about 30 tables, so it rarely merges at all; the next run that
		// crosses the threshold pays. Reads pay a bloom-filter check per
		// level-0 table.
		L0CompactionThreshold:     32,
		L0CompactionFileThreshold: 1000,
		L0StopWritesThreshold:     128,
		LBaseMaxBytes:             512 << 20,
	}
	for i := range o.Levels {
		// Bloom filters make the Get of an address that is not in state
		// (every message of a first send) cheap.
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	o.EnsureDefaults()
	return o
}

// quietLogger drops Pebble's informational messages: a store never
// prints. Errors reach the caller through returned errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebblestate: "+format, args...))
}

// setup reads the meta values, creating them for a new store.
func (s *Store) setup(target string) error {
	version, found, err := s.metaValue("version")
	if err != nil {
		return err
	}
	if found {
		v, err := strconv.Atoi(version)
		if err != nil {
			return fmt.Errorf("pebblestate: %s: layout version %q: %w", s.path, version, errCorrupt)
		}
		if v > schemaVersion {
			return fmt.Errorf("%w (%s has layout version %d; this build knows up to %d)", ErrSchemaTooNew, s.path, v, schemaVersion)
		}
	}
	lineage, found, err := s.metaValue("lineage")
	if err != nil {
		return err
	}
	if !found {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("pebblestate: generating lineage: %w", err)
		}
		batch := s.db.NewBatch()
		defer batch.Close()
		set := func(name, value string) { _ = batch.Set(metaKey(name), []byte(value), nil) }
		set("version", strconv.Itoa(schemaVersion))
		set("lineage", hex.EncodeToString(b[:]))
		set("target", target)
		set("created_at", strconv.FormatInt(time.Now().UnixNano(), 10))
		set("serial", "0")
		if err := batch.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("pebblestate: creating %s: %w", s.path, err)
		}
		s.lineage, s.target = hex.EncodeToString(b[:]), target
		return nil
	}
	stored, _, err := s.metaValue("target")
	if err != nil {
		return err
	}
	if stored != target {
		return &TargetMismatchError{Path: s.path, Stored: stored, Requested: target}
	}
	serial, _, err := s.metaValue("serial")
	if err != nil {
		return err
	}
	if s.serial, err = strconv.ParseInt(serial, 10, 64); err != nil {
		return fmt.Errorf("pebblestate: %s: serial %q: %w", s.path, serial, errCorrupt)
	}
	s.lineage, s.target = lineage, stored
	return nil
}

func (s *Store) metaValue(name string) (string, bool, error) {
	v, found, err := s.get(metaKey(name))
	return string(v), found, err
}

// get returns a copy of the value at key.
func (s *Store) get(key []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pebblestate: %w", err)
	}
	out := slices.Clone(v)
	closer.Close()
	return out, true, nil
}

// Path returns the absolute path of the store's directory.
func (s *Store) Path() string { return s.path }

// Close closes the store. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// Meta returns the lineage, the current serial and the target.
func (s *Store) Meta(ctx context.Context) (state.Meta, error) {
	if err := ctx.Err(); err != nil {
		return state.Meta{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return state.Meta{Lineage: s.lineage, Serial: s.serial, Target: s.target, Server: s.server}, nil
}

// write builds one batch with fn, adds the serial's increment and commits
// it durably (fsynced). The caller holds s.mu. A cancelled ctx before the
// commit writes nothing.
func (s *Store) write(ctx context.Context, fn func(b *pebble.Batch) error) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := fn(b); err != nil {
		return err
	}
	if err := b.Set(metaKey("serial"), strconv.AppendInt(nil, s.serial+1, 10), nil); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	s.serial++
	return nil
}

// readRecord returns the stored row for address (not an in-flight record).
func (s *Store) readRecord(address string) (state.Record, bool, error) {
	v, closer, err := s.db.Get(recordKey(address))
	if errors.Is(err, pebble.ErrNotFound) {
		return state.Record{}, false, nil
	}
	if err != nil {
		return state.Record{}, false, err
	}
	defer closer.Close()
	r, err := decodeRecord(address, v)
	if err != nil {
		return state.Record{}, false, err
	}
	return r, true, nil
}

// rowScratch holds buffers that putRow reuses from record to record of a
// batch (a batch copies what it is given).
type rowScratch struct{ key, val []byte }

// putRow adds r's record and index entries to b. The caller holds s.mu.
func (s *Store) putRow(b *pebble.Batch, r *state.Record, sc *rowScratch) error {
	// The three keys differ only in their first byte (see encode.go).
	sc.key = append(append(sc.key[:0], kindRecord), r.Address...)
	sc.val = encodeRecord(sc.val[:0], r)
	if err := b.Set(sc.key, sc.val, nil); err != nil {
		return err
	}
	if in := unsettled[r.Status]; in || s.hasUnsettledEntry(r.Address) {
		sc.key[0] = kindUnsettled
		if err := setIndex(b, sc.key, string(r.Status), in); err != nil {
			return err
		}
	}
	sc.key[0] = kindOpen
	return setIndex(b, sc.key, string(r.Delivery), open[r.Delivery])
}

// setIndex adds to b the index entry key with value when in is true, and
// its removal otherwise.
func setIndex(b *pebble.Batch, key []byte, value string, in bool) error {
	if in {
		return b.Set(key, []byte(value), nil)
	}
	return b.Delete(key, nil)
}

// Put inserts or replaces recs in one batch. An empty recs is a no-op and
// leaves the serial unchanged. Every record needs an Address, and its
// times must lie between the years 1678 and 2261. When an address repeats,
// the last record wins. Records with status sending are stored as one
// intent (see inflight.go); the others as rows.
func (s *Store) Put(ctx context.Context, recs []state.Record) error {
	if len(recs) == 0 {
		return nil
	}
	last := make(map[string]int, len(recs))
	for i := range recs {
		if err := checkRecord(&recs[i]); err != nil {
			return fmt.Errorf("pebblestate: put: %w", err)
		}
		last[recs[i].Address] = i
	}
	var sending, settled []state.Record
	for i := range recs {
		if last[recs[i].Address] != i {
			continue
		}
		if recs[i].Status == state.StatusSending {
			sending = append(sending, normalize(recs[i]))
		} else {
			settled = append(settled, recs[i])
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	counts := maps.Clone(s.intents)
	for a := range last {
		s.retire(a, counts)
	}
	id := s.nextIntent
	err := s.write(ctx, func(b *pebble.Batch) error {
		if len(sending) > 0 {
			if err := b.Set(intentKey(id), encodeIntent(sending), nil); err != nil {
				return err
			}
			counts[id] = len(sending)
		}
		var sc rowScratch
		for i := range settled {
			if err := s.putRow(b, &settled[i], &sc); err != nil {
				return err
			}
		}
		if err := s.clearTombstones(b, last); err != nil {
			return err
		}
		return s.settleIntents(b, counts, func(a string) bool { _, ok := last[a]; return ok })
	})
	if err != nil {
		return fmt.Errorf("pebblestate: put: %w", err)
	}
	for a := range last {
		delete(s.tombs, a)
	}
	// Committed: memory follows.
	if len(sending) > 0 {
		s.nextIntent++
	}
	for i := range settled {
		delete(s.inflight, settled[i].Address)
		s.noteUnsettled(settled[i].Address, unsettled[settled[i].Status])
	}
	for _, r := range sending {
		s.inflight[r.Address] = flight{rec: r, intent: id}
	}
	s.intents = counts
	return nil
}

// Delete removes the records for addresses in one batch and reports how
// many existed. An empty addresses is a no-op and leaves the serial
// unchanged.
func (s *Store) Delete(ctx context.Context, addresses []string) (int, error) {
	if len(addresses) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := maps.Clone(s.intents)
	seen := make(map[string]bool, len(addresses))
	newTombs := map[string]int{}
	var flying []string
	n := 0
	err := s.write(ctx, func(b *pebble.Batch) error {
		for _, a := range addresses {
			if seen[a] {
				continue
			}
			seen[a] = true
			_, inFlight := s.inflight[a]
			if inFlight {
				flying = append(flying, a)
				s.retire(a, counts)
			}
			rec, found, err := s.readRecord(a)
			if err != nil {
				return err
			}
			if inFlight && !found {
				rec = s.inflight[a].rec
			}
			// An in-flight address counts once, whether or not it also has
			// a (stale) row.
			if found || inFlight {
				n++
				next := max(rec.Generation+1, s.tombs[a])
				if err := b.Set(tombstoneKey(a), binary.AppendVarint(nil, int64(next)), nil); err != nil {
					return err
				}
				newTombs[a] = next
			}
			if found {
				if err := b.Delete(recordKey(a), nil); err != nil {
					return err
				}
				if err := b.Delete(indexKey(kindUnsettled, a), nil); err != nil {
					return err
				}
				if err := b.Delete(indexKey(kindOpen, a), nil); err != nil {
					return err
				}
			}
		}
		return s.settleIntents(b, counts, func(a string) bool { return seen[a] })
	})
	if err != nil {
		return 0, fmt.Errorf("pebblestate: delete: %w", err)
	}
	for _, a := range flying {
		delete(s.inflight, a)
	}
	for a := range seen {
		s.noteUnsettled(a, false)
	}
	maps.Copy(s.tombs, newTombs)
	s.intents = counts
	return n, nil
}

// PutSuppressions upserts sup by lower-cased email and stream in one
// batch. An empty sup is a no-op and leaves the serial unchanged.
func (s *Store) PutSuppressions(ctx context.Context, sup []state.Suppression) error {
	if len(sup) == 0 {
		return nil
	}
	ats := make([]int64, len(sup))
	for i, x := range sup {
		if x.Email == "" {
			return errors.New("pebblestate: put suppressions: empty email")
		}
		at, err := encodeTime(x.At)
		if err != nil {
			return fmt.Errorf("pebblestate: put suppressions: %s: %w", x.Email, err)
		}
		ats[i] = at
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.write(ctx, func(b *pebble.Batch) error {
		for i := range sup {
			if err := b.Set(suppressionKey(sup[i].Stream, strings.ToLower(sup[i].Email)), encodeSuppression(&sup[i], ats[i]), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pebblestate: put suppressions: %w", err)
	}
	return nil
}

// Get returns the record for address, or an error wrapping state.ErrNotFound.
func (s *Store) Get(ctx context.Context, address string) (state.Record, error) {
	if err := ctx.Err(); err != nil {
		return state.Record{}, err
	}
	s.mu.Lock()
	f, ok := s.inflight[address]
	s.mu.Unlock()
	if ok {
		return f.rec, nil
	}
	r, found, err := s.readRecord(address)
	if err != nil {
		return state.Record{}, fmt.Errorf("pebblestate: get %s: %w", address, err)
	}
	if !found {
		return state.Record{}, fmt.Errorf("%w: %s", state.ErrNotFound, address)
	}
	return r, nil
}

// Lookup returns the records among addresses that exist, keyed by address.
// The result is never nil.
func (s *Store) Lookup(ctx context.Context, addresses []string) (map[string]state.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]state.Record, len(addresses))
	// One iterator, positioned key after key in order, costs much less
	// than a Get per address (each builds its own iterator over every
	// level); SeekPrefixGE still skips tables by their bloom filters.
	sorted := slices.Clone(addresses)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{kindRecord},
		UpperBound: prefixEnd([]byte{kindRecord}),
	})
	if err != nil {
		return nil, fmt.Errorf("pebblestate: lookup: %w", err)
	}
	defer it.Close()
	var key []byte
	for _, a := range sorted {
		key = append(append(key[:0], kindRecord), a...)
		if !it.SeekPrefixGE(key) || !bytes.Equal(it.Key(), key) {
			if err := it.Error(); err != nil {
				return nil, fmt.Errorf("pebblestate: lookup: %w", err)
			}
			continue
		}
		r, err := decodeRecord(a, it.Value())
		if err != nil {
			return nil, fmt.Errorf("pebblestate: lookup: %w", err)
		}
		out[a] = r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.inflight) > 0 {
		for _, a := range addresses {
			if f, ok := s.inflight[a]; ok {
				out[a] = f.rec
			}
		}
	}
	return out, nil
}

// Page returns up to limit records matching f whose address sorts after
// `after`, in address order. limit must be positive.
//
// A page walks either the records themselves or one of the two indexes
// (unsettled statuses, open deliveries), both kept in address order, so
// each page costs about the entries it skips plus limit, and a full walk
// through state.Each is linear in the store's size.
func (s *Store) Page(ctx context.Context, f state.Filter, after string, limit int) ([]state.Record, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("pebblestate: page: limit must be positive, not %d", limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	flying, stale := s.inflightMatching(f, after)
	if stale == nil {
		return s.tablePage(f, after, limit)
	}
	// Merge in-flight records into the stored pages, in address order.
	// Stored rows of in-flight addresses are stale and skipped, so a page
	// may need several reads to fill.
	out := make([]state.Record, 0, min(limit, 1024))
	cursor := after
	for {
		rows, err := s.tablePage(f, cursor, limit)
		if err != nil {
			return nil, err
		}
		done := len(rows) < limit
		for _, r := range rows {
			for len(flying) > 0 && flying[0].Address < r.Address {
				out = append(out, flying[0])
				flying = flying[1:]
			}
			if !stale[r.Address] {
				out = append(out, r)
			}
		}
		if done {
			out = append(out, flying...)
		}
		if len(out) >= limit {
			return out[:limit], nil
		}
		if done {
			return out, nil
		}
		cursor = rows[len(rows)-1].Address
	}
}

// tablePage is Page over the stored rows alone.
func (s *Store) tablePage(f state.Filter, after string, limit int) ([]state.Record, error) {
	var out []state.Record
	var err error
	switch {
	case len(f.Addresses) > 0:
		out, err = s.addressPage(f, after, limit)
	case len(f.Statuses) > 0 && all(f.Statuses, unsettled):
		out, err = s.indexPage(kindUnsettled, f, after, limit)
	case len(f.Deliveries) > 0 && all(f.Deliveries, open):
		out, err = s.indexPage(kindOpen, f, after, limit)
	default:
		out, err = s.scanPage(f, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestate: page: %w", err)
	}
	return out, nil
}

// addressPage reads the listed addresses that sort after `after`.
func (s *Store) addressPage(f state.Filter, after string, limit int) ([]state.Record, error) {
	addrs := slices.Clone(f.Addresses)
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	var out []state.Record
	for _, a := range addrs {
		if a <= after {
			continue
		}
		r, found, err := s.readRecord(a)
		if err != nil {
			return nil, err
		}
		if found && matches(f, &r) {
			out = append(out, r)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// scanPage walks the records in address order from after.
func (s *Store) scanPage(f state.Filter, after string, limit int) ([]state.Record, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: append(recordKey(after), 0),
		UpperBound: prefixEnd([]byte{kindRecord}),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := make([]state.Record, 0, min(limit, 1024))
	for it.First(); it.Valid() && len(out) < limit; it.Next() {
		r, err := decodeRecord(string(it.Key()[1:]), it.Value())
		if err != nil {
			return nil, err
		}
		if matches(f, &r) {
			out = append(out, r)
		}
	}
	return out, it.Error()
}

// indexPage walks the index of kind from after, reading each record whose
// indexed value f asks for.
func (s *Store) indexPage(kind byte, f state.Filter, after string, limit int) ([]state.Record, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: append(indexKey(kind, after), 0),
		UpperBound: prefixEnd([]byte{kind}),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := make([]state.Record, 0, min(limit, 1024))
	for it.First(); it.Valid() && len(out) < limit; it.Next() {
		value := string(it.Value())
		if kind == kindUnsettled && !contains(f.Statuses, state.Status(value)) ||
			kind == kindOpen && !contains(f.Deliveries, state.Delivery(value)) {
			continue
		}
		address := string(it.Key()[1:])
		r, found, err := s.readRecord(address)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("index entry for %s without a record: %w", address, errCorrupt)
		}
		if matches(f, &r) {
			out = append(out, r)
		}
	}
	return out, it.Error()
}

// all reports whether every value is in set.
func all[T comparable](values []T, set map[T]bool) bool {
	for _, v := range values {
		if !set[v] {
			return false
		}
	}
	return true
}

// Counts returns the number of records per status and per delivery. Both
// maps are non-nil; ByDelivery counts records without delivery information
// under state.DeliveryNone.
func (s *Store) Counts(ctx context.Context) (state.Counts, error) {
	if err := ctx.Err(); err != nil {
		return state.Counts{}, err
	}
	c := state.Counts{ByStatus: map[state.Status]int{}, ByDelivery: map[state.Delivery]int{}}
	// In-flight records replace their (stale) rows, if any.
	s.mu.Lock()
	flying := make(map[string]state.Record, len(s.inflight))
	for a, f := range s.inflight {
		flying[a] = f.rec
	}
	s.mu.Unlock()
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{kindRecord},
		UpperBound: prefixEnd([]byte{kindRecord}),
	})
	if err != nil {
		return state.Counts{}, fmt.Errorf("pebblestate: counts: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		address := string(it.Key()[1:])
		if _, ok := flying[address]; ok {
			continue
		}
		r, err := decodeRecord(address, it.Value())
		if err != nil {
			return state.Counts{}, fmt.Errorf("pebblestate: counts: %w", err)
		}
		c.Total++
		c.ByStatus[r.Status]++
		c.ByDelivery[r.Delivery]++
	}
	if err := it.Error(); err != nil {
		return state.Counts{}, fmt.Errorf("pebblestate: counts: %w", err)
	}
	for _, r := range flying {
		c.Total++
		c.ByStatus[r.Status]++
		c.ByDelivery[r.Delivery]++
	}
	return c, nil
}

// Suppressed returns the suppressions among emails on stream, keyed by
// lower-cased email; emails match case-insensitively. The result is never
// nil.
func (s *Store) Suppressed(ctx context.Context, stream string, emails []string) (map[string]state.Suppression, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]state.Suppression)
	for _, e := range emails {
		email := strings.ToLower(e)
		v, found, err := s.get(suppressionKey(stream, email))
		if err != nil {
			return nil, fmt.Errorf("pebblestate: suppressed: %w", err)
		}
		if !found {
			continue
		}
		x, err := decodeSuppression(stream, email, v)
		if err != nil {
			return nil, fmt.Errorf("pebblestate: suppressed: %w", err)
		}
		out[email] = x
	}
	return out, nil
}

// CountSuppressions returns the number of recorded suppressions.
func (s *Store) CountSuppressions(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{kindSuppression},
		UpperBound: prefixEnd([]byte{kindSuppression}),
	})
	if err != nil {
		return 0, fmt.Errorf("pebblestate: count suppressions: %w", err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	if err := it.Error(); err != nil {
		return 0, fmt.Errorf("pebblestate: count suppressions: %w", err)
	}
	return n, nil
}

// intentID reads an intent key's id.
func intentID(key []byte) (uint64, bool) {
	if len(key) != 9 || key[0] != kindIntent {
		return 0, false
	}
	return binary.BigEndian.Uint64(key[1:]), true
}
