//go:build !unix

package webhook_test

import "time"

// processCPU is unknown here: benchmarks report 0 CPU per op.
func processCPU() time.Duration { return 0 }
