package http

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"golang.org/x/time/rate"
)

// Limit allows Burst events at once, refilled at Burst per Per. A zero
// Limit disables limiting.
type Limit struct {
	Burst int
	Per   time.Duration
}

// Enabled reports whether l limits anything.
func (l Limit) Enabled() bool { return l.Burst > 0 && l.Per > 0 }

func (l Limit) String() string {
	if !l.Enabled() {
		return "off"
	}
	return fmt.Sprintf("%d/%s", l.Burst, l.Per)
}

// ParseLimit parses "N/DURATION" (e.g. "10/1m"), N at least 1 and at most
// one per microsecond, or "off" (also "0"). Whatever it accepts, it accepts
// again as l.String() and returns the same Limit.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Limit{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	burst, err := strconv.Atoi(n)
	if !ok || err != nil || burst < 1 {
		// "0/1m" is refused rather than read as off: it could as well
		// mean "nothing allowed".
		return Limit{}, fmt.Errorf("rate limit %q: want N/DURATION with N at least 1, e.g. 10/1m, or off", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Limit{}, fmt.Errorf("rate limit %q: bad duration", s)
	}
	if float64(d)/float64(burst) < float64(time.Microsecond) {
		// The limiter's clock counts nanoseconds: it can't hold back
		// anything that fast, and no action needs it.
		return Limit{}, fmt.Errorf("rate limit %q: more than one per microsecond; write off for no limit", s)
	}
	return Limit{Burst: burst, Per: d}, nil
}

// RateLimits are the limits of the abuse-prone actions. Each applies
// separately per client address and per account (for login: per address
// and username pair, under a server-wide cap).
type RateLimits struct {
	Signup Limit // account creation, per address
	// Login limits login attempts (and password checks) per address and
	// per (address, username): guessing from many addresses can't lock a
	// named person out, since nobody else's attempts count against theirs.
	Login Limit
	// LoginGlobal caps login attempts over the whole server, bounding
	// guessing spread over many addresses.
	LoginGlobal Limit
	Post        Limit // updates posted, per address and per account
	QR          Limit // QR images rendered (cached ones are free), per address
	Report      Limit // reports filed, per address and per account
	// Write limits every other write (channel creation, follows, reactions,
	// votes, invite rotation, account changes...) per account, and
	// addrWriteFactor times as many per client address (people behind one
	// NAT share an address).
	Write Limit
	Views Limit // view reports (each up to herald.MaxViewBatch updates), per account
	// MaxKeys bounds each limiter map; idle entries are evicted first.
	MaxKeys int
}

// addrWriteFactor is how many accounts' worth of writes one address may make.
const addrWriteFactor = 4

// DefaultRateLimits are generous for people and tight for scripts.
var DefaultRateLimits = RateLimits{
	Signup:      Limit{Burst: 10, Per: time.Hour},
	Login:       Limit{Burst: 20, Per: 10 * time.Minute},
	LoginGlobal: Limit{Burst: 1000, Per: time.Minute},
	Post:        Limit{Burst: 60, Per: time.Minute},
	QR:          Limit{Burst: 30, Per: time.Minute},
	Report:      Limit{Burst: 20, Per: time.Hour},
	Write:       Limit{Burst: 300, Per: time.Minute},
	Views:       Limit{Burst: 120, Per: time.Minute},
	MaxKeys:     100_000,
}

func (rl RateLimits) withDefaults() RateLimits {
	if rl.MaxKeys <= 0 {
		rl.MaxKeys = DefaultRateLimits.MaxKeys
	}
	return rl
}

type limiters struct {
	signupAddr, loginAddr, loginPair, loginGlobal, postAddr, postAccount, qrAddr *keyedLimiter
	reportAddr, reportAccount, writeAddr, writeAccount                           *keyedLimiter
	viewsAccount                                                                 *keyedLimiter
}

