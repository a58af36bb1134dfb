package arguments

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// equate treats nil and empty slices alike: whether flag leaves an empty
// or a nil slice behind is not part of what the parsers promise.
var equate = cmpopts.EquateEmpty()

// parseCase is one argv and either the options it yields or a substring
// of the error a user would see.
type parseCase[T any] struct {
	name    string
	args    []string
	want    T
	wantErr string
}

func runCases[T any](t *testing.T, parse func([]string) (T, error), cases []parseCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(tc.args)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("parse(%q) = %+v, nil; want error containing %q", tc.args, got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parse(%q) error = %q; want it to contain %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q): unexpected error: %v", tc.args, err)
			}
			if diff := cmp.Diff(tc.want, got, equate); diff != "" {
				t.Errorf("parse(%q) mismatch (-want +got):\n%s", tc.args, diff)
			}
		})
	}
}

func TestParseGlobal(t *testing.T) {
	runCases(t, ParseGlobal, []parseCase[Global]{
		{name: "empty", args: nil, want: Global{}},
		{name: "command only", args: []string{"plan"}, want: Global{Command: "plan"}},
		{
			name: "command and its args untouched",
			args: []string{"plan", "-var", "a=b", "-target=batch.x"},
			want: Global{Command: "plan", Args: []string{"-var", "a=b", "-target=batch.x"}},
		},
		{
			name: "chdir with equals",
			args: []string{"-chdir=examples/welcome", "validate"},
			want: Global{Chdir: "examples/welcome", Command: "validate"},
		},
		{
			name: "chdir as separate argument",
			args: []string{"-chdir", "dir", "apply", "plan.pfplan"},
			want: Global{Chdir: "dir", Command: "apply", Args: []string{"plan.pfplan"}},
		},
		{
			name: "double dash chdir",
			args: []string{"--chdir=dir", "plan"},
			want: Global{Chdir: "dir", Command: "plan"},
		},
		{
			name: "no-color before the subcommand",
			args: []string{"-no-color", "plan", "-json"},
			want: Global{NoColor: true, Command: "plan", Args: []string{"-json"}},
		},
		{
			name: "no-color after the subcommand is taken out of its args",
			args: []string{"plan", "-json", "-no-color", "-redact"},
			want: Global{NoColor: true, Command: "plan", Args: []string{"-json", "-redact"}},
		},
		{
			name: "double dash no-color after the subcommand",
			args: []string{"apply", "--no-color"},
			want: Global{NoColor: true, Command: "apply"},
		},
		{
			name: "no-color both before and after",
			args: []string{"-no-color", "-chdir=d", "plan", "-no-color"},
			want: Global{NoColor: true, Chdir: "d", Command: "plan"},
		},
		{name: "version", args: []string{"-version"}, want: Global{Version: true}},
		{name: "v", args: []string{"-v"}, want: Global{Version: true}},
		{name: "double dash version", args: []string{"--version"}, want: Global{Version: true}},
		{
			name: "version with a command",
			args: []string{"-version", "plan"},
			want: Global{Version: true, Command: "plan"},
		},
		{
			name: "global flags stop at the subcommand",
			args: []string{"plan", "-chdir=x"},
			want: Global{Command: "plan", Args: []string{"-chdir=x"}},
		},
		{name: "unknown global flag", args: []string{"-bogus", "plan"}, wantErr: "-bogus"},
		{name: "chdir without a value", args: []string{"-chdir"}, wantErr: "chdir"},
	})
}

func TestParseValidate(t *testing.T) {
	runCases(t, ParseValidate, []parseCase[*Validate]{
		{name: "defaults", args: nil, want: &Validate{}},
		{name: "json", args: []string{"-json"}, want: &Validate{JSON: true}},
		{
			name: "repeatable vars and var files",
			args: []string{"-var", "a=1", "-var=b=2", "-var-file=x.pfvars", "--var-file", "y.pfvars"},
			want: &Validate{Vars: Vars{Vars: Strings{"a=1", "b=2"}, VarFiles: Strings{"x.pfvars", "y.pfvars"}}},
		},
		{name: "positional argument", args: []string{"dir"}, wantErr: `unexpected argument "dir"`},
		{name: "unknown flag", args: []string{"-target=batch.x"}, wantErr: "-target"},
	})
}

