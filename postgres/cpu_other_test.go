//go:build !unix

package postgres_test

import "time"

// processCPU is not measured here: benchmarks report the server's CPU only.
func processCPU() time.Duration { return 0 }
