package push

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/push/pushtest"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

type fixture struct {
	clock  *herald.FakeClock
	srv    *pushtest.Server
	sender *Sender
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := herald.NewFakeClock(t0)
	srv := pushtest.NewServer(clock)
	t.Cleanup(srv.Close)
	return &fixture{clock: clock, srv: srv, sender: &Sender{Client: srv.Client(), Signer: newSigner(t, clock), Clock: clock}}
}

func (f *fixture) subscribe() (Subscription, *pushtest.Subscriber) {
	ep, sub := f.srv.Subscribe()
	return Subscription{Endpoint: ep, P256dh: sub.P256dh(), Auth: sub.Auth}, sub
}

func (f *fixture) noFailures(t *testing.T) {
	t.Helper()
	if fs := f.srv.Failures(); len(fs) > 0 {
		t.Fatalf("the push service refused requests: %q", fs)
	}
}

func TestSendDelivers(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.subscribe()
	msg := Message{Payload: []byte(`{"channel":"Traffic","text":"A1 closed"}`), TTL: 90*time.Minute + 500*time.Millisecond,
		Urgency: UrgencyHigh, Topic: "upd-0123456789abcdefghijklmnopqr"}
	res, err := f.sender.Send(context.Background(), sub, msg)
	if err != nil || res.Outcome != Delivered || res.Status != http.StatusCreated {
		t.Fatalf("%+v %v", res, err)
	}
	f.noFailures(t)
	got := f.srv.Received()
	if len(got) != 1 {
		t.Fatalf("%d received", len(got))
	}
	r := got[0]
	if string(r.Payload) != string(msg.Payload) || r.TTL != 5400 || r.Urgency != "high" || r.Topic != msg.Topic {
		t.Fatalf("received %+v", r)
	}
	// No Topic or Urgency header when the message has none; TTL 0 is sent.
	if res, err := f.sender.Send(context.Background(), sub, Message{Payload: []byte("x")}); err != nil || res.Outcome != Delivered {
		t.Fatalf("%+v %v", res, err)
	}
	if r := f.srv.Received()[1]; r.TTL != 0 || r.Urgency != "" || r.Topic != "" {
		t.Fatalf("received %+v", r)
	}
}

func TestSendClassifiesAnswers(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.subscribe()
	date := t0.Add(90 * time.Second).Format(http.TimeFormat)
	cases := []struct {
		reply Reply
		want  Result
	}{
		{Reply{Status: 200}, Result{Outcome: Delivered, Status: 200}},
		{Reply{Status: 202}, Result{Outcome: Delivered, Status: 202}},
		{Reply{Status: 410}, Result{Outcome: Gone, Status: 410}},
		{Reply{Status: 404}, Result{Outcome: Gone, Status: 404}},
		{Reply{Status: 429, RetryAfter: "120"}, Result{Outcome: RetryLater, Status: 429, RetryAfter: 2 * time.Minute}},
		{Reply{Status: 429}, Result{Outcome: RetryLater, Status: 429}},
		{Reply{Status: 503, RetryAfter: date}, Result{Outcome: RetryLater, Status: 503, RetryAfter: 90 * time.Second}},
		{Reply{Status: 500}, Result{Outcome: RetryLater, Status: 500}},
		{Reply{Status: 502, RetryAfter: "soon"}, Result{Outcome: RetryLater, Status: 502}},
		{Reply{Status: 400}, Result{Outcome: Rejected, Status: 400}},
		{Reply{Status: 403}, Result{Outcome: Rejected, Status: 403}},
		{Reply{Status: 413}, Result{Outcome: Rejected, Status: 413}},
	}
	for _, c := range cases {
		f.srv.Script(pushtest.Reply(c.reply))
		res, err := f.sender.Send(context.Background(), sub, Message{Payload: []byte("hi"), TTL: time.Hour})
		if err != nil || res != c.want {
			t.Errorf("reply %+v: got %+v %v, want %+v", c.reply, res, err, c.want)
		}
	}
	f.noFailures(t)
	// An unknown subscription: the service's own 404.
	f.srv.Unsubscribe(sub.Endpoint)
	if res, err := f.sender.Send(context.Background(), sub, Message{TTL: time.Hour}); err != nil || res.Outcome != Gone {
		t.Fatalf("%+v %v", res, err)
	}
}

// Reply aliases the test service's reply for the table above.
type Reply = pushtest.Reply

