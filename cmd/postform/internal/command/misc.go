package command

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/postmark/postmarktest"
	"github.com/postform/postform/state/lockfile"
)

// runForceUnlock removes a stale lock whose holder is gone.
func (m *meta) runForceUnlock(args []string) int {
	opts, err := arguments.ParseForceUnlock(args)
	if err != nil {
		return m.usageError("force-unlock", err)
	}
	t, err := m.stateTarget(opts.Simulate)
	if err != nil {
		return m.fail("Invalid Postmark target", err)
	}
	if err := lockfile.ForceUnlock(t.lockPath, opts.ID); err != nil {
		return m.fail("Cannot force-unlock", err)
	}
	fmt.Fprintf(m.streams.Out, "Removed the lock %s. State is unlocked.\n", opts.ID)
	return ExitOK
}

// runSim runs the simulator until interrupted.
func (m *meta) runSim(args []string) int {
	opts, err := arguments.ParseSim(args)
	if err != nil {
		return m.usageError("sim", err)
	}
	base := postmarktest.Options{
		Seed: opts.Seed, Latency: opts.Latency, RateLimit: opts.RateLimit,
		Rate429: opts.Fault429, Rate500: opts.Fault500, Rate503: opts.Fault503, RateAcceptedDrop: opts.FaultDrop,
		SearchLag: opts.SearchLag, DeliveryDelay: opts.DeliveryDelay,
	}
	// -token a,b runs one simulated Postmark server per token behind one
	// address, as Postmark serves every server of an account from one
	// host: the token picks the server.
	var list []postmarktest.Options
	for i, tok := range strings.Split(opts.Token, ",") {
		o := base
		o.Token, o.Seed = strings.TrimSpace(tok), base.Seed+uint64(i)
		list = append(list, o)
	}
	sims, err := postmarktest.NewServers(list)
	if err != nil {
		return m.usageError("sim", err)
	}
	if err := sims.Start(opts.Addr); err != nil {
		return m.fail("Cannot start the simulator", err)
	}
	defer sims.Close()
	fmt.Fprintf(m.streams.Out, "Postmark simulator listening on %s\n", sims.URL())
	for _, sim := range sims.List() {
		fmt.Fprintf(m.streams.Out, "  server %d (%s): token %s\n", sim.ServerID(), sim.ServerName(), sim.Token())
	}
	fmt.Fprintf(m.streams.Out, "Use it with:\n  export POSTMARK_SERVER_TOKEN=%s\n  and postmark { base_url = %q } in your configuration\n", sims.List()[0].Token(), sims.URL())
	fmt.Fprintln(m.streams.Out, "Press Ctrl-C to stop.")
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	<-ch
	signal.Stop(ch)
	for _, sim := range sims.List() {
		fmt.Fprintf(m.streams.Out, "Stopped server %d after accepting %d message(s).\n", sim.ServerID(), sim.AcceptedCount())
	}
	return ExitOK
}

// runFmt rewrites configuration files in canonical form.
func (m *meta) runFmt(args []string) int {
	opts, err := arguments.ParseFmt(args)
	if err != nil {
		return m.usageError("fmt", err)
	}
	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		full := m.path(p)
		info, err := os.Stat(full)
		if err != nil {
			return m.fail("Cannot format", err)
		}
		if !info.IsDir() {
			files = append(files, full)
			continue
		}
		err = filepath.WalkDir(full, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != full && (!opts.Recursive || strings.HasPrefix(d.Name(), ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), ".pf.hcl") || strings.HasSuffix(d.Name(), ".pfvars") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return m.fail("Cannot format", err)
		}
	}
	sort.Strings(files)
	var diags hcl.Diagnostics
	changed := 0
	m.files = map[string]*hcl.File{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read file", Detail: err.Error()})
			continue
		}
		rel, _ := filepath.Rel(m.dir, f)
		parsed, pdiags := hclwrite.ParseConfig(src, rel, hcl.InitialPos)
		if pdiags.HasErrors() {
			m.files[rel] = &hcl.File{Bytes: src}
			diags = append(diags, pdiags...)
			continue
		}
		out := hclwrite.Format(parsed.Bytes())
		if bytes.Equal(out, src) {
			continue
		}
		changed++
		fmt.Fprintln(m.streams.Out, rel)
		if opts.Diff {
			writeDiff(m.streams.Out, rel, string(src), string(out))
		}
		if opts.Write {
			info, _ := os.Stat(f)
			if err := os.WriteFile(f, out, info.Mode().Perm()); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot write file", Detail: err.Error()})
			}
		}
	}
	if diags.HasErrors() {
		m.showDiags(diags)
		return ExitError
	}
	if opts.Check && changed > 0 {
		return ExitFormat
	}
	return ExitOK
}

