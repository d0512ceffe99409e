package push

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
)

// VAPID token lifetimes. RFC 8292 forbids an exp more than 24 hours ahead; a
// signed header is reused until refreshBefore before it expires.
const (
	vapidLifetime = 12 * time.Hour
	refreshBefore = 1 * time.Hour
	maxAudiences  = 1024
)

var b64 = base64.RawURLEncoding

// GenerateVAPIDKey returns a new P-256 private key as its raw 32-byte scalar,
// the form the store keeps (every node signs with the same key).
func GenerateVAPIDKey() ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return k.Bytes()
}

// VAPIDKey is the server's application-server key pair.
type VAPIDKey struct {
	priv *ecdsa.PrivateKey
	pub  string
}

// ParseVAPIDKey reads a private key from its raw 32-byte scalar.
func ParseVAPIDKey(raw []byte) (*VAPIDKey, error) {
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-vapid-key",
			"The VAPID private key must be a 32-byte P-256 scalar.")
	}
	pub, err := priv.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	return &VAPIDKey{priv: priv, pub: b64.EncodeToString(pub)}, nil
}

// PublicKey returns the uncompressed public point (65 bytes), base64url
// without padding: the applicationServerKey a browser subscribes with and the
// k= parameter of the Authorization header.
func (k *VAPIDKey) PublicKey() string { return k.pub }

// Signer produces VAPID Authorization headers, one per push service origin,
// cached until shortly before they expire. It is safe for concurrent use.
type Signer struct {
	key     *VAPIDKey
	subject string
	clock   herald.Clock

	mu    sync.RWMutex
	cache map[string]signed
}

type signed struct {
	header string
	exp    time.Time
}

// NewSigner returns a Signer for key. subject is the operator's contact, a
// mailto: or https: URI, sent as the JWT's sub claim.
func NewSigner(key *VAPIDKey, subject string, clock herald.Clock) (*Signer, error) {
	u, err := url.Parse(subject)
	if err != nil || (u.Scheme != "mailto" && u.Scheme != "https") || (u.Opaque == "" && u.Host == "") {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-vapid-subject",
			"The VAPID subject must be a mailto: or https: URI.")
	}
	if clock == nil {
		clock = herald.SystemClock{}
	}
	return &Signer{key: key, subject: subject, clock: clock, cache: make(map[string]signed)}, nil
}

// PublicKey returns the signer's public key (see VAPIDKey.PublicKey).
func (s *Signer) PublicKey() string { return s.key.pub }

// Header returns the Authorization header value for a push to endpoint:
// "vapid t=<ES256 JWT>, k=<public key>", with aud the endpoint's origin.
func (s *Signer) Header(endpoint string) (string, error) {
	aud, err := audience(endpoint)
	if err != nil {
		return "", err
	}
	return s.header(aud)
}

// header is Header for an audience (an origin).
func (s *Signer) header(aud string) (string, error) {
	now := s.clock.Now()
	s.mu.RLock()
	c, ok := s.cache[aud]
	s.mu.RUnlock()
	if ok && now.Before(c.exp.Add(-refreshBefore)) {
		return c.header, nil
	}
	exp := now.Add(vapidLifetime).Truncate(time.Second)
	jwt, err := s.sign(aud, exp)
	if err != nil {
		return "", err
	}
	c = signed{header: "vapid t=" + jwt + ", k=" + s.key.pub, exp: exp}
	s.mu.Lock()
	if len(s.cache) >= maxAudiences {
		clear(s.cache) // a bound, never reached with real push services
	}
	s.cache[aud] = c
	s.mu.Unlock()
	return c.header, nil
}

// jwtHeader is the fixed, encoded JOSE header of every VAPID token.
var jwtHeader = b64.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))

func (s *Signer) sign(aud string, exp time.Time) (string, error) {
	claims, err := json.Marshal(struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}{aud, exp.Unix(), s.subject})
	if err != nil {
		return "", err
	}
	input := jwtHeader + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	r, sig, err := ecdsa.Sign(rand.Reader, s.key.priv, digest[:])
	if err != nil {
		return "", err
	}
	raw := make([]byte, 64) // JWS ES256: R || S, 32 bytes each
	r.FillBytes(raw[:32])
	sig.FillBytes(raw[32:])
	return input + "." + b64.EncodeToString(raw), nil
}

// audience returns scheme://host[:port] of an endpoint, the JWT's aud.
func audience(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", endpointRefused("The push endpoint is not an absolute URL.")
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	// The origin's serialisation omits the scheme's default port.
	if port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}
