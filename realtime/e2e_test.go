package realtime_test

// End to end: the real SQLite store, the real HTTP API (auth, routes) and
// the real-time server, driven through the public Go client and the stream
// reader, as a follower's app would.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/realtime"
	"github.com/heraldhq/herald/realtime/stream"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/sqlite/sqlitetest"
	"github.com/prometheus/client_golang/prometheus"
)

const failAfter = 15 * time.Second

type latePub struct {
	mu sync.Mutex
	p  herald.EventPublisher
}

func (l *latePub) Publish(ctx context.Context, evs []herald.Event) {
	l.mu.Lock()
	p := l.p
	l.mu.Unlock()
	if p != nil {
		p.Publish(ctx, evs)
	}
}

type env struct {
	t     *testing.T
	db    *sqlite.DB
	clock *herald.FakeClock
	rt    *realtime.Server
	ts    *httptest.Server
	anon  *client.Client
}

func newEnv(t *testing.T, cfg realtime.Config) *env {
	t.Helper()
	return newEnvWith(t, cfg, nil)
}

// newEnvWith exempts the given networks from the API's rate limits.
func newEnvWith(t *testing.T, cfg realtime.Config, exempt []netip.Prefix) *env {
	t.Helper()
	return newEnvLogged(t, cfg, exempt, nil)
}

// newEnvLogged gives the API a logger.
func newEnvLogged(t *testing.T, cfg realtime.Config, exempt []netip.Prefix, logger *slog.Logger) *env {
	t.Helper()
	clock := herald.NewFakeClock(time.Now())
	pub := &latePub{}
	db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), herald.StoreConfig{Clock: clock, Retention: herald.DefaultRetention, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Events = db
	rt := realtime.New(cfg)
	pub.mu.Lock()
	pub.p = rt
	pub.mu.Unlock()
	api := hhttp.NewServer(hhttp.Config{Store: db, Streams: rt, Clock: clock, Hasher: password.NewHasher(password.TestParams), SessionCacheTTL: -1, RateLimitExempt: exempt, Logger: logger})
	ts := httptest.NewServer(api)
	t.Cleanup(func() {
		rt.Close()
		ts.Close()
		db.Close()
	})
	return &env{t: t, db: db, clock: clock, rt: rt, ts: ts, anon: client.New(ts.URL, "")}
}

func (e *env) signup(name string) *client.Client {
	e.t.Helper()
	s, err := e.anon.CreateAccount(context.Background(), name, "a long enough password", "")
	if err != nil {
		e.t.Fatalf("signup %s: %v", name, err)
	}
	return e.anon.WithToken(s.Token)
}

func (e *env) channel(owner *client.Client, name string) *herald.Channel {
	e.t.Helper()
	ch, err := owner.CreateChannel(context.Background(), client.ChannelInput{Name: name, Category: "weather"})
	if err != nil {
		e.t.Fatal(err)
	}
	return ch
}

func (e *env) dial(c *client.Client, tr string, since herald.Cursor) *stream.Conn {
	e.t.Helper()
	s, err := stream.Dial(context.Background(), e.ts.URL, tr, stream.Options{Token: c.Token(), Since: since})
	if err != nil {
		e.t.Fatalf("dial %s: %v", tr, err)
	}
	e.t.Cleanup(func() { s.Close() })
	s.SetReadDeadline(time.Now().Add(failAfter))
	if m, err := s.Next(); err != nil || m.Type != stream.TypeCursor {
		e.t.Fatalf("first message: %+v %v", m, err)
	}
	return s
}

func next(t *testing.T, s *stream.Conn, n int) []*stream.Event {
	t.Helper()
	s.SetReadDeadline(time.Now().Add(failAfter))
	var out []*stream.Event
	for len(out) < n {
		e, err := s.Next()
		if err != nil {
			t.Fatalf("after %d of %d events: %v", len(out), n, err)
		}
		if e.Type != stream.TypeCursor {
			out = append(out, e)
		}
	}
	return out
}

