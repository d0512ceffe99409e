package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/outbound"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/sqlite/sqlitetest"
	"github.com/heraldhq/herald/webhook"
)

func TestSignAndVerify(t *testing.T) {
	shown, key := webhook.NewSecret()
	if !strings.HasPrefix(shown, "whsec_") {
		t.Fatalf("secret %q lacks whsec_", shown)
	}
	parsed, err := webhook.ParseSecret(shown)
	if err != nil || string(parsed) != string(key) {
		t.Fatalf("ParseSecret = %x, %v; want %x", parsed, err, key)
	}
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"type":"update.created"}`)
	headers := func(id string, ts int64, sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		h.Set("webhook-signature", sig)
		return h
	}
	good := webhook.Sign(key, "msg_1", now.Unix(), body)
	if err := webhook.Verify(shown, headers("msg_1", now.Unix(), good), body, now); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	// Several signatures (a receiver during a rotation): one valid is enough.
	if err := webhook.Verify(shown, headers("msg_1", now.Unix(), "v1,AAAA "+good), body, now); err != nil {
		t.Fatalf("Verify(two signatures) = %v", err)
	}
	other, _ := webhook.NewSecret()
	for name, c := range map[string]struct {
		secret string
		h      http.Header
		body   []byte
		want   error
	}{
		"tampered body":   {shown, headers("msg_1", now.Unix(), good), []byte(`{"type":"update.deleted"}`), webhook.ErrSignature},
		"other id":        {shown, headers("msg_2", now.Unix(), good), body, webhook.ErrSignature},
		"other timestamp": {shown, headers("msg_1", now.Unix()+1, good), body, webhook.ErrSignature},
		"other secret":    {other, headers("msg_1", now.Unix(), good), body, webhook.ErrSignature},
		"replayed late":   {shown, headers("msg_1", now.Unix()-600, webhook.Sign(key, "msg_1", now.Unix()-600, body)), body, webhook.ErrTimestamp},
		"missing headers": {shown, http.Header{}, body, webhook.ErrMissingHeaders},
	} {
		if err := webhook.Verify(c.secret, c.h, c.body, now); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
		}
	}
}

// receiver is a webhook receiver written for the tests: it verifies every
// request as docs/webhooks.md tells receivers to, and answers what the
// test says.
type receiver struct {
	t      *testing.T
	secret string
	clock  herald.Clock
	srv    *httptest.Server

	mu       sync.Mutex
	answer   func(n int) int // status for the n-th request (1-based)
	requests int
	got      []webhook.Payload
	ids      []string
	bad      int // requests that failed verification
}

func newReceiver(t *testing.T, secret string, clock herald.Clock) *receiver {
	rc := &receiver{t: t, secret: secret, clock: clock, answer: func(int) int { return http.StatusNoContent }}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.requests++
		if err := webhook.Verify(rc.secret, r.Header, body, rc.clock.Now()); err != nil {
			rc.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		status := rc.answer(rc.requests)
		if status < 300 {
			var p webhook.Payload
			if err := json.Unmarshal(body, &p); err != nil {
				rc.t.Errorf("payload %s: %v", body, err)
			}
			rc.got = append(rc.got, p)
			rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []webhook.Payload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]webhook.Payload(nil), rc.got...)
}

// policy allows the receiver's loopback address and trusts its certificate.
func (rc *receiver) policy() outbound.Policy {
	roots := rc.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	return outbound.Policy{AllowedHosts: []string{"127.0.0.1"}, RootCAs: roots}
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	clock  *herald.FakeClock
	db     *sqlite.DB
	owner  *herald.Account
	ch     *herald.Channel
	rc     *receiver
	worker *webhook.Worker
	hook   *herald.Webhook
}

func newFixture(t *testing.T, events ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), clock: herald.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	db, err := sqlite.Open(f.ctx, sqlitetest.Path(t), herald.StoreConfig{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.owner = &herald.Account{Username: "owner", DisplayName: "Owner"}
	must(t, db.CreateAccount(f.ctx, f.owner, "hash"))
	f.ch = &herald.Channel{Name: "Weather", Description: "Skies", Category: "news", Listed: true}
	must(t, db.CreateChannel(f.ctx, f.owner.ID, f.ch))
	shown, key := webhook.NewSecret()
	f.rc = newReceiver(t, shown, f.clock)
	if len(events) == 0 {
		events = herald.WebhookEvents
	}
	f.hook = &herald.Webhook{URL: f.rc.srv.URL + "/hook", Events: events}
	must(t, db.CreateWebhook(f.ctx, f.owner.ID, f.ch.ID, f.hook, key))
	f.worker = webhook.New(webhook.Config{Store: db, Policy: f.rc.policy(), Clock: f.clock, Workers: 1})
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// drain runs the worker until it finds nothing to do.
func (f *fixture) drain() {
	f.t.Helper()
	for range 1000 {
		worked, err := f.worker.RunOnce(f.ctx)
		must(f.t, err)
		if !worked {
			return
		}
	}
	f.t.Fatal("the worker never ran out of work")
}

func (f *fixture) post(text string) *herald.Update {
	f.t.Helper()
	u := &herald.Update{Text: text}
	must(f.t, f.db.CreateUpdate(f.ctx, f.owner.ID, f.ch.ID, u))
	return u
}

func (f *fixture) webhook() *herald.Webhook {
	f.t.Helper()
	list, err := f.db.ListWebhooks(f.ctx, f.owner.ID, f.ch.ID)
	must(f.t, err)
	return list[0]
}

func (f *fixture) log() []herald.WebhookDelivery {
	f.t.Helper()
	log, err := f.db.WebhookDeliveries(f.ctx, f.owner.ID, f.ch.ID, f.hook.ID)
	must(f.t, err)
	return log
}

func TestDeliveriesSignedInOrderWithPublicPayloads(t *testing.T) {
	f := newFixture(t)
	a := f.post("Ciel clair, 14 °C")
	b := f.post("Averses")
	_, err := f.db.EditUpdate(f.ctx, f.owner.ID, f.ch.ID, a.ID, "Ciel clair, 15 °C")
	must(t, err)
	gone := f.post("posted by mistake")
	must(t, f.db.DeleteUpdate(f.ctx, f.owner.ID, f.ch.ID, gone.ID))
	name := "Météo"
	_, err = f.db.UpdateChannel(f.ctx, f.owner.ID, f.ch.ID, herald.ChannelPatch{Name: &name})
	must(t, err)
	f.drain()

	got := f.rc.received()
	var types []string
	last := int64(0)
	for i, p := range got {
		types = append(types, p.Type)
		if p.Data.Seq <= last {
			t.Fatalf("delivery %d has seq %d after %d: out of order", i, p.Data.Seq, last)
		}
		last = p.Data.Seq
		if p.Type != p.Data.Type || p.Data.ChannelID != f.ch.ID {
			t.Fatalf("payload %+v", p)
		}
		if f.rc.ids[i] != webhook.MessageID(f.hook.ID, p.Data.Seq) {
			t.Fatalf("webhook-id %q", f.rc.ids[i])
		}
	}
	want := "update.created update.created update.edited update.deleted channel.updated"
	if strings.Join(types, " ") != want {
		t.Fatalf("delivered %v, want %s", types, want)
	}
	if got[0].Data.Update == nil || got[0].Data.Update.ID != a.ID || got[0].Data.Update.Text != "Ciel clair, 15 °C" ||
		got[1].Data.Update.ID != b.ID || got[3].Data.UpdateID != gone.ID || got[4].Data.Channel == nil || got[4].Data.Channel.Name != name {
		t.Fatalf("payloads %+v", got)
	}
	if f.rc.bad != 0 {
		t.Fatalf("%d requests failed verification", f.rc.bad)
	}
	// The deleted update's text never left the server.
	for _, p := range got {
		if b, _ := json.Marshal(p); strings.Contains(string(b), "posted by mistake") {
			t.Fatalf("a payload carries a deleted update's text: %s", b)
		}
	}
	log := f.log()
	if len(log) != 5 || log[0].EventType != "channel.updated" || log[0].Status != 204 || log[0].Attempt != 1 || log[4].EventType != "update.created" {
		t.Fatalf("log %+v", log)
	}
	// Caught up: nothing more to do, and nothing delivered twice.
	f.drain()
	if n := len(f.rc.received()); n != 5 {
		t.Fatalf("%d deliveries after draining again, want 5", n)
	}
}

func TestOnlySubscribedEvents(t *testing.T) {
	f := newFixture(t, herald.EventUpdateDeleted)
	u := f.post("one")
	f.post("two")
	must(t, f.db.DeleteUpdate(f.ctx, f.owner.ID, f.ch.ID, u.ID))
	f.drain()
	got := f.rc.received()
	if len(got) != 1 || got[0].Type != herald.EventUpdateDeleted || got[0].Data.UpdateID != u.ID {
		t.Fatalf("delivered %+v, want the one update.deleted", got)
	}
	// The skipped events moved the cursor: nothing is claimable.
	if worked, err := f.worker.RunOnce(f.ctx); err != nil || worked {
		t.Fatalf("RunOnce after catching up = %v, %v", worked, err)
	}
}

func TestRetriesWithBackoffInOrder(t *testing.T) {
	f := newFixture(t)
	f.rc.answer = func(n int) int {
		if n <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	first := f.post("first")
	f.post("second")
	f.post("third")

	for attempt := 1; attempt <= 3; attempt++ {
		f.drain()
		if got := f.rc.received(); len(got) != 0 {
			t.Fatalf("attempt %d: delivered %+v while the first event fails", attempt, got)
		}
		// Not due before its backoff...
		f.clock.Advance(webhook.Backoff(attempt) - time.Millisecond)
		f.drain()
		if f.rc.requests != attempt {
			t.Fatalf("after attempt %d and less than its backoff: %d requests", attempt, f.rc.requests)
		}
		w := f.webhook()
		if !w.Enabled || w.FailingSince == nil {
			t.Fatalf("failing webhook %+v", w)
		}
		// ...due at it.
		f.clock.Advance(time.Millisecond)
	}
	f.drain()
	got := f.rc.received()
	if len(got) != 3 || got[0].Data.UpdateID != first.ID || got[0].Data.Seq >= got[1].Data.Seq || got[1].Data.Seq >= got[2].Data.Seq {
		t.Fatalf("delivered %+v, want the three in order", got)
	}
	if webhook.Backoff(1) != 5*time.Second || webhook.Backoff(2) != 10*time.Second || webhook.Backoff(20) != time.Hour {
		t.Fatalf("Backoff = %v %v %v", webhook.Backoff(1), webhook.Backoff(2), webhook.Backoff(20))
	}
	log := f.log()
	// Newest first: three successes, then attempts 3, 2, 1 of the first event.
	if len(log) != 6 || log[3].Attempt != 3 || log[4].Attempt != 2 || log[5].Attempt != 1 || log[5].Status != 503 ||
		log[5].Error == "" || log[2].Attempt != 4 || log[2].Status != 200 || log[1].Attempt != 1 {
		t.Fatalf("log %+v", log)
	}
	if w := f.webhook(); w.FailingSince != nil {
		t.Fatalf("webhook after recovering %+v", w)
	}
}

func TestDisabledAfterFailingForTheRetryWindow(t *testing.T) {
	f := newFixture(t)
	f.rc.answer = func(int) int { return http.StatusInternalServerError }
	f.post("never delivered")
	start := f.clock.Now()
	for attempt := 1; f.webhook().Enabled; attempt++ {
		if attempt > 100 {
			t.Fatal("still enabled after 100 attempts")
		}
		f.drain()
		f.clock.Advance(webhook.Backoff(attempt))
	}
	w := f.webhook()
	if !strings.Contains(w.DisabledReason, "500") || !strings.Contains(w.DisabledReason, "24h") {
		t.Fatalf("disabled reason %q", w.DisabledReason)
	}
	last := f.log()[0]
	if last.At.Sub(start) < herald.WebhookRetryWindow {
		t.Fatalf("disabled after %v, before the retry window", last.At.Sub(start))
	}
	if last.At.Sub(start) > herald.WebhookRetryWindow+time.Hour {
		t.Fatalf("disabled only after %v", last.At.Sub(start))
	}
	// Disabled: new events are not attempted.
	n := f.rc.requests
	f.post("later")
	f.clock.Advance(2 * time.Hour)
	f.drain()
	if f.rc.requests != n {
		t.Fatalf("a disabled webhook was posted to")
	}
}

func TestGoneDisablesAtOnce(t *testing.T) {
	f := newFixture(t)
	f.rc.answer = func(int) int { return http.StatusGone }
	f.post("one")
	f.drain()
	w := f.webhook()
	if w.Enabled || !strings.Contains(w.DisabledReason, "410") || f.rc.requests != 1 {
		t.Fatalf("after a 410: %+v, %d requests", w, f.rc.requests)
	}
	if log := f.log(); len(log) != 1 || log[0].Status != 410 {
		t.Fatalf("log %+v", log)
	}
}

func TestRefusedAtDelivery(t *testing.T) {
	// The URL's host is no longer allowed (an operator removed it): the
	// webhook is disabled without a request.
	f := newFixture(t)
	f.worker = webhook.New(webhook.Config{Store: f.db, Clock: f.clock, Workers: 1})
	f.post("one")
	f.drain()
	w := f.webhook()
	if w.Enabled || !strings.Contains(w.DisabledReason, "refuses") || f.rc.requests != 0 {
		t.Fatalf("loopback URL without permission: %+v, %d requests", w, f.rc.requests)
	}

	// A public-looking name resolving to loopback: refused after DNS, on
	// the socket, retried like any failure, never reaching the receiver.
	g := newFixture(t)
	u, _ := url.Parse(g.rc.srv.URL)
	hook := &herald.Webhook{URL: "https://hooks.example.org:" + u.Port() + "/hook", Events: herald.WebhookEvents}
	_, key := webhook.NewSecret()
	must(t, g.db.DeleteWebhook(g.ctx, g.owner.ID, g.ch.ID, g.hook.ID))
	must(t, g.db.CreateWebhook(g.ctx, g.owner.ID, g.ch.ID, hook, key))
	g.hook = hook
	p := g.rc.policy()
	p.AllowedHosts = nil
	p.Lookup = func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	g.worker = webhook.New(webhook.Config{Store: g.db, Policy: p, Clock: g.clock, Workers: 1})
	g.post("one")
	g.drain()
	log := g.log()
	if g.rc.requests != 0 || len(log) != 1 || log[0].Status != 0 || !strings.Contains(log[0].Error, "may not be reached") || !g.webhook().Enabled {
		t.Fatalf("name resolving to loopback: %d requests, log %+v", g.rc.requests, log)
	}
}

func TestRunDeliversOnNotify(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(f.ctx)
	w := webhook.New(webhook.Config{Store: f.db, Policy: f.rc.policy(), Clock: f.clock, Workers: 2, Poll: time.Hour})
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.post("one")
	w.Notify()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.rc.received()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not delivered after Notify")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An update deleted while the worker is delivering the events before it is
// never sent: the log is read again (here after every delivery), and its
// update.created is dropped with it.
func TestDeletedWhileDeliveringIsNotSent(t *testing.T) {
	f := newFixture(t)
	f.worker = webhook.New(webhook.Config{Store: f.db, Policy: f.rc.policy(), Clock: f.clock, Workers: 1, PageAge: time.Nanosecond})
	f.post("first")
	doomed := f.post("deleted while the first is delivered")
	f.rc.answer = func(n int) int {
		if n == 1 {
			if err := f.db.DeleteUpdate(f.ctx, f.owner.ID, f.ch.ID, doomed.ID); err != nil {
				t.Error(err)
			}
		}
		return http.StatusNoContent
	}
	f.drain()
	var types []string
	for _, p := range f.rc.received() {
		types = append(types, p.Type)
		if b, _ := json.Marshal(p); strings.Contains(string(b), "deleted while") {
			t.Fatalf("the deleted update was sent: %s", b)
		}
	}
	if strings.Join(types, " ") != "update.created update.deleted" {
		t.Fatalf("delivered %v", types)
	}
}

// An expired update is never delivered, even when its event was waiting
// for a failing receiver; events pruned from the log by age (here a
// channel.updated) are skipped, and the log says so; delivery goes on with
// new events.
func TestExpiredAndPrunedEventsAreSkipped(t *testing.T) {
	f := newFixture(t)
	f.rc.answer = func(int) int { return http.StatusServiceUnavailable }
	f.post("old news")
	name := "Renamed"
	if _, err := f.db.UpdateChannel(f.ctx, f.owner.ID, f.ch.ID, herald.ChannelPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	f.drain()
	f.clock.Advance(herald.DefaultRetention + time.Hour)
	if _, err := f.db.PruneExpired(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.rc.answer = func(int) int { return http.StatusNoContent }
	fresh := f.post("fresh news")
	f.drain()
	got := f.rc.received()
	if len(got) != 1 || got[0].Data.UpdateID != fresh.ID {
		t.Fatalf("delivered %+v, want only the fresh update", got)
	}
	log := f.log()
	if len(log) != 3 || !strings.Contains(log[1].Error, "no longer kept") || log[0].Status != 204 {
		t.Fatalf("log %+v", log)
	}
}
