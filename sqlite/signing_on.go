//go:build !herald_measure_unsigned

package sqlite

// measureUnsigned is false in every real build (see signing_measure.go).
const measureUnsigned = false
