//go:build herald_measure_unsigned

package sqlite

// Built with -tags herald_measure_unsigned, the store signs nothing: only
// for measuring what signing adds to posting (docs/benchmarks.md), never
// for a server.
const measureUnsigned = true
