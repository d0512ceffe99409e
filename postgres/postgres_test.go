package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/heraldhq/herald/postgres"
	"github.com/heraldhq/herald/storetest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Each test gets its own schema on the test server (internal/pgtest).
func admin(tb testing.TB) *pgxpool.Pool        { return pgtest.Admin(tb) }
func freshSchema(tb testing.TB) string         { return pgtest.FreshSchema(tb, "herald_test_") }
func schemaURL(tb testing.TB, s string) string { return pgtest.SchemaURL(tb, s) }

// mustOpen opens a store on url, closed when tb ends.
func mustOpen(tb testing.TB, url string, cfg herald.StoreConfig) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url, cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	admin(t)
	storetest.Run(t, func(tb testing.TB, cfg herald.StoreConfig) herald.Store {
		return mustOpen(tb, freshSchema(tb), cfg)
	})
}

// Nodes that start at once against a schema that doesn't exist yet all
// come up, and every migration is applied exactly once.
func TestConcurrentMigrations(t *testing.T) {
	// A schema nobody created: Open creates it.
	pool := admin(t)
	schema := pgtest.SchemaName("herald_test_new_")
	t.Cleanup(func() { pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) })
	url := schemaURL(t, schema)
	const nodes = 4
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := 0; i < nodes; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), url, herald.StoreConfig{})
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
	}
	db := mustOpen(t, url, herald.StoreConfig{})
	var n, distinct int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*), count(DISTINCT name) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != distinct {
		t.Fatalf("schema_migrations: %d rows, %d distinct names", n, distinct)
	}
}

// cluster is several store nodes on one schema, sharing a fake clock.
type cluster struct {
	clock  *herald.FakeClock
	nodes  []*postgres.DB
	events *storetest.Recorder
}

func newCluster(t *testing.T, n int) *cluster {
	url := freshSchema(t)
	c := &cluster{clock: herald.NewFakeClock(storetest.Start), events: &storetest.Recorder{}}
	for i := 0; i < n; i++ {
		c.nodes = append(c.nodes, mustOpen(t, url, herald.StoreConfig{Clock: c.clock, Retention: herald.DefaultRetention, Publisher: c.events}))
	}
	return c
}

