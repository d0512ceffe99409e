package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/push/pushtest"
	"github.com/prometheus/client_golang/prometheus"
)

// pushEnv is a herald serve (in-process, SQLite) that may post to a test
// push service on 127.0.0.1 (--push-allow-hosts, its certificate trusted).
type pushEnv struct {
	t     *testing.T
	srv   *serve.Server
	ps    *pushtest.Server
	owner *client.Client
	ch    *herald.Channel
}

func newPushEnv(t *testing.T, content string) *pushEnv {
	t.Helper()
	ps := pushtest.NewServer(nil)
	t.Cleanup(ps.Close)
	cfg := serve.Defaults()
	cfg.Addr, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), slog.LevelWarn
	cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
	cfg.PasswordParams = password.TestParams
	cfg.RateLimitExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.PushAllowHosts = []string{"127.0.0.1"}
	cfg.PushContent = content
	roots := x509.NewCertPool()
	roots.AddCert(ps.Certificate())
	cfg.PushRootCAs = roots
	s, err := serve.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &pushEnv{t: t, srv: s, ps: ps}
	e.owner = e.account("owner")
	if e.ch, err = e.owner.CreateChannel(ctx, client.ChannelInput{Name: "Alerte météo", Category: "weather"}); err != nil {
		t.Fatal(err)
	}
	return e
}

var ctx = context.Background()

func (e *pushEnv) account(name string) *client.Client {
	e.t.Helper()
	s, err := client.New(e.srv.URL, "").CreateAccount(ctx, name, "a long enough password", "")
	if err != nil {
		e.t.Fatal(err)
	}
	return client.New(e.srv.URL, s.Token)
}

// device subscribes a new device of the test push service for c and
// returns its id there (the last segment of its endpoint).
func (e *pushEnv) device(c *client.Client) (id string, sub *herald.PushSubscription) {
	e.t.Helper()
	endpoint, keys := e.ps.Subscribe()
	s, err := c.Subscribe(ctx, endpoint, keys.P256dh(), keys.Auth)
	if err != nil {
		e.t.Fatal(err)
	}
	return endpoint[len(endpoint)-16:], s
}

func (e *pushEnv) follower(name string) (*client.Client, string) {
	e.t.Helper()
	c := e.account(name)
	if _, err := c.Follow(ctx, e.ch.ID); err != nil {
		e.t.Fatal(err)
	}
	id, _ := e.device(c)
	return c, id
}

// jobsDone counts the push jobs finished in this process (the job-lag
// histogram's count).
func jobsDone(t *testing.T) uint64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "herald_push_job_lag_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}

// eventually polls cond until it holds (30 s at most).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// post posts text and waits for its push job to be finished.
func (e *pushEnv) post(text string) *herald.Update {
	e.t.Helper()
	before := jobsDone(e.t)
	u, err := e.owner.PostUpdate(ctx, e.ch.ID, text, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	eventually(e.t, "the push job of "+text, func() bool { return jobsDone(e.t) > before })
	return u
}

// pushPayload is what the service worker receives.
type pushPayload struct {
	Type    string `json:"type"`
	Channel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	Update struct {
		ID   string `json:"id"`
		Seq  int64  `json:"seq"`
		Text string `json:"text"`
	} `json:"update"`
}

// received returns the decrypted pushes a device got, in order.
func (e *pushEnv) received(device string) []pushPayload {
	e.t.Helper()
	var out []pushPayload
	for _, r := range e.ps.Received() {
		if r.ID != device {
			continue
		}
		var p pushPayload
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			e.t.Fatalf("payload %q: %v", r.Payload, err)
		}
		out = append(out, p)
	}
	return out
}

func (e *pushEnv) noFailures() {
	e.t.Helper()
	if f := e.ps.Failures(); len(f) > 0 {
		e.t.Fatalf("the push service refused requests: %q", f)
	}
}

// A follower's device gets the decrypted text; a muted channel's, an
// unfollowed channel's and a stranger's devices get nothing; a device the
// push service says is gone is removed.
func TestPushReachesFollowersOnly(t *testing.T) {
	e := newPushEnv(t, "preview")
	_, alice := e.follower("alice")
	bob, bobDev := e.follower("bob")
	if _, err := bob.Mute(ctx, e.ch.ID); err != nil {
		t.Fatal(err)
	}
	carol, carolDev := e.follower("carol")
	if err := carol.Unfollow(ctx, e.ch.ID); err != nil {
		t.Fatal(err)
	}
	dave := e.account("dave")
	daveDev, _ := e.device(dave)
	erin := e.account("erin")
	if _, err := erin.Follow(ctx, e.ch.ID); err != nil {
		t.Fatal(err)
	}
	endpoint, keys := e.ps.Subscribe()
	if _, err := erin.Subscribe(ctx, endpoint, keys.P256dh(), keys.Auth); err != nil {
		t.Fatal(err)
	}
	e.ps.Unsubscribe(endpoint) // the push service answers 404 from now on

	long := "Orages violents attendus ce soir sur le Rhône. "
	for len([]rune(long)) < 300 {
		long += "Restez à l'abri. "
	}
	u := e.post(long)
	got := e.received(alice)
	if len(got) != 1 {
		t.Fatalf("alice got %d pushes, want 1", len(got))
	}
	p := got[0]
	if p.Type != "update.created" || p.Channel.ID != e.ch.ID || p.Channel.Name != "Alerte météo" || p.Update.ID != u.ID || p.Update.Seq != u.Seq {
		t.Fatalf("payload %+v", p)
	}
	if r := []rune(p.Update.Text); len(r) > 201 || len(r) < 150 || string(r[:40]) != string([]rune(long)[:40]) || r[len(r)-1] != '…' {
		t.Fatalf("preview text %q", p.Update.Text)
	}
	for _, r := range e.ps.Received() {
		if r.Topic != u.ID || r.Urgency != "high" || r.TTL < int(herald.DefaultRetention/time.Second)-60 || r.TTL > int(herald.DefaultRetention/time.Second) {
			t.Fatalf("push headers: topic %q urgency %q ttl %d", r.Topic, r.Urgency, r.TTL)
		}
	}
	for name, dev := range map[string]string{"bob (muted)": bobDev, "carol (unfollowed)": carolDev, "dave (stranger)": daveDev} {
		if n := len(e.received(dev)); n != 0 {
			t.Errorf("%s got %d pushes", name, n)
		}
	}
	if subs, err := erin.PushSubscriptions(ctx); err != nil || len(subs) != 0 {
		t.Fatalf("erin's gone device is still there: %+v, %v", subs, err)
	}
	// Unmuted, bob hears the next one.
	if _, err := bob.Unmute(ctx, e.ch.ID); err != nil {
		t.Fatal(err)
	}
	e.post("Fin de l'alerte.")
	if got := e.received(bobDev); len(got) != 1 || got[0].Update.Text != "Fin de l'alerte." {
		t.Fatalf("bob after unmute: %+v", got)
	}
	if len(e.received(alice)) != 2 || len(e.received(carolDev)) != 0 {
		t.Fatal("wrong deliveries on the second post")
	}
	e.noFailures()
}

