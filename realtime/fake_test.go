package realtime

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// fakeEvents is an in-memory herald.EventStore with the store's publishing
// behaviour: Append writes the log, then publishes (after "commit").
type fakeEvents struct {
	mu      sync.Mutex
	logs    map[string][]herald.Event
	trimmed map[string]int64 // history at or below this seq is gone
	follows map[string]map[string]bool
	admins  map[string]map[string]bool // account -> channels it owns or administers
	hidden  map[string]map[int64]bool  // events dropped by hydration (deleted updates)
	now     time.Time
	pub     herald.EventPublisher
}

func newFakeEvents() *fakeEvents {
	return &fakeEvents{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), logs: map[string][]herald.Event{}, trimmed: map[string]int64{}, follows: map[string]map[string]bool{}, admins: map[string]map[string]bool{}, hidden: map[string]map[int64]bool{}}
}

func (f *fakeEvents) StreamHeads(ctx context.Context, streams []string) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int64{}
	for _, s := range streams {
		out[s] = int64(len(f.logs[s]))
	}
	return out, nil
}

func (f *fakeEvents) EventsAfter(ctx context.Context, stream string, after int64, limit int) ([]herald.Event, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	log := f.logs[stream]
	if after < f.trimmed[stream] || after > int64(len(log)) {
		return nil, false, nil
	}
	var out []herald.Event
	for _, e := range log[after:] {
		if len(out) == limit {
			break
		}
		if f.hidden[stream][e.Seq] {
			continue
		}
		out = append(out, e)
	}
	return out, true, nil
}

func (f *fakeEvents) FollowedStreams(ctx context.Context, accountID string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// As the stores: followed and administered channels, deduplicated.
	var out []string
	for ch := range f.follows[accountID] {
		out = append(out, ch)
	}
	for ch := range f.admins[accountID] {
		if !f.follows[accountID][ch] {
			out = append(out, ch)
		}
	}
	return out, nil
}

// makeAdmin makes acc an admin of ch and publishes the personal event, as
// the stores do, with the channel's position at that moment.
func (f *fakeEvents) makeAdmin(acc, ch string) {
	f.administer(acc, ch)
	f.mu.Lock()
	pos := int64(len(f.logs[ch]))
	f.mu.Unlock()
	f.append(herald.Event{Stream: herald.AccountStream(acc), Type: herald.EventChannelAdminAdded, ChannelID: ch, ChannelSeq: &pos}, true)
}

// removeAdmin takes acc's admin role on ch away and publishes the event.
func (f *fakeEvents) removeAdmin(acc, ch string) {
	f.mu.Lock()
	delete(f.admins[acc], ch)
	f.mu.Unlock()
	f.append(herald.Event{Stream: herald.AccountStream(acc), Type: herald.EventChannelAdminRemoved, ChannelID: ch}, true)
}

// administer makes acc an admin of ch without an event (set-up before a
// stream opens).
func (f *fakeEvents) administer(acc, ch string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.admins[acc] == nil {
		f.admins[acc] = map[string]bool{}
	}
	f.admins[acc][ch] = true
}

// append adds an event to the stream's log; publish=false simulates a bus
// that lost it.
func (f *fakeEvents) append(e herald.Event, publish bool) herald.Event {
	f.mu.Lock()
	stream := e.Stream
	if stream == "" {
		stream = e.ChannelID
	}
	e.Seq = int64(len(f.logs[stream]) + 1)
	f.now = f.now.Add(time.Millisecond)
	e.CreatedAt = f.now
	f.logs[stream] = append(f.logs[stream], e)
	f.mu.Unlock()
	if publish && f.pub != nil {
		f.pub.Publish(context.Background(), []herald.Event{e})
	}
	return e
}

func (f *fakeEvents) post(ch, text string) herald.Event {
	return f.append(herald.Event{Type: herald.EventUpdateCreated, ChannelID: ch, UpdateID: "u-" + text, Update: &herald.Update{ID: "u-" + text, ChannelID: ch, Text: text}}, true)
}