func summary(evs []*stream.Event) string {
	var out []string
	for _, e := range evs {
		s := e.Type
		if e.Update != nil {
			s += ":" + e.Update.Text
		}
		out = append(out, s)
	}
	return strings.Join(out, "|")
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestE2ELiveDelivery(t *testing.T) {
	for _, tr := range []string{"sse", "ws"} {
		t.Run(tr, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, realtime.Config{})
			owner := e.signup("owner")
			ch := e.channel(owner, "Weather")
			other := e.channel(owner, "Other")
			fan := e.signup("fan")
			stranger := e.signup("stranger")
			must[*herald.Channel](t)(fan.Follow(ctx, ch.ID))
			reactors := make([]*client.Client, 20)
			for i := range reactors {
				reactors[i] = e.signup(fmt.Sprint("reactor", i))
				must[*herald.Channel](t)(reactors[i].Follow(ctx, ch.ID))
			}
			fs := e.dial(fan, tr, nil)
			ss := e.dial(stranger, tr, nil)

			u := must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "Storm at 6", nil))
			must[*herald.Update](t)(owner.EditUpdate(ctx, ch.ID, u.ID, "Storm at 7"))
			for _, r := range reactors {
				must[*herald.Update](t)(r.React(ctx, ch.ID, u.ID, "👍"))
			}
			if _, err := e.db.FlushCounts(ctx); err != nil {
				t.Fatal(err)
			}
			if err := owner.DeleteUpdate(ctx, ch.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			evs := next(t, fs, 4)
			if got := summary(evs); got != "update.created:Storm at 6|update.edited:Storm at 7|update.reactions|update.deleted" {
				t.Fatalf("got %s", got)
			}
			// Twenty reactions, one coalesced event with the total.
			if c := evs[2].Counts; c == nil || c.Reactions["👍"] != 20 {
				t.Fatalf("counts %+v", evs[2].Counts)
			}
			for _, ev := range evs {
				if ev.ChannelID != ch.ID || ev.UpdateID != u.ID {
					t.Fatalf("event %+v", ev.Event)
				}
			}

			// The stranger follows nothing of ch: the first event it
			// receives is its own follow of another channel.
			must[*herald.Channel](t)(stranger.Follow(ctx, other.ID))
			if ev := next(t, ss, 1)[0]; ev.Type != herald.EventChannelFollowed || ev.ChannelID != other.ID {
				t.Fatalf("stranger got %+v", ev.Event)
			}
			// ...and the follow takes effect on the open stream.
			must[*herald.Update](t)(owner.PostUpdate(ctx, other.ID, "hello followers", nil))
			if ev := next(t, ss, 1)[0]; ev.Update == nil || ev.Update.Text != "hello followers" {
				t.Fatalf("stranger got %+v", ev.Event)
			}
		})
	}
}

func TestE2EResume(t *testing.T) {
	for _, tr := range []string{"sse", "ws"} {
		t.Run(tr, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, realtime.Config{})
			owner := e.signup("owner")
			ch := e.channel(owner, "Weather")
			fan := e.signup("fan")
			must[*herald.Channel](t)(fan.Follow(ctx, ch.ID))
			s := e.dial(fan, tr, nil)
			must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "one", nil))
			next(t, s, 1)
			cur := s.Cursor()
			s.Close()
			for _, text := range []string{"two", "three", "four"} {
				must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, text, nil))
			}
			// Posts keep coming while the client reconnects.
			done := make(chan error, 1)
			go func() {
				for i := 5; i <= 40; i++ {
					if _, err := owner.PostUpdate(ctx, ch.ID, fmt.Sprint("live ", i), nil); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			s2 := e.dial(fan, tr, cur)
			evs := next(t, s2, 39)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			want := []string{"two", "three", "four"}
			for i := 5; i <= 40; i++ {
				want = append(want, fmt.Sprint("live ", i))
			}
			for i, ev := range evs {
				if ev.Update == nil || ev.Update.Text != want[i] {
					t.Fatalf("event %d: %s, want %s (all: %s)", i, summary(evs[i:i+1]), want[i], summary(evs))
				}
			}
			if got := s2.Cursor()[ch.ID]; got != evs[len(evs)-1].Seq {
				t.Fatalf("cursor %d, last seq %d", got, evs[len(evs)-1].Seq)
			}
		})
	}
}