// writeDiff prints a simple line diff (whole-file, unified-like).
func writeDiff(w interface{ Write([]byte) (int, error) }, name, a, b string) {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	fmt.Fprintf(w, "--- old/%s\n+++ new/%s\n", name, name)
	// Longest common subsequence on lines: files are small.
	n, mm := len(al), len(bl)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, mm+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := mm - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < mm {
		switch {
		case i < n && j < mm && al[i] == bl[j]:
			i, j = i+1, j+1
		case i < n && (j == mm || lcs[i+1][j] >= lcs[i][j+1]):
			// Removals first, as in a unified diff: old lines, then new.
			fmt.Fprintf(w, "-%s\n", al[i])
			i++
		default:
			fmt.Fprintf(w, "+%s\n", bl[j])
			j++
		}
	}
}

// runInit writes a starter configuration into an empty directory.
func (m *meta) runInit(args []string) int {
	if len(args) > 0 {
		return m.usageError("init", errors.New("init takes no arguments; use -chdir=DIR to choose the directory"))
	}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return m.fail("Cannot create the directory", err)
	}
	existing, _ := filepath.Glob(filepath.Join(m.dir, "*.pf.hcl"))
	if len(existing) > 0 {
		return m.fail("Directory already has a configuration", fmt.Errorf("%s holds %s; init only writes into a directory without *.pf.hcl files", m.dir, filepath.Base(existing[0])))
	}
	for _, f := range starterFiles {
		p := filepath.Join(m.dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return m.fail("Cannot write the starter configuration", err)
		}
		if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
			return m.fail("Cannot write the starter configuration", err)
		}
		fmt.Fprintf(m.streams.Out, "  created %s\n", f.name)
	}
	fmt.Fprintln(m.streams.Out, "\npostform is ready. Next:\n  postform validate\n  postform plan\n  postform apply -simulate -auto-approve   (a dry run against the built-in simulator)")
	return ExitOK
}

var starterFiles = []struct{ name, body string }{
	{"main.pf.hcl", `# A starter postform configuration: one batch, one template, one report.
# postform plan shows who gets what; postform apply sends it exactly once.

postmark {
  # server_token defaults to the POSTMARK_SERVER_TOKEN environment variable.
  message_stream = "outbound"
}

runner {
  parallelism = 4
  batch_size  = 500
}

variable "month" {
  type    = string
  default = "November"
}

template "welcome" {
  subject   = "Welcome, ${first_name}"
  html_file = "templates/welcome.html"
  text_file = "templates/welcome.txt"
}

batch "welcome" {
  for_each = { for r in csvfile("recipients.csv") : r.email => r }

  from     = "Acme <hello@acme.example>"
  to       = each.value.email
  template = template.welcome
  data = {
    first_name = each.value.first_name
    month      = var.month
  }
  tag = "welcome"
}

report {
  path   = "reports/welcome.csv"
  format = "csv"
}
`},
	{"recipients.csv", "email,first_name\nann@example.com,Ann\nbob@example.com,Bob\n"},
	{"templates/welcome.html", "<p>Hello ${first_name},</p>\n<p>Welcome aboard. Here is what is new in ${month}.</p>\n"},
	{"templates/welcome.txt", "Hello ${first_name},\n\nWelcome aboard. Here is what is new in ${month}.\n"},
}
