//go:build !unix

package media

import "time"

// processCPU is not measured here: benchmarks report wall time only.
func processCPU() time.Duration { return 0 }

// childrenCPU is not measured here either.
func childrenCPU() time.Duration { return 0 }
