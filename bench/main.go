// Command bench measures postform against the targets of SPEC §7 and
// against a plain Node.js script using the official postmark client.
//
// Run it from the repository root:
//
//	go run ./bench -n 100000 -latency 50ms -parallelism 4
//
// It builds the real binary, generates N recipients and a configuration in a
// temporary directory, starts `postform sim` as a separate process, times
// `postform plan` and `postform apply -auto-approve -json` (wall time, CPU
// time, peak RSS), then restarts the simulator and times bench/node/send.js
// the same way. See BENCHMARKS.md for the results and how to read them.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// simToken is the token the benchmark's simulators accept. It is a throwaway
// value for a loopback simulator, never a real Postmark token.
const simToken = "bench-sim-token"

type options struct {
	N           int
	Latency     time.Duration
	Parallelism int
	Batch       int
	Node        bool
	PlanOnly    bool
	Keep        bool
	JSON        bool
	Human       bool
}

func main() {
	var o options
	_, nodeErr := exec.LookPath("node")
	flag.IntVar(&o.N, "n", 10000, "number of recipients")
	flag.DurationVar(&o.Latency, "latency", 50*time.Millisecond, "simulator latency per request")
	flag.IntVar(&o.Parallelism, "parallelism", 4, "concurrent requests (runner.parallelism and the Node pool size)")
	flag.IntVar(&o.Batch, "batch", 500, "messages per /email/batch request")
	flag.BoolVar(&o.Node, "node", nodeErr == nil, "also run the Node.js peer (bench/node/send.js)")
	flag.BoolVar(&o.PlanOnly, "plan-only", false, "measure postform plan only (no simulator, no apply, no Node peer)")
	flag.BoolVar(&o.Keep, "keep", false, "keep the generated directory (configuration, CSV, state)")
	flag.BoolVar(&o.JSON, "json", false, "print the results as JSON")
	flag.BoolVar(&o.Human, "human", false, "run apply with its human output instead of -json")
	flag.Parse()
	if o.N <= 0 || o.Parallelism <= 0 || o.Batch <= 0 || o.Batch > 500 || o.Latency < 0 {
		fmt.Fprintln(os.Stderr, "bench: -n and -parallelism must be positive, -batch between 1 and 500, -latency not negative")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run(ctx, o)
	if res != nil {
		if o.JSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(res)
		} else {
			res.print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// logf reports progress on stderr, so that -json output stays clean.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func run(ctx context.Context, o options) (*results, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	res := &results{Params: params{N: o.N, Latency: o.Latency.String(), Parallelism: o.Parallelism, Batch: o.Batch, PlanOnly: o.PlanOnly, ApplyOutput: "json"}}
	if o.Human {
		res.Params.ApplyOutput = "human"
	}
	res.Machine = machineInfo(ctx, root)

	outDir := filepath.Join(root, "bench", "out") // gitignored
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	logf("building ./cmd/postform")
	bin, err := buildPostform(ctx, root, outDir)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "postform-bench-")
	if err != nil {
		return nil, err
	}
	if o.Keep {
		res.Workdir = work
	} else {
		defer os.RemoveAll(work)
	}

	var sim *simulator
	baseURL := "http://127.0.0.1:9" // plan never contacts Postmark
	if !o.PlanOnly {
		if sim, err = startSim(ctx, bin, o.Latency, simToken); err != nil {
			return nil, err
		}
		defer func() {
			if sim != nil {
				sim.kill()
			}
		}()
		baseURL = sim.URL
	}
	t0 := time.Now()
	if err := writeWorkspace(work, o.N, o.Parallelism, o.Batch, baseURL); err != nil {
		return nil, err
	}
	res.CSVBytes = dirSize(filepath.Join(work, "recipients.csv"))
	logf("generated %d recipients (%.1f MB CSV) in %s: %s", o.N, mb(res.CSVBytes), time.Since(t0).Round(time.Millisecond), work)

	env := append(os.Environ(), "POSTMARK_SERVER_TOKEN="+simToken, "GOTOOLCHAIN=local")

	// plan
	logf("postform plan (load %s)", loadavg())
	cmd := exec.CommandContext(ctx, bin, "-no-color", "plan")
	cmd.Dir, cmd.Env = work, env
	m := measure(cmd, func(line []byte) bool { return bytes.HasPrefix(line, []byte("Plan: ")) })
	if m.Failed != nil {
		return res, fmt.Errorf("postform plan failed: %w\n%s", m.Failed, m.Tail)
	}
	planRow := row{Tool: "postform plan", N: o.N, Latency: o.Latency.String(), Parallelism: o.Parallelism}
	planRow.fill(m, o.N)
	planRow.Note = strings.TrimSpace(string(m.Summary))
	res.Rows = append(res.Rows, planRow)
	if o.PlanOnly {
		res.finish()
		return res, nil
	}

	// apply
	logf("postform apply (load %s)", loadavg())
	args := []string{"-no-color", "apply", "-auto-approve"}
	match := func(line []byte) bool { return bytes.HasPrefix(line, []byte("Apply complete: ")) }
	if !o.Human {
		args = append(args, "-json")
		match = func(line []byte) bool { return bytes.Contains(line, []byte(`"type":"run_summary"`)) }
	}
	cmd = exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = work, env
	m = measure(cmd, match)
	if m.Failed != nil {
		return res, fmt.Errorf("postform apply failed: %w\n%s", m.Failed, m.Tail)
	}
	applyRow := row{Tool: "postform apply", N: o.N, Latency: o.Latency.String(), Parallelism: o.Parallelism}
	applyRow.fill(m, o.N)
	if err := applyRow.parseApplySummary(m.Summary, o.Human); err != nil {
		return res, fmt.Errorf("postform apply: %w\n%s", err, m.Tail)
	}
	applyRow.ideal(o)
	su, err := sim.stop()
	sim = nil
	if err != nil {
		return res, fmt.Errorf("stopping the simulator: %w", err)
	}
	applyRow.simUsage(su)
	res.Rows = append(res.Rows, applyRow)
	res.StateBytes = dirSize(filepath.Join(work, ".postform"))

	// the Node peer, against a fresh simulator
	if o.Node {
		nodeRow, err := runNode(ctx, o, root, bin, work)
		if err != nil {
			res.NodeError = err.Error()
			logf("node peer: %v", err)
		} else {
			res.Rows = append(res.Rows, *nodeRow)
		}
	}
	res.finish()
	return res, nil
}

// runNode installs the Node peer's dependencies when needed, starts a fresh
// simulator and measures bench/node/send.js.
func runNode(ctx context.Context, o options, root, bin, work string) (*row, error) {
	nodeDir := filepath.Join(root, "bench", "node")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "postmark")); err != nil {
		logf("npm ci in %s", nodeDir)
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = nodeDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("npm ci: %w\n%s", err, out)
		}
	}
	sim, err := startSim(ctx, bin, o.Latency, simToken)
	if err != nil {
		return nil, err
	}
	defer func() {
		if sim != nil {
			sim.kill()
		}
	}()
	logf("node send.js (load %s)", loadavg())
	cmd := exec.CommandContext(ctx, "node", filepath.Join(nodeDir, "send.js"), work, sim.Host(), strconv.Itoa(o.Parallelism), strconv.Itoa(o.Batch))
	cmd.Env = append(os.Environ(), "POSTMARK_SERVER_TOKEN="+simToken)
	m := measure(cmd, func(line []byte) bool { return bytes.HasPrefix(line, []byte(`{"sent"`)) })
	if m.Failed != nil {
		return nil, fmt.Errorf("node send.js failed: %w\n%s", m.Failed, m.Tail)
	}
	r := &row{Tool: "node sendEmailBatch", N: o.N, Latency: o.Latency.String(), Parallelism: o.Parallelism}
	r.fill(m, o.N)
	var out struct {
		Sent, Failed, Requests int
		Elapsed                float64 `json:"elapsed_seconds"`
		Errors                 map[string]int
	}
	if err := json.Unmarshal(m.Summary, &out); err != nil {
		return nil, fmt.Errorf("node send.js printed no result line: %w\n%s", err, m.Tail)
	}
	r.Sent, r.Failed, r.Requests, r.SendS = out.Sent, out.Failed, out.Requests, round3(out.Elapsed)
	if len(out.Errors) > 0 {
		r.Note = fmt.Sprintf("errors: %v", out.Errors)
	}
	r.ideal(o)
	su, err := sim.stop()
	sim = nil
	if err != nil {
		return nil, fmt.Errorf("stopping the simulator: %w", err)
	}
	r.simUsage(su)
	return r, nil
}

