package main

import (
	"bufio"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postform/postform/postmark/postmarktest"
)

// crashCase is one kill -9 campaign against the real postform process.
type crashCase struct {
	recipients  int
	parallelism int
	batchSize   int
	kills       int // SIGKILLs that must land on a running apply
	seed        uint64
	sim         postmarktest.Options
	hold        time.Duration // how long the simulator holds each answer after accepting
	finalRuns   int           // applies allowed after the kills to converge
}

// TestCrashExactlyOnce is the exactly-once invariant under kill -9: a
// multi-batch apply of the real binary is killed with SIGKILL at seeded
// random moments, many of them while batches are in flight (some after the
// simulator accepted a batch but before its answer reached postform); then
// apply runs to completion. The simulator's log must hold every recipient
// exactly once — no duplicate by pf_id nor by recipient, none missing — and
// state must list every message as sent with the MessageID the simulator
// gave it.
func TestCrashExactlyOnce(t *testing.T) {
	t.Parallel()
	t.Run("kill", func(t *testing.T) {
		runCrashCase(t, crashCase{
			recipients: 3000, parallelism: 4, batchSize: 25, kills: 20, seed: 0x5eed,
			sim:       postmarktest.Options{Seed: 7, Latency: 10 * time.Millisecond, SearchLag: 100 * time.Millisecond},
			hold:      30 * time.Millisecond,
			finalRuns: 1,
		})
	})
	// The same under injected faults: 429 and 503 (retried), 500 before and
	// after acceptance, and accepted-then-dropped connections (ambiguous,
	// reconciled by search before any resend).
	t.Run("kill_with_faults", func(t *testing.T) {
		runCrashCase(t, crashCase{
			recipients: 1000, parallelism: 4, batchSize: 20, kills: 8, seed: 0xfa17,
			sim: postmarktest.Options{Seed: 11, Latency: 10 * time.Millisecond, SearchLag: 100 * time.Millisecond,
				Rate429: 0.04, Rate503: 0.04, Rate500: 0.04, RateAcceptedDrop: 0.08, Rate500Accepted: 0.04},
			hold: 20 * time.Millisecond,
			// Retries that run out within one apply leave messages for the
			// next one: converging may take a second run.
			finalRuns: 3,
		})
	})
}

func runCrashCase(t *testing.T, c crashCase) {
	sim := newSimulator(c.sim)
	tracker := &sendTracker{h: sim.Handler(), hold: c.hold}
	url := serve(t, tracker)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.pf.hcl": batchConfig(c.parallelism, c.batchSize),
		"people.csv":  recipientsCSV(c.recipients),
	})
	rng := rand.New(rand.NewPCG(c.seed, 0))
	args := []string{"apply", "-auto-approve", "-max-lines=1", "-reconcile-grace=300ms"}

	kills, inFlight, attempts := 0, 0, 0
	for kills < c.kills {
		attempts++
		if attempts > 3*c.kills {
			t.Fatalf("only %d of %d kills landed in %d attempts", kills, c.kills, attempts)
		}
		before := tracker.started.Load()
		cmd := postform(t, dir, url, args...)
		exited := background(startCommand(t, cmd))

		// The kill moment is measured in this run's send requests rather
		// than in time alone, so that each run gets only a few batches
		// further whatever the speed of the machine (with or without -race).
		// One kill in four lands at a random moment from the start (loading,
		// planning, reconciling) unless the first batch leaves earlier; the
		// others land a random moment after the run's first or second send
		// request, which the simulator holds in flight for a while.
		var alive bool
		if kills%4 == 0 {
			alive = waitSends(tracker, before, 1, time.Duration(20+rng.IntN(380))*time.Millisecond, exited)
		} else {
			alive = waitSends(tracker, before, int64(1+rng.IntN(2)), 2*time.Minute, exited) &&
				sleepUnlessExited(time.Duration(rng.IntN(40))*time.Millisecond, exited)
		}
		if alive && tracker.inflight.Load() > 0 {
			inFlight++
		}
		if alive {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9: %v", err)
			}
		}
		res := <-exited
		if res.code == -1 {
			kills++
			continue
		}
		// It finished before the signal: no kill. Exit 1 can be honest
		// here (retries ran out under faults); anything else is not.
		t.Logf("apply %d exited by itself with code %d before it could be killed", attempts, res.code)
		if res.code != 0 && res.code != 1 {
			t.Fatalf("apply failed:\n%s", res)
		}
		if res.code == 0 && tracker.started.Load() == before {
			break // nothing was left to send
		}
	}
	t.Logf("%d kills (%d with send requests in flight, %d after the simulator accepted a batch whose answer never arrived); %d messages accepted so far",
		kills, inFlight, tracker.unheard.Load(), sim.AcceptedCount())
	if kills < c.kills {
		t.Errorf("only %d kills landed, want %d: the campaign is too short for this machine", kills, c.kills)
	}

	// Run apply to completion.
	var last result
	for i := 0; i < c.finalRuns; i++ {
		last = run(t, dir, url, args...)
		if last.code == 0 {
			break
		}
		t.Logf("apply after the kills, run %d: exit %d\n%s", i+1, last.code, lastLines(last.stdout+last.stderr, 6))
	}
	if last.code != 0 {
		t.Fatalf("apply did not complete in %d run(s):\n%s", c.finalRuns, last)
	}
	st := sim.Stats()
	t.Logf("simulator: %d accepted, requests %v, faults %v", st.Accepted, st.RequestsByEndpoint, st.Faults)

	assertExactlyOnce(t, sim, c.recipients)
	assertStateMatches(t, dir, url, sim, c.recipients)
}

// waitSends waits until the tracker has seen k send requests beyond
// before, or timeout has passed. It reports false if the process exited
// first (its result is put back into exited).
func waitSends(tr *sendTracker, before, k int64, timeout time.Duration, exited chan result) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for tr.started.Load() < before+k {
		select {
		case res := <-exited:
			exited <- res
			return false
		case <-deadline.C:
			return true
		case <-tick.C:
		}
	}
	return true
}

// sleepUnlessExited sleeps d and reports false if the process exited
// meanwhile (its result is put back into exited).
func sleepUnlessExited(d time.Duration, exited chan result) bool {
	select {
	case res := <-exited:
		exited <- res
		return false
	case <-time.After(d):
		return true
	}
}

// assertStateMatches checks `postform state list`: every message is sent,
// with the MessageID under which the simulator accepted it.
func assertStateMatches(t *testing.T, dir, url string, sim *postmarktest.Server, n int) {
	t.Helper()
	ids := make(map[string]string, n)
	for _, m := range sim.Accepted() {
		ids[`batch.news["`+m.To+`"]`] = m.MessageID
	}
	res := run(t, dir, url, "state", "list")
	if res.code != 0 {
		t.Fatalf("state list:\n%s", res)
	}
	lines, bad := 0, 0
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 4 {
			t.Fatalf("unexpected state list line %q", sc.Text())
		}
		lines++
		if f[1] != "sent" || f[3] != ids[f[0]] {
			bad++
			if bad <= 5 {
				t.Errorf("state has %s as %s with MessageID %s; the simulator accepted it as %q", f[0], f[1], f[3], ids[f[0]])
			}
		}
	}
	if lines != n || bad > 0 {
		t.Fatalf("state lists %d message(s), want %d; %d disagree with the simulator", lines, n, bad)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
