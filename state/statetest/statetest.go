package statetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postform/postform/state"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called; it may use t (for t.TempDir) and Run closes the store
// when the subtest ends. Subtests run in parallel, so stores from separate
// calls must not share data.
func Run(t *testing.T, open func(t *testing.T) state.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s state.Store)
	}{
		{"MetaSerial", testMetaSerial},
		{"RoundTrip", testRoundTrip},
		{"PutReplacesAllFields", testPutReplaces},
		{"GetNotFound", testGetNotFound},
		{"Lookup", testLookup},
		{"Page", testPage},
		{"EachWritingInCallback", testEach},
		{"Counts", testCounts},
		{"Delete", testDelete},
		{"Suppressions", testSuppressions},
		{"ConcurrentPut", testConcurrentPut},
		{"SendingLifecycle", testSendingLifecycle},
		{"Tombstones", testTombstones},
		{"Bind", testBind},
		{"Values", testValues},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

var (
	allStatuses   = []state.Status{state.StatusSending, state.StatusUncertain, state.StatusSent, state.StatusFailed, state.StatusUnsent}
	allDeliveries = []state.Delivery{state.DeliveryNone, state.DeliveryPending, state.DeliveryDelivered, state.DeliveryBounced,
		state.DeliveryTransient, state.DeliveryOpened, state.DeliveryClicked}
	timeType = reflect.TypeFor[time.Time]()
)

// FullRecord returns a record for address in which every field is set to a
// value derived from seed (different seeds give different values in every
// field except Inactive, which is always true). It fills fields by
// reflection, so a field added to state.Record later is covered without
// editing the suite; it panics on a field of a kind it does not know.
// Times are in a non-UTC zone and carry nanoseconds.
func FullRecord(address string, seed int) state.Record {
	var r state.Record
	v := reflect.ValueOf(&r).Elem()
	zone := time.FixedZone("EST", -5*3600)
	base := time.Date(2026, 11, 25, 14, 0, 0, 123456789, zone)
	for i := range v.NumField() {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch {
		case f.Type() == timeType:
			at := base.Add(time.Duration(seed)*time.Hour + time.Duration(i)*time.Minute + time.Duration(seed))
			f.Set(reflect.ValueOf(at))
		case f.Kind() == reflect.String:
			f.SetString(fmt.Sprintf("%s-%d", name, seed))
		case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
			f.SetInt(int64(seed*100 + i + 1))
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		default:
			panic(fmt.Sprintf("statetest: state.Record.%s has kind %s, which FullRecord cannot fill", name, f.Kind()))
		}
	}
	r.Address = address
	r.Status = allStatuses[seed%len(allStatuses)]
	r.Delivery = allDeliveries[1+seed%(len(allDeliveries)-1)]
	return r
}

func ctxFor(t *testing.T) context.Context { return t.Context() }

func mustPut(t *testing.T, s state.Store, recs ...state.Record) {
	t.Helper()
	if err := s.Put(ctxFor(t), recs); err != nil {
		t.Fatalf("Put(%d records): %v", len(recs), err)
	}
}

func mustMeta(t *testing.T, s state.Store) state.Meta {
	t.Helper()
	m, err := s.Meta(ctxFor(t))
	if err != nil {
		t.Fatalf("Meta: %v", err)
	}
	return m
}

func mustGet(t *testing.T, s state.Store, address string) state.Record {
	t.Helper()
	r, err := s.Get(ctxFor(t), address)
	if err != nil {
		t.Fatalf("Get(%q): %v", address, err)
	}
	return r
}

// addr returns a message address in postform's syntax.
func addr(batch string, i int) string {
	return fmt.Sprintf("batch.%s[\"user%05d@example.com\"]", batch, i)
}

func testMetaSerial(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	m0 := mustMeta(t, s)
	if m0.Lineage == "" {
		t.Fatal("Meta().Lineage is empty")
	}
	serial := m0.Serial
	step := func(what string, wantIncrement bool, do func() error) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		m := mustMeta(t, s)
		if m.Lineage != m0.Lineage {
			t.Fatalf("after %s: lineage changed from %q to %q", what, m0.Lineage, m.Lineage)
		}
		if m.Target != m0.Target {
			t.Fatalf("after %s: target changed from %q to %q", what, m0.Target, m.Target)
		}
		want := serial
		if wantIncrement {
			want++
		}
		if m.Serial != want {
			t.Fatalf("after %s: serial = %d, want %d", what, m.Serial, want)
		}
		serial = m.Serial
	}
	a, b := addr("meta", 1), addr("meta", 2)
	step("Put", true, func() error { return s.Put(ctx, []state.Record{FullRecord(a, 1), FullRecord(b, 1)}) })
	step("Put again", true, func() error { return s.Put(ctx, []state.Record{FullRecord(a, 2)}) })
	step("Get", false, func() error { _, err := s.Get(ctx, a); return err })
	step("Lookup", false, func() error { _, err := s.Lookup(ctx, []string{a, b}); return err })
	step("Page", false, func() error { _, err := s.Page(ctx, state.Filter{}, "", 10); return err })
	step("Counts", false, func() error { _, err := s.Counts(ctx); return err })
	step("Suppressed", false, func() error { _, err := s.Suppressed(ctx, "outbound", []string{"x@example.com"}); return err })
	step("Delete", true, func() error { _, err := s.Delete(ctx, []string{a}); return err })
	step("Delete of an unknown address", true, func() error { _, err := s.Delete(ctx, []string{"batch.none[\"x\"]"}); return err })
	step("PutSuppressions", true, func() error {
		return s.PutSuppressions(ctx, []state.Suppression{{Email: "x@example.com", Stream: "outbound", Reason: "HardBounce"}})
	})
	step("empty Put", false, func() error { return s.Put(ctx, nil) })
	step("empty Delete", false, func() error { _, err := s.Delete(ctx, nil); return err })
	step("empty PutSuppressions", false, func() error { return s.PutSuppressions(ctx, nil) })
	step("SetValues", true, func() error { return s.SetValues(ctx, map[string]string{"k": "v"}) })
	step("empty SetValues", false, func() error { return s.SetValues(ctx, nil) })
	step("Values", false, func() error { _, err := s.Values(ctx, []string{"k"}); return err })
	step("Tombstones", false, func() error { _, err := s.Tombstones(ctx, []string{a}); return err })
	step("Bind", true, func() error { return s.Bind(ctx, state.Server{ID: 7, Name: "Seven"}) })
	step("Bind to the same server", false, func() error { return s.Bind(ctx, state.Server{ID: 7, Name: "Seven"}) })
	if serial != m0.Serial+7 {
		t.Fatalf("serial went from %d to %d over 7 writes", m0.Serial, serial)
	}
}