// follow follows like the stores do: the channel.followed event carries the
// channel's head at the follow.
func (f *fakeEvents) follow(acc, ch string) {
	f.append(f.followEvent(acc, ch), true)
}

// followSkewed logs a follow whose time is skew ahead of this store's clock
// (as written by a node whose clock runs ahead) without publishing it; the
// caller publishes the returned event when it likes.
func (f *fakeEvents) followSkewed(acc, ch string, skew time.Duration) herald.Event {
	e := f.append(f.followEvent(acc, ch), false)
	f.mu.Lock()
	defer f.mu.Unlock()
	log := f.logs[e.Stream]
	log[len(log)-1].CreatedAt = e.CreatedAt.Add(skew)
	return log[len(log)-1]
}

func (f *fakeEvents) followEvent(acc, ch string) herald.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.follows[acc] == nil {
		f.follows[acc] = map[string]bool{}
	}
	f.follows[acc][ch] = true
	e := herald.Event{Stream: herald.AccountStream(acc), Type: herald.EventChannelFollowed, ChannelID: ch}
	pos := int64(len(f.logs[ch]))
	e.ChannelSeq = &pos
	return e
}

func (f *fakeEvents) unfollow(acc, ch string) {
	f.mu.Lock()
	delete(f.follows[acc], ch)
	f.mu.Unlock()
	f.append(herald.Event{Stream: herald.AccountStream(acc), Type: herald.EventChannelUnfollowed, ChannelID: ch}, true)
}

// testServer runs a Server behind a minimal HTTP layer that takes the
// bearer token as the account id.
type testServer struct {
	*Server
	events *fakeEvents
	http   *httptest.Server
	URL    string
}

func newTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	ev := newFakeEvents()
	cfg.Events = ev
	s := New(cfg)
	ev.pub = s
	mux := http.NewServeMux()
	// A minimal HTTP edge (package http is the real one): the bearer token
	// is the account id, the cursor comes from ?since= or Last-Event-ID,
	// X-Test-Unlimited exempts the client from the per-address limit.
	serve := func(tr Transport) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			acc, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || acc == "" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			raw := r.URL.Query().Get("since")
			if raw == "" && tr == TransportSSE {
				raw = r.Header.Get("Last-Event-ID")
			}
			cursor, err := herald.ParseCursor(raw)
			if err != nil {
				http.Error(w, "bad cursor", http.StatusBadRequest)
				return
			}
			addr, _, _ := net.SplitHostPort(r.RemoteAddr)
			if r.Header.Get("X-Test-Unlimited") != "" {
				addr = ""
			}
			if r.Header.Get("X-Test-No-Hijack") != "" {
				// As behind HTTP/2: the stream must use the ResponseWriter.
				w = noHijack{w}
			}
			if err := s.Serve(w, r, StreamRequest{Account: acc, Cursor: cursor, Transport: tr, Addr: addr}); err != nil {
				status := http.StatusInternalServerError
				switch herald.ErrorCode(err) {
				case herald.ERATELIMIT:
					status = http.StatusTooManyRequests
				case herald.EUNAVAILABLE:
					status = http.StatusServiceUnavailable
				}
				http.Error(w, "problems/"+herald.ErrorKind(err), status)
			}
		}
	}
	mux.HandleFunc("GET /api/v1/events", serve(TransportSSE))
	mux.HandleFunc("GET /api/v1/ws", serve(TransportWebSocket))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	return &testServer{Server: s, events: ev, http: hs, URL: hs.URL}
}

// noHijack is a ResponseWriter that can flush but not be hijacked.
type noHijack struct{ w http.ResponseWriter }

func (n noHijack) Header() http.Header         { return n.w.Header() }
func (n noHijack) Write(p []byte) (int, error) { return n.w.Write(p) }
func (n noHijack) WriteHeader(status int)      { n.w.WriteHeader(status) }
func (n noHijack) Flush()                      { n.w.(http.Flusher).Flush() }
