package pebblestate_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/pebblestate"
	"github.com/postform/postform/state/statetest"
)

// TestSendingSurvivesReopen: records announced as sending are durable
// (a crash leaves them for reconciliation) and disappear from the intents
// table once every one of them is settled.
func TestSendingSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	ctx := t.Context()
	s, err := pebblestate.Open(ctx, path, pebblestate.Options{Target: "simulator"})
	if err != nil {
		t.Fatal(err)
	}
	var recs []state.Record
	for i := range 50 {
		r := statetest.FullRecord(fmt.Sprintf(`batch.b["%02d"]`, i), i)
		r.Status = state.StatusSending
		recs = append(recs, r)
	}
	if err := s.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	serial := mustMeta(t, s).Serial
	s.Close() // as a crash would: nothing settled

	s = open(t, path, pebblestate.Options{})
	if got := mustMeta(t, s).Serial; got != serial {
		t.Errorf("serial after reopen = %d, want %d", got, serial)
	}
	var sending []state.Record
	if err := state.Each(ctx, s, state.Filter{Statuses: []state.Status{state.StatusSending}}, func(r state.Record) error {
		sending = append(sending, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(sending) != 50 {
		t.Fatalf("after reopen, %d sending records, want 50", len(sending))
	}
	if sending[7].PFID != recs[7].PFID || !sending[7].LastAttemptAt.Equal(recs[7].LastAttemptAt) {
		t.Errorf("record changed across reopen: %+v", sending[7])
	}
	// Settle them in two steps; the intent goes once the last one is settled.
	for i := range sending {
		sending[i].Status = state.StatusSent
	}
	if err := s.Put(ctx, sending[:30]); err != nil {
		t.Fatal(err)
	}
	if n := storedIntents(t, s); n != 1 {
		t.Errorf("%d intent rows with 20 records still in flight, want 1", n)
	}
	if err := s.Put(ctx, sending[30:]); err != nil {
		t.Fatal(err)
	}
	if n := storedIntents(t, s); n != 0 {
		t.Errorf("%d intent rows after everything settled, want 0", n)
	}
	s.Close()
	s = open(t, path, pebblestate.Options{})
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 50 || c.ByStatus[state.StatusSent] != 50 {
		t.Errorf("after settling and reopening: %+v", c)
	}
}

func mustMeta(t *testing.T, s state.Store) state.Meta {
	t.Helper()
	m, err := s.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func storedIntents(t *testing.T, s *pebblestate.Store) int {
	t.Helper()
	n, err := pebblestate.StoredIntents(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPartlySettledIntentAfterReopen: records settled out of an intent
// whose other records are still in flight stay settled across a reopen (a
// crash at that point must not bring them back as sending).
func TestPartlySettledIntentAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	ctx := t.Context()
	s := open(t, path, pebblestate.Options{})
	var recs []state.Record
	for i := range 10 {
		r := statetest.FullRecord(fmt.Sprintf(`batch.b["%02d"]`, i), i)
		r.Status = state.StatusSending
		recs = append(recs, r)
	}
	if err := s.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	settled := make([]state.Record, 4)
	copy(settled, recs[:4])
	for i := range settled {
		settled[i].Status = state.StatusSent
	}
	if err := s.Put(ctx, settled); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path, pebblestate.Options{})
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 10 || c.ByStatus[state.StatusSent] != 4 || c.ByStatus[state.StatusSending] != 6 {
		t.Errorf("after reopening: %+v, want 4 sent and 6 sending", c)
	}
}