// checkUTC fails when a non-zero time field of r is not in UTC.
func checkUTC(t *testing.T, r state.Record) {
	t.Helper()
	v := reflect.ValueOf(r)
	for i := range v.NumField() {
		if v.Field(i).Type() != timeType {
			continue
		}
		tm := v.Field(i).Interface().(time.Time)
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("%s.%s = %v, want a UTC time", r.Address, v.Type().Field(i).Name, tm)
		}
	}
}

func testRoundTrip(t *testing.T, s state.Store) {
	full := FullRecord(addr("rt", 1), 3)
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("FullRecord left %s zero", v.Type().Field(i).Name)
		}
	}
	bare := state.Record{Address: addr("rt", 2)} // every other field zero, zero times included
	mustPut(t, s, full, bare)
	for _, want := range []state.Record{full, bare} {
		got := mustGet(t, s, want.Address)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Get(%q) after Put (-put +got):\n%s", want.Address, d)
		}
		checkUTC(t, got)
	}
}

func testPutReplaces(t *testing.T, s state.Store) {
	a := addr("up", 1)
	mustPut(t, s, FullRecord(a, 1))
	for _, next := range []state.Record{FullRecord(a, 2), {Address: a}, FullRecord(a, 4)} {
		mustPut(t, s, next)
		if d := cmp.Diff(next, mustGet(t, s, a)); d != "" {
			t.Fatalf("Put did not replace every field (-put +got):\n%s", d)
		}
	}
	c, err := s.Counts(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 1 {
		t.Errorf("after three upserts of one address, Counts().Total = %d, want 1", c.Total)
	}
	// Within one Put, the last record for an address wins, however long
	// the Put.
	for _, n := range []int{2, 45} {
		recs := []state.Record{FullRecord(a, 5)}
		for i := 1; i < n-1; i++ {
			recs = append(recs, FullRecord(addr("up", 100+i), i))
		}
		recs = append(recs, FullRecord(a, 6+n))
		mustPut(t, s, recs...)
		if d := cmp.Diff(FullRecord(a, 6+n), mustGet(t, s, a)); d != "" {
			t.Errorf("Put of %d records with an address twice did not keep the last (-want +got):\n%s", n, d)
		}
	}
}

func testGetNotFound(t *testing.T, s state.Store) {
	mustPut(t, s, FullRecord(addr("nf", 1), 1))
	_, err := s.Get(ctxFor(t), addr("nf", 2))
	if !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get of an unknown address: err = %v, want state.ErrNotFound", err)
	}
}

