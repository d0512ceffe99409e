package nats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/postgres"
	"github.com/heraldhq/herald/realtime/stream"
)

// freshSchema gives a test its own schema on the test PostgreSQL.
func freshSchema(tb testing.TB) string { return pgtest.FreshSchema(tb, "herald_nats_") }

// pgCluster is n nodes, each with its own postgres.DB on one fresh schema,
// on one embedded NATS.
type pgCluster struct {
	nats  *natsServer
	url   string
	nodes []*node
	pubs  []*switchPublisher
}

func newPGCluster(t *testing.T, n int) *pgCluster {
	t.Helper()
	c := &pgCluster{url: freshSchema(t)}
	c.nats = startNATS(t)
	for i := 0; i < n; i++ {
		c.addNode(t)
	}
	return c
}

func (c *pgCluster) addNode(t *testing.T) *node {
	t.Helper()
	pub := &switchPublisher{}
	db, err := postgres.Open(context.Background(), c.url, herald.StoreConfig{Publisher: pub})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	name := fmt.Sprintf("node%d", len(c.nodes)+1)
	n := startNode(t, name, db, pub, c.nats.url())
	t.Cleanup(func() { db.Close() }) // after the node stops (cleanups run last-in first-out)
	c.nodes = append(c.nodes, n)
	c.pubs = append(c.pubs, pub)
	return n
}

// The scenario on three nodes: a post on node 1 reaches followers
// on nodes 2 and 3; a reaction on node 3 is counted on node 1 and its
// coalesced count reaches the streams; node 2 stops and its followers
// resume on node 3 from their cursors with nothing lost and nothing twice.
func TestThreeNodes(t *testing.T) {
	c := newPGCluster(t, 3)
	n1, n2, n3 := c.nodes[0], c.nodes[1], c.nodes[2]
	ctx := context.Background()

	admin := signup(t, n1, "admin")
	ch := createChannel(t, n1.as(admin), "Weather")
	// Followers: two streaming from node 2 (SSE and WebSocket), two from node 3.
	type follower struct {
		u    *user
		n    *node
		tr   string
		conn *stream.Conn
	}
	fs := []*follower{{n: n2, tr: "sse"}, {n: n2, tr: "ws"}, {n: n3, tr: "sse"}, {n: n3, tr: "ws"}}
	for i, f := range fs {
		f.u = signup(t, f.n, fmt.Sprintf("follower%d", i))
		follow(t, f.n.as(f.u), ch.ID)
		f.conn = dial(t, f.n, f.tr, f.u, nil)
	}

	// 1. A post on node 1 reaches every follower on nodes 2 and 3.
	u1 := post(t, n1.as(admin), ch.ID, "storm at 5")
	for i, f := range fs {
		e := next(t, f.conn, 1)[0]
		if e.Type != herald.EventUpdateCreated || e.ChannelID != ch.ID || e.Update == nil || e.Update.Text != "storm at 5" || e.Seq <= 0 {
			t.Fatalf("follower %d (%s on %s): got %+v", i, f.tr, f.n.name, e.Event)
		}
	}

	// 2. A reaction on node 3 is counted on node 1, and the coalesced count
	// event (flushed by whichever node runs the flush) reaches the streams.
	if _, err := n3.as(fs[2].u).React(ctx, ch.ID, u1.ID, "👍"); err != nil {
		t.Fatalf("react on node 3: %v", err)
	}
	got, err := n1.as(admin).GetUpdate(ctx, ch.ID, u1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reactions["👍"] != 1 {
		t.Fatalf("node 1 counts %v, want 👍:1", got.Reactions)
	}
	flushed := 0
	for _, n := range c.nodes { // every node's loop runs; the work is done once
		k, err := n.store.FlushCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		flushed += k
	}
	if flushed != 1 {
		t.Fatalf("FlushCounts on three nodes flushed %d updates, want 1", flushed)
	}
	for i, f := range fs {
		e := next(t, f.conn, 1)[0]
		if e.Type != herald.EventUpdateReactions || e.UpdateID != u1.ID || e.Counts == nil || e.Counts.Reactions["👍"] != 1 {
			t.Fatalf("follower %d: got %+v (counts %+v)", i, e.Event, e.Counts)
		}
	}

	// 3. Node 2 stops. Its followers keep their cursors; posts go on (on
	// node 1 and node 3) while they are disconnected; they resume on node 3
	// and get exactly what they missed, then live events.
	moved := fs[:2]
	cursors := make([]herald.Cursor, len(moved))
	for i, f := range moved {
		cursors[i] = f.conn.Cursor()
	}
	n2.stop()
	for _, f := range moved {
		f.conn.SetReadDeadline(time.Now().Add(failAfter))
		for {
			e, err := f.conn.Next()
			if err != nil {
				break // closed by the shutdown
			}
			if e.Type != stream.TypeCursor && e.Type != stream.TypeError {
				t.Fatalf("unexpected event while node 2 stops: %+v", e.Event)
			}
		}
		f.conn.Close()
	}
	post(t, n1.as(admin), ch.ID, "missed 1")
	post(t, n3.as(admin), ch.ID, "missed 2")
	if err := n1.as(admin).DeleteUpdate(ctx, ch.ID, u1.ID); err != nil {
		t.Fatal(err)
	}
	for i, f := range moved {
		f.conn = dial(t, n3, f.tr, f.u, cursors[i])
	}
	post(t, n1.as(admin), ch.ID, "live")
	want := []string{"update.created:missed 1", "update.created:missed 2", "update.deleted", "update.created:live"}
	for i, f := range fs {
		got := texts(next(t, f.conn, len(want)))
		if !equal(got, want) {
			t.Errorf("follower %d (%s, now on %s): got %q, want %q", i, f.tr, n3.name, got, want)
		}
	}
	// Nothing twice: the next event anyone sees is the next post.
	post(t, n2Alive(c).as(admin), ch.ID, "sentinel")
	for i, f := range fs {
		if got := texts(next(t, f.conn, 1)); !equal(got, []string{"update.created:sentinel"}) {
			t.Errorf("follower %d: after resume got %q, want the sentinel", i, got)
		}
	}
}

// n2Alive returns a node still up (node 1).
func n2Alive(c *pgCluster) *node { return c.nodes[0] }
