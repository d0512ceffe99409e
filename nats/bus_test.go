package nats_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	hnats "github.com/heraldhq/herald/nats"
	"github.com/heraldhq/herald/realtime"
	"github.com/heraldhq/herald/realtime/stream"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/sqlite/sqlitetest"
)

// pair is two nodes on one NATS. With SQLite they share one store whose
// publisher is node 1's hub, so whatever node 2's followers receive crossed
// NATS; with PostgreSQL each node has its own store and publisher. off
// switches node 1's publisher off: its writes are then committed but never
// published, as when a node dies between its commit and its publish.
type pair struct {
	nats   *natsServer
	n1, n2 *node
	off    func(bool)
}

var backends = []string{"sqlite", "postgres"}

func newPair(t *testing.T, backend string) *pair {
	t.Helper()
	if backend == "postgres" {
		c := newPGCluster(t, 2)
		return &pair{nats: c.nats, n1: c.nodes[0], n2: c.nodes[1], off: c.pubs[0].off.Store}
	}
	ns := startNATS(t)
	pub := &switchPublisher{}
	db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), herald.StoreConfig{Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := &pair{nats: ns, off: pub.off.Store}
	p.n1 = startNode(t, "node1", db, pub, ns.url())
	p.n2 = startNode(t, "node2", db, nil, ns.url())
	return p
}

// eachBackend runs f on a fresh pair of each backend.
func eachBackend(t *testing.T, f func(t *testing.T, p *pair)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { f(t, newPair(t, b)) })
	}
}

