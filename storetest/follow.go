package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Follow/CountAndIdempotence", testFollowCount)
	register("Follow/Mute", testFollowMute)
	register("Follow/ListFollowed", testFollowList)
	register("Follow/AccountStreamEvents", testFollowEvents)
}

func followerCount(t *testing.T, h *Harness, ch *herald.Channel) int64 {
	t.Helper()
	c, err := h.Store.FindChannel(h.Ctx, "", ch.ID) // listed channels only
	if err != nil {
		t.Fatalf("FindChannel: %v", err)
	}
	return c.FollowerCount
}

func testFollowCount(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	a, b := h.Account("a"), h.Account("b")

	got, err := s.Follow(h.Ctx, a.ID, ch.ID)
	NoErr(t, err, "Follow")
	if !got.Viewer.Following || got.Viewer.Muted || got.FollowerCount != 1 || got.Viewer.Role != nil || got.InviteCode != "" {
		t.Fatalf("Follow = %+v", got)
	}
	for i := 0; i < 3; i++ {
		got, err = s.Follow(h.Ctx, a.ID, ch.ID)
		NoErr(t, err, "Follow again")
	}
	if got.FollowerCount != 1 || followerCount(t, h, ch) != 1 {
		t.Fatalf("repeated Follow counted twice: %d", got.FollowerCount)
	}
	_, err = s.Follow(h.Ctx, b.ID, ch.ID)
	NoErr(t, err, "Follow b")
	if n := followerCount(t, h, ch); n != 2 {
		t.Fatalf("follower_count = %d, want 2", n)
	}
	NoErr(t, s.Unfollow(h.Ctx, a.ID, ch.ID), "Unfollow")
	NoErr(t, s.Unfollow(h.Ctx, a.ID, ch.ID), "Unfollow again")
	if n := followerCount(t, h, ch); n != 1 {
		t.Fatalf("follower_count = %d, want 1", n)
	}
	got, err = s.FindChannel(h.Ctx, a.ID, ch.ID)
	NoErr(t, err, "FindChannel")
	if got.Viewer.Following {
		t.Fatal("still following after Unfollow")
	}
	_, err = s.Follow(h.Ctx, a.ID, "unknown")
	WantCode(t, err, herald.ENOTFOUND, "Follow unknown channel")
	WantCode(t, s.Unfollow(h.Ctx, a.ID, "unknown"), herald.ENOTFOUND, "Unfollow unknown channel")
	// The owner may follow their own channel; it counts like anyone's follow.
	_, err = s.Follow(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "owner follows")
	if n := followerCount(t, h, ch); n != 2 {
		t.Fatalf("follower_count = %d, want 2", n)
	}
}

func testFollowMute(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	a := h.Account("a")
	_, err := s.SetMuted(h.Ctx, a.ID, ch.ID, true)
	WantKind(t, err, herald.ECONFLICT, "not-following", "mute without following")
	_, err = s.Follow(h.Ctx, a.ID, ch.ID)
	NoErr(t, err, "Follow")
	got, err := s.SetMuted(h.Ctx, a.ID, ch.ID, true)
	NoErr(t, err, "mute")
	if !got.Viewer.Muted || !got.Viewer.Following {
		t.Fatalf("SetMuted(true) = %+v", got.Viewer)
	}
	got, err = s.FindChannel(h.Ctx, a.ID, ch.ID)
	NoErr(t, err, "FindChannel")
	if !got.Viewer.Muted {
		t.Fatal("mute not kept")
	}
	list, err := s.ListFollowedChannels(h.Ctx, a.ID)
	NoErr(t, err, "ListFollowedChannels")
	if len(list) != 1 || !list[0].Viewer.Muted {
		t.Fatalf("ListFollowedChannels = %+v", list)
	}
	got, err = s.SetMuted(h.Ctx, a.ID, ch.ID, false)
	NoErr(t, err, "unmute")
	if got.Viewer.Muted {
		t.Fatal("still muted")
	}
	// Muting is personal: nobody else's view changes.
	b := h.Follower(ch)
	got, err = s.FindChannel(h.Ctx, b.ID, ch.ID)
	NoErr(t, err, "FindChannel b")
	if got.Viewer.Muted {
		t.Fatal("another follower sees a mute")
	}
}