func TestParseFmt(t *testing.T) {
	runCases(t, ParseFmt, []parseCase[*Fmt]{
		{name: "defaults write", args: nil, want: &Fmt{Write: true}},
		{name: "check disables writing", args: []string{"-check"}, want: &Fmt{Check: true}},
		{
			name: "check wins over an explicit -write",
			args: []string{"-write=true", "-check"},
			want: &Fmt{Check: true},
		},
		{name: "write=false", args: []string{"-write=false"}, want: &Fmt{}},
		{
			name: "diff recursive and paths",
			args: []string{"-diff", "-recursive", "a.pf.hcl", "dir"},
			want: &Fmt{Diff: true, Recursive: true, Write: true, Paths: []string{"a.pf.hcl", "dir"}},
		},
		{name: "unknown flag", args: []string{"-json"}, wantErr: "-json"},
	})
}

func TestParsePlan(t *testing.T) {
	def := func(f func(*Plan)) *Plan {
		p := &Plan{MaxLines: 20}
		if f != nil {
			f(p)
		}
		return p
	}
	runCases(t, ParsePlan, []parseCase[*Plan]{
		{name: "defaults", args: nil, want: def(nil)},
		{
			name: "booleans",
			args: []string{"-json", "-detailed-exitcode", "-redact", "-simulate"},
			want: def(func(p *Plan) {
				p.JSON, p.DetailedExitcode, p.Redact, p.Simulate = true, true, true, true
			}),
		},
		{
			name: "repeatable flags keep their order",
			args: []string{
				"-var", "a=1", "-var=b=2",
				"-var-file=one.pfvars", "-var-file", "two.pfvars",
				"-target=batch.x", "-target", `batch.y["ann@example.com"]`,
				"-replace=batch.x[0]", "-replace=batch.x[1]",
			},
			want: def(func(p *Plan) {
				p.Vars = Vars{Vars: Strings{"a=1", "b=2"}, VarFiles: Strings{"one.pfvars", "two.pfvars"}}
				p.Targets = Strings{"batch.x", `batch.y["ann@example.com"]`}
				p.Replace = Strings{"batch.x[0]", "batch.x[1]"}
			}),
		},
		{
			name: "double dash flags",
			args: []string{"--out", "plan.pfplan", "--max-lines=3", "--target=batch.x", "--json"},
			want: def(func(p *Plan) {
				p.Out, p.MaxLines, p.Targets, p.JSON = "plan.pfplan", 3, Strings{"batch.x"}, true
			}),
		},
		{name: "out with equals", args: []string{"-out=p.pfplan"}, want: def(func(p *Plan) { p.Out = "p.pfplan" })},
		{name: "max-lines zero means no limit", args: []string{"-max-lines=0"}, want: def(func(p *Plan) { p.MaxLines = 0 })},
		{name: "max-lines negative", args: []string{"-max-lines=-1"}, wantErr: "-max-lines must not be negative"},
		{name: "max-lines not a number", args: []string{"-max-lines=many"}, wantErr: "max-lines"},
		{name: "positional argument", args: []string{"plan.pfplan"}, wantErr: `unexpected argument "plan.pfplan"`},
		{name: "out without value", args: []string{"-out"}, wantErr: "-out"},
		{name: "apply-only flag", args: []string{"-auto-approve"}, wantErr: "-auto-approve"},
	})
}