func TestSubject(t *testing.T) {
	ns := startNATS(t)
	b, err := hnats.Open(hnats.Config{URL: ns.url(), Prefix: "acme.herald"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for stream, want := range map[string]string{
		"ch9Ab_-x":                 "acme.herald.c.ch9Ab_-x",
		herald.AccountStream("a1"): "acme.herald.a.a1",
	} {
		got, err := b.Subject(stream)
		if err != nil || got != want {
			t.Errorf("Subject(%q) = %q, %v; want %q", stream, got, err, want)
		}
	}
	for _, bad := range []string{"", "@", "a.b", "a*", "a>", "a b", "@x.y"} {
		if got, err := b.Subject(bad); err == nil {
			t.Errorf("Subject(%q) = %q, want an error", bad, got)
		}
	}
	for _, p := range []string{"a..b", ".a", "a.", "a b", "a*"} {
		if _, err := hnats.Open(hnats.Config{URL: ns.url(), Prefix: p}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	_, err := hnats.Open(hnats.Config{URL: "nats://user:secret@127.0.0.1:1"})
	if err == nil {
		t.Fatal("Open succeeded without a server")
	}
	if s := err.Error(); contains(s, "secret") {
		t.Errorf("error reveals the password: %s", s)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// An update posted through node 1 reaches followers streaming from node 2
// (SSE and WebSocket) and from node 1 itself; edits and deletes too.
func TestCrossNodeDelivery(t *testing.T) { eachBackend(t, testCrossNodeDelivery) }

func testCrossNodeDelivery(t *testing.T, p *pair) {
	admin := signup(t, p.n1, "admin")
	fa := signup(t, p.n2, "follower_a")
	fb := signup(t, p.n2, "follower_b")
	stranger := signup(t, p.n2, "stranger")
	ch := createChannel(t, p.n1.as(admin), "Weather")
	follow(t, p.n2.as(fa), ch.ID)
	follow(t, p.n1.as(fb), ch.ID)

	sa := dial(t, p.n2, "sse", fa, nil)
	sb := dial(t, p.n2, "ws", fb, nil)
	sl := dial(t, p.n1, "ws", fb, nil)
	sx := dial(t, p.n2, "sse", stranger, nil)

	u := post(t, p.n1.as(admin), ch.ID, "storm at 5")
	if _, err := p.n1.as(admin).EditUpdate(context.Background(), ch.ID, u.ID, "storm at 6"); err != nil {
		t.Fatal(err)
	}
	if err := p.n1.as(admin).DeleteUpdate(context.Background(), ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	post(t, p.n1.as(admin), ch.ID, "clear")
	want := []string{"update.created:storm at 5", "update.edited:storm at 6", "update.deleted", "update.created:clear"}
	for _, s := range []struct {
		name string
		c    *stream.Conn
	}{{"node2 sse", sa}, {"node2 ws", sb}, {"node1 ws", sl}} {
		got := texts(next(t, s.c, len(want)))
		if !equal(got, want) {
			t.Errorf("%s: got %q, want %q", s.name, got, want)
		}
	}
	// The stranger's stream carries nothing of the channel: the next thing
	// it sees is its own follow.
	follow(t, p.n1.as(stranger), ch.ID)
	if e := next(t, sx, 1)[0]; e.Type != herald.EventChannelFollowed || e.ChannelID != ch.ID {
		t.Fatalf("stranger's first event: %+v", e.Event)
	}
}

// A node subscribes only to the streams its connected followers need, and
// a follow made on another node while a stream is open reaches it.
func TestInterestFollowsConnections(t *testing.T) { eachBackend(t, testInterest) }

func testInterest(t *testing.T, p *pair) {
	admin := signup(t, p.n1, "admin")
	f := signup(t, p.n2, "follower")
	a := createChannel(t, p.n1.as(admin), "Weather")
	b := createChannel(t, p.n1.as(admin), "Traffic")
	follow(t, p.n2.as(f), a.ID)
	if s := p.n2.bus.Stats().Streams; s != 0 {
		t.Fatalf("node 2 subscribed to %d streams with nobody connected", s)
	}
	s := dial(t, p.n2, "ws", f, nil)
	if got := p.n2.bus.Stats().Streams; got != 2 { // the account's own stream and channel a
		t.Fatalf("node 2 subscribed to %d streams, want 2", got)
	}
	// On NATS: channel a, the one wildcard of every personal stream, and
	// the signals every node hears (signal.go).
	if got := p.n2.bus.Conn().NumSubscriptions(); got != 3 {
		t.Fatalf("node 2 has %d NATS subscriptions, want 3", got)
	}
	if got := p.n1.bus.Stats().Streams; got != 0 {
		t.Fatalf("node 1 subscribed to %d streams with nobody connected to it", got)
	}
	post(t, p.n1.as(admin), b.ID, "not followed yet")
	follow(t, p.n1.as(f), b.ID) // on the other node
	if e := next(t, s, 1)[0]; e.Type != herald.EventChannelFollowed || e.ChannelID != b.ID {
		t.Fatalf("got %+v, want channel.followed", e.Event)
	}
	// The stream has joined the channel when its cursor names it.
	waitCursor(t, s, b.ID)
	if got := p.n2.bus.Stats().Streams; got != 3 {
		t.Fatalf("node 2 subscribed to %d streams, want 3", got)
	}
	post(t, p.n1.as(admin), b.ID, "jam on A6")
	post(t, p.n1.as(admin), a.ID, "rain")
	// Two streams: each is in order, but not with respect to the other.
	got := texts(next(t, s, 2))
	sort.Strings(got)
	if !equal(got, []string{"update.created:jam on A6", "update.created:rain"}) {
		t.Fatalf("got %q", got)
	}
	s.Close()
	waitFor(t, "node 2 to drop its subscriptions", func() bool { return p.n2.bus.Stats().Streams == 0 })
	if got := p.n2.bus.Conn().NumSubscriptions(); got != 2 {
		t.Fatalf("node 2 kept %d NATS subscriptions, want the wildcard and the signals only", got)
	}
}

// An event committed but never published (its node died between commit and
// publish) is refilled from the log by node 2's Reliable layer when the next
// event of the stream shows the hole: followers get both, in order, once.
func TestHoleRefilledFromLog(t *testing.T) { eachBackend(t, testHole) }

func testHole(t *testing.T, p *pair) {
	admin := signup(t, p.n1, "admin")
	f := signup(t, p.n2, "follower")
	ch := createChannel(t, p.n1.as(admin), "Weather")
	follow(t, p.n2.as(f), ch.ID)
	s := dial(t, p.n2, "sse", f, nil)
	post(t, p.n1.as(admin), ch.ID, "one")
	refills := p.n2.rt.Refills()
	p.off(true)
	post(t, p.n1.as(admin), ch.ID, "two (never published)")
	p.off(false)
	post(t, p.n1.as(admin), ch.ID, "three")
	evs := next(t, s, 3)
	if got := texts(evs); !equal(got, []string{"update.created:one", "update.created:two (never published)", "update.created:three"}) {
		t.Fatalf("got %q", got)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq != evs[i-1].Seq+1 {
			t.Fatalf("seqs %d then %d", evs[i-1].Seq, evs[i].Seq)
		}
	}
	if got := p.n2.rt.Refills(); got <= refills {
		t.Fatalf("the node did not refill (refills %d -> %d)", refills, got)
	}
	post(t, p.n1.as(admin), ch.ID, "four")
	if got := texts(next(t, s, 1)); !equal(got, []string{"update.created:four"}) {
		t.Fatalf("after the refill got %q", got)
	}
}

// While NATS is down, events are committed but can't cross; when the node
// reconnects, the bus says it may have lost messages and the node refills
// the subscribed streams that moved, so followers get what they missed
// without waiting for a later event.
func TestReconnectRefills(t *testing.T) { eachBackend(t, testReconnect) }

func testReconnect(t *testing.T, p *pair) {
	admin := signup(t, p.n1, "admin")
	f := signup(t, p.n2, "follower")
	ch := createChannel(t, p.n1.as(admin), "Weather")
	follow(t, p.n2.as(f), ch.ID)
	s := dial(t, p.n2, "ws", f, nil)
	post(t, p.n1.as(admin), ch.ID, "before")
	if got := texts(next(t, s, 1)); !equal(got, []string{"update.created:before"}) {
		t.Fatalf("got %q", got)
	}
	reconnects, refills := p.n2.bus.Stats().Reconnects, p.n2.rt.Refills()
	p.nats.stop()
	waitFor(t, "node 2 to notice NATS is gone", func() bool { return !p.n2.bus.Conn().IsConnected() })
	// Node 1's own publishes would wait in its reconnect buffer and go out
	// later; switch them off so that only the refill can deliver these.
	p.off(true)
	post(t, p.n1.as(admin), ch.ID, "during 1")
	post(t, p.n1.as(admin), ch.ID, "during 2")
	p.off(false)
	p.nats.start()
	waitFor(t, "node 2 to reconnect", func() bool { return p.n2.bus.Stats().Reconnects > reconnects })
	if got := texts(next(t, s, 2)); !equal(got, []string{"update.created:during 1", "update.created:during 2"}) {
		t.Fatalf("after reconnect got %q", got)
	}
	waitFor(t, "node 1 to reconnect", func() bool { return p.n1.bus.Conn().IsConnected() })
	post(t, p.n1.as(admin), ch.ID, "after")
	if got := texts(next(t, s, 1)); !equal(got, []string{"update.created:after"}) {
		t.Fatalf("after reconnect got %q", got)
	}
	// Only the stream that moved was read from the log, not the follower's
	// quiet personal stream.
	if got := p.n2.rt.Refills() - refills; got != 1 {
		t.Fatalf("%d refills after the reconnect, want 1", got)
	}
}

// When a node can't keep up, NATS drops its messages (a slow consumer); the
// bus reports the loss, the Reliable layer refills the stream from the log,
// and the handler still sees every event once, in order.
func TestSlowConsumerRefills(t *testing.T) {
	ns := startNATS(t)
	ctx := context.Background()
	db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), herald.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owner := &herald.Account{Username: "owner"}
	if err := db.CreateAccount(ctx, owner, "x"); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Channel{Name: "Weather", Category: "weather", Country: "FR", Language: "fr", Listed: true, Reactions: "any"}
	if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	pub, err := hnats.Open(hnats.Config{URL: ns.url()})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub, err := hnats.Open(hnats.Config{URL: ns.url(), Shards: 1, ShardBuffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	rel := realtime.NewReliable(sub, db, realtime.ReliableConfig{HeadCheck: -1})
	defer rel.Close()

	var mu sync.Mutex
	var seqs []int64
	block := make(chan struct{})
	if err := rel.Subscribe(ch.ID, func(m *realtime.Message) {
		mu.Lock()
		first := len(seqs) == 0
		seqs = append(seqs, m.Seq)
		mu.Unlock()
		if first {
			<-block // stall the node until NATS has dropped some
		}
	}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := 0; i < n; i++ {
		if err := db.CreateUpdate(ctx, owner.ID, ch.ID, &herald.Update{Text: fmt.Sprintf("update %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	evs, ok, err := db.EventsAfter(ctx, ch.ID, 0, n)
	if err != nil || !ok || len(evs) != n {
		t.Fatalf("EventsAfter: %d events, %v, %v", len(evs), ok, err)
	}
	msgs := make([]*realtime.Message, n)
	for i := range evs {
		msgs[i] = realtime.Encode(&evs[i])
	}
	if err := pub.Publish(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "NATS to drop messages", func() bool { return sub.Stats().Dropped > 0 })
	close(block)
	waitFor(t, "every event", func() bool { mu.Lock(); defer mu.Unlock(); return len(seqs) >= n })
	time.Sleep(50 * time.Millisecond) // a duplicate would arrive now
	mu.Lock()
	defer mu.Unlock()
	if len(seqs) != n {
		t.Fatalf("%d deliveries, want %d", len(seqs), n)
	}
	for i, s := range seqs {
		if s != evs[i].Seq {
			t.Fatalf("delivery %d has seq %d, want %d", i, s, evs[i].Seq)
		}
	}
	if rel.Refills() == 0 {
		t.Fatal("no refill")
	}
}

// An event committed but never published, with no later event to show the
// hole (its node died between commit and publish, and the channel went
// quiet), still reaches followers on other nodes: the node's periodic head
// check finds the stream behind the log and refills it.
func TestHeadCheckFindsUnpublished(t *testing.T) {
	ns := startNATS(t)
	pub := &switchPublisher{}
	db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), herald.StoreConfig{Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n1 := startNode(t, "node1", db, pub, ns.url())
	n2 := startNode(t, "node2", db, nil, ns.url(), func(c *realtime.Config) { c.HeadCheck = 50 * time.Millisecond })
	admin := signup(t, n1, "admin")
	f := signup(t, n2, "follower")
	ch := createChannel(t, n1.as(admin), "Weather")
	follow(t, n2.as(f), ch.ID)
	s := dial(t, n2, "ws", f, nil)
	post(t, n1.as(admin), ch.ID, "published")
	pub.off.Store(true)
	post(t, n1.as(admin), ch.ID, "never published")
	if got := texts(next(t, s, 2)); !equal(got, []string{"update.created:published", "update.created:never published"}) {
		t.Fatalf("got %q", got)
	}
	// And nothing twice: the next event is the next post.
	pub.off.Store(false)
	post(t, n1.as(admin), ch.ID, "next")
	if got := texts(next(t, s, 1)); !equal(got, []string{"update.created:next"}) {
		t.Fatalf("got %q", got)
	}
}

// TestFollowPositionCrossesNodes: a follow made through node 1 reaches node
// 2 with the channel's position at the follow, which an open stream on node
// 2 joins the channel at (so that a post between the follow and the join is
// not lost).
func TestFollowPositionCrossesNodes(t *testing.T) {
	p := newPair(t, "sqlite")
	admin := signup(t, p.n1, "admin")
	fa := signup(t, p.n1, "follower_a")
	ch := createChannel(t, p.n1.as(admin), "Weather")
	me, err := p.n1.as(fa).Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *realtime.Message, 1)
	stream := herald.AccountStream(me.ID)
	if err := p.n2.bus.Subscribe(stream, receiverFunc(func(m *realtime.Message) {
		if m.Type == herald.EventChannelFollowed {
			got <- m
		}
	})); err != nil {
		t.Fatal(err)
	}
	defer p.n2.bus.Unsubscribe(stream)
	post(t, p.n1.as(admin), ch.ID, "one")
	post(t, p.n1.as(admin), ch.ID, "two")
	heads, err := p.n1.store.StreamHeads(context.Background(), []string{ch.ID})
	if err != nil {
		t.Fatal(err)
	}
	head := heads[ch.ID]
	follow(t, p.n1.as(fa), ch.ID)
	select {
	case m := <-got:
		if m.ChannelID != ch.ID {
			t.Fatalf("followed on node 2: channel %q, want %q", m.ChannelID, ch.ID)
		}
		if head < 2 || m.ChannelSeq == nil || *m.ChannelSeq != head {
			t.Fatalf("followed on node 2: channel position %v, want the head %d", m.ChannelSeq, head)
		}
	case <-time.After(failAfter):
		t.Fatal("channel.followed never reached node 2")
	}
}
