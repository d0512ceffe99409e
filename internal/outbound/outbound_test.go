package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	open := Policy{}
	for _, ok := range []string{"https://example.org/hook", "http://example.org:8080/x?y=1", "https://8.8.8.8/"} {
		if err := open.CheckURL(ok, "http", "https"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "example.org/x", "ftp://example.org/", "https://user:pw@example.org/", "https://example.org/#x",
		"https://127.0.0.1/", "https://[::1]/", "https://10.0.0.1/", "https://169.254.169.254/latest", "https://0.0.0.0/",
		"https://localhost/", "https://a.localhost/", "https://[::ffff:127.0.0.1]/", "https://example.org/" + strings.Repeat("a", 2100),
	} {
		if err := open.CheckURL(bad, "http", "https"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := open.CheckURL("http://example.org/", "https"); err == nil {
		t.Error("http accepted where only https is")
	}
	known := Policy{KnownHosts: []string{"*.push.example"}, AllowedHosts: []string{"127.0.0.1"}}
	if err := known.CheckURL("https://a.push.example/x", "https"); err != nil {
		t.Error(err)
	}
	if err := known.CheckURL("https://127.0.0.1:9/x", "https"); err != nil {
		t.Errorf("allowed host: %v", err)
	}
	for _, bad := range []string{"https://push.example/x", "https://8.8.8.8/", "https://other.example/"} {
		if err := known.CheckURL(bad, "https"); err == nil {
			t.Errorf("%q accepted off the known list", bad)
		}
	}
}

func TestMatchHostAndPublicAddr(t *testing.T) {
	if !MatchHost([]string{"Example.org"}, "example.org.") || MatchHost([]string{"*.example.org"}, "example.org") ||
		!MatchHost([]string{"*.example.org"}, "a.b.example.org") || MatchHost([]string{"example.org"}, "evilexample.org") ||
		!MatchHost([]string{"[::1]"}, "::1") || MatchHost(nil, "") {
		t.Fatal("MatchHost")
	}
	for _, s := range []string{"8.8.8.8", "2a00:1450:4007:80f::200a"} {
		if !PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
	for _, s := range []string{"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "fd12::1", "169.254.169.254",
		"fe80::1", "0.0.0.0", "::", "224.0.0.1", "100.64.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "198.18.0.1"} {
		if PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s accepted", s)
		}
	}
}

// resolveTo is a DNS stand-in: every name resolves to addr.
func resolveTo(addr string) func(context.Context, string) ([]netip.Addr, error) {
	return func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr(addr)}, nil
	}
}

func TestClientRefusesNonPublicAddressesAfterDNS(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	c := NewClient(Policy{Lookup: resolveTo("127.0.0.1")})
	_, err := c.Get("http://public.example:" + port + "/")
	if !errors.Is(err, ErrAddrRefused) {
		t.Fatalf("a name resolving to loopback: %v", err)
	}
	_, err = c.Get(srv.URL)
	if !errors.Is(err, ErrAddrRefused) {
		t.Fatalf("a loopback literal: %v", err)
	}
	if hits != 0 {
		t.Fatal("a request reached loopback")
	}
	allowed := NewClient(Policy{AllowedHosts: []string{"127.0.0.1"}})
	resp, err := allowed.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Fatalf("allowed host: %d hits", hits)
	}
}

func TestClientChecksEveryRedirect(t *testing.T) {
	var target *httptest.Server
	internal := 0
	target = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { internal++ }))
	defer target.Close()
	tu, _ := url.Parse(target.URL)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-private":
			// A public-looking front sends the client to the loopback service.
			http.Redirect(w, r, target.URL+"/secret", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer front.Close()
	fu, _ := url.Parse(front.URL)
	// The front is allowed (as a test's local site would be); its target is not.
	p := Policy{AllowedHosts: []string{"front.test"}, MaxRedirects: 3}
	p.Lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr(fu.Hostname())}, nil
	}
	c := NewClient(p)
	frontURL := "http://front.test:" + fu.Port()
	_, err := c.Get(frontURL + "/to-private")
	if !errors.Is(err, ErrAddrRefused) {
		t.Fatalf("redirect to %s: %v", tu.Host, err)
	}
	if internal != 0 {
		t.Fatal("the redirect reached the private service")
	}
	resp, err := c.Get(frontURL + "/loop")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("a redirect loop stops after MaxRedirects with the last answer: %d", resp.StatusCode)
	}
	none := NewClient(Policy{AllowedHosts: []string{"front.test"}, Lookup: p.Lookup})
	resp, err = none.Get(frontURL + "/to-private")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("no redirects followed by default: %v %v", resp, err)
	}
	resp.Body.Close()
}
