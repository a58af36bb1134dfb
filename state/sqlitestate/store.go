package sqlitestate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postform/postform/state"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Synchronous settings accepted in Options.Synchronous.
const (
	SyncFull   = "FULL"
	SyncNormal = "NORMAL"
)

const (
	busyTimeoutMS = 10000
	readPoolSize  = 4
	// chunkSize bounds the number of bound parameters in one IN (...) list.
	chunkSize = 500
)

// Options configure Open.
type Options struct {
	// Target is the Postmark target the store belongs to (a base URL or
	// "simulator"). It is required. A new store records it; an existing
	// store must have recorded the same value.
	Target string

	// Synchronous is SQLite's synchronous setting: SyncFull (the default
	// when empty) fsyncs every commit; SyncNormal skips the fsync of a WAL
	// commit, which survives a process crash but not a power loss.
	Synchronous string
}

// TargetMismatchError reports an existing store that belongs to another
// Postmark target than the one requested.
type TargetMismatchError struct {
	Path      string // the database file
	Stored    string // target recorded in the store
	Requested string // Options.Target
}

func (e *TargetMismatchError) Error() string {
	return fmt.Sprintf("state %s belongs to target %q, not %q; each Postmark target needs its own state file",
		e.Path, e.Stored, e.Requested)
}

// ErrSchemaTooNew is returned (wrapped) by Open for a database whose schema
// version is higher than this build of postform knows.
var ErrSchemaTooNew = errors.New("sqlitestate: state was written by a newer postform")

// Store is a state.Store backed by one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	path    string
	lineage string
	target  string

	w *sql.DB // exactly one connection: every write transaction
	r *sql.DB // read-only connections

	closeOnce sync.Once
	closeErr  error

	// mu guards inflight and intents, and is held across a write that
	// changes them so that memory follows commits in order.
	mu       sync.Mutex
	inflight map[string]flight // records announced as sending (see inflight.go)
	intents  map[int64]int     // intent id → its addresses still in flight
}

var _ state.Store = (*Store)(nil)

// Open opens the store at path, creating it (and its directory, mode 0700)
// when absent. A new database file has mode 0600, a fresh random lineage,
// serial 0 and opts.Target. Opening an existing store applies any pending
// schema migrations and fails with *TargetMismatchError when its target
// differs from opts.Target.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Target == "" {
		return nil, errors.New("sqlitestate: Options.Target is required")
	}
	syncMode := strings.ToUpper(opts.Synchronous)
	switch syncMode {
	case "":
		syncMode = SyncFull
	case SyncFull, SyncNormal:
	default:
		return nil, fmt.Errorf("sqlitestate: Options.Synchronous must be %q or %q, not %q", SyncFull, SyncNormal, opts.Synchronous)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestate: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlitestate: creating state directory: %w", err)
	}
	// Create the file ourselves so that it gets mode 0600; SQLite would use
	// 0644. SQLite gives the -wal and -shm files the mode of the database.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlitestate: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlitestate: %w", err)
	}

	base := (&url.URL{Scheme: "file", Path: abs}).String()
	wq := url.Values{}
	wq.Set("_txlock", "immediate")
	wq["_pragma"] = []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
		"journal_mode(WAL)",
		"synchronous(" + syncMode + ")",
		"foreign_keys(1)",
		"temp_store(MEMORY)",
		"cache_size(-16384)",
		"wal_autocheckpoint(10000)",
	}
	w, err := sql.Open("sqlite", base+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitestate: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{path: abs, w: w}
	if err := s.setup(ctx, opts.Target); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.loadIntents(ctx); err != nil {
		w.Close()
		return nil, err
	}

	rq := url.Values{}
	rq["_pragma"] = []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
		"query_only(1)",
		"foreign_keys(1)",
	}
	r, err := sql.Open("sqlite", base+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestate: %w", err)
	}
	r.SetMaxOpenConns(readPoolSize)
	r.SetMaxIdleConns(readPoolSize)
	s.r = r
	return s, nil
}

