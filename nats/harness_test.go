package nats_test

import (
	"context"
	"net"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	hnats "github.com/heraldhq/herald/nats"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/realtime"
	"github.com/heraldhq/herald/realtime/stream"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// failAfter is a hang guard: tests wait for events, they don't time them.
const failAfter = 15 * time.Second

// natsServer is an embedded NATS server that can be stopped and restarted
// on the same port (to cut every node off the bus at once).
type natsServer struct {
	t    testing.TB
	port int
	srv  *natsserver.Server
}

func startNATS(t testing.TB) *natsServer {
	t.Helper()
	n := &natsServer{t: t, port: -1}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsServer) start() {
	n.t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: n.port, NoLog: true, NoSigs: true})
	if err != nil {
		n.t.Fatalf("nats server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		n.t.Fatal("embedded nats server did not start")
	}
	n.port = s.Addr().(*net.TCPAddr).Port
	n.srv = s
}

func (n *natsServer) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

func (n *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

// switchPublisher forwards a store's events to the node's hub, unless it is
// switched off: then events are committed but never published, as when a
// node dies between its commit and its publish.
type switchPublisher struct {
	p   atomic.Pointer[realtime.Server]
	off atomic.Bool
}

func (s *switchPublisher) Publish(ctx context.Context, events []herald.Event) {
	if p := s.p.Load(); p != nil && !s.off.Load() {
		p.Publish(ctx, events)
	}
}

// node is one Herald node: API and streams over HTTP, a real-time hub on the
// NATS bus, and a store (its own, or shared with other nodes).
type node struct {
	t     testing.TB
	name  string
	store herald.Store
	bus   *hnats.Bus
	rt    *realtime.Server
	ts    *httptest.Server
	anon  *client.Client
	down  bool
}

// startNode starts a node on store. If pub is not nil, it is the store's
// publisher and is pointed at this node's hub.
func startNode(t testing.TB, name string, store herald.Store, pub *switchPublisher, natsURL string, opts ...func(*realtime.Config)) *node {
	t.Helper()
	bus, err := hnats.Open(hnats.Config{URL: natsURL, Name: name})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	cfg := realtime.Config{
		Events: store,
		Bus:    bus,
	}
	for _, o := range opts {
		o(&cfg)
	}
	rt := realtime.New(cfg)
	if pub != nil {
		pub.p.Store(rt)
	}
	api := hhttp.NewServer(hhttp.Config{
		Store:           store,
		Streams:         rt,
		Hasher:          password.NewHasher(password.TestParams),
		SessionCacheTTL: -1,
		RateLimitExempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	ts := httptest.NewServer(api)
	n := &node{t: t, name: name, store: store, bus: bus, rt: rt, ts: ts, anon: client.New(ts.URL, "")}
	t.Cleanup(n.stop)
	return n
}

// stop takes the node down as an orderly shutdown does: streams are closed
// (clients reconnect elsewhere), the bus disconnects, the listener closes.
func (n *node) stop() {
	if n.down {
		return
	}
	n.down = true
	_ = n.rt.Close()
	n.ts.Close()
	_ = n.bus.Close()
}

// as returns a client of this node authenticated as u.
func (n *node) as(u *user) *client.Client { return n.anon.WithToken(u.token) }

type user struct {
	token string
	id    string
}

func signup(t testing.TB, n *node, name string) *user {
	t.Helper()
	s, err := n.anon.CreateAccount(context.Background(), name, "a long enough password", "")
	if err != nil {
		t.Fatalf("signup %s: %v", name, err)
	}
	return &user{token: s.Token, id: s.Account.ID}
}

func createChannel(t testing.TB, c *client.Client, name string) *herald.Channel {
	t.Helper()
	ch, err := c.CreateChannel(context.Background(), client.ChannelInput{Name: name, Category: "weather", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatalf("create channel: %v", err)
	}
	return ch
}

func follow(t testing.TB, c *client.Client, channelID string) {
	t.Helper()
	if _, err := c.Follow(context.Background(), channelID); err != nil {
		t.Fatalf("follow: %v", err)
	}
}

func post(t testing.TB, c *client.Client, channelID, text string) *herald.Update {
	t.Helper()
	u, err := c.PostUpdate(context.Background(), channelID, text, nil)
	if err != nil {
		t.Fatalf("post %q: %v", text, err)
	}
	return u
}

// dial opens a stream on n as u and waits for its first message (the
// cursor), which means it is subscribed and caught up.
func dial(t testing.TB, n *node, tr string, u *user, since herald.Cursor) *stream.Conn {
	t.Helper()
	c, err := stream.Dial(context.Background(), n.ts.URL, tr, stream.Options{Token: u.token, Since: since})
	if err != nil {
		t.Fatalf("dial %s on %s: %v", tr, n.name, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(failAfter))
	e, err := c.Next()
	if err != nil || e.Type != stream.TypeCursor {
		t.Fatalf("first message on %s: %+v %v", n.name, e, err)
	}
	return c
}

// next returns the next n events, skipping cursor messages.
func next(t testing.TB, c *stream.Conn, n int) []*stream.Event {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failAfter))
	var out []*stream.Event
	for len(out) < n {
		e, err := c.Next()
		if err != nil {
			t.Fatalf("after %d of %d events: %v", len(out), n, err)
		}
		if e.Type == stream.TypeCursor {
			continue
		}
		out = append(out, e)
	}
	return out
}

// waitCursor reads cursor messages until the cursor names stream; any
// other event first is a failure.
func waitCursor(t testing.TB, c *stream.Conn, name string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failAfter))
	for {
		if _, ok := c.Cursor()[name]; ok {
			return
		}
		e, err := c.Next()
		if err != nil {
			t.Fatalf("waiting for %s in the cursor: %v", name, err)
		}
		if e.Type != stream.TypeCursor {
			t.Fatalf("waiting for %s in the cursor, got %+v", name, e.Event)
		}
	}
}

// texts summarizes events as "type:text".
func texts(evs []*stream.Event) []string {
	var out []string
	for _, e := range evs {
		s := e.Type
		if e.Update != nil {
			s += ":" + e.Update.Text
		}
		out = append(out, s)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds (a hang guard, not a timing).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(failAfter)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// receiverFunc is a realtime.Receiver that hands every message to a
// function and ignores losses: the raw bus, without the Reliable layer.
type receiverFunc func(*realtime.Message)

func (f receiverFunc) Receive(m *realtime.Message) { f(m) }
func (f receiverFunc) Lost()                       {}
