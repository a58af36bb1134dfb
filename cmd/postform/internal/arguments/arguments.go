// Package arguments parses postform's command lines into per-command
// option structs. Parsing is pure: no I/O, no environment, no exit. Flags
// follow Terraform's habits (single dash long flags, double dash works too,
// -var and -target may repeat). Problems come back as an error the caller
// turns into a usage diagnostic.
package arguments

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Global holds the flags that come before the subcommand.
type Global struct {
	Chdir   string
	NoColor bool
	Version bool
	Command string
	Args    []string
}

// ParseGlobal splits "postform [-chdir=DIR] [-no-color] COMMAND args...".
func ParseGlobal(args []string) (Global, error) {
	var g Global
	fs := newFlagSet("postform")
	fs.StringVar(&g.Chdir, "chdir", "", "")
	fs.BoolVar(&g.NoColor, "no-color", false, "")
	fs.BoolVar(&g.Version, "version", false, "")
	fs.BoolVar(&g.Version, "v", false, "")
	if err := fs.Parse(args); err != nil {
		return g, err
	}
	rest := fs.Args()
	if len(rest) > 0 {
		g.Command, g.Args = rest[0], rest[1:]
	}
	// -no-color is also accepted after the subcommand, as in Terraform.
	kept := g.Args[:0:0]
	for _, a := range g.Args {
		if a == "-no-color" || a == "--no-color" {
			g.NoColor = true
			continue
		}
		kept = append(kept, a)
	}
	g.Args = kept
	return g, nil
}

// Strings is a repeatable string flag.
type Strings []string

func (s *Strings) String() string     { return strings.Join(*s, ",") }
func (s *Strings) Set(v string) error { *s = append(*s, v); return nil }

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// Vars are the variable-setting flags shared by validate, plan and apply.
type Vars struct {
	Vars     Strings // -var name=value
	VarFiles Strings // -var-file=path
}

func (v *Vars) add(fs *flag.FlagSet) {
	fs.Var(&v.Vars, "var", "")
	fs.Var(&v.VarFiles, "var-file", "")
}

// Validate is `postform validate`.
type Validate struct {
	Vars
	JSON bool
}

// ParseValidate parses validate's flags.
func ParseValidate(args []string) (*Validate, error) {
	o := &Validate{}
	fs := newFlagSet("validate")
	o.Vars.add(fs)
	fs.BoolVar(&o.JSON, "json", false, "")
	return o, parseNoArgs(fs, args)
}

// Fmt is `postform fmt`.
type Fmt struct {
	Check, Diff, Recursive, Write bool
	Paths                         []string
}