// Reactions and votes from many followers on two nodes at once, changed and
// withdrawn, leave exact counts.
func TestExactCountsAcrossNodes(t *testing.T) {
	c := newCluster(t, 2)
	ctx := context.Background()
	a, b := c.nodes[0], c.nodes[1]
	owner := &herald.Account{Username: "owner"}
	if err := a.CreateAccount(ctx, owner, "x"); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Channel{Name: "Hot", Category: "news", Listed: true}
	if err := a.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	u := &herald.Update{Text: "hot", Poll: &herald.Poll{Question: "q", Multiple: true,
		Options: []herald.PollOption{{Text: "a"}, {Text: "b"}, {Text: "c"}}}}
	if err := a.CreateUpdate(ctx, owner.ID, ch.ID, u); err != nil {
		t.Fatal(err)
	}
	const followers = 60
	ids := make([]string, followers)
	for i := range ids {
		f := &herald.Account{Username: fmt.Sprintf("f%03d", i)}
		if err := a.CreateAccount(ctx, f, "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Follow(ctx, f.ID, ch.ID); err != nil {
			t.Fatal(err)
		}
		ids[i] = f.ID
	}
	emojis := []string{"👍", "❤️", "😂"}
	var wg sync.WaitGroup
	errc := make(chan error, followers)
	for i, id := range ids {
		wg.Add(1)
		go func(i int, id string) {
			defer wg.Done()
			node := c.nodes[i%2]
			// React, change, maybe withdraw; vote, change, maybe retract.
			steps := []func() error{
				func() error { _, err := node.SetReaction(ctx, id, ch.ID, u.ID, emojis[i%3]); return err },
				func() error { _, err := node.SetReaction(ctx, id, ch.ID, u.ID, emojis[(i+1)%3]); return err },
				func() error { _, err := node.Vote(ctx, id, ch.ID, u.ID, []int{0, 1}); return err },
				func() error { _, err := node.Vote(ctx, id, ch.ID, u.ID, []int{i % 3}); return err },
			}
			if i%4 == 0 {
				steps = append(steps, func() error { _, err := node.RemoveReaction(ctx, id, ch.ID, u.ID); return err })
			}
			if i%5 == 0 {
				steps = append(steps, func() error { _, err := node.RetractVote(ctx, id, ch.ID, u.ID); return err })
			}
			for _, s := range steps {
				if err := s(); err != nil {
					errc <- err
					return
				}
			}
		}(i, id)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	wantR := map[string]int64{}
	wantV := make([]int64, 3)
	var voters int64
	for i := range ids {
		if i%4 != 0 {
			wantR[emojis[(i+1)%3]]++
		}
		if i%5 != 0 {
			wantV[i%3]++
			voters++
		}
	}
	got, err := b.FindUpdate(ctx, owner.ID, ch.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Reactions) != fmt.Sprint(wantR) {
		t.Errorf("reactions = %v, want %v", got.Reactions, wantR)
	}
	for i, o := range got.Poll.Options {
		if o.Votes != wantV[i] {
			t.Errorf("option %d votes = %d, want %d", i, o.Votes, wantV[i])
		}
	}
	if got.Poll.Voters != voters {
		t.Errorf("voters = %d, want %d", got.Poll.Voters, voters)
	}
}

// FlushCounts called by several nodes at once does the work once: one
// update.reactions event per dirty update in all.
func TestFlushCountsOnceAcrossNodes(t *testing.T) {
	c := newCluster(t, 3)
	ctx := context.Background()
	n0 := c.nodes[0]
	owner := &herald.Account{Username: "owner"}
	if err := n0.CreateAccount(ctx, owner, "x"); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Channel{Name: "Busy", Category: "news", Listed: true}
	if err := n0.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	const updates = 30
	for i := 0; i < updates; i++ {
		u := &herald.Update{Text: fmt.Sprintf("u%d", i)}
		if err := n0.CreateUpdate(ctx, owner.ID, ch.ID, u); err != nil {
			t.Fatal(err)
		}
		if _, err := n0.SetReaction(ctx, owner.ID, ch.ID, u.ID, "👍"); err != nil {
			t.Fatal(err)
		}
	}
	c.events.Take()
	var wg sync.WaitGroup
	counts := make([]int, len(c.nodes))
	for round := 0; round < 3; round++ {
		for i, node := range c.nodes {
			wg.Add(1)
			go func(i int, node *postgres.DB) {
				defer wg.Done()
				n, err := node.FlushCounts(ctx)
				if err != nil {
					t.Error(err)
				}
				counts[i] += n
			}(i, node)
		}
		wg.Wait()
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != updates {
		t.Errorf("FlushCounts across nodes reported %d events (per node %v), want %d", total, counts, updates)
	}
	if got := len(c.events.Take()); got != updates {
		t.Errorf("published %d events, want %d", got, updates)
	}
	evs, ok, err := n0.EventsAfter(ctx, ch.ID, 0, 1000)
	if err != nil || !ok {
		t.Fatalf("EventsAfter: ok=%v err=%v", ok, err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == herald.EventUpdateReactions {
			n++
		}
	}
	if n != updates {
		t.Errorf("log holds %d update.reactions events, want %d", n, updates)
	}
}

// PruneExpired on several nodes at once erases everything once.
func TestPruneOnceAcrossNodes(t *testing.T) {
	c := newCluster(t, 3)
	ctx := context.Background()
	n0 := c.nodes[0]
	owner := &herald.Account{Username: "owner"}
	if err := n0.CreateAccount(ctx, owner, "x"); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Channel{Name: "Old", Category: "news", Listed: true}
	if err := n0.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	const updates = 25
	for i := 0; i < updates; i++ {
		if err := n0.CreateUpdate(ctx, owner.ID, ch.ID, &herald.Update{Text: fmt.Sprintf("secret %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	c.clock.Advance(herald.DefaultRetention + time.Minute)
	var wg sync.WaitGroup
	counts := make([]int, len(c.nodes))
	for i, node := range c.nodes {
		wg.Add(1)
		go func(i int, node *postgres.DB) {
			defer wg.Done()
			n, err := node.PruneExpired(ctx)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}(i, node)
	}
	wg.Wait()
	// A node that found another pruning returned 0 at once; a last run
	// after they all finished proves nothing was left behind.
	last, err := n0.PruneExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := last
	for _, n := range counts {
		total += n
	}
	if total != updates {
		t.Errorf("pruned %d in all (per node %v, then %d), want %d", total, counts, last, updates)
	}
	var left int
	if err := n0.Pool().QueryRow(ctx, `SELECT count(*) FROM updates WHERE text LIKE 'secret%'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d expired updates still in the table", left)
	}
}

// Posts to one channel from several nodes at once get distinct update seqs
// and a gapless event log whose order is the seq order.
func TestSeqOrderAcrossNodes(t *testing.T) {
	c := newCluster(t, 3)
	ctx := context.Background()
	n0 := c.nodes[0]
	owner := &herald.Account{Username: "owner"}
	if err := n0.CreateAccount(ctx, owner, "x"); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Channel{Name: "Race", Category: "news", Listed: true}
	if err := n0.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	const perNode = 20
	var wg sync.WaitGroup
	for _, node := range c.nodes {
		wg.Add(1)
		go func(node *postgres.DB) {
			defer wg.Done()
			for i := 0; i < perNode; i++ {
				if err := node.CreateUpdate(ctx, owner.ID, ch.ID, &herald.Update{Text: "x"}); err != nil {
					t.Error(err)
					return
				}
			}
		}(node)
	}
	wg.Wait()
	total := perNode * len(c.nodes)
	evs, ok, err := n0.EventsAfter(ctx, ch.ID, 0, 1000)
	if err != nil || !ok || len(evs) != total {
		t.Fatalf("EventsAfter: %d events ok=%v err=%v, want %d", len(evs), ok, err, total)
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: gap or reorder", i, e.Seq)
		}
		if e.Update == nil || e.Update.Seq != int64(i+1) {
			t.Fatalf("event seq %d carries update seq %v: commit order differs from seq order", e.Seq, e.Update)
		}
	}
	heads, err := c.nodes[2].StreamHeads(ctx, []string{ch.ID})
	if err != nil || heads[ch.ID] != int64(total) {
		t.Fatalf("StreamHeads = %v, %v; want %d", heads, err, total)
	}
}

// A node that dies holding the flush lock, or a reaction in flight while a
// flush runs, loses no count change: the lock dies with the node's
// connection, and a counts row being changed is flushed next time.
func TestFlushLosesNothing(t *testing.T) {
	c := newCluster(t, 2)
	ctx := context.Background()
	n0, n1 := c.nodes[0], c.nodes[1]
	owner := &herald.Account{Username: "owner"}
	if err := n0.CreateAccount(ctx, owner, "x"); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Channel{Name: "Flush", Category: "news", Listed: true}
	if err := n0.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	u1, u2 := &herald.Update{Text: "one"}, &herald.Update{Text: "two"}
	for _, u := range []*herald.Update{u1, u2} {
		if err := n0.CreateUpdate(ctx, owner.ID, ch.ID, u); err != nil {
			t.Fatal(err)
		}
		if _, err := n0.SetReaction(ctx, owner.ID, ch.ID, u.ID, "👍"); err != nil {
			t.Fatal(err)
		}
	}

	// "Node 2" is mid-flush: its transaction holds the flush lock.
	dying, err := n0.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := dying.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := dying.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	if _, err := dying.Exec(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('herald.flush.' || current_schema()))`); err != nil {
		t.Fatal(err)
	}
	if n, err := n1.FlushCounts(ctx); err != nil || n != 0 {
		t.Fatalf("FlushCounts while another node flushes = %d, %v; want 0 at once", n, err)
	}
	// The node dies (kill -9 of the process closes its connection).
	if _, err := n1.Pool().Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	dying.Release()

	// A reaction to u2 is in flight: its transaction holds u2's counts row.
	busy, err := n1.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := busy.Exec(ctx, `SELECT 1 FROM update_counts WHERE update_id = $1 FOR UPDATE`, u2.ID); err != nil {
		t.Fatal(err)
	}
	evs := flushEvents(t, c, n1)
	if len(evs) != 1 || evs[0].UpdateID != u1.ID {
		t.Fatalf("first flush published %v, want u1's counts only", evs)
	}
	if err := busy.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	evs = flushEvents(t, c, n0)
	if len(evs) != 1 || evs[0].UpdateID != u2.ID || evs[0].Counts.Reactions["👍"] != 1 {
		t.Fatalf("second flush published %v, want u2's counts", evs)
	}
	if evs := flushEvents(t, c, n1); len(evs) != 0 {
		t.Fatalf("third flush published %v, want nothing", evs)
	}
}

// flushEvents runs FlushCounts on node and returns what it published.
func flushEvents(t *testing.T, c *cluster, node *postgres.DB) []herald.Event {
	t.Helper()
	c.events.Take()
	n, err := node.FlushCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	evs := c.events.Take()
	if n != len(evs) {
		t.Fatalf("FlushCounts returned %d but published %d events", n, len(evs))
	}
	return evs
}

// A schema written by a development build (before the migrations were
// squashed, it recorded paths such as "migrations/0001_init.sql") is refused
// with a clear error, not half-migrated; the squashed set is recorded by
// file name in schema_migrations, as the SQLite store records it.
func TestOpenRefusesDevelopmentSchema(t *testing.T) {
	url := freshSchema(t)
	db := mustOpen(t, url, herald.StoreConfig{})
	var names []string
	rows, err := db.Pool().Query(context.Background(), `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	// Every migration file, by name, in order.
	files, _ := filepath.Glob("migrations/*.sql")
	for i := range files {
		files[i] = filepath.Base(files[i])
	}
	if len(files) < 2 || !slices.Equal(names, files) {
		t.Fatalf("schema_migrations = %q, want %q", names, files)
	}
	if _, err := db.Pool().Exec(context.Background(), `INSERT INTO schema_migrations (name) VALUES ('migrations/0002_follow_position.sql')`); err != nil {
		t.Fatal(err)
	}
	again, err := postgres.Open(context.Background(), url, herald.StoreConfig{})
	if err == nil {
		again.Close()
		t.Fatal("Open accepted a development-build schema")
	}
	if !errors.Is(err, storeutil.ErrDevelopmentSchema) {
		t.Fatalf("Open = %v, want ErrDevelopmentSchema", err)
	}
}
