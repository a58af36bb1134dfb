package config

import (
	"maps"
	"slices"
	"sync"
)

// recorder remembers every file and environment variable one evaluation
// reads, for its Snapshot. It is safe for concurrent use because messages of
// several batches may be iterated at once.
type recorder struct {
	parser *Parser

	mu    sync.Mutex
	files map[string][]byte
	env   map[string]string
	// secrets are values that must never enter a snapshot (the server
	// token): environment entries holding them are dropped.
	secrets []string
}

func newRecorder(p *Parser) *recorder {
	return &recorder{parser: p, files: map[string][]byte{}, env: map[string]string{}}
}

// readFile reads a file through the parser and records it.
func (r *recorder) readFile(name string) ([]byte, error) {
	clean, src, err := r.parser.readFile(name)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.files[clean] = src
	r.mu.Unlock()
	return src, nil
}

// recordEnv records that name was read with the given value.
func (r *recorder) recordEnv(name, value string) {
	r.mu.Lock()
	r.env[name] = value
	r.mu.Unlock()
}

// addSecret makes sure value never appears among the recorded environment
// values.
func (r *recorder) addSecret(value string) {
	if value == "" {
		return
	}
	r.mu.Lock()
	r.secrets = append(r.secrets, value)
	r.mu.Unlock()
}

func (r *recorder) snapshot(vars []string, varFiles []VarFile) Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	env := maps.Clone(r.env)
	for k, v := range env {
		if slices.Contains(r.secrets, v) {
			delete(env, k)
		}
	}
	var keptVars []string
	for _, v := range vars {
		secret := false
		for _, s := range r.secrets {
			if len(v) >= len(s) && v[len(v)-len(s):] == s {
				secret = true
			}
		}
		if !secret {
			keptVars = append(keptVars, v)
		}
	}
	return Snapshot{
		Files:    maps.Clone(r.files),
		VarFiles: slices.Clone(varFiles),
		Vars:     keptVars,
		Env:      env,
	}
}