func TestParseApply(t *testing.T) {
	def := func(f func(*Apply)) *Apply {
		a := &Apply{Plan: Plan{MaxLines: 20}, FailOn: FailOnAny, Details: "all"}
		if f != nil {
			f(a)
		}
		return a
	}
	runCases(t, ParseApply, []parseCase[*Apply]{
		{name: "defaults", args: nil, want: def(nil)},
		{name: "plan file", args: []string{"plan.pfplan"}, want: def(func(a *Apply) { a.PlanFile = "plan.pfplan" })},
		{
			name: "flags before the plan file",
			args: []string{"-auto-approve", "-json", "-redact", "plan.pfplan"},
			want: def(func(a *Apply) {
				a.AutoApprove, a.JSON, a.Redact, a.PlanFile = true, true, true, "plan.pfplan"
			}),
		},
		{
			name: "every value flag",
			args: []string{
				"-parallelism=8", "-wait=2m", "-lock-timeout", "30s", "-fail-on=failed",
				"-reconcile-grace=90s", "-poll-interval=250ms", "-details=bounced-only",
				"-max-lines=0", "-simulate",
			},
			want: def(func(a *Apply) {
				a.Parallelism = 8
				a.Wait = 2 * time.Minute
				a.LockTimeout = 30 * time.Second
				a.FailOn = FailOnFailed
				a.ReconcileGrace = 90 * time.Second
				a.PollInterval = 250 * time.Millisecond
				a.Details = "bounced-only"
				a.MaxLines = 0
				a.Simulate = true
			}),
		},
		{
			name: "vars and targets without a plan file",
			args: []string{"-var=a=1", "-var-file=f.pfvars", "-target=batch.x", "-replace=batch.x[0]"},
			want: def(func(a *Apply) {
				a.Vars = Vars{Vars: Strings{"a=1"}, VarFiles: Strings{"f.pfvars"}}
				a.Targets = Strings{"batch.x"}
				a.Replace = Strings{"batch.x[0]"}
			}),
		},
		{name: "fail-on any", args: []string{"-fail-on=any"}, want: def(nil)},
		{name: "fail-on failed", args: []string{"-fail-on=failed"}, want: def(func(a *Apply) { a.FailOn = FailOnFailed })},
		{name: "fail-on never", args: []string{"-fail-on", "never"}, want: def(func(a *Apply) { a.FailOn = FailOnNever })},
		{name: "fail-on bad value", args: []string{"-fail-on=bounced"}, wantErr: `-fail-on must be any, failed or never, not "bounced"`},
		{name: "fail-on empty", args: []string{"-fail-on="}, wantErr: "-fail-on must be"},
		{name: "details all", args: []string{"-details=all"}, want: def(nil)},
		{name: "details bounced-only", args: []string{"-details=bounced-only"}, want: def(func(a *Apply) { a.Details = "bounced-only" })},
		{name: "details none", args: []string{"-details=none"}, want: def(func(a *Apply) { a.Details = "none" })},
		{name: "details bad value", args: []string{"-details=some"}, wantErr: `-details must be all, bounced-only or none, not "some"`},
		{name: "parallelism zero uses the configuration", args: []string{"-parallelism=0"}, want: def(nil)},
		{name: "parallelism negative", args: []string{"-parallelism=-1"}, wantErr: "-parallelism must be at least 1"},
		{name: "negative wait", args: []string{"-wait=-1s"}, wantErr: "durations must not be negative"},
		{name: "negative lock-timeout", args: []string{"-lock-timeout=-5s"}, wantErr: "durations must not be negative"},
		{name: "bad duration", args: []string{"-wait=5"}, wantErr: "-wait"},
		{name: "two arguments", args: []string{"a.pfplan", "b.pfplan"}, wantErr: "apply takes at most one argument (a plan file), got 2"},
		{name: "var with a plan file", args: []string{"-var=a=1", "plan.pfplan"}, wantErr: "cannot be used with a saved plan"},
		{name: "var-file with a plan file", args: []string{"-var-file=f.pfvars", "plan.pfplan"}, wantErr: "cannot be used with a saved plan"},
		{name: "target with a plan file", args: []string{"-target=batch.x", "plan.pfplan"}, wantErr: "cannot be used with a saved plan"},
		{name: "replace with a plan file", args: []string{"-replace=batch.x[0]", "plan.pfplan"}, wantErr: "cannot be used with a saved plan"},
		{name: "plan-only flag", args: []string{"-out=p.pfplan"}, wantErr: "-out"},
	})
}