func TestSendRefusesBadMessagesWithoutSending(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.subscribe()
	bad := []struct {
		sub  Subscription
		msg  Message
		kind string
	}{
		{sub, Message{Topic: strings.Repeat("a", 33)}, "invalid-push-topic"},
		{sub, Message{Topic: "a=b"}, "invalid-push-topic"},
		{sub, Message{Topic: "a/b"}, "invalid-push-topic"},
		{sub, Message{Topic: "été"}, "invalid-push-topic"},
		{sub, Message{Urgency: "urgent"}, "invalid-push-urgency"},
		{sub, Message{TTL: -time.Second}, "invalid-push-ttl"},
		{sub, Message{Payload: make([]byte, MaxPlaintext+1)}, "push-payload-too-large"},
		{Subscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh[:64], Auth: sub.Auth}, Message{}, "invalid-push-key"},
		{Subscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth[:8]}, Message{}, "invalid-push-auth"},
		{Subscription{Endpoint: "not a url", P256dh: sub.P256dh, Auth: sub.Auth}, Message{}, "push-endpoint-refused"},
		{Subscription{Endpoint: "http" + strings.TrimPrefix(sub.Endpoint, "https"), P256dh: sub.P256dh, Auth: sub.Auth}, Message{}, "push-endpoint-refused"},
		{Subscription{Endpoint: "https://", P256dh: sub.P256dh, Auth: sub.Auth}, Message{}, "push-endpoint-refused"},
	}
	for _, b := range bad {
		_, err := f.sender.Send(context.Background(), b.sub, b.msg)
		if herald.ErrorKind(err) != b.kind {
			t.Errorf("%+v: %v, want %s", b.msg, err, b.kind)
		}
	}
	if n := f.srv.Accepted(); n != 0 || len(f.srv.Failures()) != 0 {
		t.Fatalf("requests were sent: %d accepted, failures %q", n, f.srv.Failures())
	}
}