func testFollowList(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	quiet := h.Channel(owner)
	older := h.Channel(owner)
	newer := h.Channel(owner, Unlisted)
	a := h.Account("a")
	for _, ch := range []*herald.Channel{quiet, older, newer} {
		_, err := s.FollowByInvite(h.Ctx, a.ID, ch.InviteCode)
		NoErr(t, err, "FollowByInvite")
	}
	h.Post(owner, older, "old news")
	h.Clock.Advance(time.Minute)
	last := h.Post(owner, newer, "new news")

	list, err := s.ListFollowedChannels(h.Ctx, a.ID)
	NoErr(t, err, "ListFollowedChannels")
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
		if !c.Viewer.Following || c.InviteCode != "" {
			t.Fatalf("followed channel view = %+v", c)
		}
	}
	if want := []string{newer.ID, older.ID, quiet.ID}; !slices.Equal(ids, want) {
		t.Fatalf("order = %v, want %v (most recently active first, silent last)", ids, want)
	}
	if list[0].LastUpdateAt == nil || !list[0].LastUpdateAt.Equal(last.CreatedAt) || list[2].LastUpdateAt != nil {
		t.Fatalf("LastUpdateAt = %v / %v", list[0].LastUpdateAt, list[2].LastUpdateAt)
	}
	streams, err := s.FollowedStreams(h.Ctx, a.ID)
	NoErr(t, err, "FollowedStreams")
	slices.Sort(streams)
	want := []string{quiet.ID, older.ID, newer.ID}
	slices.Sort(want)
	if !slices.Equal(streams, want) {
		t.Fatalf("FollowedStreams = %v, want %v", streams, want)
	}

	// An expired update no longer counts as activity.
	h.Clock.Advance(herald.DefaultRetention)
	list, err = s.ListFollowedChannels(h.Ctx, a.ID)
	NoErr(t, err, "ListFollowedChannels after expiry")
	for _, c := range list {
		if c.LastUpdateAt != nil {
			t.Fatalf("channel %s LastUpdateAt %v after every update expired", c.ID, c.LastUpdateAt)
		}
	}
	empty, err := s.ListFollowedChannels(h.Ctx, owner.ID)
	NoErr(t, err, "ListFollowedChannels none")
	if len(empty) != 0 {
		t.Fatalf("owner follows nothing, got %+v", empty)
	}
}

func testFollowEvents(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	a := h.Account("a")
	stream := herald.AccountStream(a.ID)
	heads, err := s.StreamHeads(h.Ctx, []string{stream})
	NoErr(t, err, "StreamHeads")
	if seq, ok := heads[stream]; !ok || seq != 0 {
		t.Fatalf("new account stream head = %v (known %v), want 0", seq, ok)
	}
	h.Events.Take()
	_, err = s.Follow(h.Ctx, a.ID, ch.ID)
	NoErr(t, err, "Follow")
	_, err = s.Follow(h.Ctx, a.ID, ch.ID)
	NoErr(t, err, "Follow again")
	NoErr(t, s.Unfollow(h.Ctx, a.ID, ch.ID), "Unfollow")
	NoErr(t, s.Unfollow(h.Ctx, a.ID, ch.ID), "Unfollow again")

	live := h.Events.Take()
	if len(live) != 2 || live[0].Type != herald.EventChannelFollowed || live[1].Type != herald.EventChannelUnfollowed {
		t.Fatalf("published %+v, want followed then unfollowed (no-ops publish nothing)", live)
	}
	for i, ev := range live {
		if ev.Stream != stream || ev.Seq != int64(i+1) || ev.ChannelID != ch.ID || ev.Channel == nil || ev.Channel.ID != ch.ID ||
			ev.Channel.InviteCode != "" || ev.Channel.Viewer.Role != nil {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
	evs, ok, err := s.EventsAfter(h.Ctx, stream, 0, 100)
	NoErr(t, err, "EventsAfter")
	if !ok || len(evs) != 2 || evs[0].Seq != 1 || evs[1].Seq != 2 || evs[0].Type != herald.EventChannelFollowed ||
		evs[0].Channel == nil || evs[0].Channel.Name != ch.Name {
		t.Fatalf("EventsAfter = %+v ok=%v", evs, ok)
	}
	// The channel's own stream learns nothing about who follows it.
	chEvents, _, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter channel")
	if len(chEvents) != 0 {
		t.Fatalf("channel stream has follow events: %+v", chEvents)
	}
}