func TestParseRefresh(t *testing.T) {
	def := func(f func(*Refresh)) *Refresh {
		r := &Refresh{FailOn: FailOnAny, Details: "all"}
		if f != nil {
			f(r)
		}
		return r
	}
	runCases(t, ParseRefresh, []parseCase[*Refresh]{
		{name: "defaults", args: nil, want: def(nil)},
		{
			name: "every flag",
			args: []string{
				"-json", "-simulate", "-wait=10m", "-lock-timeout=1s", "-fail-on=never",
				"-poll-interval=2s", "-details=none", "-parallelism=2",
			},
			want: def(func(r *Refresh) {
				r.JSON, r.Simulate = true, true
				r.Wait = 10 * time.Minute
				r.LockTimeout = time.Second
				r.FailOn = FailOnNever
				r.PollInterval = 2 * time.Second
				r.Details = "none"
				r.Parallelism = 2
			}),
		},
		{name: "fail-on bad value", args: []string{"-fail-on=all"}, wantErr: `-fail-on must be any, failed or never, not "all"`},
		{name: "details bad value", args: []string{"-details=bounced"}, wantErr: `-details must be all, bounced-only or none, not "bounced"`},
		{name: "positional argument", args: []string{"x"}, wantErr: `unexpected argument "x"`},
		{name: "apply-only flag", args: []string{"-auto-approve"}, wantErr: "-auto-approve"},
	})
}

func TestParseReport(t *testing.T) {
	def := func(f func(*Report)) *Report {
		r := &Report{Format: "json"}
		if f != nil {
			f(r)
		}
		return r
	}
	runCases(t, ParseReport, []parseCase[*Report]{
		{name: "defaults", args: nil, want: def(nil)},
		{name: "format", args: []string{"-format=junit"}, want: def(func(r *Report) { r.Format = "junit" })},
		{name: "o", args: []string{"-o", "out.csv"}, want: def(func(r *Report) { r.Out = "out.csv" })},
		{name: "out", args: []string{"-out=out.csv"}, want: def(func(r *Report) { r.Out = "out.csv" })},
		{name: "last of -o and -out wins", args: []string{"-o=a", "-out=b"}, want: def(func(r *Report) { r.Out = "b" })},
		{name: "status single", args: []string{"-status=failed"}, want: def(func(r *Report) { r.Status = Strings{"failed"} })},
		{
			name: "status split on commas, trimmed, empties dropped",
			args: []string{"-status= failed, bounced,,pending ,"},
			want: def(func(r *Report) { r.Status = Strings{"failed", "bounced", "pending"} }),
		},
		{name: "status empty", args: []string{"-status="}, want: def(nil)},
		{
			name: "redact and simulate",
			args: []string{"-redact", "-simulate", "-format", "html"},
			want: def(func(r *Report) { r.Redact, r.Simulate, r.Format = true, true, "html" }),
		},
		{name: "positional argument", args: []string{"out.json"}, wantErr: `unexpected argument "out.json"`},
	})
}

func TestParseShow(t *testing.T) {
	runCases(t, ParseShow, []parseCase[*Show]{
		{name: "defaults", args: nil, want: &Show{MaxLines: 20}},
		{name: "plan file", args: []string{"plan.pfplan"}, want: &Show{MaxLines: 20, File: "plan.pfplan"}},
		{
			name: "flags",
			args: []string{"-json", "-redact", "-simulate", "-max-lines=5", "p.pfplan"},
			want: &Show{JSON: true, Redact: true, Target: Target{Simulate: true}, MaxLines: 5, File: "p.pfplan"},
		},
		{name: "two arguments", args: []string{"a", "b"}, wantErr: "show takes at most one argument"},
		{name: "unknown flag", args: []string{"-out=x"}, wantErr: "-out"},
	})
}

