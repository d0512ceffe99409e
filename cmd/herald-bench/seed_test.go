package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sqlite"
)

// The seed's channels must be channels the API could have created, varied
// enough for the directory benchmark to mean something, and reproducible.
func TestSeedChannels(t *testing.T) {
	const n = 5000
	g := newChannelGen(1, n)
	handles := map[string]bool{}
	cats := map[string]int{}
	accented, french, handled, active := 0, 0, 0, 0
	for i := 0; i < n; i++ {
		sc := g.next()
		c := sc.Channel
		if err := c.Validate(); err != nil {
			t.Fatalf("channel %d %+v: %v", i, c, err)
		}
		if !c.Listed || c.FollowerCount < 0 || sc.UpdatesThisWeek < 0 {
			t.Fatalf("channel %d: %+v", i, sc)
		}
		if c.Handle != "" {
			if handles[c.Handle] {
				t.Fatalf("handle %q repeated", c.Handle)
			}
			handles[c.Handle] = true
			handled++
		}
		cats[c.Category]++
		if strings.ContainsAny(c.Name+c.Description, "éèêàâîôûçÉÎ") {
			accented++
		}
		if c.Language == "fr" {
			french++
		}
		if sc.UpdatesThisWeek > 0 {
			active++
		}
	}
	if len(cats) != len(herald.Categories) {
		t.Errorf("%d categories used, want all %d", len(cats), len(herald.Categories))
	}
	for name, got := range map[string]int{"accented": accented, "french": french, "with handle": handled, "active": active} {
		if got < n/20 || got > n*9/10 {
			t.Errorf("%s: %d of %d", name, got, n)
		}
	}
	a, b := newChannelGen(7, 10), newChannelGen(7, 10)
	for i := 0; i < 10; i++ {
		x, y := a.next(), b.next()
		if x.Channel.Name != y.Channel.Name || x.Channel.FollowerCount != y.Channel.FollowerCount {
			t.Fatalf("same seed, different channels: %+v vs %+v", x, y)
		}
	}
}

// Seeded channels are the store's own: found in the directory (the
// triggers indexed them), listed with their follower counts, and their
// logs read as empty (head 0, resumable from 0), not as unknown streams
// that would make real-time clients resync forever.
func TestSeededChannels(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, owner, err := openSeeded(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	g := newChannelGen(3, 50)
	chans := []seedChannel{{Channel: herald.Channel{Name: "Météo Zygomatique", Category: "weather", Country: "FR", Language: "fr",
		Listed: true, FollowerCount: 42, CreatedAt: time.Now()}, UpdatesThisWeek: 3}}
	for range 49 {
		chans = append(chans, g.next())
	}
	if err := b.seedChannels(ctx, owner, chans); err != nil {
		t.Fatal(err)
	}
	if err := b.optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	// Seeding again reuses the owner.
	b, owner2, err := openSeeded(ctx, dir)
	if err != nil || owner2 != owner {
		t.Fatalf("owner %q then %q, %v", owner, owner2, err)
	}
	b.close()

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "herald.db"), herald.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := chans[0].Channel.ID
	p, err := db.SearchDirectory(ctx, "", herald.DirectoryQuery{Text: "meteo zygomatique", Limit: 10})
	if err != nil || len(p.Channels) != 1 || p.Channels[0].ID != id || p.Channels[0].FollowerCount != 42 {
		t.Fatalf("directory search: %+v, %v", p, err)
	}
	heads, err := db.StreamHeads(ctx, []string{id, "unknown"})
	if err != nil {
		t.Fatal(err)
	}
	if seq, ok := heads[id]; !ok || seq != 0 || len(heads) != 1 {
		t.Fatalf("StreamHeads = %v", heads)
	}
	evs, ok, err := db.EventsAfter(ctx, id, 0, 10)
	if err != nil || !ok || len(evs) != 0 {
		t.Fatalf("EventsAfter(seeded, 0) = %v ok=%v %v", evs, ok, err)
	}
	if _, ok, _ := db.EventsAfter(ctx, id, 1, 10); ok {
		t.Fatal("a cursor ahead of an empty log must resync")
	}
	u := &herald.Update{Text: "first"}
	if err := db.CreateUpdate(ctx, owner, id, u); err != nil {
		t.Fatal(err)
	}
	evs, ok, err = db.EventsAfter(ctx, id, 0, 10)
	if err != nil || !ok || len(evs) != 1 || evs[0].Seq != 1 {
		t.Fatalf("after the first post: %v ok=%v %v", evs, ok, err)
	}
}
