package http_test

import (
	"bytes"
	"image/png"
	"net/netip"
	"strconv"
	"testing"
	"time"

	hhttp "github.com/heraldhq/herald/http"
)

// TestInviteQRSizeCap: qr.png sizes outside 64..1024 pixels, or not whole
// numbers, are a clear invalid-size problem; the bounds themselves render.
func TestInviteQRSizeCap(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("qrcap_owner")
	code := e.channel(owner, "Cap").InviteCode
	for _, size := range []string{"1025", "2048", "63", "0", "-256", "abc", "1e3", "512.5", "99999999999999999999", "%20512", "0x200"} {
		r := e.do("GET", "/api/v1/invites/"+code+"/qr.png?size="+size, "", nil)
		if r.status != 400 {
			t.Fatalf("size=%s: %d %s", size, r.status, r.body)
		}
		if p := r.problem(t); p.Type != hhttp.ProblemTypeBase+"invalid-size" || p.Detail == "" {
			t.Fatalf("size=%s: problem %+v", size, p)
		}
	}
	for _, size := range []int{64, 1024} {
		r := e.do("GET", "/api/v1/invites/"+code+"/qr.png?size="+strconv.Itoa(size), "", nil)
		if r.status != 200 {
			t.Fatalf("size=%d: %d %s", size, r.status, r.body)
		}
		img, err := png.Decode(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("size=%d renders %v", size, b)
		}
	}
	// An invalid size of a dead code is still the size's problem: no store
	// lookup is needed to refuse it.
	if r := e.do("GET", "/api/v1/invites/nosuchcode/qr.png?size=4096", "", nil); r.status != 400 {
		t.Fatalf("dead code, bad size: %d", r.status)
	}
}

// TestInviteQRCacheAndLimit: each client address may render only so many
// QR images; cached images are served without counting, a rotated code's
// cached images are dead at once, and an unknown code costs nothing.
func TestInviteQRCacheAndLimit(t *testing.T) {
	e := newEnv(t, func(c *hhttp.Config) {
		c.RateLimits = hhttp.RateLimits{QR: hhttp.Limit{Burst: 2, Per: time.Hour}}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	owner := e.signup("qrlim_owner")
	ch := e.channel(owner, "Limited")
	code := ch.InviteCode
	get := func(code, file, addr string) response {
		t.Helper()
		return e.do("GET", "/api/v1/invites/"+code+"/"+file, "", nil, "X-Forwarded-For", addr)
	}
	const a, b, c = "203.0.113.1", "203.0.113.2", "203.0.113.3"

	first := get(code, "qr.png?size=1024", a) // rendering 1 of a
	if first.status != 200 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	for i := range 5 { // cached: free, the same image
		r := get(code, "qr.png?size=1024", a)
		if r.status != 200 || !bytes.Equal(r.body, first.body) {
			t.Fatalf("cached %d: %d, same image %v", i, r.status, bytes.Equal(r.body, first.body))
		}
	}
	if r := get(code, "qr.svg", a); r.status != 200 { // rendering 2 of a
		t.Fatalf("svg: %d %s", r.status, r.body)
	}
	wantRateLimited(t, get(code, "qr.png?size=512", a)) // a third rendering
	wantRateLimited(t, get(code, "qr.png", a))
	// Cached images still come, to a limited address too.
	if r := get(code, "qr.png?size=1024", a); r.status != 200 || !bytes.Equal(r.body, first.body) {
		t.Fatalf("cached after limit: %d", r.status)
	}
	if r := get(code, "qr.svg", a); r.status != 200 {
		t.Fatalf("cached svg after limit: %d", r.status)
	}
	// Another address has its own budget, and b's rendering is cached for
	// everyone.
	if r := get(code, "qr.png?size=512", b); r.status != 200 {
		t.Fatalf("b: %d %s", r.status, r.body)
	}
	if r := get(code, "qr.png?size=512", a); r.status != 200 {
		t.Fatalf("a, cached by b: %d %s", r.status, r.body)
	}

	// Unknown codes are 404 and cost nothing.
	for range 5 {
		if r := get("unknowncode123", "qr.png?size=300", c); r.status != 404 {
			t.Fatalf("unknown code: %d", r.status)
		}
	}

	// After rotation the old code's images are gone, even cached ones; the
	// new code's images are new renderings.
	link, err := owner.RotateInvite(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"qr.png?size=1024", "qr.png?size=512", "qr.svg"} {
		if r := get(code, file, c); r.status != 404 {
			t.Fatalf("old code %s: %d", file, r.status)
		}
	}
	wantRateLimited(t, get(link.Code, "qr.png?size=1024", a))
	r := get(link.Code, "qr.png?size=1024", c)
	if r.status != 200 || bytes.Equal(r.body, first.body) {
		t.Fatalf("new code: %d, same image as the old code %v", r.status, bytes.Equal(r.body, first.body))
	}

	// A deleted channel's images are gone too.
	if err := owner.DeleteChannel(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if r := get(link.Code, "qr.png?size=1024", c); r.status != 404 {
		t.Fatalf("deleted channel's code: %d", r.status)
	}
}