// setup migrates the schema and creates or checks the meta row, all in one
// write transaction so that two processes opening a new file at once agree
// on one lineage.
func (s *Store) setup(ctx context.Context, target string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestate: opening %s: %w", s.path, err)
	}
	defer tx.Rollback()

	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("sqlitestate: reading schema version of %s: %w", s.path, err)
	}
	if version > len(migrations) {
		return fmt.Errorf("%w (%s has schema version %d; this build knows up to %d)", ErrSchemaTooNew, s.path, version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		for _, stmt := range migrations[i] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlitestate: migration %d: %w", i+1, err)
			}
		}
	}
	if version != len(migrations) {
		// PRAGMA takes no bound parameters; the value is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("sqlitestate: recording schema version: %w", err)
		}
	}

	var stored string
	err = tx.QueryRowContext(ctx, "SELECT lineage, target FROM meta WHERE id = 1").Scan(&s.lineage, &stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		lineage, err := newLineage()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (id, lineage, serial, target, created_at) VALUES (1, ?, 0, ?, ?)",
			lineage, target, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("sqlitestate: creating meta: %w", err)
		}
		s.lineage, s.target = lineage, target
	case err != nil:
		return fmt.Errorf("sqlitestate: reading meta of %s: %w", s.path, err)
	case stored != target:
		return &TargetMismatchError{Path: s.path, Stored: stored, Requested: target}
	default:
		s.target = stored
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestate: opening %s: %w", s.path, err)
	}
	return nil
}

func newLineage() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sqlitestate: generating lineage: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var rerr error
		if s.r != nil {
			rerr = s.r.Close()
		}
		s.closeErr = errors.Join(rerr, s.w.Close())
	})
	return s.closeErr
}

// Meta returns the lineage, the current serial and the target.
func (s *Store) Meta(ctx context.Context) (state.Meta, error) {
	m := state.Meta{Lineage: s.lineage, Target: s.target}
	if err := s.r.QueryRowContext(ctx, "SELECT serial FROM meta WHERE id = 1").Scan(&m.Serial); err != nil {
		return state.Meta{}, fmt.Errorf("sqlitestate: meta: %w", err)
	}
	return m, nil
}

// write runs fn inside one write transaction that also increments the
// serial, and commits.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, bumpSerialSQL); err != nil {
		return err
	}
	return tx.Commit()
}

// Put inserts or replaces recs in one transaction. An empty recs is a no-op
// and leaves the serial unchanged. Every record needs an Address, and its
// times must lie between the years 1678 and 2261. When an address repeats,
// the last record wins. Records with status sending are stored as one
// intent (see inflight.go); the others as rows.
func (s *Store) Put(ctx context.Context, recs []state.Record) error {
	if len(recs) == 0 {
		return nil
	}
	last := make(map[string]int, len(recs))
	for i := range recs {
		last[recs[i].Address] = i
	}
	var sending []state.Record
	var args [][]any
	var settled []string
	for i := range recs {
		if last[recs[i].Address] != i {
			continue
		}
		a, err := recordArgs(&recs[i]) // validates the address and times
		if err != nil {
			return fmt.Errorf("sqlitestate: put: %w", err)
		}
		if recs[i].Status == state.StatusSending {
			sending = append(sending, normalize(recs[i]))
		} else {
			args = append(args, a)
			settled = append(settled, recs[i].Address)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	counts := maps.Clone(s.intents)
	for _, r := range sending {
		s.retire(r.Address, counts)
	}
	for _, a := range settled {
		s.retire(a, counts)
	}
	var intent int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if len(sending) > 0 {
			id, err := writeIntent(ctx, tx, sending)
			if err != nil {
				return err
			}
			intent = id
			counts[id] = len(sending)
		}
		if err := insertRows(ctx, tx, args); err != nil {
			return err
		}
		return dropEmptyIntents(ctx, tx, counts)
	})
	if err != nil {
		return fmt.Errorf("sqlitestate: put: %w", err)
	}
	// Committed: memory follows.
	for _, a := range settled {
		delete(s.inflight, a)
	}
	for _, r := range sending {
		s.inflight[r.Address] = flight{rec: r, intent: intent}
	}
	for id, n := range counts {
		if n <= 0 {
			delete(counts, id)
		}
	}
	s.intents = counts
	return nil
}