func TestE2ETooOldCursorResyncs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, realtime.Config{})
	owner := e.signup("owner")
	ch := e.channel(owner, "Weather")
	fan := e.signup("fan")
	must[*herald.Channel](t)(fan.Follow(ctx, ch.ID))
	s := e.dial(fan, "sse", nil)
	must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "old", nil))
	next(t, s, 1)
	cur := s.Cursor()
	s.Close()
	// A channel change is missed; then retention passes and the history
	// after the cursor is gone. (Events of expired updates would not need a
	// resync: they are erased with their updates and nothing is missed.)
	must[*herald.Channel](t)(owner.UpdateChannel(ctx, ch.ID, client.ChannelPatch{Name: client.Ptr("Weather 2")}))
	e.clock.Advance(herald.DefaultRetention + time.Hour)
	if _, err := e.db.PruneExpired(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := e.dial(fan, "sse", cur)
	ev := next(t, s2, 1)[0]
	if ev.Type != herald.EventResync || ev.ChannelID != ch.ID || ev.Seq <= cur[ch.ID] {
		t.Fatalf("got %+v", ev.Event)
	}
	must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "fresh", nil))
	if ev := next(t, s2, 1)[0]; ev.Update == nil || ev.Update.Text != "fresh" {
		t.Fatalf("got %+v", ev.Event)
	}
	// Another cursor that can't be resumed: ahead of the log (a server
	// restored from an older backup).
	heads := must[map[string]int64](t)(e.db.StreamHeads(ctx, []string{ch.ID}))
	s3 := e.dial(fan, "ws", herald.Cursor{ch.ID: 99})
	if ev := next(t, s3, 1)[0]; ev.Type != herald.EventResync || ev.ChannelID != ch.ID || ev.Seq != heads[ch.ID] {
		t.Fatalf("got %+v", ev.Event)
	}
	must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "after resync", nil))
	if ev := next(t, s3, 1)[0]; ev.Update == nil || ev.Update.Text != "after resync" {
		t.Fatalf("got %+v", ev.Event)
	}
}

func TestE2EShutdown(t *testing.T) {
	e := newEnv(t, realtime.Config{})
	fan := e.signup("fan")
	ws := e.dial(fan, "ws", nil)
	sse := e.dial(fan, "sse", nil)
	if err := e.rt.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := ws.Next()
	var ce *stream.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 {
		t.Fatalf("ws: %v", err)
	}
	ev, err := sse.Next()
	if err != nil || ev.Type != stream.TypeError || ev.Reason != "shutting down" {
		t.Fatalf("sse: %+v %v", ev, err)
	}
}