func TestSendVAPIDExpiryAndRefresh(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.subscribe()
	send := func() Result {
		t.Helper()
		res, err := f.sender.Send(context.Background(), sub, Message{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if send().Outcome != Delivered {
		t.Fatal("first push")
	}
	// Just before the refresh point the cached token is still valid.
	f.clock.Advance(vapidLifetime - refreshBefore - time.Second)
	if send().Outcome != Delivered {
		t.Fatal("cached token refused")
	}
	// Past it, a new token is signed and accepted.
	f.clock.Advance(2 * time.Second)
	if send().Outcome != Delivered {
		t.Fatal("refreshed token refused")
	}
	f.noFailures(t)

	// A service whose clock is past the token's exp refuses it: the check is real.
	late := pushtest.NewServer(herald.NewFakeClock(f.clock.Now().Add(vapidLifetime + time.Minute)))
	defer late.Close()
	ep, s2 := late.Subscribe()
	sender := &Sender{Client: late.Client(), Signer: f.sender.Signer, Clock: f.clock}
	res, err := sender.Send(context.Background(), Subscription{Endpoint: ep, P256dh: s2.P256dh(), Auth: s2.Auth}, Message{TTL: time.Minute})
	if err != nil || res.Outcome != Rejected || res.Status != http.StatusUnauthorized {
		t.Fatalf("%+v %v", res, err)
	}
	if fs := late.Failures(); len(fs) != 1 || !strings.Contains(fs[0], "expired") {
		t.Fatalf("failures %q", fs)
	}
	// And one whose clock is a day behind finds exp too far ahead.
	early := pushtest.NewServer(herald.NewFakeClock(f.clock.Now().Add(-13 * time.Hour)))
	defer early.Close()
	ep, s3 := early.Subscribe()
	sender.Client = early.Client()
	res, _ = sender.Send(context.Background(), Subscription{Endpoint: ep, P256dh: s3.P256dh(), Auth: s3.Auth}, Message{TTL: time.Minute})
	if res.Status != http.StatusUnauthorized || !slices.ContainsFunc(early.Failures(), func(s string) bool { return strings.Contains(s, "24 h") }) {
		t.Fatalf("%+v %q", res, early.Failures())
	}
}

func TestSendSignatureFromAnotherKeyIsRefused(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.subscribe()
	// A header whose t= was signed by one key but whose k= names another.
	other := newSigner(t, f.clock)
	h, _ := f.sender.Signer.Header(sub.Endpoint)
	forged := h[:strings.Index(h, ", k=")] + ", k=" + other.PublicKey()
	body, _ := Encrypt([]byte("x"), sub.P256dh, sub.Auth)
	req, _ := http.NewRequest(http.MethodPost, sub.Endpoint, strings.NewReader(string(body)))
	req.Header.Set("TTL", "60")
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Authorization", forged)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || f.srv.Accepted() != 0 {
		t.Fatalf("forged token: %d", resp.StatusCode)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := t0
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "120": 2 * time.Minute, " 5 ": 5 * time.Second, "-1": 0, "1.5": 0, "soon": 0,
		"99999999999999999999": maxRetryAfter, "172800": maxRetryAfter,
		now.Add(time.Hour).Format(http.TimeFormat):      time.Hour,
		now.Add(-time.Hour).Format(http.TimeFormat):     0,
		now.Add(72 * time.Hour).Format(http.TimeFormat): maxRetryAfter,
		"Sunday, 01-Mar-26 10:00:30 GMT":                30 * time.Second, // RFC 850 form
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("%q: %s, want %s", v, got, want)
		}
	}
}

func TestValidTopic(t *testing.T) {
	for _, ok := range []string{"", "a", "A-z_09", strings.Repeat("Z", 32)} {
		if err := ValidTopic(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{strings.Repeat("Z", 33), "a b", "a+b", "a/b", "a=", "é", "a\x00"} {
		if herald.ErrorKind(ValidTopic(bad)) != "invalid-push-topic" {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The test push service's own checks are what later integration tests rely
// on: each rule it enforces must really refuse.
func TestPushServiceRefusesProtocolErrors(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.subscribe()
	good, _ := f.sender.Signer.Header(sub.Endpoint)
	otherOrigin, _ := f.sender.Signer.Header("https://fcm.googleapis.com/x")
	body, _ := Encrypt([]byte("x"), sub.P256dh, sub.Auth)
	cases := []struct {
		name   string
		edit   func(h http.Header)
		body   []byte
		status int
		says   string
	}{
		{"no Authorization", func(h http.Header) { h.Del("Authorization") }, body, 401, "vapid"},
		{"aud of another origin", func(h http.Header) { h.Set("Authorization", otherOrigin) }, body, 401, "aud"},
		{"no TTL", func(h http.Header) { h.Del("TTL") }, body, 400, "TTL"},
		{"negative TTL", func(h http.Header) { h.Set("TTL", "-1") }, body, 400, "TTL"},
		{"aesgcm", func(h http.Header) { h.Set("Content-Encoding", "aesgcm") }, body, 415, "Content-Encoding"},
		{"body over 4096", func(http.Header) {}, make([]byte, 4097), 413, "4096"},
		{"garbage body", func(http.Header) {}, []byte("not encrypted at all, but long enough to parse a header......................................................................"), 400, "decrypt"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, sub.Endpoint, strings.NewReader(string(c.body)))
		req.Header.Set("TTL", "60")
		req.Header.Set("Content-Encoding", "aes128gcm")
		req.Header.Set("Authorization", good)
		c.edit(req.Header)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		fs := f.srv.Failures()
		if resp.StatusCode != c.status || len(fs) == 0 || !strings.Contains(fs[len(fs)-1], c.says) {
			t.Errorf("%s: status %d, failures %q", c.name, resp.StatusCode, fs)
		}
	}
	if f.srv.Accepted() != 0 || len(f.srv.Received()) != 0 {
		t.Fatal("a refused request was recorded")
	}
}

// An HTTP/1.1 push service gets one request per connection at a time: with
// ConnsPerHost at the sender's concurrency, bursts of that many requests
// reuse the same connections instead of closing and dialling some (a TLS
// handshake each) every time; more than 64 at once is what the default
// transport would not keep.
func TestSenderKeepsHTTP1ConnectionsAlive(t *testing.T) {
	const conc, bursts = 80, 3
	srv := pushtest.NewHTTP1Server(nil)
	t.Cleanup(srv.Close)
	client := policyClient(Policy{AllowedHosts: []string{"127.0.0.1"}, ConnsPerHost: conc}, srv)
	sender := &Sender{Client: client, Signer: newSigner(t, nil)}
	ep, s := srv.Subscribe()
	sub := Subscription{Endpoint: ep, P256dh: s.P256dh(), Auth: s.Auth}
	for range bursts {
		sendBurst(t, sender, sub, conc)
	}
	if n := srv.Accepted(); n != conc*bursts {
		t.Fatalf("accepted %d, want %d", n, conc*bursts)
	}
	if n := srv.Conns(); n > conc {
		t.Fatalf("%d connections for %d requests at a time", n, conc)
	}
}

// A burst of pushes to a push service the sender has no connection to
// opens one: the first push goes alone, the others then share its HTTP/2
// connection instead of each dialling its own.
func TestSenderOpensOneHTTP2ConnectionForABurst(t *testing.T) {
	const conc = 64
	srv := pushtest.NewServer(nil)
	t.Cleanup(srv.Close)
	client := policyClient(Policy{AllowedHosts: []string{"127.0.0.1"}, ConnsPerHost: conc}, srv)
	sender := &Sender{Client: client, Signer: newSigner(t, nil)}
	ep, s := srv.Subscribe()
	sub := Subscription{Endpoint: ep, P256dh: s.P256dh(), Auth: s.Auth}
	sendBurst(t, sender, sub, conc)
	if n := srv.Accepted(); n != conc {
		t.Fatalf("accepted %d, want %d", n, conc)
	}
	if n := srv.Conns(); n != 1 {
		t.Fatalf("%d connections opened for a burst of %d pushes, want 1", n, conc)
	}
}

// sendBurst sends n pushes to sub at once and fails on any not delivered.
func sendBurst(t *testing.T, sender *Sender, sub Subscription, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			res, err := sender.Send(context.Background(), sub, Message{Payload: []byte("x"), TTL: time.Minute})
			if err == nil && res.Outcome != Delivered {
				err = fmt.Errorf("%+v", res)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