// ParseFmt parses fmt's flags.
func ParseFmt(args []string) (*Fmt, error) {
	o := &Fmt{}
	fs := newFlagSet("fmt")
	fs.BoolVar(&o.Check, "check", false, "")
	fs.BoolVar(&o.Diff, "diff", false, "")
	fs.BoolVar(&o.Recursive, "recursive", false, "")
	fs.BoolVar(&o.Write, "write", true, "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.Paths = fs.Args()
	if o.Check {
		o.Write = false
	}
	return o, nil
}

// Target selects the Postmark target (and so the state) a command uses.
type Target struct {
	Simulate bool
}

func (t *Target) add(fs *flag.FlagSet) {
	fs.BoolVar(&t.Simulate, "simulate", false, "")
}

// Plan is `postform plan`.
type Plan struct {
	Vars
	Target
	JSON             bool
	DetailedExitcode bool
	Targets          Strings
	Replace          Strings
	Out              string
	Redact           bool
	MaxLines         int
}

func (o *Plan) add(fs *flag.FlagSet) {
	o.Vars.add(fs)
	o.Target.add(fs)
	fs.BoolVar(&o.JSON, "json", false, "")
	fs.Var(&o.Targets, "target", "")
	fs.Var(&o.Replace, "replace", "")
	fs.BoolVar(&o.Redact, "redact", false, "")
	fs.IntVar(&o.MaxLines, "max-lines", 20, "")
}

// ParsePlan parses plan's flags.
func ParsePlan(args []string) (*Plan, error) {
	o := &Plan{}
	fs := newFlagSet("plan")
	o.add(fs)
	fs.BoolVar(&o.DetailedExitcode, "detailed-exitcode", false, "")
	fs.StringVar(&o.Out, "out", "", "")
	if err := parseNoArgs(fs, args); err != nil {
		return o, err
	}
	if o.MaxLines < 0 {
		return o, errors.New("-max-lines must not be negative")
	}
	return o, nil
}

// FailOn says which outcomes make apply/refresh exit 2.
type FailOn string

const (
	FailOnAny    FailOn = "any"    // failed or bounced (default)
	FailOnFailed FailOn = "failed" // failed only; bounces are not a failure
	FailOnNever  FailOn = "never"
)

func parseFailOn(s string) (FailOn, error) {
	switch FailOn(s) {
	case FailOnAny, FailOnFailed, FailOnNever:
		return FailOn(s), nil
	}
	return "", fmt.Errorf("-fail-on must be any, failed or never, not %q", s)
}

// Apply is `postform apply`.
type Apply struct {
	Plan
	PlanFile       string
	AutoApprove    bool
	Parallelism    int
	Wait           time.Duration
	LockTimeout    time.Duration
	FailOn         FailOn
	ReconcileGrace time.Duration
	PollInterval   time.Duration
	Details        string
}

// ParseApply parses apply's flags.
func ParseApply(args []string) (*Apply, error) {
	o := &Apply{}
	fs := newFlagSet("apply")
	o.Plan.add(fs)
	fs.BoolVar(&o.AutoApprove, "auto-approve", false, "")
	fs.IntVar(&o.Parallelism, "parallelism", 0, "")
	fs.DurationVar(&o.Wait, "wait", 0, "")
	fs.DurationVar(&o.LockTimeout, "lock-timeout", 0, "")
	failOn := fs.String("fail-on", string(FailOnAny), "")
	fs.DurationVar(&o.ReconcileGrace, "reconcile-grace", 0, "")
	fs.DurationVar(&o.PollInterval, "poll-interval", 0, "")
	fs.StringVar(&o.Details, "details", "all", "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.FailOn, err = parseFailOn(*failOn); err != nil {
		return o, err
	}
	switch rest := fs.Args(); len(rest) {
	case 0:
	case 1:
		o.PlanFile = rest[0]
	default:
		return o, fmt.Errorf("apply takes at most one argument (a plan file), got %d", len(rest))
	}
	if o.PlanFile != "" && (len(o.Vars.Vars) > 0 || len(o.VarFiles) > 0 || len(o.Targets) > 0 || len(o.Replace) > 0) {
		return o, errors.New("-var, -var-file, -target and -replace cannot be used with a saved plan: the plan already fixes them")
	}
	if o.Parallelism < 0 {
		return o, errors.New("-parallelism must be at least 1")
	}
	if o.Wait < 0 || o.LockTimeout < 0 || o.ReconcileGrace < 0 || o.PollInterval < 0 {
		return o, errors.New("durations must not be negative")
	}
	if o.MaxLines < 0 {
		return o, errors.New("-max-lines must not be negative")
	}
	if err := checkDetails(o.Details); err != nil {
		return o, err
	}
	return o, nil
}

func checkDetails(s string) error {
	switch s {
	case "all", "bounced-only", "none":
		return nil
	}
	return fmt.Errorf("-details must be all, bounced-only or none, not %q", s)
}

// Refresh is `postform refresh`.
type Refresh struct {
	Target
	JSON         bool
	Wait         time.Duration
	LockTimeout  time.Duration
	FailOn       FailOn
	PollInterval time.Duration
	Details      string
	Parallelism  int
}

// ParseRefresh parses refresh's flags.
func ParseRefresh(args []string) (*Refresh, error) {
	o := &Refresh{}
	fs := newFlagSet("refresh")
	o.Target.add(fs)
	fs.BoolVar(&o.JSON, "json", false, "")
	fs.DurationVar(&o.Wait, "wait", 0, "")
	fs.DurationVar(&o.LockTimeout, "lock-timeout", 0, "")
	failOn := fs.String("fail-on", string(FailOnAny), "")
	fs.DurationVar(&o.PollInterval, "poll-interval", 0, "")
	fs.StringVar(&o.Details, "details", "all", "")
	fs.IntVar(&o.Parallelism, "parallelism", 0, "")
	if err := parseNoArgs(fs, args); err != nil {
		return o, err
	}
	var err error
	if o.FailOn, err = parseFailOn(*failOn); err != nil {
		return o, err
	}
	if o.Wait < 0 || o.LockTimeout < 0 || o.PollInterval < 0 {
		return o, errors.New("durations must not be negative")
	}
	if o.Parallelism < 0 {
		return o, errors.New("-parallelism must be at least 1")
	}
	return o, checkDetails(o.Details)
}

// Report is `postform report`.
type Report struct {
	Target
	Format string
	Out    string
	Status Strings
	Redact bool
}

// ParseReport parses report's flags.
func ParseReport(args []string) (*Report, error) {
	o := &Report{}
	fs := newFlagSet("report")
	o.Target.add(fs)
	fs.StringVar(&o.Format, "format", "json", "")
	fs.StringVar(&o.Out, "o", "", "")
	fs.StringVar(&o.Out, "out", "", "")
	var status string
	fs.StringVar(&status, "status", "", "")
	fs.BoolVar(&o.Redact, "redact", false, "")
	if err := parseNoArgs(fs, args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(status, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.Status = append(o.Status, s)
		}
	}
	return o, nil
}

// Show is `postform show`.
type Show struct {
	Target
	File     string
	JSON     bool
	Redact   bool
	MaxLines int
}

// ParseShow parses show's flags.
func ParseShow(args []string) (*Show, error) {
	o := &Show{}
	fs := newFlagSet("show")
	o.Target.add(fs)
	fs.BoolVar(&o.JSON, "json", false, "")
	fs.BoolVar(&o.Redact, "redact", false, "")
	fs.IntVar(&o.MaxLines, "max-lines", 20, "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch rest := fs.Args(); len(rest) {
	case 0:
	case 1:
		o.File = rest[0]
	default:
		return o, errors.New("show takes at most one argument (a plan file)")
	}
	if o.MaxLines < 0 {
		return o, errors.New("-max-lines must not be negative")
	}
	return o, nil
}

// State is `postform state list|show|rm`.
type State struct {
	Target
	Sub         string
	Addresses   []string
	JSON        bool
	LockTimeout time.Duration
}

// ParseState parses the state subcommands.
func ParseState(args []string) (*State, error) {
	o := &State{}
	if len(args) == 0 {
		return o, errors.New("state needs a subcommand: list, show ADDRESS, or rm ADDRESS…")
	}
	o.Sub = args[0]
	fs := newFlagSet("state " + o.Sub)
	o.Target.add(fs)
	fs.BoolVar(&o.JSON, "json", false, "")
	fs.DurationVar(&o.LockTimeout, "lock-timeout", 0, "")
	if err := fs.Parse(args[1:]); err != nil {
		return o, err
	}
	o.Addresses = fs.Args()
	switch o.Sub {
	case "list":
		if len(o.Addresses) > 0 {
			return o, errors.New("state list takes no arguments; use state show ADDRESS for one message")
		}
	case "show":
		if len(o.Addresses) != 1 {
			return o, errors.New("state show takes exactly one message address")
		}
	case "rm":
		if len(o.Addresses) == 0 {
			return o, errors.New("state rm takes one or more message addresses")
		}
	default:
		return o, fmt.Errorf("unknown state subcommand %q: use list, show or rm", o.Sub)
	}
	return o, nil
}

// ForceUnlock is `postform force-unlock ID`.
type ForceUnlock struct {
	Target
	ID string
}

// ParseForceUnlock parses force-unlock's arguments.
func ParseForceUnlock(args []string) (*ForceUnlock, error) {
	o := &ForceUnlock{}
	fs := newFlagSet("force-unlock")
	o.Target.add(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 1 {
		return o, errors.New("force-unlock takes exactly one argument: the lock ID shown in the lock error")
	}
	o.ID = fs.Arg(0)
	return o, nil
}

// Sim is `postform sim`.
type Sim struct {
	Addr          string
	Token         string
	Latency       time.Duration
	Seed          uint64
	RateLimit     float64
	Fault429      float64
	Fault500      float64
	Fault503      float64
	FaultDrop     float64
	SearchLag     time.Duration
	DeliveryDelay time.Duration
}

// ParseSim parses sim's flags.
func ParseSim(args []string) (*Sim, error) {
	o := &Sim{}
	fs := newFlagSet("sim")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:0", "")
	fs.StringVar(&o.Token, "token", "", "")
	fs.DurationVar(&o.Latency, "latency", 0, "")
	fs.Uint64Var(&o.Seed, "seed", 1, "")
	fs.Float64Var(&o.RateLimit, "rate-limit", 0, "")
	fs.Float64Var(&o.Fault429, "fault-429", 0, "")
	fs.Float64Var(&o.Fault500, "fault-500", 0, "")
	fs.Float64Var(&o.Fault503, "fault-503", 0, "")
	fs.Float64Var(&o.FaultDrop, "fault-drop", 0, "")
	fs.DurationVar(&o.SearchLag, "search-lag", 0, "")
	fs.DurationVar(&o.DeliveryDelay, "delivery-delay", 0, "")
	if err := parseNoArgs(fs, args); err != nil {
		return o, err
	}
	for _, p := range []float64{o.Fault429, o.Fault500, o.Fault503, o.FaultDrop} {
		if !(p >= 0 && p <= 1) { // also refuses NaN
			return o, errors.New("fault rates are probabilities between 0 and 1")
		}
	}
	return o, nil
}

func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (this command takes flags only)", fs.Arg(0))
	}
	return nil
}