func testLookup(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	const n = 1200 // more than one IN chunk in a typical implementation
	var recs []state.Record
	var all []string
	for i := range n {
		r := FullRecord(addr("lk", i), i)
		recs = append(recs, r)
		all = append(all, r.Address)
	}
	mustPut(t, s, recs...)

	got, err := s.Lookup(ctx, nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Lookup(nil) = %v, %v; want an empty non-nil map", got, err)
	}

	ask := []string{all[3], all[7], "batch.lk[\"nobody\"]", all[3], all[n-1], addr("other", 7)}
	got, err = s.Lookup(ctx, ask)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	want := map[string]state.Record{all[3]: recs[3], all[7]: recs[7], all[n-1]: recs[n-1]}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Lookup subset (-want +got):\n%s", d)
	}

	got, err = s.Lookup(ctx, all)
	if err != nil {
		t.Fatalf("Lookup of %d addresses: %v", n, err)
	}
	if len(got) != n {
		t.Fatalf("Lookup of %d stored addresses found %d", n, len(got))
	}
	for i, r := range recs {
		if d := cmp.Diff(r, got[r.Address]); d != "" {
			t.Fatalf("Lookup record %d (-want +got):\n%s", i, d)
		}
	}
}

// pageFixture puts 60 records over two batches with a spread of statuses and
// deliveries, inserted out of address order, and returns them.
func pageFixture(t *testing.T, s state.Store) []state.Record {
	var recs []state.Record
	for i := range 60 {
		j := (i * 37) % 60 // a permutation, so insertion order is not address order
		batch := "alpha"
		if j%3 == 0 {
			batch = "beta"
		}
		r := FullRecord(addr(batch, j), j)
		r.Batch = batch
		r.Status = allStatuses[j%len(allStatuses)]
		r.Delivery = allDeliveries[j%len(allDeliveries)]
		recs = append(recs, r)
	}
	mustPut(t, s, recs...)
	return recs
}

