//go:build !unix

package main

import (
	"os"
	"time"
)

// No signals to start and stop a child's CPU profile here: --cpuprofile
// of a server child is refused (see profileSignals).
var profileStart, profileStop os.Signal

func syncDisks() {}

// processCPU is unknown here: benchmarks print 0.
func processCPU() time.Duration { return 0 }
