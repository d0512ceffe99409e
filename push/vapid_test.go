package push

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func newSigner(t testing.TB, clock herald.Clock) *Signer {
	t.Helper()
	raw, err := GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParseVAPIDKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key, "mailto:ops@herald.example", clock)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type jwtClaims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub"`
}

// parseHeader checks an Authorization header the way a push service does
// and returns its claims.
func parseHeader(t *testing.T, h, wantKey string) jwtClaims {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "vapid t=")
	if !ok {
		t.Fatalf("header %q", h)
	}
	jwt, k, ok := strings.Cut(rest, ", k=")
	if !ok || k != wantKey {
		t.Fatalf("header %q: k is not the public key %s", h, wantKey)
	}
	pubRaw := unb64(t, k)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pubRaw)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("jwt %q", jwt)
	}
	var hdr map[string]string
	if err := json.Unmarshal(unb64(t, parts[0]), &hdr); err != nil || hdr["alg"] != "ES256" || hdr["typ"] != "JWT" {
		t.Fatalf("jose header %v %v", hdr, err)
	}
	sig := unb64(t, parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("signature does not verify with k")
	}
	var c jwtClaims
	if err := json.Unmarshal(unb64(t, parts[1]), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVAPIDKeyRoundTrip(t *testing.T) {
	raw, err := GenerateVAPIDKey()
	if err != nil || len(raw) != 32 {
		t.Fatalf("%d bytes, %v", len(raw), err)
	}
	a, err := ParseVAPIDKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParseVAPIDKey(raw)
	pub := unb64(t, a.PublicKey())
	if len(pub) != 65 || pub[0] != 4 || a.PublicKey() != b.PublicKey() {
		t.Fatalf("public key %q", a.PublicKey())
	}
	other, _ := GenerateVAPIDKey()
	c, _ := ParseVAPIDKey(other)
	if c.PublicKey() == a.PublicKey() {
		t.Fatal("two generated keys are the same")
	}
}

func TestParseVAPIDKeyRefusesBadScalars(t *testing.T) {
	order := elliptic.P256().Params().N.FillBytes(make([]byte, 32))
	for name, raw := range map[string][]byte{
		"nil": nil, "31 bytes": make([]byte, 31), "33 bytes": make([]byte, 33), "zero": make([]byte, 32), "the order": order,
	} {
		if _, err := ParseVAPIDKey(raw); herald.ErrorKind(err) != "invalid-vapid-key" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNewSignerRefusesBadSubjects(t *testing.T) {
	raw, _ := GenerateVAPIDKey()
	key, _ := ParseVAPIDKey(raw)
	for _, sub := range []string{"", "ops@herald.example", "http://herald.example", "mailto:", "https://", "javascript:alert(1)"} {
		if _, err := NewSigner(key, sub, nil); herald.ErrorKind(err) != "invalid-vapid-subject" {
			t.Errorf("%q: %v", sub, err)
		}
	}
	for _, sub := range []string{"mailto:ops@herald.example", "https://herald.example/contact"} {
		if _, err := NewSigner(key, sub, nil); err != nil {
			t.Errorf("%q: %v", sub, err)
		}
	}
}

func TestSignerHeaderClaims(t *testing.T) {
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s := newSigner(t, clock)
	h, err := s.Header("https://FCM.googleapis.com/fcm/send/abc?x=1")
	if err != nil {
		t.Fatal(err)
	}
	c := parseHeader(t, h, s.PublicKey())
	if c.Aud != "https://fcm.googleapis.com" || c.Sub != "mailto:ops@herald.example" {
		t.Fatalf("claims %+v", c)
	}
	if exp := time.Unix(c.Exp, 0); exp.Sub(clock.Now()) != vapidLifetime || vapidLifetime > 24*time.Hour {
		t.Fatalf("exp %s for now %s", exp, clock.Now())
	}
	h, _ = s.Header("https://push.example:8443/p/1")
	if c := parseHeader(t, h, s.PublicKey()); c.Aud != "https://push.example:8443" {
		t.Fatalf("aud with a port: %q", c.Aud)
	}
	for ep, want := range map[string]string{
		"https://fcm.googleapis.com:443/x":  "https://fcm.googleapis.com",
		"HTTPS://Web.Push.Apple.com/x":      "https://web.push.apple.com",
		"https://[::1]:8443/x":              "https://[::1]:8443",
		"https://[2001:DB8::1]/x":           "https://[2001:db8::1]",
		"https://127.0.0.1:8443/push/a?b=c": "https://127.0.0.1:8443",
	} {
		h, err := s.Header(ep)
		if err != nil {
			t.Fatal(err)
		}
		if c := parseHeader(t, h, s.PublicKey()); c.Aud != want {
			t.Errorf("%s: aud %q, want %q", ep, c.Aud, want)
		}
	}
	if _, err := s.Header("/relative"); herald.ErrorKind(err) != "push-endpoint-refused" {
		t.Fatalf("relative endpoint: %v", err)
	}
}

func TestSignerCachesPerAudienceUntilNearExpiry(t *testing.T) {
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s := newSigner(t, clock)
	first, _ := s.Header("https://fcm.googleapis.com/fcm/send/a")
	same, _ := s.Header("https://fcm.googleapis.com/fcm/send/b")
	if same != first {
		t.Fatal("a second endpoint of the same push service was signed again")
	}
	mozilla, _ := s.Header("https://updates.push.services.mozilla.com/wpush/v2/x")
	if mozilla == first || parseHeader(t, mozilla, s.PublicKey()).Aud != "https://updates.push.services.mozilla.com" {
		t.Fatal("another push service got the cached header")
	}
	clock.Advance(vapidLifetime - refreshBefore - time.Second)
	if h, _ := s.Header("https://fcm.googleapis.com/x"); h != first {
		t.Fatal("re-signed before the refresh point")
	}
	clock.Advance(time.Second)
	h, _ := s.Header("https://fcm.googleapis.com/x")
	if h == first {
		t.Fatal("still the old header at the refresh point")
	}
	if exp := time.Unix(parseHeader(t, h, s.PublicKey()).Exp, 0); !exp.Equal(clock.Now().Add(vapidLifetime)) {
		t.Fatalf("refreshed exp %s", exp)
	}
}

func TestSignerConcurrent(t *testing.T) {
	s := newSigner(t, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				h, err := s.Header("https://fcm.googleapis.com/" + string(rune('a'+i)) + string(rune('a'+j%5)))
				if err != nil || !strings.HasPrefix(h, "vapid t=") {
					t.Error(h, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