func newLimiters(rl RateLimits) *limiters {
	return &limiters{
		signupAddr:    newKeyedLimiter(rl.Signup, rl.MaxKeys),
		loginAddr:     newKeyedLimiter(rl.Login, rl.MaxKeys),
		loginPair:     newKeyedLimiter(rl.Login, rl.MaxKeys),
		loginGlobal:   newKeyedLimiter(rl.LoginGlobal, 1),
		postAddr:      newKeyedLimiter(rl.Post, rl.MaxKeys),
		postAccount:   newKeyedLimiter(rl.Post, rl.MaxKeys),
		qrAddr:        newKeyedLimiter(rl.QR, rl.MaxKeys),
		reportAddr:    newKeyedLimiter(rl.Report, rl.MaxKeys),
		reportAccount: newKeyedLimiter(rl.Report, rl.MaxKeys),
		writeAddr:     newKeyedLimiter(Limit{Burst: rl.Write.Burst * addrWriteFactor, Per: rl.Write.Per}, rl.MaxKeys),
		writeAccount:  newKeyedLimiter(rl.Write, rl.MaxKeys),
		viewsAccount:  newKeyedLimiter(rl.Views, rl.MaxKeys),
	}
}

// keyedLimiter is a token bucket per key, with a bounded number of keys.
type keyedLimiter struct {
	limit   Limit
	max     int
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newKeyedLimiter(l Limit, max int) *keyedLimiter {
	return &keyedLimiter{limit: l, max: max, buckets: map[string]*bucket{}}
}

// allow takes one token for key, or returns how long until one is available.
func (k *keyedLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	if !k.limit.Enabled() {
		return true, 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= k.max || now.Sub(k.swept) > time.Minute {
			k.sweep(now)
		}
		// Burst per Per, in floating point: an integer interval Per/Burst
		// is truncated, and 0 (which rate reads as no limit at all) past
		// one event per nanosecond.
		every := rate.Limit(float64(k.limit.Burst) / k.limit.Per.Seconds())
		b = &bucket{lim: rate.NewLimiter(every, k.limit.Burst)}
		k.buckets[key] = b
	}
	b.last = now
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	tokens := b.lim.TokensAt(now)
	wait := time.Duration((1 - tokens) / float64(b.lim.Limit()) * float64(time.Second))
	return false, wait
}

// sweep drops buckets idle long enough to have refilled completely, which
// loses nothing. If the map is still full (an address-spraying attacker),
// it is cleared: memory stays bounded, at the cost of forgiving some debt.
func (k *keyedLimiter) sweep(now time.Time) {
	k.swept = now
	for key, b := range k.buckets {
		if now.Sub(b.last) >= k.limit.Per {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) >= k.max {
		clear(k.buckets)
	}
}

func (k *keyedLimiter) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

func rateLimited(wait time.Duration) error {
	return &retryError{
		err:   herald.KindErrorf(herald.ERATELIMIT, "rate-limited", "Too many requests; retry in %d s.", int((wait+time.Second-1)/time.Second)),
		after: wait,
	}
}

// rateLimit applies the given limiters to the request's client address (and
// key, when non-empty, to the second one). Exempt networks pass.
func (s *Server) rateLimit(addr netip.Addr, byAddr *keyedLimiter, byKey *keyedLimiter, key string) error {
	if addr.IsValid() && inPrefixes(addr, s.exempt) {
		return nil
	}
	now := time.Now()
	if byAddr != nil {
		if ok, wait := byAddr.allow(addrKey(addr), now); !ok {
			return rateLimited(wait)
		}
	}
	if byKey != nil && key != "" {
		if ok, wait := byKey.allow(key, now); !ok {
			return rateLimited(wait)
		}
	}
	return nil
}

// addrKey groups IPv6 clients by /64, the block one subscriber usually
// holds, so that rotating addresses within it doesn't escape the limit.
func addrKey(a netip.Addr) string {
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// loginLimit applies the login limits: per address, per (address,
// username), and the server-wide cap.
func (s *Server) loginLimit(r *http.Request, username string) error {
	addr := s.clientAddr(r)
	if err := s.rateLimit(addr, s.limits.loginAddr, s.limits.loginPair, addrKey(addr)+" "+username); err != nil {
		return err
	}
	return s.rateLimit(addr, nil, s.limits.loginGlobal, "all")
}

// isWrite reports whether a request changes state (GET never does).
func isWrite(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
}
