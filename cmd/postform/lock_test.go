package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postform/postform/postmark/postmarktest"
)

// gate holds every send request until release is called, and reports the
// first one's arrival. It turns "the first apply is still sending" from a
// matter of timing into a fact the test controls.
type gate struct {
	h        http.Handler
	arrived  chan struct{}
	released chan struct{}
	first    sync.Once
	rel      sync.Once
}

func newGate(h http.Handler) *gate {
	return &gate{h: h, arrived: make(chan struct{}), released: make(chan struct{})}
}

func (g *gate) release() { g.rel.Do(func() { close(g.released) }) }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isSend(r) {
		g.first.Do(func() { close(g.arrived) })
		select {
		case <-g.released:
		case <-r.Context().Done():
			return
		}
	}
	g.h.ServeHTTP(w, r)
}

// waitArrived waits for the first send request, failing the test if the
// process under test exits first.
func (g *gate) waitArrived(t *testing.T, exited <-chan result) {
	t.Helper()
	select {
	case <-g.arrived:
	case res := <-exited:
		t.Fatalf("the first apply exited before sending anything:\n%s", res)
	case <-time.After(time.Minute):
		t.Fatal("the first apply sent nothing within a minute")
	}
}

// background waits for a process in a goroutine; the channel (buffered)
// receives its result.
func background(wait func() result) chan result {
	ch := make(chan result, 1)
	go func() { ch <- wait() }()
	return ch
}

const lockRecipients = 16

// gatedSetup starts a simulator behind a gate that holds send requests
// until released, and a configuration directory of lockRecipients messages.
func gatedSetup(t *testing.T, seed uint64) (sim *postmarktest.Server, g *gate, url, dir string) {
	t.Helper()
	sim = newSimulator(postmarktest.Options{Seed: seed})
	g = newGate(sim.Handler())
	url = serve(t, g)
	t.Cleanup(g.release)
	dir = t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.pf.hcl": batchConfig(2, 4),
		"people.csv":  recipientsCSV(lockRecipients),
	})
	return sim, g, url, dir
}

// TestLockConcurrentApply runs two postform apply processes against one
// directory and one simulator. The first holds the state lock while its
// requests are held at the simulator; the second fails at once with exit 1,
// naming the holder's pid and command, and sends nothing. The simulator's
// log then shows every message exactly once.
func TestLockConcurrentApply(t *testing.T) {
	t.Parallel()
	sim, g, url, dir := gatedSetup(t, 3)

	firstCmd := postform(t, dir, url, "apply", "-auto-approve")
	first := background(startCommand(t, firstCmd))
	g.waitArrived(t, first)
	holderPID := firstCmd.Process.Pid

	second := run(t, dir, url, "apply", "-auto-approve")
	if second.code != 1 {
		t.Fatalf("second apply while the first holds the lock: want exit 1\n%s", second)
	}
	for _, want := range []string{
		"Error: State is locked",
		"state is locked by postform apply",
		fmt.Sprintf("pid %d", holderPID),
		"postform force-unlock",
	} {
		if !strings.Contains(collapse(second.stderr), want) {
			t.Errorf("second apply's error does not mention %q:\n%s", want, second.stderr)
		}
	}
	if strings.Contains(second.stdout, "Apply complete") {
		t.Errorf("second apply reports a run although it never had the lock:\n%s", second.stdout)
	}
	if n := sim.AcceptedCount(); n != 0 {
		t.Fatalf("simulator accepted %d message(s) while every send was held", n)
	}

	// The state is open in the holder alone: commands that only read it
	// fail at once too, naming the holder, rather than read a state that
	// is moving.
	for _, args := range [][]string{{"plan"}, {"state", "list"}} {
		res := run(t, dir, url, args...)
		if res.code != 1 || !strings.Contains(collapse(res.stderr), "state is locked by postform apply") ||
			!strings.Contains(collapse(res.stderr), fmt.Sprintf("pid %d", holderPID)) {
			t.Errorf("%s while apply holds the state: want exit 1 naming the holder\n%s", strings.Join(args, " "), res)
		}
	}

	// force-unlock refuses an ID that is not the holder's, and refuses to
	// break a lock whose holder is alive.
	bad := run(t, dir, url, "force-unlock", "not-the-lock-id")
	if bad.code != 1 || !strings.Contains(collapse(bad.stderr), "lock ID does not match the holder") {
		t.Errorf("force-unlock with a wrong ID: want exit 1 and a mismatch error\n%s", bad)
	}
	id := lockID(t, second.stderr)
	live := run(t, dir, url, "force-unlock", id)
	if live.code != 1 || !strings.Contains(collapse(live.stderr), "held by a running process") {
		t.Errorf("force-unlock of a live holder: want exit 1 and a refusal\n%s", live)
	}

	g.release()
	res := <-first
	if res.code != 0 {
		t.Fatalf("first apply: want exit 0\n%s", res)
	}
	if !strings.Contains(res.stdout, fmt.Sprintf("Apply complete: %d sent, 0 failed", lockRecipients)) {
		t.Errorf("first apply did not send everything:\n%s", res.stdout)
	}
	assertExactlyOnce(t, sim, lockRecipients)

	// Once the holder is gone there is no lock left to force.
	gone := run(t, dir, url, "force-unlock", id)
	if gone.code != 1 || !strings.Contains(collapse(gone.stderr), "no lock holder is recorded") {
		t.Errorf("force-unlock after the holder released: want exit 1, nothing recorded\n%s", gone)
	}
}