func TestE2EStalledReaderIsCut(t *testing.T) {
	// Through the real API and store: 300 followers keep receiving every
	// update while one who stopped reading is cut.
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	e := newEnvWith(t, realtime.Config{QueueBytes: 16 << 10, SocketSendBuffer: 64 << 10, MaxStreamsPerAddr: -1, Metrics: reg},
		[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	owner := e.signup("owner")
	ch := e.channel(owner, "Busy")
	const readers = 300
	stalledAcc := e.signup("stalled")
	must[*herald.Channel](t)(stalledAcc.Follow(ctx, ch.ID))
	d := realtime.SmallReceiveDialer()
	stalled, err := stream.Dial(ctx, e.ts.URL, "ws", stream.Options{Token: stalledAcc.Token(), Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	conns := make([]*stream.Conn, readers)
	for i := range conns {
		c := e.signup(fmt.Sprint("reader", i))
		must[*herald.Channel](t)(c.Follow(ctx, ch.ID))
		conns[i] = e.dial(c, "ws", nil)
	}
	const updates, round = 300, 4
	progress := make([]atomic.Int64, readers)
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := int64(1); n <= updates; n++ {
				c.SetReadDeadline(time.Now().Add(failAfter)) // per update: progress, not a total
				data, err := c.NextData()
				if err != nil {
					errs <- err
					return
				}
				if !strings.Contains(string(data), fmt.Sprintf(`"text":"#%d `, n)) {
					errs <- fmt.Errorf("reader %d: want update #%d, got %.100s", i, n, data)
					return
				}
				progress[i].Store(n)
			}
		}()
	}
	filler := strings.Repeat("x", 1000)
	for n := 1; n <= updates; n++ {
		must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, fmt.Sprintf("#%d %s", n, filler), nil))
		if n%round != 0 {
			continue
		}
		for r := range progress {
			for progress[r].Load() < int64(n) && len(errs) == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stalled.SetReadDeadline(time.Now().Add(failAfter))
	for {
		_, err := stalled.NextData()
		if err == nil {
			continue
		}
		var ce *stream.CloseError
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the stalled stream was not cut")
		} else if errors.As(err, &ce) && ce.Code != 1013 {
			t.Fatalf("stalled stream closed with %v, want 1013 slow consumer", ce)
		}
		break
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	cuts := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "herald_realtime_slow_consumer_disconnects_total" {
			cuts = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if cuts != 1 {
		t.Fatalf("slow-consumer disconnects = %v, want 1", cuts)
	}
}

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestE2EStreamStatusLogged: the API's request log says 200 for an SSE
// stream (net/http writes its head before the handler hijacks) and 101 for
// a WebSocket.
func TestE2EStreamStatusLogged(t *testing.T) {
	var out lockedBuffer
	e := newEnvLogged(t, realtime.Config{}, nil, slog.New(slog.NewJSONHandler(&out, nil)))
	alice := e.signup("alice")
	e.dial(alice, "sse", nil).Close()
	e.dial(alice, "ws", nil).Close()
	want := map[string]int{"GET /api/v1/events": 200, "GET /api/v1/ws": 101}
	got := map[string]int{}
	for deadline := time.Now().Add(failAfter); len(got) < len(want) && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for line := range strings.SplitSeq(out.String(), "\n") {
			var rec struct {
				Msg    string `json:"msg"`
				Route  string `json:"route"`
				Status int    `json:"status"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "request" && want[rec.Route] != 0 {
				got[rec.Route] = rec.Status
			}
		}
	}
	for route, status := range want {
		if got[route] != status {
			t.Errorf("%s logged with status %d, want %d", route, got[route], status)
		}
	}
}

// Through the real store and API: a channel created while its owner is
// connected, and an admin role given and taken while the new admin is
// connected, reach the open streams at once (no reconnect), with nothing
// of the channel before the role and nothing after it is taken.
func TestE2EAdminRolesOnOpenStreams(t *testing.T) {
	for _, tr := range []string{"sse", "ws"} {
		t.Run(tr, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, realtime.Config{})
			owner := e.signup("owner")
			helper := e.signup("helper")
			ownerStream := e.dial(owner, tr, nil)
			helperStream := e.dial(helper, tr, nil)

			ch := e.channel(owner, "Traffic")
			if ev := next(t, ownerStream, 1)[0]; ev.Type != herald.EventChannelAdminAdded || ev.ChannelID != ch.ID {
				t.Fatalf("owner got %+v", ev.Event)
			}
			must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "before the helper", nil))
			if got := summary(next(t, ownerStream, 1)); got != "update.created:before the helper" {
				t.Fatalf("owner got %s", got)
			}

			me := must[*herald.Account](t)(helper.Me(ctx))
			must[*herald.Admin](t)(owner.AddAdmin(ctx, ch.ID, me.Username))
			must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "with the helper", nil))
			if got := summary(next(t, helperStream, 2)); got != "channel.admin_added|update.created:with the helper" {
				t.Fatalf("helper got %s", got)
			}
			if err := owner.RemoveAdmin(ctx, ch.ID, me.ID); err != nil {
				t.Fatal(err)
			}
			must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "after the helper", nil))
			other := e.channel(helper, "Barrier") // the helper's own next event
			evs := next(t, helperStream, 2)
			if got := summary(evs); got != "channel.admin_removed|channel.admin_added" || evs[1].ChannelID != other.ID {
				t.Fatalf("helper got %s", got)
			}
		})
	}
}

// A suspended channel's history is not replayed to its followers on a
// stream's catch-up (its admins still get it), and comes back when the
// suspension is lifted; the owner's open stream hears of the suspension.
func TestE2ESuspendedChannelHistoryWithheld(t *testing.T) {
	ctx := context.Background()
	var e *env
	e = newEnv(t, realtime.Config{Withhold: func(ctx context.Context, accountID, channelID string) (bool, error) {
		return storeutil.Withheld(ctx, e.db, accountID, channelID)
	}})
	owner := e.signup("owner")
	ch := e.channel(owner, "Weather")
	fan := e.signup("fan")
	must[*herald.Channel](t)(fan.Follow(ctx, ch.ID))
	s := e.dial(fan, "sse", nil)
	must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, "one", nil))
	next(t, s, 1)
	cur := herald.Cursor{ch.ID: s.Cursor()[ch.ID]}
	s.Close()
	for _, text := range []string{"two", "three"} {
		must[*herald.Update](t)(owner.PostUpdate(ctx, ch.ID, text, nil))
	}
	e.signup("olga")
	op, err := e.db.SetOperator(ctx, "olga", true)
	if err != nil {
		t.Fatal(err)
	}
	moderate := func(action string) {
		t.Helper()
		if _, err := e.db.Moderate(ctx, herald.Moderation{OperatorID: op.ID, Action: action, ChannelID: ch.ID, Reason: "testing"}); err != nil {
			t.Fatal(err)
		}
	}
	me := must[*herald.Account](t)(owner.Me(ctx))
	live := e.dial(owner, "sse", nil) // the owner's open stream
	moderate(herald.ActionSuspendChannel)
	// The owner hears of it at once on their own stream.
	for {
		ev := next(t, live, 1)[0]
		if ev.Type == herald.EventChannelModerated {
			if ev.ChannelID != ch.ID || ev.Stream != herald.AccountStream(me.ID) || ev.Channel == nil || ev.Channel.Name != "Weather" {
				t.Fatalf("channel.moderated: %+v", ev.Event)
			}
			break
		}
	}

	// upToChannelEvent reads a resumed stream's history up to the
	// suspension's channel.updated event, which follows the posts.
	upToChannelEvent := func(c *client.Client) string {
		t.Helper()
		s := e.dial(c, "sse", cur)
		defer s.Close()
		var got []string
		for {
			ev := next(t, s, 1)[0]
			if ev.Type == herald.EventChannelUpdated {
				return strings.Join(got, "|")
			}
			if ev.Update != nil {
				got = append(got, ev.Type+":"+ev.Update.Text)
			} else {
				got = append(got, ev.Type)
			}
		}
	}
	if got := upToChannelEvent(fan); got != "" {
		t.Fatalf("a follower's stream replayed a suspended channel's history: %s", got)
	}
	if got := upToChannelEvent(owner); got != "update.created:two|update.created:three" {
		t.Fatalf("the owner's stream: %s", got)
	}
	moderate(herald.ActionLiftChannel)
	if got := upToChannelEvent(fan); got != "update.created:two|update.created:three" {
		t.Fatalf("after the lift, a follower's stream: %s", got)
	}
}
