package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
)

// Reply is a scripted answer of the push service.
type Reply struct {
	Status     int
	RetryAfter string // the Retry-After header, if any
}

// Received is one push message the service accepted.
type Received struct {
	ID      string // the subscription (last path segment of its endpoint)
	TTL     int
	Topic   string
	Urgency string
	Payload []byte // decrypted; nil when the server only samples (DecryptEvery)
}

// Server is an RFC 8030 push service over HTTP/2 and TLS. Each request must
// carry a valid VAPID token (ES256, signed with the k= key, aud this origin,
// exp in the future and at most 24 h ahead), a TTL header and Content-Encoding
// aes128gcm; it then gets the next scripted Reply (201 when none is queued)
// and, when that is 2xx, its body is decrypted and recorded. Requests that
// break a rule are answered 400/401/413/415 and listed by Failures.
type Server struct {
	*httptest.Server

	// DecryptEvery, if above 1, decrypts only every n-th accepted message
	// (benchmarks: counting all, checking a sample). Set before use.
	DecryptEvery int64

	clock    herald.Clock
	accepted atomic.Int64
	conns    atomic.Int64

	mu       sync.Mutex
	subs     map[string]*Subscriber
	script   []Reply
	received []Received
	failures []string
	verified map[vapidKey]time.Time // Authorization header and audience -> its exp, already checked
	counts   map[string]int         // subscription -> messages accepted
	// reached and duplicates are Tally's answer, kept as messages arrive
	// (a poll never walks counts).
	reached, duplicates int
}

// vapidKey is what a verified token is cached under: the same header sent
// to another origin is checked again (its aud differs).
type vapidKey struct{ header, aud string }

// NewServer starts a push service; clock decides whether a token has expired
// (nil: the system clock). Close it when done; its Client() trusts it.
func NewServer(clock herald.Clock) *Server { return newServer(clock, true) }

// NewHTTP1Server is NewServer speaking only HTTP/1.1 (ALPN offers no h2), as
// a push service may: the sender then keeps HTTP/1.1 connections alive.
func NewHTTP1Server(clock herald.Clock) *Server { return newServer(clock, false) }

func newServer(clock herald.Clock, http2 bool) *Server {
	if clock == nil {
		clock = herald.SystemClock{}
	}
	s := &Server{clock: clock, subs: map[string]*Subscriber{}, verified: map[vapidKey]time.Time{}, counts: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.EnableHTTP2 = http2
	if http2 {
		// HTTP/2 is served from its frames (frames.go), not by net/http.
		s.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){"h2": s.serveFrames}
	}
	s.StartTLS()
	return s
}

// Subscribe registers a new subscription and returns its endpoint and keys.
func (s *Server) Subscribe() (endpoint string, sub *Subscriber) {
	sub = NewSubscriber()
	return s.SubscribeAs(sub), sub
}

// SubscribeAs registers a new endpoint whose messages are encrypted to sub's
// keys (benchmarks: many endpoints, one key pair to decrypt with).
func (s *Server) SubscribeAs(sub *Subscriber) (endpoint string) {
	var id [12]byte
	_, _ = rand.Read(id[:])
	key := base64.RawURLEncoding.EncodeToString(id[:])
	s.mu.Lock()
	s.subs[key] = sub
	s.mu.Unlock()
	return s.URL + "/push/" + key
}

// Tally counts the subscriptions that accepted at least one message and
// the messages accepted beyond the first per subscription. It is O(1): the
// counts are kept as messages arrive.
func (s *Server) Tally() (reached, duplicates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reached, s.duplicates
}

// Unsubscribe forgets a subscription: its endpoint then answers 404.
func (s *Server) Unsubscribe(endpoint string) {
	s.mu.Lock()
	delete(s.subs, endpoint[strings.LastIndexByte(endpoint, '/')+1:])
	s.mu.Unlock()
}

// Script queues answers for the next valid requests to a known subscription,
// in order.
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	s.script = append(s.script, replies...)
	s.mu.Unlock()
}

// Received returns the messages accepted so far.
func (s *Server) Received() []Received { return s.ReceivedFrom(0) }

// ReceivedFrom returns the messages recorded after the first i (a poller
// reads only what is new).
func (s *Server) ReceivedFrom(i int) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.received) {
		return nil
	}
	return append([]Received(nil), s.received[max(i, 0):]...)
}

// Conns counts the connections the service has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Accepted counts the messages accepted (2xx) so far.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Failures lists the requests refused for breaking a protocol rule.
func (s *Server) Failures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.failures...)
}

// pushRequest is what the service reads of one request, whichever way
// it came (net/http for HTTP/1.1, frames for HTTP/2).
type pushRequest struct {
	method, host, path                                  string
	authorization, ttl, contentEncoding, topic, urgency string
	body                                                []byte // at most 4097 bytes: one more means too large
}

// answer is the service's reply to one request.
type answer struct {
	status     int
	retryAfter string
	location   string
	problem    string // why a request broke the protocol (also in Failures)
}

func (s *Server) fail(status int, format string, args ...any) answer {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.failures = append(s.failures, msg)
	s.mu.Unlock()
	return answer{status: status, problem: msg}
}

