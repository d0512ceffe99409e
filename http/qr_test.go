package http

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/password"
)

func TestQRCacheBounded(t *testing.T) {
	body := make([]byte, 1000)
	key := func(i int) qrKey {
		return qrKey{url: fmt.Sprintf("https://h.example/c/code%02d", i), format: "png", size: 256}
	}
	cost := (&qrEntry{key: key(0), channel: "ch0", body: body}).cost()
	c := newQRCache(10 * cost)
	for i := range 10 {
		c.put(key(i), fmt.Sprint("ch", i%3), body)
	}
	if n, b := c.len(); n != 10 || b != 10*cost {
		t.Fatalf("%d entries, %d bytes; want 10, %d", n, b, 10*cost)
	}
	c.get(key(0)) // now the most recently used
	c.put(key(10), "ch1", body)
	if c.get(key(1)) != nil || c.get(key(0)) == nil || c.get(key(10)) == nil {
		t.Fatal("not least recently used first out")
	}
	if n, b := c.len(); n != 10 || b > 10*cost {
		t.Fatalf("%d entries, %d bytes over a budget of %d", n, b, 10*cost)
	}
	c.put(key(10), "ch1", body) // replacing counts once
	if n, _ := c.len(); n != 10 {
		t.Fatalf("%d entries after a replacement", n)
	}
	// Forgetting a channel drops its images only.
	c.forget("ch0")
	for i := range 11 {
		if got := c.get(key(i)) != nil; got && i%3 == 0 && i != 10 {
			t.Fatalf("image %d of ch0 kept", i)
		}
	}
	if c.get(key(2)) == nil {
		t.Fatal("ch2's image dropped")
	}
	for _, ch := range []string{"ch1", "ch2"} {
		c.forget(ch)
	}
	if n, b := c.len(); n != 0 || b != 0 || len(c.byChannel) != 0 {
		t.Fatalf("after forgetting all: %d entries, %d bytes, %d channels", n, b, len(c.byChannel))
	}
	// An image larger than the budget is not kept (nor does it flush the rest).
	c.put(key(1), "ch1", body)
	c.put(key(2), "ch2", make([]byte, 11*cost))
	if c.get(key(2)) != nil || c.get(key(1)) == nil {
		t.Fatal("oversized image kept, or it flushed the cache")
	}
}

// qrStore knows one invite code and renders nothing itself.
type qrStore struct{ herald.Store }

func (qrStore) FindChannelByInvite(_ context.Context, _, code string) (*herald.Channel, error) {
	if code != "code1234" {
		return nil, herald.KindErrorf(herald.ENOTFOUND, "invite-not-found", "Invite not found.")
	}
	return &herald.Channel{ID: "ch1"}, nil
}

// BenchmarkQR compares serving a cached QR image with rendering it
// (run: go test -run '^$' -bench QR ./http). Both go through the whole
// handler: routing, the invite lookup (in memory here), headers.
func BenchmarkQR(b *testing.B) {
	s := NewServer(Config{Store: qrStore{}, Hasher: password.NewHasher(password.TestParams), PublicURL: "https://herald.example.org"})
	for _, size := range []int{256, qrMaxSize} {
		target := fmt.Sprintf("/api/v1/invites/code1234/qr.png?size=%d", size)
		serve := func(b *testing.B) {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
			if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "\x89PNG") {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
		b.Run(fmt.Sprintf("cached/size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serve(b)
			}
		})
		b.Run(fmt.Sprintf("render/size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.qr = newQRCache(qrCacheBytes)
				serve(b)
			}
		})
	}
}

// TestQRHost: without a public URL the link, and so the image and its cache
// entry, follow the request's host when it is an allowed one, never an
// arbitrary Host header; a host too long for a QR code is a problem, not an
// internal error.
func TestQRHost(t *testing.T) {
	s := NewServer(Config{Store: qrStore{}, Hasher: password.NewHasher(password.TestParams), AllowedOrigins: []string{"*.example"}})
	get := func(host string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/v1/invites/code1234/qr.svg", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	a, b := get("a.example"), get("b.example")
	if a.Code != 200 || b.Code != 200 || a.Body.String() == b.Body.String() {
		t.Fatalf("hosts a and b: %d, %d, same image %v", a.Code, b.Code, a.Body.String() == b.Body.String())
	}
	if again := get("a.example"); again.Body.String() != a.Body.String() {
		t.Fatal("host a's image changed")
	}
	// Hosts not the server's own are not believed: one link for all of them.
	evil, other := get("evil.test"), get("phishing.test")
	if evil.Code != 200 || evil.Body.String() != other.Body.String() || evil.Body.String() == a.Body.String() {
		t.Fatalf("arbitrary hosts: %d, same image as each other %v", evil.Code, evil.Body.String() == other.Body.String())
	}
	long := get(strings.Repeat("a", 4000) + ".example")
	if long.Code != 400 || long.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("long host: %d %s", long.Code, long.Body)
	}
}

// qrAdminStore lets a signed-in admin rotate and delete channel ch1.
type qrAdminStore struct{ qrStore }

func (qrAdminStore) FindAccountBySession(context.Context, []byte) (*herald.Account, error) {
	return &herald.Account{ID: "acc", Username: "alice"}, nil
}
func (qrAdminStore) RotateInvite(context.Context, string, string) (string, error) {
	return "code5678", nil
}
func (qrAdminStore) DeleteChannel(context.Context, string, string) error { return nil }

// TestQRCacheForgetsChannel: rotating a channel's code or deleting the
// channel drops its cached images on this server.
func TestQRCacheForgetsChannel(t *testing.T) {
	s := NewServer(Config{Store: qrAdminStore{}, Hasher: password.NewHasher(password.TestParams), SessionCacheTTL: -1})
	do := func(method, target string) int {
		req := httptest.NewRequest(method, target, nil)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", tokenLen))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, action := range []struct{ method, target string }{
		{"POST", "/api/v1/channels/ch1/invite"},
		{"DELETE", "/api/v1/channels/ch1"},
	} {
		for _, file := range []string{"qr.svg", "qr.png", "qr.png?size=512"} {
			if code := do("GET", "/api/v1/invites/code1234/"+file); code != 200 {
				t.Fatalf("%s: %d", file, code)
			}
		}
		if n, _ := s.qr.len(); n != 3 {
			t.Fatalf("%d images cached, want 3", n)
		}
		if code := do(action.method, action.target); code >= 300 {
			t.Fatalf("%s %s: %d", action.method, action.target, code)
		}
		if n, b := s.qr.len(); n != 0 || b != 0 {
			t.Fatalf("after %s %s: %d images, %d bytes cached", action.method, action.target, n, b)
		}
	}
}
