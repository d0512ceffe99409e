package hll

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"testing"
)

func hashOf(i int) uint64 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	sum := sha256.Sum256(b[:])
	return binary.BigEndian.Uint64(sum[:8])
}

func TestEstimateWithinError(t *testing.T) {
	for _, n := range []int{0, 1, 2, 10, 50, 100, 1000, 10_000, 100_000, 1_000_000} {
		s := New()
		for i := range n {
			s.Add(hashOf(i))
		}
		// Adding the same hashes again changes nothing.
		for i := range min(n, 1000) {
			if s.Add(hashOf(i)) {
				t.Fatalf("n=%d: re-adding %d changed the sketch", n, i)
			}
		}
		got := s.Estimate()
		// Four standard errors (1.6 % each), and exact below 100 (linear
		// counting is within a count or two there).
		tol := math.Max(4*0.0163*float64(n), 2)
		if math.Abs(float64(got-int64(n))) > tol {
			t.Errorf("n=%d: estimate %d (tolerance %.0f)", n, got, tol)
		}
	}
}

func TestMergeIsUnion(t *testing.T) {
	a, b := New(), New()
	for i := range 30_000 {
		a.Add(hashOf(i))
	}
	for i := 20_000; i < 50_000; i++ {
		b.Add(hashOf(i))
	}
	if !a.Merge(b) {
		t.Fatal("merging new registers reported no change")
	}
	if got := a.Estimate(); math.Abs(float64(got-50_000)) > 4*0.0163*50_000 {
		t.Fatalf("union estimate %d, want ~50000", got)
	}
	if a.Merge(b) {
		t.Fatal("merging twice changed the sketch")
	}
}

func TestParse(t *testing.T) {
	if s, err := Parse(nil); err != nil || len(s) != Size || s.Estimate() != 0 {
		t.Fatal("empty")
	}
	if _, err := Parse(make([]byte, 10)); err != ErrSize {
		t.Fatal(err)
	}
	if Sketch(nil).Estimate() != 0 {
		t.Fatal("nil sketch")
	}
}

func BenchmarkAdd(b *testing.B) {
	s := New()
	for i := 0; b.Loop(); i++ {
		s.Add(uint64(i) * 0x9E3779B97F4A7C15)
	}
}
