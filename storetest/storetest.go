// Package storetest is the conformance suite every herald.Store passes.
//
// A store's test calls Run with a function that opens a fresh, empty store
// for the given config (and closes it in t.Cleanup). Subtests live in files
// named for the area they cover and register themselves in init, so adding
// an area never touches the files of another.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// OpenFunc opens a fresh, empty store built with cfg. It closes the store
// when t ends.
type OpenFunc func(t testing.TB, cfg herald.StoreConfig) herald.Store

var (
	registryMu sync.Mutex
	registry   = map[string]func(t *testing.T, h *Harness){}
)

// register adds a subtest; names are unique and run in sorted order.
func register(name string, fn func(t *testing.T, h *Harness)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("storetest: duplicate test " + name)
	}
	registry[name] = fn
}

// Run runs every registered conformance test against stores made by open.
func Run(t *testing.T, open OpenFunc) {
	registryMu.Lock()
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	registryMu.Unlock()
	sort.Strings(names)
	for _, name := range names {
		fn := registry[name]
		t.Run(name, func(t *testing.T) {
			fn(t, NewHarness(t, open))
		})
	}
}

// Start is when every harness clock starts: a fixed instant, so tests that
// move time are reproducible.
var Start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Harness is one subtest's store with a fake clock and an event recorder.
type Harness struct {
	T      testing.TB
	Ctx    context.Context
	Clock  *herald.FakeClock
	Events *Recorder
	Store  herald.Store
	Config herald.StoreConfig

	open OpenFunc
	n    int
	mu   sync.Mutex
}

// NewHarness opens a fresh store with a FakeClock at Start, the default
// retention and a recording publisher.
func NewHarness(t testing.TB, open OpenFunc) *Harness {
	h := &Harness{T: t, Ctx: context.Background(), Clock: herald.NewFakeClock(Start), Events: &Recorder{}, open: open}
	h.Config = herald.StoreConfig{Clock: h.Clock, Retention: herald.DefaultRetention, Publisher: h.Events}
	h.Store = open(t, h.Config)
	return h
}

// With returns a new harness over a fresh store whose config mod adjusts
// (for example a shorter retention).
func (h *Harness) With(mod func(*herald.StoreConfig)) *Harness {
	h2 := &Harness{T: h.T, Ctx: h.Ctx, Clock: herald.NewFakeClock(Start), Events: &Recorder{}, open: h.open}
	h2.Config = herald.StoreConfig{Clock: h2.Clock, Retention: herald.DefaultRetention, Publisher: h2.Events}
	mod(&h2.Config)
	h2.Store = h.open(h.T, h2.Config)
	return h2
}

// Recorder is an EventPublisher that keeps what it was given.
type Recorder struct {
	mu     sync.Mutex
	events []herald.Event
}

// Publish records events.
func (r *Recorder) Publish(_ context.Context, events []herald.Event) {
	r.mu.Lock()
	r.events = append(r.events, events...)
	r.mu.Unlock()
}

// Take returns the events published since the last Take and forgets them.
func (r *Recorder) Take() []herald.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// Stream returns the recorded events of one stream, without forgetting them.
func (r *Recorder) Stream(stream string) []herald.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []herald.Event
	for _, ev := range r.events {
		if ev.Stream == stream {
			out = append(out, ev)
		}
	}
	return out
}

// unique returns a fresh suffix for names within the harness.
func (h *Harness) unique() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	return h.n
}

// Account creates an account whose username starts with prefix.
func (h *Harness) Account(prefix string) *herald.Account {
	h.T.Helper()
	a := &herald.Account{Username: fmt.Sprintf("%s_%d", strings.ToLower(prefix), h.unique())}
	a.DisplayName = "Display " + a.Username
	if err := h.Store.CreateAccount(h.Ctx, a, "hash-of-"+a.Username); err != nil {
		h.T.Fatalf("CreateAccount(%s): %v", a.Username, err)
	}
	return a
}

// Channel creates a listed "news" channel owned by owner; mods adjust it first.
func (h *Harness) Channel(owner *herald.Account, mods ...func(*herald.Channel)) *herald.Channel {
	h.T.Helper()
	ch := &herald.Channel{Name: fmt.Sprintf("Channel %d", h.unique()), Description: "About things", Category: "news", Listed: true}
	for _, m := range mods {
		m(ch)
	}
	if err := h.Store.CreateChannel(h.Ctx, owner.ID, ch); err != nil {
		h.T.Fatalf("CreateChannel: %v", err)
	}
	return ch
}

// Unlisted makes a channel unlisted (a Channel mod).
func Unlisted(ch *herald.Channel) { ch.Listed = false }

// ReactionSetting returns a Channel mod that sets the reaction setting.
func ReactionSetting(s string) func(*herald.Channel) {
	return func(ch *herald.Channel) { ch.Reactions = s }
}

// Follower creates an account that follows ch (by invite, so unlisted works).
func (h *Harness) Follower(ch *herald.Channel) *herald.Account {
	h.T.Helper()
	a := h.Account("follower")
	if _, err := h.Store.FollowByInvite(h.Ctx, a.ID, ch.InviteCode); err != nil {
		h.T.Fatalf("FollowByInvite: %v", err)
	}
	return a
}

// Admin creates an account and makes it an admin of ch (owner acts).
func (h *Harness) Admin(owner *herald.Account, ch *herald.Channel) *herald.Account {
	h.T.Helper()
	a := h.Account("admin")
	if _, err := h.Store.AddAdmin(h.Ctx, owner.ID, ch.ID, a.Username); err != nil {
		h.T.Fatalf("AddAdmin: %v", err)
	}
	return a
}

// Post creates an update with text.
func (h *Harness) Post(actor *herald.Account, ch *herald.Channel, text string) *herald.Update {
	h.T.Helper()
	u := &herald.Update{Text: text}
	if err := h.Store.CreateUpdate(h.Ctx, actor.ID, ch.ID, u); err != nil {
		h.T.Fatalf("CreateUpdate: %v", err)
	}
	return u
}

// PostPoll creates an update with a poll.
func (h *Harness) PostPoll(actor *herald.Account, ch *herald.Channel, multiple bool, options ...string) *herald.Update {
	h.T.Helper()
	p := &herald.Poll{Question: "Which one?", Multiple: multiple}
	for _, o := range options {
		p.Options = append(p.Options, herald.PollOption{Text: o})
	}
	u := &herald.Update{Text: "Poll time", Poll: p}
	if err := h.Store.CreateUpdate(h.Ctx, actor.ID, ch.ID, u); err != nil {
		h.T.Fatalf("CreateUpdate(poll): %v", err)
	}
	return u
}

// NoErr fails the test now if err is not nil.
func NoErr(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// WantCode fails the test unless err carries the herald error code.
func WantCode(t testing.TB, err error, code, what string) {
	t.Helper()
	if got := herald.ErrorCode(err); got != code {
		t.Fatalf("%s: error code = %q (%v), want %q", what, got, err, code)
	}
}

// WantKind fails the test unless err carries code and kind.
func WantKind(t testing.TB, err error, code, kind, what string) {
	t.Helper()
	WantCode(t, err, code, what)
	if got := herald.ErrorKind(err); got != kind {
		t.Fatalf("%s: error kind = %q (%v), want %q", what, got, err, kind)
	}
}

// JSON marshals v, failing the test on error.
func JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}
