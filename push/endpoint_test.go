package push

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/outbound"
	"github.com/heraldhq/herald/push/pushtest"
)

func TestValidateEndpoint(t *testing.T) {
	for _, ok := range []string{
		"https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b",
		"https://FCM.googleapis.com/wp/abc",
		"https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
		"https://web.push.apple.com/QGuQyavXutnMH6Ig2uYOJDwA",
		"https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
		"https://fcm.googleapis.com:443/x",
	} {
		if err := ValidateEndpoint(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "fcm.googleapis.com/fcm/send/x", "//fcm.googleapis.com/x", "https:///x", "https:fcm.googleapis.com",
		"http://fcm.googleapis.com/fcm/send/x", "ftp://fcm.googleapis.com/x", "wss://fcm.googleapis.com/x",
		"https://evil.example/push", "https://push.apple.com.evil.example/x", "https://evilpush.apple.com/x",
		"https://push.services.mozilla.com.attacker.net/", "https://googleapis.com/x",
		"https://127.0.0.1/push", "https://[::1]/push", "https://10.0.0.1/p", "https://169.254.169.254/latest/meta-data",
		"https://0.0.0.0/", "https://8.8.8.8/", "https://localhost/push",
		"https://user:pw@fcm.googleapis.com/x", "https://fcm.googleapis.com/x#frag",
		"https://fcm.googleapis.com/" + strings.Repeat("a", 2100), "https://fcm.googleapis.com/\x00",
	} {
		err := ValidateEndpoint(bad)
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorKind(err) != "push-endpoint-refused" {
			t.Errorf("%q: %v", bad, err)
		}
	}
	p := Policy{AllowedHosts: []string{"127.0.0.1", "ntfy.example.org", "*.up.example.net", "[::1]"}}
	for _, ok := range []string{"https://127.0.0.1:8443/push/x", "https://NTFY.example.org/upABC", "https://a.up.example.net/x", "https://[::1]:9/x", "https://fcm.googleapis.com/x"} {
		if err := p.ValidateEndpoint(ok); err != nil {
			t.Errorf("allowed %s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://127.0.0.1/push", "https://127.0.0.2/", "https://up.example.net/x", "https://evil.example/"} {
		if err := p.ValidateEndpoint(bad); herald.ErrorKind(err) != "push-endpoint-refused" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestPublicAddr(t *testing.T) {
	for _, s := range []string{"8.8.8.8", "142.250.74.106", "2a00:1450:4007:80f::200a", "1.1.1.1"} {
		if !outbound.PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
	for _, s := range []string{
		"127.0.0.1", "127.1.2.3", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "fc00::1", "fd12::1",
		"169.254.169.254", "fe80::1", "0.0.0.0", "::", "0.1.2.3", "224.0.0.1", "ff02::1", "ff01::1", "239.1.1.1",
		"100.64.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "255.255.255.255", "198.18.0.1",
	} {
		if outbound.PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s accepted", s)
		}
	}
}

// policyClient is NewClient(p) trusting srv's test certificate.
func policyClient(p Policy, srv *pushtest.Server) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	p.RootCAs = pool
	return NewClient(p)
}

// resolveTo is a DNS stand-in: every name resolves to addr.
func resolveTo(addr string) func(context.Context, string) ([]netip.Addr, error) {
	return func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr(addr)}, nil
	}
}

func TestClientRefusesAWellKnownNameResolvingToLoopback(t *testing.T) {
	f := newFixture(t)
	_, sub := f.srv.Subscribe()
	port := strings.TrimPrefix(f.srv.URL, "https://127.0.0.1:")
	// A push service name that DNS (here, the stand-in) points at 127.0.0.1.
	ep := "https://updates.push.services.mozilla.com:" + port + "/push/x"
	if err := ValidateEndpoint(ep); err != nil {
		t.Fatalf("the name itself is fine before DNS: %v", err)
	}
	s := &Sender{Client: policyClient(Policy{lookup: resolveTo("127.0.0.1")}, f.srv), Signer: f.sender.Signer}
	_, err := s.Send(context.Background(), Subscription{Endpoint: ep, P256dh: sub.P256dh(), Auth: sub.Auth}, Message{TTL: time.Minute})
	if !errors.Is(err, outbound.ErrAddrRefused) {
		t.Fatalf("dial to loopback: %v", err)
	}
	for _, private := range []string{"10.0.0.7", "169.254.169.254", "::1", "::ffff:127.0.0.1"} {
		s.Client = policyClient(Policy{lookup: resolveTo(private)}, f.srv)
		_, err := s.Send(context.Background(), Subscription{Endpoint: ep, P256dh: sub.P256dh(), Auth: sub.Auth}, Message{TTL: time.Minute})
		if !errors.Is(err, outbound.ErrAddrRefused) {
			t.Fatalf("dial to %s: %v", private, err)
		}
	}
	if f.srv.Accepted() != 0 || len(f.srv.Failures()) != 0 {
		t.Fatal("a request reached the loopback service")
	}
}

func TestClientRefusesHostsOffTheListEvenWithoutValidation(t *testing.T) {
	f := newFixture(t)
	ep, sub := f.srv.Subscribe() // https://127.0.0.1:port/push/...
	s := &Sender{Client: policyClient(Policy{}, f.srv), Signer: f.sender.Signer}
	_, err := s.Send(context.Background(), Subscription{Endpoint: ep, P256dh: sub.P256dh(), Auth: sub.Auth}, Message{TTL: time.Minute})
	if !errors.Is(err, outbound.ErrHostRefused) {
		t.Fatalf("127.0.0.1 not allowed: %v", err)
	}
	u, _ := url.Parse(ep)
	u.Host = "evil.example:" + u.Port()
	s.Client = policyClient(Policy{lookup: resolveTo("8.8.8.8")}, f.srv)
	_, err = s.Send(context.Background(), Subscription{Endpoint: u.String(), P256dh: sub.P256dh(), Auth: sub.Auth}, Message{TTL: time.Minute})
	if !errors.Is(err, outbound.ErrHostRefused) {
		t.Fatalf("a host off the list: %v", err)
	}
}

func TestClientReachesOperatorAllowedHosts(t *testing.T) {
	f := newFixture(t)
	ep, sub := f.srv.Subscribe()
	// An allowed IP literal (the tests' mode: --push-allow-hosts 127.0.0.1).
	p := Policy{AllowedHosts: []string{"127.0.0.1"}}
	if err := p.ValidateEndpoint(ep); err != nil {
		t.Fatal(err)
	}
	s := &Sender{Client: policyClient(p, f.srv), Signer: f.sender.Signer}
	res, err := s.Send(context.Background(), Subscription{Endpoint: ep, P256dh: sub.P256dh(), Auth: sub.Auth}, Message{Payload: []byte("hi"), TTL: time.Minute})
	if err != nil || res.Outcome != Delivered {
		t.Fatalf("%+v %v", res, err)
	}
	// An allowed name that resolves to loopback (a LAN distributor).
	u, _ := url.Parse(ep)
	u.Host = "ntfy.example.com:" + u.Port()
	p = Policy{AllowedHosts: []string{"ntfy.example.com"}, lookup: resolveTo("127.0.0.1")}
	s.Client = policyClient(p, f.srv)
	res, err = s.Send(context.Background(), Subscription{Endpoint: u.String(), P256dh: sub.P256dh(), Auth: sub.Auth}, Message{Payload: []byte("again"), TTL: time.Minute})
	if err != nil || res.Outcome != Delivered {
		t.Fatalf("%+v %v", res, err)
	}
	f.noFailures(t)
	if got := f.srv.Received(); len(got) != 2 || string(got[1].Payload) != "again" {
		t.Fatalf("received %+v", got)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	followed := make(chan string, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/next" {
			followed <- r.URL.Path
			return
		}
		// To an internal address, and to an allowed one: neither is followed.
		target := "https://169.254.169.254/latest/meta-data"
		if r.URL.Path == "/local" {
			target = "/next"
		}
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := NewClient(Policy{AllowedHosts: []string{"127.0.0.1"}, RootCAs: pool})
	for _, path := range []string{"/push", "/local"} {
		resp, err := c.Post(srv.URL+path, "application/octet-stream", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
	}
	select {
	case p := <-followed:
		t.Fatalf("redirect to %s followed", p)
	default:
	}
	// And the Sender classifies a redirect as rejected.
	f := newFixture(t)
	ep, sub := f.srv.Subscribe()
	f.srv.Script(pushtest.Reply{Status: http.StatusFound})
	s := &Sender{Client: policyClient(Policy{AllowedHosts: []string{"127.0.0.1"}}, f.srv), Signer: f.sender.Signer}
	res, err := s.Send(context.Background(), Subscription{Endpoint: ep, P256dh: sub.P256dh(), Auth: sub.Auth}, Message{TTL: time.Minute})
	if err != nil || res.Outcome != Rejected || res.Status != http.StatusFound {
		t.Fatalf("%+v %v", res, err)
	}
}

func FuzzValidateEndpoint(f *testing.F) {
	f.Add("https://fcm.googleapis.com/fcm/send/x")
	f.Add("https://a.push.apple.com:443/x")
	f.Add("https://127.0.0.1/x")
	f.Add("https://[::1]/x")
	f.Add("http://fcm.googleapis.com/")
	f.Fuzz(func(t *testing.T, raw string) {
		err := ValidateEndpoint(raw)
		if err != nil {
			if herald.ErrorKind(err) != "push-endpoint-refused" {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.Scheme != "https" || u.User != nil || !outbound.MatchHost(WellKnownHosts, u.Hostname()) {
			t.Fatalf("accepted %q", raw)
		}
		if _, ipErr := netip.ParseAddr(u.Hostname()); ipErr == nil {
			t.Fatalf("accepted an IP literal %q", raw)
		}
	})
}