// serve is the HTTP/1.1 side: net/http reads the request, accept judges it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4097))
	if err != nil {
		a := s.fail(http.StatusBadRequest, "body: %v", err)
		http.Error(w, a.problem, a.status)
		return
	}
	a := s.accept(pushRequest{
		method: r.Method, host: r.Host, path: r.URL.Path,
		authorization: r.Header.Get("Authorization"), ttl: r.Header.Get("TTL"),
		contentEncoding: r.Header.Get("Content-Encoding"), topic: r.Header.Get("Topic"), urgency: r.Header.Get("Urgency"),
		body: body,
	})
	if a.problem != "" {
		http.Error(w, a.problem, a.status)
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	if a.location != "" {
		w.Header().Set("Location", a.location)
	}
	w.WriteHeader(a.status)
}

// accept checks one request against RFC 8030/8291/8292 and records it.
func (s *Server) accept(r pushRequest) answer {
	if r.method != http.MethodPost {
		return s.fail(http.StatusMethodNotAllowed, "method %s", r.method)
	}
	if err := s.checkVAPID(r.authorization, r.host); err != nil {
		return s.fail(http.StatusUnauthorized, "vapid: %v", err)
	}
	ttl, err := strconv.Atoi(r.ttl)
	if err != nil || ttl < 0 {
		return s.fail(http.StatusBadRequest, "TTL header %q", r.ttl)
	}
	if r.contentEncoding != "aes128gcm" {
		return s.fail(http.StatusUnsupportedMediaType, "Content-Encoding %q", r.contentEncoding)
	}
	if len(r.body) > 4096 {
		return s.fail(http.StatusRequestEntityTooLarge, "body over 4096 bytes")
	}
	id := strings.TrimPrefix(r.path, "/push/")
	s.mu.Lock()
	sub := s.subs[id]
	reply := Reply{Status: http.StatusCreated}
	if sub != nil && len(s.script) > 0 {
		reply, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if sub == nil {
		return answer{status: http.StatusNotFound}
	}
	if reply.Status < 200 || reply.Status > 299 {
		return answer{status: reply.Status, retryAfter: reply.RetryAfter}
	}
	n := s.accepted.Add(1)
	rec := Received{ID: id, TTL: ttl, Topic: r.topic, Urgency: r.urgency}
	if s.DecryptEvery <= 1 || n%s.DecryptEvery == 1 {
		plain, err := sub.Decrypt(r.body)
		if err != nil {
			s.accepted.Add(-1)
			return s.fail(http.StatusBadRequest, "decrypt: %v", err)
		}
		rec.Payload = plain
	}
	s.mu.Lock()
	s.counts[id]++
	if s.counts[id] == 1 {
		s.reached++
	} else {
		s.duplicates++
	}
	if s.DecryptEvery <= 1 || rec.Payload != nil {
		s.received = append(s.received, rec)
	}
	s.mu.Unlock()
	return answer{status: reply.Status, location: s.URL + "/message/" + strconv.FormatInt(n, 10)}
}

// checkVAPID verifies the Authorization header of RFC 8292 section 3.
func (s *Server) checkVAPID(h, host string) error {
	now := s.clock.Now()
	aud := "https://" + host
	key := vapidKey{h, aud}
	s.mu.Lock()
	exp, seen := s.verified[key]
	s.mu.Unlock()
	if !seen {
		var err error
		if exp, err = verifyVAPID(h, aud); err != nil {
			return err
		}
		s.mu.Lock()
		s.verified[key] = exp
		s.mu.Unlock()
	}
	if !now.Before(exp) {
		return fmt.Errorf("token expired at %s (now %s)", exp, now)
	}
	if exp.Sub(now) > 24*time.Hour {
		return fmt.Errorf("exp %s is more than 24 h after %s", exp, now)
	}
	return nil
}

// verifyVAPID checks the token's signature, header and claims but the time,
// and returns its exp.
func verifyVAPID(h, aud string) (time.Time, error) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return time.Time{}, errors.New("no vapid scheme")
	}
	var t, k string
	for _, part := range strings.Split(rest, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch name {
		case "t":
			t = value
		case "k":
			k = value
		}
	}
	b64 := base64.RawURLEncoding
	rawKey, err := b64.DecodeString(k)
	if err != nil {
		return time.Time{}, fmt.Errorf("k: %v", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), rawKey)
	if err != nil {
		return time.Time{}, fmt.Errorf("k: %v", err)
	}
	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("t is not a JWS compact serialisation")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return time.Time{}, errors.New("signature is not 64 bytes of base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return time.Time{}, errors.New("bad signature")
	}
	var header struct{ Alg, Typ string }
	if raw, err := b64.DecodeString(parts[0]); err != nil || json.Unmarshal(raw, &header) != nil || header.Alg != "ES256" {
		return time.Time{}, errors.New("header is not alg ES256")
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp *int64 `json:"exp"`
		Sub string `json:"sub"`
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		return time.Time{}, errors.New("claims are not base64url JSON")
	}
	if claims.Aud != aud {
		return time.Time{}, fmt.Errorf("aud %q, want %q", claims.Aud, aud)
	}
	if claims.Exp == nil {
		return time.Time{}, errors.New("no exp")
	}
	if !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:") {
		return time.Time{}, fmt.Errorf("sub %q is neither a mailto nor an https URI", claims.Sub)
	}
	return time.Unix(*claims.Exp, 0), nil
}
