//go:build unix

package main

import (
	"os"
	"syscall"
	"time"
)

// The signals a benchmark sends a server child to start and stop its CPU
// profile around the phase it measures.
var profileStart, profileStop os.Signal = syscall.SIGUSR1, syscall.SIGUSR2

// syncDisks writes dirty pages out now, so that the kernel's writeback of
// the seeded database does not run during the measurement.
func syncDisks() { syscall.Sync() }

// processCPU returns the CPU time this process has used. On a shared
// machine it tells the cost per request even when throughput is distorted.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