func TestParseState(t *testing.T) {
	runCases(t, ParseState, []parseCase[*State]{
		{name: "list", args: []string{"list"}, want: &State{Sub: "list"}},
		{
			name: "list flags",
			args: []string{"list", "-json", "-simulate", "-lock-timeout=3s"},
			want: &State{Sub: "list", JSON: true, Target: Target{Simulate: true}, LockTimeout: 3 * time.Second},
		},
		{
			name: "show one address",
			args: []string{"show", `batch.x["ann@example.com"]`},
			want: &State{Sub: "show", Addresses: []string{`batch.x["ann@example.com"]`}},
		},
		{
			name: "show json",
			args: []string{"show", "-json", "batch.x[0]"},
			want: &State{Sub: "show", JSON: true, Addresses: []string{"batch.x[0]"}},
		},
		{name: "show without address", args: []string{"show"}, wantErr: "state show takes exactly one message address"},
		{name: "show two addresses", args: []string{"show", "a", "b"}, wantErr: "state show takes exactly one message address"},
		{name: "rm one", args: []string{"rm", "batch.x[0]"}, want: &State{Sub: "rm", Addresses: []string{"batch.x[0]"}}},
		{
			name: "rm several",
			args: []string{"rm", "-lock-timeout=1m", "batch.x[0]", "batch.x[1]", "batch.y"},
			want: &State{Sub: "rm", LockTimeout: time.Minute, Addresses: []string{"batch.x[0]", "batch.x[1]", "batch.y"}},
		},
		{name: "rm without address", args: []string{"rm"}, wantErr: "state rm takes one or more message addresses"},
		{name: "no subcommand", args: nil, wantErr: "state needs a subcommand"},
		{name: "unknown subcommand", args: []string{"mv", "a", "b"}, wantErr: `unknown state subcommand "mv"`},
		{name: "flag in place of subcommand", args: []string{"-json", "list"}, wantErr: `unknown state subcommand "-json"`},
		{name: "unknown flag", args: []string{"list", "-bogus"}, wantErr: "-bogus"},
	})
}

func TestParseForceUnlock(t *testing.T) {
	runCases(t, ParseForceUnlock, []parseCase[*ForceUnlock]{
		{name: "id", args: []string{"1f2e3d"}, want: &ForceUnlock{ID: "1f2e3d"}},
		{name: "simulate", args: []string{"-simulate", "1f2e3d"}, want: &ForceUnlock{ID: "1f2e3d", Target: Target{Simulate: true}}},
		{name: "no id", args: nil, wantErr: "force-unlock takes exactly one argument"},
		{name: "two ids", args: []string{"a", "b"}, wantErr: "force-unlock takes exactly one argument"},
		{name: "unknown flag", args: []string{"-force", "a"}, wantErr: "-force"},
	})
}

func TestParseSim(t *testing.T) {
	def := func(f func(*Sim)) *Sim {
		s := &Sim{Addr: "127.0.0.1:0", Seed: 1}
		if f != nil {
			f(s)
		}
		return s
	}
	runCases(t, ParseSim, []parseCase[*Sim]{
		{name: "defaults", args: nil, want: def(nil)},
		{
			name: "every flag",
			args: []string{
				"-addr=:8080", "-token=t0k", "-latency=20ms", "-seed=42", "-rate-limit=10.5",
				"-fault-429=0.1", "-fault-500=0", "-fault-503=1", "-fault-drop=0.25",
				"-search-lag=3s", "-delivery-delay=1s",
			},
			want: def(func(s *Sim) {
				s.Addr, s.Token = ":8080", "t0k"
				s.Latency = 20 * time.Millisecond
				s.Seed = 42
				s.RateLimit = 10.5
				s.Fault429, s.Fault500, s.Fault503, s.FaultDrop = 0.1, 0, 1, 0.25
				s.SearchLag = 3 * time.Second
				s.DeliveryDelay = time.Second
			}),
		},
		{name: "fault-429 above 1", args: []string{"-fault-429=1.5"}, wantErr: "fault rates are probabilities between 0 and 1"},
		{name: "fault-500 negative", args: []string{"-fault-500=-0.1"}, wantErr: "fault rates are probabilities between 0 and 1"},
		{name: "fault-503 above 1", args: []string{"-fault-503=2"}, wantErr: "fault rates are probabilities between 0 and 1"},
		{name: "fault-drop negative", args: []string{"-fault-drop=-1"}, wantErr: "fault rates are probabilities between 0 and 1"},
		{name: "fault not a number", args: []string{"-fault-429=often"}, wantErr: "fault-429"},
		{name: "negative seed", args: []string{"-seed=-1"}, wantErr: "seed"},
		{name: "positional argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`},
	})
}

func TestStringsFlag(t *testing.T) {
	var s Strings
	for _, v := range []string{"a=1", "b=2,3"} {
		if err := s.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(Strings{"a=1", "b=2,3"}, s); diff != "" {
		t.Errorf("Set mismatch (-want +got):\n%s", diff)
	}
	if got, want := s.String(), "a=1,b=2,3"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
