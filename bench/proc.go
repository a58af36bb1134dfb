package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// measurement is what one measured process cost.
type measurement struct {
	Wall    time.Duration
	CPU     time.Duration // user + system
	MaxRSS  int64         // bytes
	Failed  error
	Tail    string // the last lines of its output, for error reports
	Summary []byte // the line the caller looked for, if any
}

// measure runs cmd to completion and records its wall time, CPU time and
// peak RSS. Every output line is passed to match; the last line for which it
// returns true is kept as Summary. Output is otherwise discarded, apart from
// a short tail kept for error messages.
//
// The output goes to a temporary file and is read after the process has
// exited: a reader running alongside would take CPU from the process being
// measured (apply -json writes a line per message) on a two-core machine.
func measure(cmd *exec.Cmd, match func(line []byte) bool) measurement {
	var m measurement
	f, err := os.CreateTemp("", "postform-bench-out-*")
	if err != nil {
		m.Failed = err
		return m
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	start := time.Now()
	if err := cmd.Start(); err != nil {
		m.Failed = err
		return m
	}
	waitErr := cmd.Wait()
	m.Wall = time.Since(start)
	m.CPU, m.MaxRSS = usage(cmd.ProcessState)
	tail := newTail(20)
	if _, err := f.Seek(0, io.SeekStart); err == nil {
		r := bufio.NewReaderSize(f, 1<<16)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				tail.add(line)
				if match != nil && match(line) {
					m.Summary = line
				}
			}
			if err != nil {
				break
			}
		}
	}
	m.Tail = tail.String()
	if waitErr != nil {
		m.Failed = fmt.Errorf("%s: %w", filepath.Base(cmd.Path), waitErr)
	}
	return m
}

// tail keeps the last n lines written to it.
type tail struct {
	lines []string
	n     int
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) add(line []byte) {
	s := strings.TrimRight(string(line), "\n")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	t.lines = append(t.lines, s)
	if len(t.lines) > t.n {
		t.lines = t.lines[1:]
	}
}

func (t *tail) String() string { return strings.Join(t.lines, "\n") }

// buildPostform builds the real binary into dir.
func buildPostform(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "postform")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/postform")
	cmd.Dir = root
	// Pure Go, as shipped: with a C compiler at hand, Pebble would
	// otherwise allocate its cache and memtables through cgo.
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/postform: %w\n%s", err, out)
	}
	return bin, nil
}

// simulator is a running `postform sim` process.
type simulator struct {
	cmd      *exec.Cmd
	URL      string
	out      *bufio.Reader
	done     chan struct{}
	accepted string // the simulator's closing line, once stopped
}

// startSim starts `postform sim` on a free loopback port with the given
// latency and token, and waits until it answers HTTP requests.
func startSim(ctx context.Context, bin string, latency time.Duration, token string) (*simulator, error) {
	cmd := exec.Command(bin, "sim", "-addr", "127.0.0.1:0", "-latency", latency.String(), "-token", token)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &simulator{cmd: cmd, out: bufio.NewReader(out), done: make(chan struct{})}
	const prefix = "Postmark simulator listening on "
	for s.URL == "" {
		line, err := s.out.ReadString('\n')
		if strings.HasPrefix(line, prefix) {
			s.URL = strings.TrimSpace(strings.TrimPrefix(line, prefix))
		}
		if err != nil {
			s.kill()
			return nil, fmt.Errorf("the simulator did not start: %w", err)
		}
	}
	// Keep reading its output so that it never blocks, and remember the line
	// it prints when stopped.
	go func() {
		defer close(s.done)
		for {
			line, err := s.out.ReadString('\n')
			if strings.HasPrefix(line, "Stopped after") {
				s.accepted = strings.TrimSpace(line)
			}
			if err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
		if err != nil {
			s.kill()
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.kill()
			return nil, fmt.Errorf("the simulator at %s does not answer: %w", s.URL, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Host returns "127.0.0.1:PORT".
func (s *simulator) Host() string { return strings.TrimPrefix(s.URL, "http://") }

// simUsage is what a stopped simulator reports and cost.
type simUsage struct {
	Accepted int // messages accepted, or -1 if unknown
	CPU      time.Duration
	MaxRSS   int64 // bytes
}

// stop interrupts the simulator, waits for it, and reads the number of
// messages it accepted from its closing line ("Stopped after accepting N
// message(s).").
func (s *simulator) stop() (simUsage, error) {
	u := simUsage{Accepted: -1}
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		return u, err
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.kill()
		return u, errors.New("the simulator did not stop within 30s")
	}
	err := s.cmd.Wait()
	u.Accepted = acceptedCount(s.accepted)
	u.CPU, u.MaxRSS = usage(s.cmd.ProcessState)
	return u, err
}

// usage is an exited process's user+system CPU time and peak RSS in bytes
// (zero when it did not run).
func usage(ps *os.ProcessState) (cpu time.Duration, maxRSS int64) {
	if ps == nil {
		return 0, 0
	}
	cpu = ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		maxRSS = int64(ru.Maxrss) * 1024 // kilobytes on Linux
	}
	return cpu, maxRSS
}

func (s *simulator) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
