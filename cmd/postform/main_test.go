package main

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/postform/postform/cmd/postform/internal/command"
	"github.com/postform/postform/postmark/postmarktest"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/script/*.txtar whose cmp fails")

// TestMain makes this test binary double as the postform command: scripts
// (and the lock and crash tests) run it as a real subprocess named
// "postform", found on $PATH.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"postform": func() {
			os.Exit(command.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
		},
	})
}

// simToken is the token the scripts' simulator expects. It is distinctive
// so that secret-absent can search artifacts for it without false hits.
const simToken = "pf-test-token-6f1d2c9a"

// simKey is where Setup leaves each script's simulator for the custom
// commands.
type simKey struct{}

// TestScripts runs the narrated end-to-end scripts in testdata/script.
// Each script gets its own in-process Postmark simulator, reachable through
// $SIM_URL with the token in $POSTMARK_SERVER_TOKEN.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setupSimulator,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sim-accepted":   cmdSimAccepted,
			"sim-sent-to":    cmdSimSentTo,
			"sim-subject":    cmdSimSubject,
			"sim-duplicates": cmdSimDuplicates,
			"sim-suppress":   cmdSimSuppress,
			"secret-absent":  cmdSecretAbsent,
		},
	})
}

// setupSimulator starts a fault-free simulator for one script, closes it
// when the script ends and exports its URL and token.
func setupSimulator(env *testscript.Env) error {
	sim := postmarktest.New(postmarktest.Options{
		Token:         simToken,
		Seed:          1,
		DeliveryDelay: 20 * time.Millisecond,
	})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return err
	}
	env.Defer(func() { _ = sim.Close() })
	env.Values[simKey{}] = sim
	env.Setenv("SIM_URL", sim.URL())
	env.Setenv("POSTMARK_SERVER_TOKEN", sim.Token())
	// Scripts compare output byte for byte: a fixed zone.
	env.Setenv("TZ", "UTC")
	env.Setenv("GORACE", raceOptions())
	return nil
}

// raceOptions are the GORACE settings for postform subprocesses. Under
// -race a process that exits 0 otherwise sleeps a second at exit
// (atexit_sleep_ms defaults to 1000), which would dominate every script.
func raceOptions() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}

func simOf(ts *testscript.TestScript) *postmarktest.Server {
	return ts.Value(simKey{}).(*postmarktest.Server)
}

func noNegation(ts *testscript.TestScript, neg bool, name string) {
	if neg {
		ts.Fatalf("%s does not support negation; state the expected count instead", name)
	}
}

func countArg(ts *testscript.TestScript, usage, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		ts.Fatalf("usage: %s (not %q)", usage, s)
	}
	return n
}

// sim-accepted N: the simulator accepted exactly N messages so far.
func cmdSimAccepted(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "sim-accepted N"
	noNegation(ts, neg, "sim-accepted")
	if len(args) != 1 {
		ts.Fatalf("usage: %s", usage)
	}
	want := countArg(ts, usage, args[0])
	if got := simOf(ts).AcceptedCount(); got != want {
		ts.Fatalf("simulator accepted %d message(s), want %d", got, want)
	}
}

// sim-sent-to EMAIL N: exactly N accepted messages went to EMAIL.
func cmdSimSentTo(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "sim-sent-to EMAIL N"
	noNegation(ts, neg, "sim-sent-to")
	if len(args) != 2 || !strings.Contains(args[0], "@") {
		ts.Fatalf("usage: %s", usage)
	}
	want := countArg(ts, usage, args[1])
	got := 0
	for _, m := range simOf(ts).Accepted() {
		if strings.EqualFold(m.To, args[0]) {
			got++
		}
	}
	if got != want {
		ts.Fatalf("simulator accepted %d message(s) to %s, want %d", got, args[0], want)
	}
}

// sim-subject EMAIL REGEXP: at least one message went to EMAIL, and the
// subject of every message accepted to EMAIL matches REGEXP.
func cmdSimSubject(ts *testscript.TestScript, neg bool, args []string) {
	noNegation(ts, neg, "sim-subject")
	if len(args) != 2 || !strings.Contains(args[0], "@") {
		ts.Fatalf("usage: sim-subject EMAIL REGEXP")
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("usage: sim-subject EMAIL REGEXP: %v", err)
	}
	n := 0
	for _, m := range simOf(ts).Accepted() {
		if !strings.EqualFold(m.To, args[0]) {
			continue
		}
		n++
		if !re.MatchString(m.Subject) {
			ts.Fatalf("message %s to %s has subject %q, which does not match %q", m.MessageID, m.To, m.Subject, args[1])
		}
	}
	if n == 0 {
		ts.Fatalf("the simulator accepted no message to %s", args[0])
	}
}

// sim-duplicates N: exactly N pf_id values were accepted more than once.
// Every accepted message must carry a pf_id.
func cmdSimDuplicates(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "sim-duplicates N"
	noNegation(ts, neg, "sim-duplicates")
	if len(args) != 1 {
		ts.Fatalf("usage: %s", usage)
	}
	want := countArg(ts, usage, args[0])
	sim := simOf(ts)
	for _, m := range sim.Accepted() {
		if m.Metadata["pf_id"] == "" {
			ts.Fatalf("accepted message %s to %s carries no pf_id", m.MessageID, m.To)
		}
	}
	dups := sim.Duplicates("pf_id")
	if len(dups) != want {
		ts.Fatalf("%d pf_id value(s) accepted more than once (want %d): %v", len(dups), want, dups)
	}
}

// sim-suppress EMAIL: the recipient becomes inactive on the outbound stream.
func cmdSimSuppress(ts *testscript.TestScript, neg bool, args []string) {
	noNegation(ts, neg, "sim-suppress")
	if len(args) != 1 || !strings.Contains(args[0], "@") {
		ts.Fatalf("usage: sim-suppress EMAIL")
	}
	simOf(ts).Suppress("outbound", args[0])
}

// secret-absent PATH...: the server token appears in none of the named
// files ("stdout" and "stderr" are the last command's output), nor in any
// file below a named directory, nor in any member of a zip archive (plan
// files are zip archives with compressed members).
func cmdSecretAbsent(ts *testscript.TestScript, neg bool, args []string) {
	noNegation(ts, neg, "secret-absent")
	if len(args) == 0 {
		ts.Fatalf("usage: secret-absent PATH...")
	}
	secret := ts.Getenv("POSTMARK_SERVER_TOKEN")
	if secret == "" {
		ts.Fatalf("secret-absent: $POSTMARK_SERVER_TOKEN is empty")
	}
	checked := 0
	for _, arg := range args {
		if arg == "stdout" || arg == "stderr" {
			if strings.Contains(ts.ReadFile(arg), secret) {
				ts.Fatalf("the server token appears in %s", arg)
			}
			checked++
			continue
		}
		root := ts.MkAbs(arg)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			checked++
			if where, found := containsSecret(data, secret); found {
				return fmt.Errorf("the server token appears in %s%s", path, where)
			}
			return nil
		})
		ts.Check(err)
	}
	ts.Logf("secret-absent: checked %d file(s)", checked)
}

// containsSecret searches data and, when data is a zip archive, each of its
// members once decompressed.
func containsSecret(data []byte, secret string) (string, bool) {
	if bytes.Contains(data, []byte(secret)) {
		return "", true
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", false
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return " (unreadable member " + f.Name + ")", true
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || bytes.Contains(b, []byte(secret)) {
			return " (member " + f.Name + ")", true
		}
	}
	return "", false
}
