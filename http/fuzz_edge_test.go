package http_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/password"
)

// sessionStore knows one session token and nothing else.
type sessionStore struct {
	herald.Store
	hash [32]byte
}

func (s *sessionStore) FindAccountBySession(_ context.Context, hash []byte) (*herald.Account, error) {
	if !bytes.Equal(hash, s.hash[:]) {
		return nil, herald.KindErrorf(herald.ENOTFOUND, "session-not-found", "No such session.")
	}
	return &herald.Account{ID: "acc", Username: "alice"}, nil
}

// IsOperator: GET /me says whether the caller is an operator.
func (s *sessionStore) IsOperator(context.Context, string) (bool, error) { return false, nil }

// FuzzAuthHeader sends GET /api/v1/me with any Authorization header,
// session cookie and ?access_token=. The caller is signed in exactly when
// the header is "Bearer TOKEN" (scheme in any case, spaces around the token
// ignored) with the valid token, or, without a header, when the cookie holds
// it; ?access_token= never signs in an ordinary API request (only streams
// accept it). Every refusal is a 401 problem with WWW-Authenticate.
func FuzzAuthHeader(f *testing.F) {
	const valid = "Vk3rG0pP2a9Zq8Lw_x-1yT5uBn7cD4eF6hJ0kM2sQ1w"
	st := &sessionStore{hash: sha256.Sum256([]byte(valid))}
	s := hhttp.NewServer(hhttp.Config{Store: st, Hasher: password.NewHasher(password.TestParams), SessionCacheTTL: -1})
	for _, seed := range [][3]string{
		{"Bearer " + valid, "", ""}, {"bearer  " + valid + " ", "", ""}, {"BEARER\t" + valid, "", ""}, {"Bearer", "", ""},
		{"Basic " + valid, "", ""}, {"Bearer " + valid + "x", "", ""}, {"Bearer " + valid[1:], "", ""}, {" Bearer " + valid, "", ""},
		{"", valid, ""}, {"", "\"" + valid + "\"", ""}, {"", valid + ";x", ""}, {"", "", valid}, {"Bearer bad", valid, valid},
		{"Bearer " + strings.Repeat("é", 20), "", ""}, {"Bearer \x00" + valid, "", ""}, {"", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, authz, cookie, token string) {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.URL.RawQuery = url.Values{"access_token": {token}}.Encode()
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		if cookie != "" {
			req.Header.Set("Cookie", hhttp.SessionCookie+"="+cookie)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)

		want := http.StatusUnauthorized
		if authz != "" {
			scheme, tok, ok := strings.Cut(authz, " ")
			if ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) == valid {
				want = http.StatusOK
			}
		} else if c, err := req.Cookie(hhttp.SessionCookie); err == nil && c.Value == valid {
			want = http.StatusOK
		}
		if rec.Code != want {
			t.Fatalf("Authorization %q, cookie %q, access_token %q: %d %s, want %d", authz, cookie, token, rec.Code, rec.Body, want)
		}
		if want == http.StatusOK {
			if !strings.Contains(rec.Body.String(), `"id":"acc"`) {
				t.Fatalf("signed in, but %s", rec.Body)
			}
			return
		}
		if rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("Authorization %q, cookie %q: refusal without a problem or WWW-Authenticate: %v", authz, cookie, rec.Header())
		}
	})
}

// FuzzClientAddr fuzzes the trusted-proxy reading of X-Forwarded-For. The
// client address is the peer's, unless the peer is a trusted proxy: then it
// is the nearest forwarded address that is not a trusted proxy (or the peer,
// if there is none before an entry that does not parse). So entries a client
// adds on the left never change it, an untrusted peer's header is ignored,
// and an untrusted address appended by a trusted proxy wins.
func FuzzClientAddr(f *testing.F) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	s := hhttp.NewServer(hhttp.Config{Store: &sessionStore{}, Hasher: password.NewHasher(password.TestParams), TrustedProxies: trusted})
	for _, seed := range [][3]string{
		{"192.0.2.1:1234", "203.0.113.5", "1.2.3.4"}, {"10.1.2.3:1234", "203.0.113.5", "1.2.3.4"},
		{"10.1.2.3:1234", "198.51.100.7, 10.9.9.9", "evil"}, {"10.1.2.3:1234", "10.2.2.2, 10.3.3.3", "203.0.113.9"},
		{"10.1.2.3:1234", "garbage, 10.4.4.4", ""}, {"[2001:db8::1]:443", "::ffff:203.0.113.7", "x"},
		{"[::ffff:10.0.0.1]:80", "2001:db8::2,,203.0.113.8", ""}, {"10.0.0.1", " 203.0.113.1 ", ""}, {"", "203.0.113.5", ""},
		{"not an address", "203.0.113.5", ""}, {"10.0.0.1:1", "fe80::1%eth0", ""}, {"10.0.0.1:1", "203.0.113.1:8080", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	clientAddr := func(peer string, xff ...string) string {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = peer
		for _, v := range xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		return s.ClientAddr(req)
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, peer, xff, left string) {
		direct := clientAddr(peer)
		got := clientAddr(peer, xff)
		if direct == "" {
			if got != "" {
				t.Fatalf("peer %q has no address, yet X-Forwarded-For %q gives %q", peer, xff, got)
			}
			return
		}
		peerAddr := netip.MustParseAddr(direct)
		if peerAddr.Is4In6() || peerAddr.String() != direct {
			t.Fatalf("peer %q: address %q not canonical", peer, direct)
		}
		if !isTrusted(peerAddr) {
			if got != direct {
				t.Fatalf("untrusted peer %q: X-Forwarded-For %q changed the address to %q", peer, xff, got)
			}
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil || a.String() != got || a.Is4In6() {
			t.Fatalf("peer %q, X-Forwarded-For %q: address %q not canonical", peer, xff, got)
		}
		if got != direct {
			if isTrusted(a) {
				t.Fatalf("peer %q, X-Forwarded-For %q: trusted proxy %q taken for the client", peer, xff, got)
			}
			found := false
			for _, hop := range strings.Split(xff, ",") {
				if h, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil && h.Unmap() == a {
					found = true
				}
			}
			if !found {
				t.Fatalf("peer %q, X-Forwarded-For %q: %q is in neither", peer, xff, got)
			}
			// What the client wrote on the left can't move it.
			if again := clientAddr(peer, left+","+xff); again != got {
				t.Fatalf("peer %q: X-Forwarded-For %q gives %q, but %q gives %q", peer, xff, got, left+","+xff, again)
			}
			if again := clientAddr(peer, left, xff); again != got {
				t.Fatalf("peer %q: X-Forwarded-For %q gives %q, but with an earlier header %q, %q", peer, xff, got, left, again)
			}
		}
		// An untrusted address appended by the trusted peer is the client.
		if again := clientAddr(peer, xff, "203.0.113.77"); again != "203.0.113.77" {
			t.Fatalf("peer %q, X-Forwarded-For %q then 203.0.113.77: %q", peer, xff, again)
		}
	})
}
