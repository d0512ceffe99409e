package http

import (
	"math"
	"testing"
	"time"
)

// FuzzParseLimit: a rate-limit spec parses to a Limit that writes back to
// a spec parsing to the same Limit, and an enabled Limit allows exactly its
// burst at once, then asks for a wait of at most Per/Burst (never "no
// limit", whatever the numbers).
func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"10/1m", "off", "0", " 3/1h ", "", "10", "x/1m", "10/x", "10/-1m", "-1/1m", "0/1m", "+5/1m",
		"2000000000/1s", "1/1ns", "2/1ns", "1000/1ms", "9223372036854775807/1h", "1/2562047h", "60/1m0s", "1/1.5s", "10/1m/2"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err != nil {
			if l != (Limit{}) {
				t.Fatalf("ParseLimit(%q) = %v with error %v", s, l, err)
			}
			return
		}
		again, err := ParseLimit(l.String())
		if err != nil || again != l {
			t.Fatalf("ParseLimit(%q) = %v, written %q, read back %v, %v", s, l, l.String(), again, err)
		}
		if !l.Enabled() {
			if l != (Limit{}) {
				t.Fatalf("ParseLimit(%q) = %v: disabled but not zero", s, l)
			}
			return
		}
		if l.Burst < 1 || l.Per <= 0 {
			t.Fatalf("ParseLimit(%q) = %v", s, l)
		}
		k := newKeyedLimiter(l, 10)
		n := min(l.Burst, 1000)
		for i := range n {
			if ok, _ := k.allow("a", now); !ok {
				t.Fatalf("%v: request %d of the burst refused", l, i+1)
			}
		}
		if n < l.Burst {
			return
		}
		ok, wait := k.allow("a", now)
		// The bucket refills at Burst per Per: one token takes Per/Burst,
		// rounded by floating point.
		every := float64(l.Per) / float64(l.Burst)
		if ok || wait <= 0 || float64(wait) > every*(1+1e-9)+1 {
			t.Fatalf("%v: past the burst ok=%v wait=%s, want a wait of about %s", l, ok, wait, time.Duration(math.Round(every)))
		}
	})
}

// TestParseLimitRefusals: "0/DURATION" is refused: it could mean "off"
// as well as "nothing allowed"; so are limits faster than the limiter's
// nanosecond clock can hold back.
func TestParseLimitRefusals(t *testing.T) {
	for _, s := range []string{"0/1m", "00/1h", "0/1ns", "2/1ns", "1001/1ms", "2000000000/1s"} {
		if l, err := ParseLimit(s); err == nil {
			t.Errorf("ParseLimit(%q) = %v, want an error", s, l)
		}
	}
}