// pageAll collects every record matching f with Page and the given limit,
// checking that pages are ordered, within the limit and continue strictly
// after the previous page.
func pageAll(t *testing.T, s state.Store, f state.Filter, limit int) []state.Record {
	t.Helper()
	var out []state.Record
	after := ""
	for range 1000 {
		page, err := s.Page(ctxFor(t), f, after, limit)
		if err != nil {
			t.Fatalf("Page(%+v, %q, %d): %v", f, after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("Page returned %d records, limit %d", len(page), limit)
		}
		if len(page) == 0 {
			return out
		}
		for _, r := range page {
			if r.Address <= after {
				t.Fatalf("Page(after %q) returned %q, out of order", after, r.Address)
			}
			after = r.Address
		}
		out = append(out, page...)
	}
	t.Fatal("Page never returned an empty page")
	return nil
}

func testPage(t *testing.T, s state.Store) {
	recs := pageFixture(t, s)
	byAddress := slices.Clone(recs)
	slices.SortFunc(byAddress, func(a, b state.Record) int {
		switch {
		case a.Address < b.Address:
			return -1
		case a.Address > b.Address:
			return 1
		}
		return 0
	})
	some := []string{byAddress[5].Address, byAddress[17].Address, byAddress[18].Address, byAddress[40].Address, "batch.zeta[\"none\"]"}

	cases := []struct {
		name string
		f    state.Filter
		keep func(state.Record) bool
	}{
		{"all", state.Filter{}, func(state.Record) bool { return true }},
		{"one status", state.Filter{Statuses: []state.Status{state.StatusSent}},
			func(r state.Record) bool { return r.Status == state.StatusSent }},
		{"two statuses", state.Filter{Statuses: []state.Status{state.StatusSending, state.StatusUncertain}},
			func(r state.Record) bool { return r.Status == state.StatusSending || r.Status == state.StatusUncertain }},
		{"no delivery", state.Filter{Deliveries: []state.Delivery{state.DeliveryNone}},
			func(r state.Record) bool { return r.Delivery == state.DeliveryNone }},
		{"deliveries", state.Filter{Deliveries: []state.Delivery{state.DeliveryBounced, state.DeliveryPending}},
			func(r state.Record) bool {
				return r.Delivery == state.DeliveryBounced || r.Delivery == state.DeliveryPending
			}},
		{"batch", state.Filter{Batch: "beta"}, func(r state.Record) bool { return r.Batch == "beta" }},
		{"addresses", state.Filter{Addresses: some}, func(r state.Record) bool { return slices.Contains(some, r.Address) }},
		{"status and delivery and batch", state.Filter{
			Statuses:   []state.Status{state.StatusSent, state.StatusFailed},
			Deliveries: []state.Delivery{state.DeliveryNone, state.DeliveryDelivered, state.DeliveryTransient, state.DeliveryClicked},
			Batch:      "alpha",
		}, func(r state.Record) bool {
			return (r.Status == state.StatusSent || r.Status == state.StatusFailed) &&
				(r.Delivery == state.DeliveryNone || r.Delivery == state.DeliveryDelivered ||
					r.Delivery == state.DeliveryTransient || r.Delivery == state.DeliveryClicked) &&
				r.Batch == "alpha"
		}},
		{"addresses and status", state.Filter{Addresses: some, Statuses: []state.Status{allStatuses[0], allStatuses[1], allStatuses[2]}},
			func(r state.Record) bool {
				return slices.Contains(some, r.Address) && slices.Contains(allStatuses[:3], r.Status)
			}},
	}
	for _, tc := range cases {
		var want []state.Record
		for _, r := range byAddress {
			if tc.keep(r) {
				want = append(want, r)
			}
		}
		if len(want) == 0 {
			t.Fatalf("%s: fixture matches nothing; the case would prove nothing", tc.name)
		}
		for _, limit := range []int{1, 7, 100} {
			got := pageAll(t, s, tc.f, limit)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s, limit %d (-want +got):\n%s", tc.name, limit, d)
			}
		}
	}

	// Continuation from an address that is not stored.
	mid := byAddress[30].Address + "x"
	page, err := s.Page(ctxFor(t), state.Filter{}, mid, 5)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(byAddress[31:36], page); d != "" {
		t.Errorf("Page after an absent address (-want +got):\n%s", d)
	}
	// After the last address: empty.
	page, err = s.Page(ctxFor(t), state.Filter{}, byAddress[len(byAddress)-1].Address, 5)
	if err != nil || len(page) != 0 {
		t.Errorf("Page after the last address = %d records, %v; want none", len(page), err)
	}
}

