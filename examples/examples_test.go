// Package examples_test loads, validates, plans and applies every example
// configuration against the simulator, so the examples users copy stay true.
package examples_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/postform/postform/config"
	"github.com/postform/postform/postmark"
	"github.com/postform/postform/postmark/postmarktest"
	"github.com/postform/postform/runner"
	"github.com/postform/postform/state/pebblestate"
)

func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob("*/*.pf.hcl")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range dirs {
		seen[filepath.Dir(f)] = true
	}
	if len(seen) < 3 {
		t.Fatalf("found %d example directories, want at least 3", len(seen))
	}
	for dir := range seen {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			p := config.NewParser(os.DirFS(dir))
			cfg, diags := p.LoadConfig()
			if diags.HasErrors() {
				t.Fatalf("load: %v", diags)
			}
			ev, diags := cfg.Evaluate(config.Inputs{Env: map[string]string{"POSTMARK_SERVER_TOKEN": "example-token"}})
			if diags.HasErrors() {
				t.Fatalf("evaluate: %v", diags)
			}
			// validate: every message renders without a problem.
			n := 0
			for _, b := range ev.Batches {
				for m, mdiags := range b.Messages() {
					n++
					if mdiags.HasErrors() {
						t.Errorf("%s: %v", m.Address, mdiags)
					}
				}
			}
			if n == 0 {
				t.Fatal("the example has no messages")
			}
			// plan: everything to send, nothing invalid.
			sum, err := runner.Plan(context.Background(), ev, nil, runner.PlanOptions{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if sum.ToSend != n || sum.Invalid != 0 {
				t.Fatalf("plan %+v for %d messages", sum, n)
			}
			// apply against the simulator, with the server template the
			// receipts example uses.
			sim := postmarktest.NewServer(t, postmarktest.Options{Seed: 1, Templates: map[string]postmarktest.Template{
				"receipt": {ID: 1, Subject: "Invoice {{invoice_id}}", TextBody: "Total {{total}} {{currency}}"},
			}})
			pm, err := postmark.NewClient(sim.Token(), postmark.WithBaseURL(sim.URL()))
			if err != nil {
				t.Fatal(err)
			}
			st, err := pebblestate.Open(context.Background(), filepath.Join(t.TempDir(), "state"), pebblestate.Options{Target: "simulator"})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			run, err := runner.Apply(context.Background(), ev, st, pm, runner.ApplyOptions{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if run.Sent != n || run.Failed != 0 || sim.AcceptedCount() != n {
				t.Fatalf("apply sent %d, failed %d, simulator accepted %d; want %d", run.Sent, run.Failed, sim.AcceptedCount(), n)
			}
		})
	}
}