// --push-content minimal carries ids only.
func TestPushMinimalContent(t *testing.T) {
	e := newPushEnv(t, "minimal")
	_, dev := e.follower("alice")
	u := e.post("secret text")
	got := e.ps.Received()
	if len(got) != 1 || got[0].ID != dev {
		t.Fatalf("received %+v", got)
	}
	var raw map[string]any
	if err := json.Unmarshal(got[0].Payload, &raw); err != nil {
		t.Fatal(err)
	}
	ch, _ := raw["channel"].(map[string]any)
	up, _ := raw["update"].(map[string]any)
	if len(raw) != 3 || raw["type"] != "update.created" || len(ch) != 1 || ch["id"] != e.ch.ID || len(up) != 1 || up["id"] != u.ID {
		t.Fatalf("minimal payload %s", got[0].Payload)
	}
}

// 410 removes the subscription: the next post sends nothing to it.
func TestPushGoneRemovesSubscription(t *testing.T) {
	e := newPushEnv(t, "preview")
	alice, dev := e.follower("alice")
	e.ps.Script(pushtest.Reply{Status: 410})
	e.post("first")
	if subs, err := alice.PushSubscriptions(ctx); err != nil || len(subs) != 0 {
		t.Fatalf("subscriptions after 410: %+v, %v", subs, err)
	}
	e.post("second") // the push service would accept it: it must not be sent
	if got := e.received(dev); len(got) != 0 {
		t.Fatalf("the removed device got %+v", got)
	}
	e.noFailures()
}

// 429 with Retry-After, then 201: delivered once, after the wait.
func TestPushRetryAfter(t *testing.T) {
	e := newPushEnv(t, "preview")
	_, dev := e.follower("alice")
	e.ps.Script(pushtest.Reply{Status: 429, RetryAfter: "1"}, pushtest.Reply{Status: 503})
	start := time.Now()
	u := e.post("retry me")
	eventually(t, "the retried push", func() bool { return len(e.received(dev)) > 0 })
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("delivered after %s, before Retry-After's 1 s", waited)
	}
	// A later post is delivered at once; the retried one was sent once.
	e.post("after")
	eventually(t, "the second post", func() bool { return len(e.received(dev)) >= 2 })
	n := 0
	for _, p := range e.received(dev) {
		if p.Update.ID == u.ID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the retried update arrived %d times", n)
	}
	e.noFailures()
}

// An edit within the hour is pushed again with the same Topic (replacing
// the notification); deleting an update drops its pending retries.
func TestPushEditAndDelete(t *testing.T) {
	e := newPushEnv(t, "preview")
	_, dev := e.follower("alice")
	u := e.post("Rendez-vous à 18 h")
	if _, err := e.owner.EditUpdate(ctx, e.ch.ID, u.ID, "Rendez-vous à 19 h"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit's push", func() bool { return len(e.received(dev)) == 2 })
	got, recs := e.received(dev), e.ps.Received()
	if got[1].Type != "update.edited" || got[1].Update.Text != "Rendez-vous à 19 h" || recs[0].Topic != u.ID || recs[1].Topic != u.ID {
		t.Fatalf("edit push %+v, topics %q %q", got[1], recs[0].Topic, recs[1].Topic)
	}

	// Delete while its push waits to be retried: the retry is dropped. A
	// second update's retry, due later, is the barrier.
	e.ps.Script(pushtest.Reply{Status: 429, RetryAfter: "1"})
	doomed := e.post("doomed")
	if err := e.owner.DeleteUpdate(ctx, e.ch.ID, doomed.ID); err != nil {
		t.Fatal(err)
	}
	e.ps.Script(pushtest.Reply{Status: 429, RetryAfter: "2"})
	barrier := e.post("barrier")
	eventually(t, "the barrier's retried push", func() bool {
		return slices.ContainsFunc(e.received(dev), func(p pushPayload) bool { return p.Update.ID == barrier.ID })
	})
	if slices.ContainsFunc(e.received(dev), func(p pushPayload) bool { return p.Update.ID == doomed.ID }) {
		t.Fatal("a deleted update's pending push was sent")
	}
	// An edit more than an hour after the post is not pushed: not tested
	// here (the server runs on the system clock); storetest checks it.
	e.noFailures()
}
