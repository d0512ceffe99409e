package http_test

import (
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	hhttp "github.com/heraldhq/herald/http"
)

func limits(signup, login, post hhttp.Limit) func(*hhttp.Config) {
	return func(c *hhttp.Config) {
		c.RateLimits = hhttp.RateLimits{Signup: signup, Login: login, Post: post}
	}
}

func wantRateLimited(t *testing.T, r response) {
	t.Helper()
	if r.status != 429 {
		t.Fatalf("status %d %s, want 429", r.status, r.body)
	}
	if p := r.problem(t); p.Type != hhttp.ProblemTypeBase+"rate-limited" {
		t.Fatalf("type %s", p.Type)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
}

func signupBody(name string) []byte {
	return []byte(`{"username":"` + name + `","password":"a long enough password"}`)
}

func TestRateLimitSignup(t *testing.T) {
	e := newEnv(t, limits(hhttp.Limit{Burst: 2, Per: time.Hour}, hhttp.Limit{}, hhttp.Limit{}))
	for i := range 2 {
		if r := e.do("POST", "/api/v1/accounts", "", signupBody(fmt.Sprint("user", i))); r.status != 201 {
			t.Fatalf("signup %d = %d %s", i, r.status, r.body)
		}
	}
	r := e.do("POST", "/api/v1/accounts", "", signupBody("user2"))
	wantRateLimited(t, r)
	if s, _ := strconv.Atoi(r.header.Get("Retry-After")); s < 1000 || s > 1800 {
		t.Fatalf("Retry-After %d s, want about 30 minutes (2 per hour)", s)
	}
	// X-Forwarded-For from an untrusted peer changes nothing.
	wantRateLimited(t, e.do("POST", "/api/v1/accounts", "", signupBody("user3"), "X-Forwarded-For", "203.0.113.9"))
}

func TestRateLimitTrustedProxy(t *testing.T) {
	e := newEnv(t, limits(hhttp.Limit{Burst: 1, Per: time.Hour}, hhttp.Limit{}, hhttp.Limit{}), func(c *hhttp.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	// Behind a trusted proxy, each forwarded client has its own budget.
	for i, xff := range []string{"203.0.113.1", "203.0.113.2", "198.51.100.7, 203.0.113.3"} {
		if r := e.do("POST", "/api/v1/accounts", "", signupBody(fmt.Sprint("user", i)), "X-Forwarded-For", xff); r.status != 201 {
			t.Fatalf("signup via %s = %d %s", xff, r.status, r.body)
		}
	}
	wantRateLimited(t, e.do("POST", "/api/v1/accounts", "", signupBody("again"), "X-Forwarded-For", "203.0.113.1"))
	// The rightmost untrusted hop counts: a client can't escape by
	// prepending addresses of its own.
	wantRateLimited(t, e.do("POST", "/api/v1/accounts", "", signupBody("spoof"), "X-Forwarded-For", "192.0.2.99, 203.0.113.2"))
}

func TestRateLimitExempt(t *testing.T) {
	e := newEnv(t, limits(hhttp.Limit{Burst: 1, Per: time.Hour}, hhttp.Limit{Burst: 1, Per: time.Hour}, hhttp.Limit{Burst: 1, Per: time.Hour}), func(c *hhttp.Config) {
		c.RateLimitExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	owner := e.signup("owner")
	e.signup("other")
	ch := e.channel(owner, "Load test")
	for range 5 {
		e.post(owner, ch.ID, "x")
		if _, err := e.anon.Login(ctx, "owner", "a long enough password"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRateLimitLogin(t *testing.T) {
	e := newEnv(t, limits(hhttp.Limit{}, hhttp.Limit{Burst: 3, Per: time.Minute}, hhttp.Limit{}), func(c *hhttp.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	e.signup("alice")
	wrong := []byte(`{"username":"alice","password":"guess guess guess"}`)
	right := []byte(`{"username":"alice","password":"a long enough password"}`)
	// The lockout attempt fails: 30 wrong passwords for alice from many
	// addresses, and alice still signs in from her own.
	for i := range 30 {
		r := e.do("POST", "/api/v1/sessions", "", wrong, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		if r.status != 401 {
			t.Fatalf("guess %d = %d", i, r.status)
		}
	}
	if r := e.do("POST", "/api/v1/sessions", "", right, "X-Forwarded-For", "192.0.2.7"); r.status != 201 {
		t.Fatalf("alice after the lockout attempt: %d %s", r.status, r.body)
	}
	// Per (address, username): one address guessing alice's password.
	for range 2 {
		if r := e.do("POST", "/api/v1/sessions", "", wrong, "X-Forwarded-For", "203.0.113.1"); r.status != 401 {
			t.Fatalf("guess = %d", r.status)
		}
	}
	wantRateLimited(t, e.do("POST", "/api/v1/sessions", "", wrong, "X-Forwarded-For", "203.0.113.1"))
	// Per address: one address guessing many usernames.
	for i := range 3 {
		body := []byte(fmt.Sprintf(`{"username":"user%d","password":"guess guess guess"}`, i))
		if r := e.do("POST", "/api/v1/sessions", "", body, "X-Forwarded-For", "198.51.100.1"); r.status != 401 {
			t.Fatalf("user%d = %d", i, r.status)
		}
	}
	wantRateLimited(t, e.do("POST", "/api/v1/sessions", "", []byte(`{"username":"bob","password":"x"}`), "X-Forwarded-For", "198.51.100.1"))
}

// The server-wide cap bounds guessing spread over many addresses.
func TestRateLimitLoginGlobal(t *testing.T) {
	e := newEnv(t, func(c *hhttp.Config) {
		c.RateLimits = hhttp.RateLimits{LoginGlobal: hhttp.Limit{Burst: 5, Per: time.Minute}}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	wrong := []byte(`{"username":"alice","password":"guess guess guess"}`)
	for i := range 5 {
		if r := e.do("POST", "/api/v1/sessions", "", wrong, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)); r.status != 401 {
			t.Fatalf("guess %d = %d", i, r.status)
		}
	}
	wantRateLimited(t, e.do("POST", "/api/v1/sessions", "", wrong, "X-Forwarded-For", "198.51.100.9"))
}

func TestRateLimitPost(t *testing.T) {
	e := newEnv(t, limits(hhttp.Limit{}, hhttp.Limit{}, hhttp.Limit{Burst: 3, Per: time.Minute}), func(c *hhttp.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	owner, other := e.signup("owner"), e.signup("other")
	ch, ch2 := e.channel(owner, "A"), e.channel(other, "B")
	// Per account, whatever the address.
	for i := range 3 {
		r := e.do("POST", "/api/v1/channels/"+ch.ID+"/updates", owner.Token(), []byte(`{"text":"x"}`), "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		if r.status != 201 {
			t.Fatalf("post %d = %d", i, r.status)
		}
	}
	wantRateLimited(t, e.do("POST", "/api/v1/channels/"+ch.ID+"/updates", owner.Token(), []byte(`{"text":"x"}`), "X-Forwarded-For", "203.0.113.99"))
	// Another account from a fresh address is unaffected.
	if r := e.do("POST", "/api/v1/channels/"+ch2.ID+"/updates", other.Token(), []byte(`{"text":"x"}`), "X-Forwarded-For", "198.51.100.1"); r.status != 201 {
		t.Fatalf("other account = %d %s", r.status, r.body)
	}
	// The limit answers through the client as a *client.Problem with RetryAfter.
	_, err := owner.PostUpdate(ctx, ch.ID, "x", nil)
	wantProblem(t, err, 429, "rate-limited")
}

// Every write is limited per account (whatever the address) and per
// address, with Retry-After; reads are not.
func TestRateLimitWrite(t *testing.T) {
	e := newEnv(t, func(c *hhttp.Config) {
		c.RateLimits = hhttp.RateLimits{Write: hhttp.Limit{Burst: 4, Per: time.Minute}}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	owner := e.signup("owner")  // one write from 127.0.0.1
	ch := e.channel(owner, "A") // two
	follower := e.signup("follower")
	for i := range 2 { // follow, unfollow: the account's 1st and 2nd
		method := []string{"PUT", "DELETE"}[i]
		if r := e.do(method, "/api/v1/channels/"+ch.ID+"/follow", follower.Token(), nil, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)); r.status >= 300 {
			t.Fatalf("%s follow = %d %s", method, r.status, r.body)
		}
	}
	for i := range 2 {
		if r := e.do("PUT", "/api/v1/channels/"+ch.ID+"/follow", follower.Token(), nil, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", 10+i)); r.status >= 300 {
			t.Fatalf("follow = %d %s", r.status, r.body)
		}
	}
	wantRateLimited(t, e.do("DELETE", "/api/v1/channels/"+ch.ID+"/follow", follower.Token(), nil, "X-Forwarded-For", "203.0.113.99"))
	if r := e.do("GET", "/api/v1/channels/"+ch.ID, follower.Token(), nil, "X-Forwarded-For", "203.0.113.99"); r.status != 200 {
		t.Fatalf("a read after the write limit = %d", r.status)
	}
	// Per address (four accounts' worth): anonymous writes from one address.
	for range 16 {
		e.do("POST", "/api/v1/sessions", "", []byte(`{"username":"x","password":"y"}`), "X-Forwarded-For", "198.51.100.5")
	}
	wantRateLimited(t, e.do("POST", "/api/v1/sessions", "", []byte(`{"username":"x","password":"y"}`), "X-Forwarded-For", "198.51.100.5"))
}