// fill records a measurement in the row.
func (r *row) fill(m measurement, n int) {
	r.WallS = round3(m.Wall.Seconds())
	r.CPUS = round3(m.CPU.Seconds())
	r.PeakRSSMB = mb(m.MaxRSS)
	r.MsgPerS = math.Round(float64(n) / m.Wall.Seconds())
	r.Load = loadavg()
}

// simUsage records what the simulator serving this row cost.
func (r *row) simUsage(u simUsage) {
	r.SimAccepted = u.Accepted
	r.SimCPUS = round3(u.CPU.Seconds())
	r.SimRSSMB = mb(u.MaxRSS)
}

// ideal fills the ideal time ceil(N/batch)/P × latency and the ratio to it.
func (r *row) ideal(o options) {
	reqs := math.Ceil(float64(o.N) / float64(o.Batch))
	ideal := math.Ceil(reqs/float64(o.Parallelism)) * o.Latency.Seconds()
	if ideal > 0 {
		r.IdealS = round3(ideal)
		r.Ratio = math.Round(r.WallS/ideal*1000) / 1000
	}
}

var humanSummary = regexp.MustCompile(`^Apply complete: ([\d,]+) sent.*, ([\d,]+) failed.* in ([^ ]+), ([\d,]+) requests`)

// parseApplySummary reads apply's run summary: the run_summary JSON event,
// or the human "Apply complete:" line.
func (r *row) parseApplySummary(line []byte, human bool) error {
	if line == nil {
		return errors.New("no run summary in the output")
	}
	if human {
		m := humanSummary.FindSubmatch(line)
		if m == nil {
			return fmt.Errorf("cannot read the summary %q", line)
		}
		num := func(b []byte) int { n, _ := strconv.Atoi(strings.ReplaceAll(string(b), ",", "")); return n }
		r.Sent, r.Failed, r.Requests = num(m[1]), num(m[2]), num(m[4])
		if d, err := time.ParseDuration(string(m[3])); err == nil {
			r.SendS = round3(d.Seconds())
		}
		return nil
	}
	var s struct {
		Sent      int     `json:"sent"`
		Failed    int     `json:"failed"`
		Unsent    int     `json:"unsent"`
		Uncertain int     `json:"uncertain"`
		Requests  int     `json:"requests"`
		Elapsed   float64 `json:"elapsed_seconds"`
	}
	if err := json.Unmarshal(line, &s); err != nil {
		return fmt.Errorf("cannot read run_summary: %w", err)
	}
	r.Sent, r.Failed, r.Requests, r.SendS = s.Sent, s.Failed, s.Requests, round3(s.Elapsed)
	if s.Unsent > 0 || s.Uncertain > 0 {
		r.Note = fmt.Sprintf("unsent %d, uncertain %d", s.Unsent, s.Uncertain)
	}
	return nil
}

var acceptedRe = regexp.MustCompile(`accepting (\d+) message`)

// acceptedCount reads N from the simulator's "Stopped after accepting N
// message(s)." line, or -1.
func acceptedCount(line string) int {
	m := acceptedRe.FindStringSubmatch(line)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// repoRoot finds the module root from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/postform/postform\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the benchmark from inside the postform repository (go run ./bench)")
		}
		dir = parent
	}
}

func mb(b int64) float64 { return math.Round(float64(b)/(1<<20)*10) / 10 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
