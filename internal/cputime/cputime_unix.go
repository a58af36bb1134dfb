//go:build unix

// Package cputime reports the CPU time this process has used, for
// benchmarks that state their cost per message in CPU rather than wall time
// (wall time on a shared 2-core machine varies too much to compare).
package cputime

import (
	"syscall"
	"time"
)

// Used returns the user and system CPU time of this process so far.
func Used() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
