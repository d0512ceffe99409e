package http

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	herald "github.com/heraldhq/herald"
)

func TestKeyedLimiterEvictsIdle(t *testing.T) {
	k := newKeyedLimiter(Limit{Burst: 2, Per: time.Minute}, 3)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, key := range []string{"a", "b", "c"} {
		if ok, _ := k.allow(key, now); !ok {
			t.Fatalf("first request of %s refused", key)
		}
	}
	if ok, _ := k.allow("a", now); !ok {
		t.Fatal("second request of a refused (burst 2)")
	}
	ok, wait := k.allow("a", now)
	if ok || wait < 29*time.Second || wait > 31*time.Second {
		t.Fatalf("third request of a: ok=%v wait=%s, want refused for ~30s", ok, wait)
	}
	// The map is full; a new key after the others went idle evicts them
	// instead of growing.
	later := now.Add(2 * time.Minute)
	if ok, _ := k.allow("d", later); !ok {
		t.Fatal("d refused")
	}
	if n := k.len(); n != 1 {
		t.Fatalf("%d keys after eviction, want 1", n)
	}
	// A key still in debt is kept while the map has room.
	k2 := newKeyedLimiter(Limit{Burst: 1, Per: time.Hour}, 10)
	k2.allow("x", now)
	k2.allow("y", now.Add(2*time.Minute)) // sweeps: x is not idle long enough
	if ok, _ := k2.allow("x", now.Add(3*time.Minute)); ok {
		t.Fatal("x forgiven by a sweep before its bucket refilled")
	}
	// Bounded even when nothing is idle (address spraying).
	k3 := newKeyedLimiter(Limit{Burst: 1, Per: time.Hour}, 100)
	for i := range 1000 {
		k3.allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String(), now)
	}
	if n := k3.len(); n > 100 {
		t.Fatalf("%d keys, bound is 100", n)
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]Limit{"10/1m": {10, time.Minute}, "off": {}, "0": {}, " 3/1h ": {3, time.Hour}} {
		got, err := ParseLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "10", "x/1m", "10/x", "10/-1m", "-1/1m"} {
		if _, err := ParseLimit(in); err == nil {
			t.Errorf("ParseLimit(%q) accepted", in)
		}
	}
}

func TestClientAddr(t *testing.T) {
	s := &Server{proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, c := range []struct{ peer, xff, want string }{
		{"192.0.2.1:1234", "", "192.0.2.1"},
		{"192.0.2.1:1234", "203.0.113.5", "192.0.2.1"}, // untrusted peer: header ignored
		{"10.1.2.3:1234", "203.0.113.5", "203.0.113.5"},
		{"10.1.2.3:1234", "198.51.100.1, 203.0.113.5", "203.0.113.5"},
		{"10.1.2.3:1234", "203.0.113.5, 10.9.9.9", "203.0.113.5"}, // chain of trusted proxies
		{"10.1.2.3:1234", "garbage", "10.1.2.3"},
		{"10.1.2.3:1234", "", "10.1.2.3"},
		{"[::ffff:192.0.2.1]:1234", "", "192.0.2.1"},
		{"[2001:db8::1]:1234", "", "2001:db8::1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.ClientAddr(r); got != c.want {
			t.Errorf("peer %s XFF %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if k := addrKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); k != "2001:db8:1:2::/64" {
		t.Errorf("addrKey v6 = %s", k)
	}
}

func TestCleanFileNameKeepsExtension(t *testing.T) {
	long := strings.Repeat("é", 300)
	for _, tc := range []struct{ in, want string }{
		{`C:\Users\a\report.pdf`, "report.pdf"},
		{"a\x1b[31mb\".txt", "a[31mb.txt"},
		{long + ".pdf", strings.Repeat("é", herald.MediaNameMaxLen-4) + ".pdf"},
		// An "extension" too long to be one is cut like the rest.
		{"x." + long, "x." + strings.Repeat("é", herald.MediaNameMaxLen-2)},
		{"..", ""},
	} {
		got := cleanFileName(tc.in)
		if got != tc.want {
			t.Errorf("cleanFileName(%.40q) = %.40q (%d runes), want %.40q", tc.in, got, utf8.RuneCountInString(got), tc.want)
		}
		if n := utf8.RuneCountInString(got); n > herald.MediaNameMaxLen {
			t.Errorf("cleanFileName(%.40q) has %d runes", tc.in, n)
		}
	}
}
