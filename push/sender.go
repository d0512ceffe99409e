package push

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
)

// Urgency is the RFC 8030 Urgency header.
type Urgency string

// The urgencies of RFC 8030 section 5.3.
const (
	UrgencyVeryLow Urgency = "very-low"
	UrgencyLow     Urgency = "low"
	UrgencyNormal  Urgency = "normal"
	UrgencyHigh    Urgency = "high"
)

// Subscription is where and for whom a push is encrypted: what a browser's
// PushSubscription gives (endpoint, keys.p256dh, keys.auth), keys decoded.
type Subscription struct {
	Endpoint string
	P256dh   []byte
	Auth     []byte
}

// Message is one push message.
type Message struct {
	Payload []byte        // plaintext, at most MaxPlaintext bytes
	TTL     time.Duration // how long the push service keeps it; whole seconds, 0 allowed
	Urgency Urgency       // empty: the header is omitted (normal)
	Topic   string        // empty, or at most 32 URL-safe base64 characters: replaces a pending message
}

// Outcome classifies a push service's answer.
type Outcome int

const (
	// Delivered: the push service accepted the message (2xx).
	Delivered Outcome = iota
	// Gone: the subscription no longer exists (404, 410); delete it.
	Gone
	// RetryLater: 429 or 5xx; try again after Result.RetryAfter if set.
	RetryLater
	// Rejected: any other answer (other 4xx, a redirect); drop the message.
	Rejected
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Gone:
		return "gone"
	case RetryLater:
		return "retry-later"
	default:
		return "rejected"
	}
}

// Result is the classified answer to one push.
type Result struct {
	Outcome    Outcome
	Status     int
	RetryAfter time.Duration // from Retry-After (seconds or HTTP date) on RetryLater; 0 if absent
}

// Sender posts push messages. Client should come from NewClient (the SSRF
// rules); Clock is used for Retry-After dates (nil: the system clock).
//
// When a push service has not been tried for a while (its connections may
// have closed), the first push to it goes alone and the others to it wait
// for its outcome (at most firstWait): over HTTP/2 they then share the one
// connection it opened, rather than each dialling its own (128 TLS
// handshakes at the start of a job, all connections but one closed at once).
type Sender struct {
	Client *http.Client
	Signer *Signer
	Clock  herald.Clock

	mu      sync.Mutex
	origins map[string]*origin
}

// origin is what the Sender knows of one push service.
type origin struct {
	first chan struct{} // a one-slot semaphore: held by a push sent alone
	tried atomic.Int64  // when a request to it last ended (Unix nanoseconds)
}

// warm reports whether a request to the origin ended lately: the transport
// closes connections idle for 90 s.
func (o *origin) warm() bool { return time.Since(time.Unix(0, o.tried.Load())) < 60*time.Second }

// firstWait bounds how long pushes wait for the first to a cold origin.
const firstWait = 5 * time.Second

const maxOrigins = 1024

func (s *Sender) origin(aud string) *origin {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.origins[aud]
	if o == nil {
		if s.origins == nil || len(s.origins) >= maxOrigins {
			s.origins = make(map[string]*origin) // a bound, never reached with real push services
		}
		o = &origin{first: make(chan struct{}, 1)}
		s.origins[aud] = o
	}
	return o
}

// Send encrypts msg for sub and posts it. A non-nil error means nothing was
// classified: invalid input (a *herald.Error) or a transport failure, which
// the caller may retry.
func (s *Sender) Send(ctx context.Context, sub Subscription, msg Message) (Result, error) {
	if err := ValidTopic(msg.Topic); err != nil {
		return Result{}, err
	}
	switch msg.Urgency {
	case "", UrgencyVeryLow, UrgencyLow, UrgencyNormal, UrgencyHigh:
	default:
		return Result{}, herald.KindErrorf(herald.EINVALID, "invalid-push-urgency",
			"Urgency must be very-low, low, normal or high.")
	}
	if msg.TTL < 0 {
		return Result{}, herald.KindErrorf(herald.EINVALID, "invalid-push-ttl", "TTL must not be negative.")
	}
	if len(sub.Endpoint) < 8 || !strings.EqualFold(sub.Endpoint[:8], "https://") {
		return Result{}, endpointRefused("The push endpoint must use https.")
	}
	body, err := Encrypt(msg.Payload, sub.P256dh, sub.Auth)
	if err != nil {
		return Result{}, err
	}
	aud, err := audience(sub.Endpoint)
	if err != nil {
		return Result{}, err
	}
	auth, err := s.Signer.header(aud)
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{}, endpointRefused("The push endpoint is not a valid URL.")
	}
	h := req.Header
	h.Set("TTL", strconv.FormatInt(int64(msg.TTL/time.Second), 10))
	if msg.Urgency != "" {
		h.Set("Urgency", string(msg.Urgency))
	}
	if msg.Topic != "" {
		h.Set("Topic", msg.Topic)
	}
	h.Set("Content-Encoding", "aes128gcm")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Authorization", auth)
	o := s.origin(aud)
	if !o.warm() {
		wait := time.NewTimer(firstWait)
		select {
		case o.first <- struct{}{}:
			if o.warm() { // the first has just been answered
				<-o.first
			} else {
				defer func() { <-o.first }()
			}
		case <-wait.C: // the first is slow: go too
		case <-ctx.Done():
			wait.Stop()
			return Result{}, ctx.Err()
		}
		wait.Stop()
	}
	resp, err := s.Client.Do(req)
	o.tried.Store(time.Now().UnixNano())
	if err != nil {
		return Result{}, err
	}
	// Drain a little so the connection is reused; push services answer briefly.
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	_ = resp.Body.Close()
	return s.classify(resp), nil
}

func (s *Sender) classify(resp *http.Response) Result {
	r := Result{Status: resp.StatusCode}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		r.Outcome = Delivered
	case c == http.StatusNotFound || c == http.StatusGone:
		r.Outcome = Gone
	case c == http.StatusTooManyRequests || c >= 500:
		r.Outcome = RetryLater
		clock := s.Clock
		if clock == nil {
			clock = herald.SystemClock{}
		}
		r.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), clock.Now())
	default:
		r.Outcome = Rejected
	}
	return r
}

// maxRetryAfter bounds what a push service can make us wait.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date,
// as a wait from now; 0 when absent, malformed or in the past; at most 24 h.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 63); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// ValidTopic checks an RFC 8030 Topic: at most 32 characters of the URL and
// filename safe base64 alphabet; empty means no topic.
func ValidTopic(topic string) error {
	if len(topic) > 32 {
		return herald.KindErrorf(herald.EINVALID, "invalid-push-topic", "A push topic has at most 32 characters.")
	}
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return herald.KindErrorf(herald.EINVALID, "invalid-push-topic",
				"A push topic uses only the URL-safe base64 alphabet (A-Z a-z 0-9 - _).")
		}
	}
	return nil
}
