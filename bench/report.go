package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
)

// results is everything one benchmark run measured.
type results struct {
	Machine    machine   `json:"machine"`
	Params     params    `json:"params"`
	Rows       []row     `json:"rows"`
	Verdicts   []verdict `json:"verdicts"`
	CSVBytes   int64     `json:"csv_bytes"`
	StateBytes int64     `json:"state_bytes,omitempty"` // .postform/ after apply
	NodeError  string    `json:"node_error,omitempty"`
	Workdir    string    `json:"workdir,omitempty"` // kept with -keep
}

type params struct {
	N           int    `json:"n"`
	Latency     string `json:"latency"`
	Parallelism int    `json:"parallelism"`
	Batch       int    `json:"batch"`
	PlanOnly    bool   `json:"plan_only"`
	ApplyOutput string `json:"apply_output"` // "json" or "human"
}

// row is one measured process.
type row struct {
	Tool        string  `json:"tool"`
	N           int     `json:"n"`
	Latency     string  `json:"latency"`
	Parallelism int     `json:"parallelism"`
	WallS       float64 `json:"wall_seconds"`
	SendS       float64 `json:"send_seconds,omitempty"` // as reported by the tool itself
	CPUS        float64 `json:"cpu_seconds"`
	MsgPerS     float64 `json:"messages_per_second"`
	Requests    int     `json:"requests"`
	Sent        int     `json:"sent"`
	Failed      int     `json:"failed"`
	SimAccepted int     `json:"sim_accepted,omitempty"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	SimCPUS     float64 `json:"sim_cpu_seconds,omitempty"`
	SimRSSMB    float64 `json:"sim_peak_rss_mb,omitempty"`
	IdealS      float64 `json:"ideal_seconds,omitempty"`
	Ratio       float64 `json:"ratio_to_ideal,omitempty"`
	Load        string  `json:"loadavg_after"`
	Note        string  `json:"note,omitempty"`
}

// verdict is one check against a SPEC §7 target. Applies is false when the
// run's parameters differ from those the target is stated for, in which case
// the check is only indicative.
type verdict struct {
	Target  string `json:"target"`
	Applies bool   `json:"applies"`
	Pass    bool   `json:"pass"`
	Detail  string `json:"detail"`
}

type machine struct {
	CPU         string `json:"cpu"`
	Cores       int    `json:"cores"`
	MemoryMB    int64  `json:"memory_mb"`
	Go          string `json:"go"`
	Node        string `json:"node,omitempty"`
	Kernel      string `json:"kernel"`
	LoadAtStart string `json:"loadavg_at_start"`
	Revision    string `json:"revision"` // of the postform tree that was built
}

func (r *results) find(tool string) *row {
	for i := range r.Rows {
		if r.Rows[i].Tool == tool {
			return &r.Rows[i]
		}
	}
	return nil
}

// finish computes the verdicts.
func (r *results) finish() {
	p := r.Params
	target1 := p.N == 100_000 && p.Latency == "50ms" && p.Parallelism == 4 && p.Batch == 500
	target2 := p.N == 1_000_000 && p.Latency == "0s" && p.Batch == 500
	add := func(target string, applies, pass bool, detail string, args ...any) {
		r.Verdicts = append(r.Verdicts, verdict{Target: target, Applies: applies, Pass: pass, Detail: fmt.Sprintf(detail, args...)})
	}
	plan, apply, node := r.find("postform plan"), r.find("postform apply"), r.find("node sendEmailBatch")
	if plan != nil {
		add("plan < 15 s (1,000,000 recipients)", target2, plan.WallS < 15, "plan took %.2f s", plan.WallS)
		add("plan peak RSS < 300 MB (1,000,000 recipients)", target2, plan.PeakRSSMB < 300, "plan peak RSS %.1f MB", plan.PeakRSSMB)
	}
	if apply != nil {
		if apply.IdealS > 0 {
			add("apply within 1.25× ideal (100,000 at 50 ms, parallelism 4)", target1, apply.Ratio <= 1.25,
				"%.2f s vs ideal %.2f s: %.3f×", apply.WallS, apply.IdealS, apply.Ratio)
		}
		if node != nil {
			add("apply no slower than the Node peer", target1 || target2, apply.WallS <= node.WallS,
				"postform %.2f s vs node %.2f s: postform takes %.2f× the Node time", apply.WallS, node.WallS, apply.WallS/node.WallS)
		}
		add("apply peak RSS < 300 MB (1,000,000 recipients)", target2, apply.PeakRSSMB < 300, "apply peak RSS %.1f MB", apply.PeakRSSMB)
		// An unknown simulator count (its log unreadable) is not proof.
		complete := apply.Sent == p.N && apply.Failed == 0 && apply.SimAccepted == p.N
		add("every message accepted exactly once", true, complete, "postform sent %d, failed %d; simulator accepted %d of %d", apply.Sent, apply.Failed, apply.SimAccepted, p.N)
	}
	if node != nil {
		add("the Node peer sent everything", true, node.Sent == p.N && node.Failed == 0, "node sent %d, failed %d; simulator accepted %d of %d", node.Sent, node.Failed, node.SimAccepted, p.N)
	}
}

// print writes the human form: machine, parameters, table, verdicts.
func (r *results) print(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "Machine: %s, %d cores, %d MB RAM, kernel %s, %s, node %s; load at start %s\n",
		m.CPU, m.Cores, m.MemoryMB, m.Kernel, m.Go, orNone(m.Node), m.LoadAtStart)
	fmt.Fprintf(w, "postform: %s\n", m.Revision)
	p := r.Params
	fmt.Fprintf(w, "Run: N=%d latency=%s parallelism=%d batch=%d apply output=%s; CSV %.1f MB",
		p.N, p.Latency, p.Parallelism, p.Batch, p.ApplyOutput, mb(r.CSVBytes))
	if r.StateBytes > 0 {
		fmt.Fprintf(w, "; state after apply %.1f MB", mb(r.StateBytes))
	}
	fmt.Fprintln(w)
	if r.Workdir != "" {
		fmt.Fprintf(w, "Kept: %s\n", r.Workdir)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tN\tlatency\tP\twall s\tsend s\tCPU s\tmsg/s\trequests\tsent\tsim accepted\tpeak RSS MB\tideal s\tratio\tload after\t")
	for _, x := range r.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%.2f\t%s\t%.2f\t%.0f\t%d\t%d\t%s\t%.1f\t%s\t%s\t%s\t\n",
			x.Tool, x.N, x.Latency, x.Parallelism, x.WallS, blank(x.SendS, "%.2f"), x.CPUS, x.MsgPerS, x.Requests, x.Sent,
			blankInt(x.SimAccepted), x.PeakRSSMB, blank(x.IdealS, "%.2f"), blank(x.Ratio, "%.3f"), x.Load)
	}
	tw.Flush()
	for _, x := range r.Rows {
		if x.Note != "" {
			fmt.Fprintf(w, "%s: %s\n", x.Tool, x.Note)
		}
		if x.SimRSSMB > 0 {
			fmt.Fprintf(w, "%s: the simulator (a separate process, not counted above) used %.2f CPU s, peak RSS %.1f MB\n", x.Tool, x.SimCPUS, x.SimRSSMB)
		}
	}
	if r.NodeError != "" {
		fmt.Fprintf(w, "Node peer not measured: %s\n", r.NodeError)
	}
	fmt.Fprintln(w, "\nVerdicts:")
	for _, v := range r.Verdicts {
		status := "PASS"
		if !v.Pass {
			status = "MISS"
		}
		scope := "SPEC target"
		if !v.Applies {
			scope = "indicative: other parameters than the target's"
		}
		fmt.Fprintf(w, "  %s  %s — %s (%s)\n", status, v.Target, v.Detail, scope)
	}
}

func blank(f float64, format string) string {
	if f == 0 {
		return "-"
	}
	return fmt.Sprintf(format, f)
}

func blankInt(n int) string {
	if n <= 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// machineInfo describes the machine from /proc and the tools' versions.
func machineInfo(ctx context.Context, root string) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version(), LoadAtStart: loadavg()}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseInt(strings.Fields(procField("/proc/meminfo", "MemTotal") + " 0")[0], 10, 64); err == nil {
		m.MemoryMB = kb / 1024
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out)) // the toolchain that builds postform
	}
	if out, err := exec.CommandContext(ctx, "node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	m.Revision = revision(ctx, root)
	return m
}

// revision names the commit of the tree being measured, noting uncommitted
// changes to tracked files (the binary is built from the working tree).
func revision(ctx context.Context, root string) string {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	head, err := git("rev-parse", "--short", "HEAD")
	if err != nil {
		return "unknown"
	}
	if st, err := git("status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
		head += " with uncommitted changes"
	}
	return head
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadavg is the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
