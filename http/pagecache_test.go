package http_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/heraldhq/herald/client"
)

// TestPageCacheNeverStale reads a page after each kind of write and checks
// the write shows at once, as it must with the page cache on.
func TestPageCacheNeverStale(t *testing.T) {
	e := newEnv(t)
	owner, alice := e.signup("owner"), e.signup("alice")
	ch := e.channel(owner, "News")
	if _, err := alice.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	read := func(c *user) []string {
		t.Helper()
		us, err := c.ListUpdates(ctx, ch.ID, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range us {
			s := u.Text
			if n := u.Reactions["👍"]; n > 0 {
				s += fmt.Sprintf(" 👍%d", n)
			}
			if u.Viewer.Reaction != nil {
				s += " mine:" + *u.Viewer.Reaction
			}
			out = append(out, s)
		}
		return out
	}
	want := func(got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("page = %q, want %q", got, want)
		}
	}
	want(read(alice))
	want(read(alice)) // cached empty page
	u := e.post(owner, ch.ID, "one")
	want(read(alice), "one")
	want(read(e.anonUser()), "one")
	if _, err := owner.EditUpdate(ctx, ch.ID, u.ID, "one, edited"); err != nil {
		t.Fatal(err)
	}
	want(read(alice), "one, edited")
	if _, err := alice.React(ctx, ch.ID, u.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	want(read(alice), "one, edited 👍1 mine:👍")
	want(read(owner), "one, edited 👍1")
	want(read(e.anonUser()), "one, edited 👍1")
	if _, err := alice.Unreact(ctx, ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	want(read(alice), "one, edited")
	if err := owner.DeleteUpdate(ctx, ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	want(read(alice))

	// Visibility: an unlisted channel's page disappears for a follower who
	// leaves, and for anonymous readers once unlisted.
	e.post(owner, ch.ID, "two")
	want(read(alice), "two")
	if _, err := owner.UpdateChannel(ctx, ch.ID, client.ChannelPatch{Listed: client.Ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.anon.ListUpdates(ctx, ch.ID, client.ListOptions{}); !client.IsStatus(err, 404) {
		t.Fatalf("anonymous read of an unlisted channel: %v", err)
	}
	want(read(alice), "two")
	if err := alice.Unfollow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ListUpdates(ctx, ch.ID, client.ListOptions{}); !client.IsStatus(err, 404) {
		t.Fatalf("former follower reads an unlisted channel: %v", err)
	}
	if err := owner.DeleteChannel(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.ListUpdates(ctx, ch.ID, client.ListOptions{}); !client.IsStatus(err, 404) {
		t.Fatalf("read of a deleted channel: %v", err)
	}
}

// TestPageCacheReadYourWrites posts and reads concurrently: every reader
// that got its 201 finds its update on the next read.
func TestPageCacheReadYourWrites(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "Busy")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				u, err := owner.PostUpdate(ctx, ch.ID, fmt.Sprintf("w%d-%d", w, i), nil)
				if err != nil {
					t.Error(err)
					return
				}
				us, err := owner.ListUpdates(ctx, ch.ID, client.ListOptions{Limit: 100})
				if err != nil {
					t.Error(err)
					return
				}
				found := false
				for _, x := range us {
					found = found || x.ID == u.ID
				}
				if !found {
					t.Errorf("update %s (seq %d) missing from the page read after its 201", u.Text, u.Seq)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func (e *env) anonUser() *user { return &user{Client: e.anon} }