// insertRows inserts or replaces rows (recordArgs values) inside tx.
func insertRows(ctx context.Context, tx *sql.Tx, args [][]any) error {
	// Rows go in groups of rowsPerInsert per statement, which halves the
	// per-row cost of a 500-record Put compared with one row per Exec.
	if len(args) >= rowsPerInsert {
		multi, err := tx.PrepareContext(ctx, putRecordsSQL)
		if err != nil {
			return err
		}
		defer multi.Close()
		flat := make([]any, 0, rowsPerInsert*len(args[0]))
		for len(args) >= rowsPerInsert {
			flat = flat[:0]
			for _, a := range args[:rowsPerInsert] {
				flat = append(flat, a...)
			}
			if _, err := multi.ExecContext(ctx, flat...); err != nil {
				return err
			}
			args = args[rowsPerInsert:]
		}
	}
	if len(args) == 0 {
		return nil
	}
	one, err := tx.PrepareContext(ctx, putRecordSQL)
	if err != nil {
		return err
	}
	defer one.Close()
	for _, a := range args {
		if _, err := one.ExecContext(ctx, a...); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the records for addresses in one transaction and reports
// how many existed. An empty addresses is a no-op and leaves the serial
// unchanged.
func (s *Store) Delete(ctx context.Context, addresses []string) (int, error) {
	if len(addresses) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := maps.Clone(s.intents)
	var flying []string
	for _, a := range addresses {
		if _, ok := s.inflight[a]; ok && !slices.Contains(flying, a) {
			flying = append(flying, a)
			s.retire(a, counts)
		}
	}
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		n = 0
		// An in-flight address counts once, whether or not it also has a
		// (stale) row.
		for _, a := range flying {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM records WHERE address = ?", a).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				n++
			} else if err != nil {
				return err
			}
		}
		for chunk := range chunks(addresses) {
			res, err := tx.ExecContext(ctx, "DELETE FROM records WHERE address IN ("+placeholders(len(chunk))+")", anys(chunk)...)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return dropEmptyIntents(ctx, tx, counts)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestate: delete: %w", err)
	}
	for _, a := range flying {
		delete(s.inflight, a)
	}
	for id, k := range counts {
		if k <= 0 {
			delete(counts, id)
		}
	}
	s.intents = counts
	return n, nil
}

// PutSuppressions upserts sup by lower-cased email and stream in one
// transaction. An empty sup is a no-op and leaves the serial unchanged.
func (s *Store) PutSuppressions(ctx context.Context, sup []state.Suppression) error {
	if len(sup) == 0 {
		return nil
	}
	args := make([][]any, len(sup))
	for i, x := range sup {
		if x.Email == "" {
			return errors.New("sqlitestate: put suppressions: empty email")
		}
		at, err := encodeTime(x.At)
		if err != nil {
			return fmt.Errorf("sqlitestate: put suppressions: %s: %w", x.Email, err)
		}
		args[i] = []any{strings.ToLower(x.Email), x.Stream, x.Reason, x.MessageID, at}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, putSuppressionSQL)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, a := range args {
			if _, err := stmt.ExecContext(ctx, a...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestate: put suppressions: %w", err)
	}
	return nil
}

// Get returns the record for address, or an error wrapping state.ErrNotFound.
func (s *Store) Get(ctx context.Context, address string) (state.Record, error) {
	s.mu.Lock()
	f, ok := s.inflight[address]
	s.mu.Unlock()
	if ok {
		return f.rec, nil
	}
	row := s.r.QueryRowContext(ctx, "SELECT "+recordColumns+" FROM records WHERE address = ?", address)
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return state.Record{}, fmt.Errorf("%w: %s", state.ErrNotFound, address)
	}
	if err != nil {
		return state.Record{}, fmt.Errorf("sqlitestate: get %s: %w", address, err)
	}
	return r, nil
}

// Lookup returns the records among addresses that exist, keyed by address.
// The result is never nil.
func (s *Store) Lookup(ctx context.Context, addresses []string) (map[string]state.Record, error) {
	out := make(map[string]state.Record, len(addresses))
	for chunk := range chunks(addresses) {
		rows, err := s.r.QueryContext(ctx, "SELECT "+recordColumns+" FROM records WHERE address IN ("+placeholders(len(chunk))+")", anys(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("sqlitestate: lookup: %w", err)
		}
		err = eachRow(rows, func(r state.Record) { out[r.Address] = r })
		if err != nil {
			return nil, fmt.Errorf("sqlitestate: lookup: %w", err)
		}
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
// The query never sorts: it walks either the primary key or one of the
// (column, address) indexes, so each page costs about the rows it skips
// plus limit, and a full walk through state.Each is linear in the store's
// size.
func (s *Store) Page(ctx context.Context, f state.Filter, after string, limit int) ([]state.Record, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlitestate: page: limit must be positive, not %d", limit)
	}
	flying, stale := s.inflightMatching(f, after)
	if stale == nil {
		return s.tablePage(ctx, f, after, limit)
	}
	// Merge in-flight records into the table's pages, in address order.
	// Table rows of in-flight addresses are stale and skipped, so a page
	// may need several table reads to fill.
	out := make([]state.Record, 0, min(limit, 1024))
	cursor := after
	for {
		rows, err := s.tablePage(ctx, f, cursor, limit)
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

// tablePage is Page over the records table alone.
func (s *Store) tablePage(ctx context.Context, f state.Filter, after string, limit int) ([]state.Record, error) {
	query, args := pageQuery(f, after, limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestate: page: %w", err)
	}
	out := make([]state.Record, 0, min(limit, 1024))
	if err := eachRow(rows, func(r state.Record) { out = append(out, r) }); err != nil {
		return nil, fmt.Errorf("sqlitestate: page: %w", err)
	}
	return out, nil
}

// unsettled and open are the values the partial indexes cover.
var (
	unsettled = map[state.Status]bool{state.StatusSending: true, state.StatusUncertain: true, state.StatusUnsent: true}
	open      = map[state.Delivery]bool{state.DeliveryPending: true, state.DeliveryTransient: true}
)

// pageQuery builds the keyset query for Page. At most one filter column is
// left usable by an index: one with a single value, so that the index
// (column, address) returns rows already in address order. Every other
// column is written as +column, which stops SQLite from choosing an index
// on it and then sorting the whole match set for every page.
func pageQuery(f state.Filter, after string, limit int) (string, []any) {
	var where []string
	var args []any
	where = append(where, "address > ?")
	args = append(args, after)

	indexed := ""
	switch {
	case len(f.Addresses) > 0:
		// The primary key drives the query.
	case len(f.Statuses) == 1 && unsettled[f.Statuses[0]]:
		indexed = "status"
		where = append(where, unsettledTerm)
	case len(f.Deliveries) == 1 && open[f.Deliveries[0]]:
		indexed = "delivery"
		where = append(where, openTerm)
	}
	col := func(name string) string {
		if name == indexed {
			return name
		}
		return "+" + name
	}
	if len(f.Addresses) > 0 {
		where = append(where, "address IN (SELECT value FROM json_each(?))")
		args = append(args, jsonStrings(f.Addresses))
	}
	if len(f.Statuses) > 0 {
		where = append(where, col("status")+" IN ("+placeholders(len(f.Statuses))+")")
		for _, v := range f.Statuses {
			args = append(args, string(v))
		}
	}
	if len(f.Deliveries) > 0 {
		where = append(where, col("delivery")+" IN ("+placeholders(len(f.Deliveries))+")")
		for _, v := range f.Deliveries {
			args = append(args, string(v))
		}
	}
	if f.Batch != "" {
		where = append(where, col("batch")+" = ?")
		args = append(args, f.Batch)
	}
	args = append(args, limit)
	q := "SELECT " + recordColumns + " FROM records WHERE " + strings.Join(where, " AND ") + " ORDER BY address LIMIT ?"
	return q, args
}

// Counts returns the number of records per status and per delivery. Both
// maps are non-nil; ByDelivery counts records without delivery information
// under state.DeliveryNone.
func (s *Store) Counts(ctx context.Context) (state.Counts, error) {
	c := state.Counts{ByStatus: map[state.Status]int{}, ByDelivery: map[state.Delivery]int{}}
	rows, err := s.r.QueryContext(ctx, "SELECT status, delivery, count(*) FROM records GROUP BY status, delivery")
	if err != nil {
		return state.Counts{}, fmt.Errorf("sqlitestate: counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st, dl string
		var n int
		if err := rows.Scan(&st, &dl, &n); err != nil {
			return state.Counts{}, fmt.Errorf("sqlitestate: counts: %w", err)
		}
		c.Total += n
		c.ByStatus[state.Status(st)] += n
		c.ByDelivery[state.Delivery(dl)] += n
	}
	if err := rows.Err(); err != nil {
		return state.Counts{}, fmt.Errorf("sqlitestate: counts: %w", err)
	}
	// In-flight records replace their (stale) rows, if any.
	s.mu.Lock()
	flying := make([]state.Record, 0, len(s.inflight))
	addrs := make([]string, 0, len(s.inflight))
	for a, f := range s.inflight {
		flying = append(flying, f.rec)
		addrs = append(addrs, a)
	}
	s.mu.Unlock()
	if len(flying) == 0 {
		return c, nil
	}
	old := map[string]state.Record{}
	for chunk := range chunks(addrs) {
		rows, err := s.r.QueryContext(ctx, "SELECT "+recordColumns+" FROM records WHERE address IN ("+placeholders(len(chunk))+")", anys(chunk)...)
		if err != nil {
			return state.Counts{}, fmt.Errorf("sqlitestate: counts: %w", err)
		}
		if err := eachRow(rows, func(r state.Record) { old[r.Address] = r }); err != nil {
			return state.Counts{}, fmt.Errorf("sqlitestate: counts: %w", err)
		}
	}
	for _, r := range flying {
		if o, ok := old[r.Address]; ok {
			c.ByStatus[o.Status]--
			c.ByDelivery[o.Delivery]--
			if c.ByStatus[o.Status] == 0 {
				delete(c.ByStatus, o.Status)
			}
			if c.ByDelivery[o.Delivery] == 0 {
				delete(c.ByDelivery, o.Delivery)
			}
		} else {
			c.Total++
		}
		c.ByStatus[r.Status]++
		c.ByDelivery[r.Delivery]++
	}
	return c, nil
}

// Suppressed returns the suppressions among emails on stream, keyed by
// lower-cased email; emails match case-insensitively. The result is never
// nil.
func (s *Store) Suppressed(ctx context.Context, stream string, emails []string) (map[string]state.Suppression, error) {
	out := make(map[string]state.Suppression)
	lower := make([]string, len(emails))
	for i, e := range emails {
		lower[i] = strings.ToLower(e)
	}
	for chunk := range chunks(lower) {
		rows, err := s.r.QueryContext(ctx,
			"SELECT email, stream, reason, message_id, at FROM suppressions WHERE stream = ? AND email IN ("+placeholders(len(chunk))+")",
			append([]any{stream}, anys(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("sqlitestate: suppressed: %w", err)
		}
		for rows.Next() {
			var x state.Suppression
			var at int64
			if err := rows.Scan(&x.Email, &x.Stream, &x.Reason, &x.MessageID, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlitestate: suppressed: %w", err)
			}
			x.At = decodeTime(at)
			out[x.Email] = x
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlitestate: suppressed: %w", err)
		}
	}
	return out, nil
}

// CountSuppressions returns the number of recorded suppressions.
func (s *Store) CountSuppressions(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM suppressions").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitestate: count suppressions: %w", err)
	}
	return n, nil
}