// TestLockWaits starts a second apply with -lock-timeout while the first
// holds the lock: it waits instead of failing, then finds everything
// already sent and sends nothing.
func TestLockWaits(t *testing.T) {
	t.Parallel()
	sim, g, url, dir := gatedSetup(t, 4)

	first := background(startCommand(t, postform(t, dir, url, "apply", "-auto-approve")))
	g.waitArrived(t, first)
	second := background(startCommand(t, postform(t, dir, url, "apply", "-auto-approve", "-lock-timeout=2m")))
	g.release()

	for i, ch := range []chan result{first, second} {
		res := <-ch
		if res.code != 0 {
			t.Fatalf("apply %d: want exit 0\n%s", i+1, res)
		}
		if i == 1 && !strings.Contains(res.stdout, "Apply complete: 0 sent, 0 failed") {
			t.Errorf("the waiting apply should find everything sent:\n%s", res.stdout)
		}
	}
	assertExactlyOnce(t, sim, lockRecipients)
}

// collapse joins wrapped lines so that phrases can be matched whatever the
// terminal width.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

var lockIDPattern = regexp.MustCompile(`postform force-unlock (\S+)`)

func lockID(t *testing.T, stderr string) string {
	t.Helper()
	m := lockIDPattern.FindStringSubmatch(collapse(stderr))
	if m == nil {
		t.Fatalf("no lock ID in the lock error:\n%s", stderr)
	}
	return m[1]
}

// assertExactlyOnce checks the simulator's log: n messages, one per
// recipient user0000…, each with its own pf_id.
func assertExactlyOnce(t *testing.T, sim *postmarktest.Server, n int) {
	t.Helper()
	if problems := exactlyOnceProblems(sim, n); len(problems) > 0 {
		if len(problems) > 6 {
			problems = append(problems[:5], problems[len(problems)-1])
		}
		t.Fatalf("exactly-once violated:\n%s", strings.Join(problems, "\n"))
	}
}

// exactlyOnceProblems lists every way the simulator's log departs from
// "recipients 0..n-1 each accepted exactly once, under distinct pf_ids"; the
// last entry summarises the counts.
func exactlyOnceProblems(sim *postmarktest.Server, n int) []string {
	var problems []string
	accepted := sim.Accepted()
	perRecipient := make(map[string]int, n)
	perID := make(map[string]int, n)
	for _, m := range accepted {
		perRecipient[m.To]++
		id := m.Metadata["pf_id"]
		if id == "" {
			problems = append(problems, fmt.Sprintf("message %s to %s carries no pf_id", m.MessageID, m.To))
		}
		perID[id]++
	}
	missing, dupRecipients, strangers := 0, 0, len(perRecipient)
	for i := range n {
		c := perRecipient[recipient(i)]
		if c > 0 {
			strangers--
		}
		switch {
		case c == 0:
			missing++
			problems = append(problems, recipient(i)+" received nothing")
		case c > 1:
			dupRecipients++
			problems = append(problems, fmt.Sprintf("%s received %d messages", recipient(i), c))
		}
	}
	dupIDs := 0
	for id, c := range perID {
		if c > 1 {
			dupIDs++
			problems = append(problems, fmt.Sprintf("pf_id %s accepted %d times", id, c))
		}
	}
	if d := sim.Duplicates("pf_id"); len(d) != dupIDs {
		problems = append(problems, fmt.Sprintf("the simulator reports %d duplicated pf_id value(s), its log shows %d", len(d), dupIDs))
	}
	if len(problems) > 0 || len(accepted) != n || strangers > 0 {
		problems = append(problems, fmt.Sprintf("%d accepted for %d recipients: %d missing, %d unexpected recipients, %d recipients and %d pf_ids duplicated",
			len(accepted), n, missing, strangers, dupRecipients, dupIDs))
	}
	return problems
}
