// Package hll is a HyperLogLog sketch (Flajolet et al. 2007, with the small-
// range correction of linear counting): it estimates how many distinct
// 64-bit hashes were added, in a fixed 4 KiB, with a standard error of
// 1.04/sqrt(4096) = 1.6 %. Herald counts views with it: the hashes are keyed
// (see package insights), so the registers say how many, never who.
package hll

import (
	"errors"
	"math"
	"math/bits"
)

const (
	precision = 12
	// Size is the number of registers, and the bytes of a marshalled sketch.
	Size = 1 << precision
)

// Sketch is a HyperLogLog sketch: one byte per register. The zero value
// (nil) is an empty sketch for Estimate and Merge; use New to Add.
type Sketch []byte

// New returns an empty sketch.
func New() Sketch { return make(Sketch, Size) }

// ErrSize is returned for bytes that are not a sketch.
var ErrSize = errors.New("hll: a sketch is 4096 bytes")

// Parse checks that b is a sketch (nil or empty is an empty sketch).
func Parse(b []byte) (Sketch, error) {
	if len(b) == 0 {
		return New(), nil
	}
	if len(b) != Size {
		return nil, ErrSize
	}
	return Sketch(b), nil
}

// Add adds a uniformly distributed 64-bit hash. It reports whether the
// sketch changed.
func (s Sketch) Add(h uint64) bool {
	idx := h >> (64 - precision)
	// Rank: 1 + leading zeros of the remaining bits (a sentinel bit keeps
	// it within 64-precision+1).
	rest := h<<precision | 1<<(precision-1)
	rank := byte(bits.LeadingZeros64(rest) + 1)
	if s[idx] < rank {
		s[idx] = rank
		return true
	}
	return false
}

// Merge makes s the union of s and o (register-wise maximum). It reports
// whether s changed.
func (s Sketch) Merge(o Sketch) bool {
	changed := false
	for i, r := range o {
		if s[i] < r {
			s[i] = r
			changed = true
		}
	}
	return changed
}

// Estimate is the number of distinct hashes added, rounded.
func (s Sketch) Estimate() int64 {
	if len(s) != Size {
		return 0
	}
	sum := 0.0
	zeros := 0
	for _, r := range s {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	const m = float64(Size)
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros)) // linear counting: exact-ish when small
	}
	return int64(math.Round(e))
}
