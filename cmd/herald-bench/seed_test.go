package main

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
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
