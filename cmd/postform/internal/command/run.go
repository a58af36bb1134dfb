// Package command wires postform's subcommands: it parses arguments,
// loads configuration, opens state, calls the runner and renders through
// views. It is the only layer that knows about the process: standard
// streams, environment, signals and exit codes all arrive through Run.
package command

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/cmd/postform/internal/views"
)

// defaultMemoryLimit is the soft Go heap limit when GOMEMLIMIT is unset.
const defaultMemoryLimit = 200 << 20

// Version is postform's version.
const Version = "0.1.0"

// Exit codes, as documented in the README.
const (
	ExitOK      = 0 // success (plan -detailed-exitcode: nothing to send)
	ExitError   = 1 // configuration, I/O, state or API error
	ExitChanges = 2 // plan -detailed-exitcode: something would be sent; apply/refresh: completed, but some messages failed or bounced
	ExitFormat  = 3 // fmt -check: some files are not formatted
)

// Run executes one postform command line. args excludes the program name.
// env is the process environment as "NAME=value" strings.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	g, err := arguments.ParseGlobal(args)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n\n%s", err, usage)
		return ExitError
	}
	if g.Version || g.Command == "version" {
		fmt.Fprintf(stdout, "postform v%s\n", Version)
		return ExitOK
	}
	vars := envMap(env)
	if _, set := vars["GOMEMLIMIT"]; !set && g.Command != "sim" {
		// A soft heap limit: a million-message run keeps its peak memory
		// near what it holds live instead of twice that (GOGC's default
		// headroom). GOMEMLIMIT overrides it. Not for the simulator, which
		// keeps every accepted message by design.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if path := vars["POSTFORM_CPUPROFILE"]; path != "" {
		// A developer aid for the benchmark: profile this whole command.
		if f, err := os.Create(path); err == nil {
			defer f.Close()
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	m := &meta{
		dir:     ".",
		env:     vars,
		stdin:   stdin,
		streams: views.DetectStreams(stdout, stderr, g.NoColor),
	}
	if g.Chdir != "" {
		m.dir = g.Chdir
	}
	switch g.Command {
	case "init":
		return m.runInit(g.Args)
	case "fmt":
		return m.runFmt(g.Args)
	case "validate":
		return m.runValidate(g.Args)
	case "plan":
		return m.runPlan(g.Args)
	case "apply":
		return m.runApply(g.Args)
	case "refresh":
		return m.runRefresh(g.Args)
	case "report":
		return m.runReport(g.Args)
	case "show":
		return m.runShow(g.Args)
	case "state":
		return m.runState(g.Args)
	case "force-unlock":
		return m.runForceUnlock(g.Args)
	case "sim":
		return m.runSim(g.Args)
	case "", "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		if g.Command == "" {
			return ExitError
		}
		return ExitOK
	}
	fmt.Fprintf(stderr, "Error: unknown command %q\n\n%s", g.Command, usage)
	return ExitError
}

const usage = `Usage: postform [-chdir=DIR] [-no-color] COMMAND [flags]

Declarative batch email through Postmark: describe batches in *.pf.hcl,
review the plan, send exactly once, track delivery, write reports.

Main commands:
  init          Write a starter configuration into an empty directory
  validate      Check the configuration and render every message, offline
  plan          Show who would get what (-out=FILE saves the plan)
  apply         Send what the plan shows, exactly once
  refresh       Poll delivery outcomes into state
  report        Write a delivery report (json, csv, junit, html)

Other commands:
  fmt           Rewrite *.pf.hcl files in canonical format
  show          Show a saved plan, or the state
  state         Inspect or edit state: list, show ADDRESS, rm ADDRESS...
  force-unlock  Remove a stale state lock
  sim           Run the built-in Postmark-compatible simulator
  version       Print the version

Global flags:
  -chdir=DIR    Switch to DIR before running the command
  -no-color     Disable colour in output
`

func envMap(env []string) map[string]string {
	out := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// usageError prints a flag problem with the command's hint.
func (m *meta) usageError(cmd string, err error) int {
	if errors.Is(err, errHelp) {
		return ExitOK
	}
	fmt.Fprintf(m.streams.Err, "Error: postform %s: %v\nRun postform %s -help for its flags, or see the README.\n", cmd, err, cmd)
	return ExitError
}

var errHelp = errors.New("help requested")
