package command

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/cmd/postform/internal/arguments"
	"github.com/postform/postform/cmd/postform/internal/views"
	"github.com/postform/postform/config"
	"github.com/postform/postform/postmark"
	"github.com/postform/postform/postmark/postmarktest"
	"github.com/postform/postform/state"
	"github.com/postform/postform/state/lockfile"
	"github.com/postform/postform/state/pebblestate"
)

// meta is what every command shares: the working directory, environment
// and streams. Each command keeps its own options.
type meta struct {
	dir     string
	env     map[string]string
	stdin   io.Reader
	streams views.Streams
	files   map[string]*hcl.File // for rendering diagnostics
}

// path resolves p against the working directory.
func (m *meta) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(m.dir, p)
}

// loaded is an evaluated configuration and the parser that read it.
type loaded struct {
	parser *config.Parser
	ev     *config.Evaluated
}

// loadConfig parses and evaluates the configuration in fsys with vars.
func (m *meta) loadConfig(fsys fs.FS, in config.Inputs) (*loaded, hcl.Diagnostics) {
	p := config.NewParser(fsys)
	cfg, diags := p.LoadConfig()
	m.files = p.Files()
	if diags.HasErrors() {
		return &loaded{parser: p}, diags
	}
	ev, moreDiags := cfg.Evaluate(in)
	diags = append(diags, moreDiags...)
	m.files = p.Files()
	return &loaded{parser: p, ev: ev}, diags
}

// inputs reads -var-file files and builds the configuration inputs.
func (m *meta) inputs(v arguments.Vars) (config.Inputs, hcl.Diagnostics) {
	in := config.Inputs{Vars: v.Vars, Env: m.env}
	var diags hcl.Diagnostics
	for _, name := range v.VarFiles {
		src, err := os.ReadFile(m.path(name))
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variables file",
				Detail: fmt.Sprintf("-var-file=%s: %v", name, errors.Unwrap(err))})
			continue
		}
		in.VarFiles = append(in.VarFiles, config.VarFile{Name: name, Src: src})
	}
	return in, diags
}

// loadDir loads the configuration of the working directory.
func (m *meta) loadDir(v arguments.Vars) (*loaded, hcl.Diagnostics) {
	in, diags := m.inputs(v)
	if diags.HasErrors() {
		return nil, diags
	}
	l, moreDiags := m.loadConfig(os.DirFS(m.dir), in)
	return l, append(diags, moreDiags...)
}

// showDiags renders diagnostics on stderr for people.
func (m *meta) showDiags(diags hcl.Diagnostics) {
	views.WriteDiagnostics(m.streams.Err, diags, m.files, m.streams.Width, m.streams.Color)
}

// fail renders a non-configuration failure and returns ExitError.
func (m *meta) fail(summary string, err error) int {
	m.showDiags(hcl.Diagnostics{views.ErrorDiag(summary, err)})
	return ExitError
}

// target is the Postmark endpoint a command talks to and where its state
// lives. A simulator run never shares state with a real one.
type target struct {
	name      string // recorded in state: "simulator" or the base URL
	baseURL   string
	token     string
	statePath string
	lockPath  string
	sim       *postmarktest.Server
}

func (t *target) close() {
	if t.sim != nil {
		t.sim.Close()
	}
}

var unsafePath = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// resolveTarget decides the target from the configuration and -simulate.
// ev may be nil (commands that only read state): then the target comes from
// -simulate alone, and the default Postmark API otherwise.
func (m *meta) resolveTarget(ev *config.Evaluated, simulate bool) (*target, error) {
	base := filepath.Join(m.dir, ".postform")
	if simulate {
		return &target{name: "simulator", statePath: filepath.Join(base, "simulate", "state.db"), lockPath: filepath.Join(base, "simulate", "state.lock")}, nil
	}
	t := &target{baseURL: postmark.DefaultBaseURL}
	if ev != nil {
		if ev.Postmark.BaseURL != "" {
			t.baseURL = ev.Postmark.BaseURL
		}
		t.token = ev.Postmark.ServerToken
	} else if u := m.env["POSTFORM_BASE_URL"]; u != "" {
		t.baseURL = u
	}
	u, err := url.Parse(t.baseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("postmark.base_url %q is not a URL", t.baseURL)
	}
	t.name = strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
	if t.name == strings.TrimSuffix(postmark.DefaultBaseURL, "/") {
		t.statePath = filepath.Join(base, "state.db")
		t.lockPath = filepath.Join(base, "state.lock")
	} else {
		dir := filepath.Join(base, "targets", strings.Trim(unsafePath.ReplaceAllString(u.Host+u.Path, "_"), "_"))
		t.statePath = filepath.Join(dir, "state.db")
		t.lockPath = filepath.Join(dir, "state.lock")
	}
	return t, nil
}

// connect starts the in-process simulator for -simulate and builds the
// client. The token must be present for a real target.
func (m *meta) connect(t *target) (*postmark.Client, error) {
	if t.name == "simulator" {
		// The in-process simulator keeps every accepted message: lift the
		// soft heap limit meant for postform's own streaming work.
		if _, set := m.env["GOMEMLIMIT"]; !set {
			debug.SetMemoryLimit(math.MaxInt64)
		}
		sim := postmarktest.New(postmarktest.Options{Seed: 1, DeliveryDelay: 200 * time.Millisecond, AnyTemplate: true})
		if err := sim.Start("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("starting the simulator: %w", err)
		}
		t.sim, t.baseURL, t.token = sim, sim.URL(), sim.Token()
	}
	if t.token == "" {
		return nil, errors.New("no Postmark server token: set POSTMARK_SERVER_TOKEN (or postmark.server_token), or add -simulate to run against the built-in simulator")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// HTTP/1.1 only: the client's written-or-not classification is exact
	// there, and that fact decides between "retry" and "reconcile".
	transport.ForceAttemptHTTP2 = false
	transport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	transport.MaxIdleConnsPerHost = 64
	hc := &http.Client{Transport: transport, Timeout: 2 * time.Minute}
	return postmark.NewClient(t.token, postmark.WithBaseURL(t.baseURL), postmark.WithHTTPClient(hc),
		postmark.WithUserAgent("postform/"+Version))
}

// stateExists reports whether the target's state file exists.
func (t *target) stateExists() bool {
	_, err := os.Stat(t.statePath)
	return err == nil
}

// noState explains a missing state file.
func (t *target) noState() error {
	return fmt.Errorf("no state at %s: nothing has been sent from this directory to %s yet", t.statePath, t.name)
}

// openState opens (creating when create is true) the target's state.
func (m *meta) openState(ctx context.Context, t *target, create bool) (state.Store, error) {
	if !create && !t.stateExists() {
		return nil, nil
	}
	st, err := pebblestate.Open(ctx, t.statePath, pebblestate.Options{Target: t.name})
	if errors.Is(err, pebblestate.ErrInUse) {
		// Name the holder when the run lock records one: the state is
		// open in the process that holds the lock.
		if info, ierr := lockfile.ReadInfo(t.lockPath); ierr == nil {
			return nil, &lockfile.LockError{Holder: info, Path: t.lockPath}
		}
		return nil, fmt.Errorf("state %s is in use by another postform process; run this again when it has finished", t.statePath)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// lock takes the whole-run lock beside the state.
func (m *meta) lock(ctx context.Context, t *target, command string, timeout time.Duration) (*lockfile.Lock, error) {
	return lockfile.Acquire(ctx, t.lockPath, lockfile.Info{Command: "postform " + command, Version: Version}, timeout)
}
