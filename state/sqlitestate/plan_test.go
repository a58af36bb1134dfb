package sqlitestate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/state"
)

// TestPageNeverSorts checks, through SQLite's own query plan, that no Page
// query sorts its matches: a sort would make every page cost the whole
// match set and a walk over a million rows quadratic.
func TestPageNeverSorts(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "state.db"), Options{Target: "simulator"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sent, failed := state.StatusSent, state.StatusFailed
	filters := []state.Filter{
		{},
		{Statuses: []state.Status{sent}},
		{Statuses: []state.Status{sent, failed}},
		{Deliveries: []state.Delivery{state.DeliveryPending}},
		{Deliveries: []state.Delivery{state.DeliveryPending, state.DeliveryTransient, state.DeliveryNone}},
		{Batch: "news"},
		{Addresses: []string{"a", "b"}},
		{Statuses: []state.Status{sent}, Deliveries: []state.Delivery{state.DeliveryNone, state.DeliveryPending}},
		{Statuses: []state.Status{sent, failed}, Deliveries: []state.Delivery{state.DeliveryPending}, Batch: "news"},
		{Statuses: []state.Status{sent}, Addresses: []string{"a"}, Batch: "news"},
	}
	for _, f := range filters {
		q, args := pageQuery(f, "", 10)
		rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) == 0 {
			t.Fatalf("%+v: empty query plan", f)
		}
		if p := strings.Join(plan, "; "); strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("Page with %+v sorts: %s", f, p)
		}
	}
}
