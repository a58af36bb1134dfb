//go:build !unix

// Package cputime reports the CPU time this process has used, for
// benchmarks that state their cost per message in CPU rather than wall time.
package cputime

import "time"

// Used returns 0: this platform has no getrusage.
func Used() time.Duration { return 0 }