func testEach(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	const n = 1500 // more than state.Each's page size
	recs := make([]state.Record, n)
	for i := range recs {
		recs[i] = FullRecord(addr("each", (i*7919)%n), i)
		recs[i].Status = state.StatusSending
		if i%3 == 0 {
			recs[i].Status = state.StatusSent
		}
	}
	for chunk := range slices.Chunk(recs, 500) {
		mustPut(t, s, chunk...)
	}
	wantSending := n - (n+2)/3

	// Each over the sending rows, moving every one to sent from inside the
	// callback (in groups, as the runner does). The rows leave the filter
	// while it runs; each must still be seen exactly once and in order.
	var pending []state.Record
	seen := 0
	last := ""
	err := state.Each(ctx, s, state.Filter{Statuses: []state.Status{state.StatusSending}}, func(r state.Record) error {
		if r.Address <= last {
			return fmt.Errorf("each visited %q after %q", r.Address, last)
		}
		last = r.Address
		seen++
		r.Status = state.StatusSent
		r.Attempts = 42
		pending = append(pending, r)
		if len(pending) == 200 {
			if err := s.Put(ctx, pending); err != nil {
				return err
			}
			pending = pending[:0]
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Each: %v", err)
	}
	mustPut(t, s, pending...)
	if seen != wantSending {
		t.Fatalf("Each visited %d sending records, want %d", seen, wantSending)
	}

	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != n || c.ByStatus[state.StatusSent] != n {
		t.Fatalf("after Each moved every row to sent: Counts = %+v, want %d sent", c, n)
	}

	// A plain Each over everything sees every record once, with the writes.
	seen, moved := 0, 0
	err = state.Each(ctx, s, state.Filter{}, func(r state.Record) error {
		seen++
		if r.Attempts == 42 {
			moved++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Each: %v", err)
	}
	if seen != n || moved != wantSending {
		t.Fatalf("Each saw %d records (%d with the callback's write), want %d (%d)", seen, moved, n, wantSending)
	}

	// An error from the callback stops Each and is returned.
	stop := errors.New("stop")
	calls := 0
	err = state.Each(ctx, s, state.Filter{}, func(state.Record) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Each with a failing callback: err = %v after %d calls, want stop after 1", err, calls)
	}
}

func testCounts(t *testing.T, s state.Store) {
	c, err := s.Counts(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 0 || c.ByStatus == nil || c.ByDelivery == nil || len(c.ByStatus) != 0 || len(c.ByDelivery) != 0 {
		t.Fatalf("Counts of an empty store = %+v, want zero total and empty non-nil maps", c)
	}
	recs := pageFixture(t, s)
	want := state.Counts{Total: len(recs), ByStatus: map[state.Status]int{}, ByDelivery: map[state.Delivery]int{}}
	for _, r := range recs {
		want.ByStatus[r.Status]++
		want.ByDelivery[r.Delivery]++
	}
	c, err = s.Counts(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("Counts (-want +got):\n%s", d)
	}
}

func testDelete(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	const n = 1100
	var all []string
	var recs []state.Record
	for i := range n {
		r := FullRecord(addr("del", i), i)
		recs = append(recs, r)
		all = append(all, r.Address)
	}
	mustPut(t, s, recs...)

	got, err := s.Delete(ctx, []string{all[1], all[2], "batch.del[\"nobody\"]", all[1]})
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got != 2 {
		t.Errorf("Delete of 2 stored addresses (one listed twice) and 1 unknown reported %d, want 2", got)
	}
	for _, a := range all[1:3] {
		if _, err := s.Get(ctx, a); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("Get(%q) after Delete: err = %v, want ErrNotFound", a, err)
		}
	}
	if d := cmp.Diff(recs[0], mustGet(t, s, all[0])); d != "" {
		t.Errorf("Delete touched a record it was not given (-want +got):\n%s", d)
	}

	got, err = s.Delete(ctx, all) // crosses chunk boundaries
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got != n-2 {
		t.Errorf("Delete of all %d addresses reported %d, want %d", n, got, n-2)
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 0 {
		t.Errorf("after deleting everything, Counts().Total = %d", c.Total)
	}
}

func testSuppressions(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	if n, err := s.CountSuppressions(ctx); err != nil || n != 0 {
		t.Fatalf("CountSuppressions of a new store = %d, %v; want 0", n, err)
	}
	at := time.Date(2026, 11, 25, 14, 3, 4, 5, time.FixedZone("EST", -5*3600))
	err := s.PutSuppressions(ctx, []state.Suppression{
		{Email: "Ann@Example.COM", Stream: "outbound", Reason: "HardBounce", MessageID: "m-1", At: at},
		{Email: "bob@example.com", Stream: "broadcast", Reason: "SpamComplaint", MessageID: "m-2"},
	})
	if err != nil {
		t.Fatalf("PutSuppressions: %v", err)
	}
	if n, err := s.CountSuppressions(ctx); err != nil || n != 2 {
		t.Errorf("CountSuppressions = %d, %v; want 2", n, err)
	}
	got, err := s.Suppressed(ctx, "outbound", []string{"ANN@example.com", "bob@example.com", "carol@example.com"})
	if err != nil {
		t.Fatalf("Suppressed: %v", err)
	}
	want := map[string]state.Suppression{
		"ann@example.com": {Email: "ann@example.com", Stream: "outbound", Reason: "HardBounce", MessageID: "m-1", At: at},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Suppressed on outbound (-want +got):\n%s", d)
	}
	if a := got["ann@example.com"].At; a.Location() != time.UTC {
		t.Errorf("Suppression.At = %v, want UTC", a)
	}

	got, err = s.Suppressed(ctx, "broadcast", []string{"Bob@Example.com", "ann@example.com"})
	if err != nil {
		t.Fatalf("Suppressed: %v", err)
	}
	if len(got) != 1 || got["bob@example.com"].Reason != "SpamComplaint" || !got["bob@example.com"].At.IsZero() {
		t.Errorf("Suppressed on broadcast = %+v, want only bob (SpamComplaint, zero time)", got)
	}

	// Upsert by (email, stream), case-insensitively.
	if err := s.PutSuppressions(ctx, []state.Suppression{{Email: "ann@EXAMPLE.com", Stream: "outbound", Reason: "ManuallyDeactivated"}}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Suppressed(ctx, "outbound", []string{"ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["ann@example.com"].Reason != "ManuallyDeactivated" {
		t.Errorf("after upsert, Suppressed = %+v, want one ManuallyDeactivated entry", got)
	}

	got, err = s.Suppressed(ctx, "outbound", nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("Suppressed(nil) = %v, %v; want an empty non-nil map", got, err)
	}
}

func testConcurrentPut(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	const workers, puts, size = 8, 6, 25
	m0 := mustMeta(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := range workers {
		wg.Go(func() {
			for p := range puts {
				recs := make([]state.Record, size)
				for i := range recs {
					recs[i] = FullRecord(addr(fmt.Sprintf("w%d", w), p*size+i), i)
				}
				if err := s.Put(ctx, recs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// A reader alongside the writers must neither block forever nor fail.
	done := make(chan struct{})
	var rg sync.WaitGroup
	rg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.Page(ctx, state.Filter{Statuses: []state.Status{state.StatusSent}}, "", 50); err != nil {
				errs <- err
				return
			}
			if _, err := s.Lookup(ctx, []string{addr("w0", 0), addr("w7", 1)}); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(done)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != workers*puts*size {
		t.Errorf("after %d concurrent Puts of %d, Total = %d, want %d", workers*puts, size, c.Total, workers*puts*size)
	}
	if m := mustMeta(t, s); m.Serial != m0.Serial+workers*puts {
		t.Errorf("serial went from %d to %d over %d Puts", m0.Serial, m.Serial, workers*puts)
	}
}

// testSendingLifecycle follows the records of an apply: "sending" before a
// request, the outcome after it, with reads in between seeing exactly what
// the last Put said (an implementation may store sending records apart).
func testSendingLifecycle(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	addr := func(i int) string { return fmt.Sprintf(`batch.life["m%03d@example.com"]`, i) }
	rec := func(i int, st state.Status) state.Record {
		r := FullRecord(addr(i), i)
		r.Status, r.Delivery = st, state.DeliveryNone
		if st == state.StatusSent {
			r.Delivery = state.DeliveryPending
		}
		return r
	}
	// m000..m009 existed as unsent (an earlier run gave up on them).
	var before []state.Record
	for i := range 10 {
		before = append(before, rec(i, state.StatusUnsent))
	}
	if err := s.Put(ctx, before); err != nil {
		t.Fatal(err)
	}
	// Request 1 carries m000..m019, request 2 m020..m029.
	var req1, req2 []state.Record
	for i := range 20 {
		req1 = append(req1, rec(i, state.StatusSending))
	}
	for i := 20; i < 30; i++ {
		req2 = append(req2, rec(i, state.StatusSending))
	}
	if err := s.Put(ctx, req1); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, req2); err != nil {
		t.Fatal(err)
	}
	check := func(stage string, want map[state.Status]int) {
		t.Helper()
		c, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for st, n := range want {
			total += n
			if c.ByStatus[st] != n {
				t.Errorf("%s: Counts.ByStatus[%s] = %d, want %d (%v)", stage, st, c.ByStatus[st], n, c.ByStatus)
			}
		}
		if c.Total != total {
			t.Errorf("%s: Counts.Total = %d, want %d", stage, c.Total, total)
		}
		for st, n := range want {
			var got []string
			err := state.Each(ctx, s, state.Filter{Statuses: []state.Status{st}}, func(r state.Record) error {
				if r.Status != st {
					t.Errorf("%s: Each(status %s) yielded %s with status %s", stage, st, r.Address, r.Status)
				}
				got = append(got, r.Address)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n || !sort.StringsAreSorted(got) {
				t.Errorf("%s: Each(status %s) = %d records (sorted %v), want %d", stage, st, len(got), sort.StringsAreSorted(got), n)
			}
		}
		var all []string
		_ = state.Each(ctx, s, state.Filter{}, func(r state.Record) error { all = append(all, r.Address); return nil })
		if len(all) != total || !sort.StringsAreSorted(all) {
			t.Errorf("%s: Each() = %d records, want %d, in order", stage, len(all), total)
		}
	}
	check("in flight", map[state.Status]int{state.StatusSending: 30})
	if r, err := s.Get(ctx, addr(3)); err != nil || r.Status != state.StatusSending {
		t.Errorf("Get of a sending record = %v, %v", r.Status, err)
	}
	if m, err := s.Lookup(ctx, []string{addr(3), addr(25), addr(99)}); err != nil || len(m) != 2 || m[addr(3)].Status != state.StatusSending {
		t.Errorf("Lookup = %v, %v", m, err)
	}
	// Request 1's response: 18 sent, 2 refused.
	var res1 []state.Record
	for i := range 20 {
		st := state.StatusSent
		if i >= 18 {
			st = state.StatusFailed
		}
		res1 = append(res1, rec(i, st))
	}
	if err := s.Put(ctx, res1); err != nil {
		t.Fatal(err)
	}
	check("request 1 answered", map[state.Status]int{state.StatusSent: 18, state.StatusFailed: 2, state.StatusSending: 10})
	// Request 2 was ambiguous; then one of its messages is deleted.
	var res2 []state.Record
	for i := 20; i < 30; i++ {
		res2 = append(res2, rec(i, state.StatusUncertain))
	}
	if err := s.Put(ctx, res2[:5]); err != nil {
		t.Fatal(err)
	}
	check("half of request 2 recorded", map[state.Status]int{state.StatusSent: 18, state.StatusFailed: 2, state.StatusSending: 5, state.StatusUncertain: 5})
	if n, err := s.Delete(ctx, []string{addr(29), addr(0)}); err != nil || n != 2 {
		t.Errorf("Delete = %d, %v; want 2", n, err)
	}
	check("after delete", map[state.Status]int{state.StatusSent: 17, state.StatusFailed: 2, state.StatusSending: 4, state.StatusUncertain: 5})
	if err := s.Put(ctx, res2[5:9]); err != nil {
		t.Fatal(err)
	}
	check("settled", map[state.Status]int{state.StatusSent: 17, state.StatusFailed: 2, state.StatusUncertain: 9})
}

// testTombstones: Delete leaves the next generation of each removed
// address; Put of the address clears it.
func testTombstones(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	a, b, c := addr("tomb", 1), addr("tomb", 2), addr("tomb", 3)
	ra, rb := FullRecord(a, 1), FullRecord(b, 2)
	ra.Generation, rb.Generation = 0, 4
	rc := FullRecord(c, 3)
	rc.Status = state.StatusSending // in flight, announced but not settled
	rc.Generation = 1
	mustPut(t, s, ra, rb)
	mustPut(t, s, rc)
	got, err := s.Tombstones(ctx, []string{a, b, c})
	if err != nil {
		t.Fatalf("Tombstones: %v", err)
	}
	if got == nil || len(got) != 0 {
		t.Fatalf("Tombstones before any Delete = %v, want an empty map", got)
	}
	if _, err := s.Delete(ctx, []string{a, b, c, addr("tomb", 9)}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	got, err = s.Tombstones(ctx, []string{a, b, c, addr("tomb", 9)})
	if err != nil {
		t.Fatalf("Tombstones: %v", err)
	}
	want := map[string]int{a: 1, b: 5, c: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Tombstones after Delete (-want +got):\n%s", diff)
	}
	// Deleting an address that has only a tombstone keeps it as it is.
	if _, err := s.Delete(ctx, []string{a}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	// Sending again: the new record carries the next generation and
	// clears the tombstone.
	rb2 := FullRecord(b, 5)
	rb2.Generation = 5
	mustPut(t, s, rb2)
	got, err = s.Tombstones(ctx, []string{a, b, c})
	if err != nil {
		t.Fatalf("Tombstones: %v", err)
	}
	if diff := cmp.Diff(map[string]int{a: 1, c: 2}, got); diff != "" {
		t.Fatalf("Tombstones after putting %s again (-want +got):\n%s", b, diff)
	}
	// A second removal counts from the record's generation.
	if _, err := s.Delete(ctx, []string{b}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	got, err = s.Tombstones(ctx, []string{b})
	if err != nil {
		t.Fatalf("Tombstones: %v", err)
	}
	if got[b] != 6 {
		t.Fatalf("Tombstones[%s] after the second removal = %d, want 6", b, got[b])
	}
}

// testBind: a store binds to one Postmark server.
func testBind(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	if m := mustMeta(t, s); m.Server.Bound() {
		t.Fatalf("a new store is bound to %v", m.Server)
	}
	if err := s.Bind(ctx, state.Server{ID: 42, Name: "Staging"}); err != nil {
		t.Fatalf("Bind: %v", err)
	}
	if m := mustMeta(t, s); m.Server != (state.Server{ID: 42, Name: "Staging"}) {
		t.Fatalf("Meta().Server = %v after Bind", m.Server)
	}
	serial := mustMeta(t, s).Serial
	err := s.Bind(ctx, state.Server{ID: 43, Name: "Production"})
	var mm *state.ServerMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("Bind to another server: err = %v, want *state.ServerMismatchError", err)
	}
	if mm.Stored.ID != 42 || mm.Requested.ID != 43 {
		t.Fatalf("ServerMismatchError = %+v, want stored 42 and requested 43", mm)
	}
	m := mustMeta(t, s)
	if m.Server.ID != 42 || m.Serial != serial {
		t.Fatalf("a refused Bind changed the store: server %v, serial %d (was %d)", m.Server, m.Serial, serial)
	}
	// The same server under a new name: the name follows.
	if err := s.Bind(ctx, state.Server{ID: 42, Name: "Staging EU"}); err != nil {
		t.Fatalf("Bind with a new name: %v", err)
	}
	if m := mustMeta(t, s); m.Server.Name != "Staging EU" {
		t.Fatalf("Meta().Server.Name = %q after a rename, want %q", m.Server.Name, "Staging EU")
	}
}

// testValues: named values are set, read and removed.
func testValues(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	got, err := s.Values(ctx, []string{"a"})
	if err != nil {
		t.Fatalf("Values: %v", err)
	}
	if got == nil || len(got) != 0 {
		t.Fatalf("Values of a new store = %v, want an empty map", got)
	}
	if err := s.SetValues(ctx, map[string]string{"a": "1", "b": "two", "c": "3"}); err != nil {
		t.Fatalf("SetValues: %v", err)
	}
	if err := s.SetValues(ctx, map[string]string{"a": "one", "c": ""}); err != nil {
		t.Fatalf("SetValues: %v", err)
	}
	got, err = s.Values(ctx, []string{"a", "b", "c", "d"})
	if err != nil {
		t.Fatalf("Values: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"a": "one", "b": "two"}, got); diff != "" {
		t.Fatalf("Values (-want +got):\n%s", diff)
	}
}
