package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Follow/ChannelPosition", testFollowPosition)
}

// followedEvents returns the account stream's channel.followed events for
// ch, read back from the durable log.
func followedEvents(t *testing.T, h *Harness, accountID, channelID string) []herald.Event {
	t.Helper()
	evs, ok, err := h.Store.EventsAfter(h.Ctx, herald.AccountStream(accountID), 0, 100)
	NoErr(t, err, "EventsAfter account")
	if !ok {
		t.Fatal("EventsAfter account: history incomplete")
	}
	var out []herald.Event
	for _, ev := range evs {
		if ev.Type == herald.EventChannelFollowed && ev.ChannelID == channelID {
			out = append(out, ev)
		}
	}
	return out
}

func channelHead(t *testing.T, h *Harness, channelID string) int64 {
	t.Helper()
	heads, err := h.Store.StreamHeads(h.Ctx, []string{channelID})
	NoErr(t, err, "StreamHeads")
	seq, ok := heads[channelID]
	if !ok {
		t.Fatalf("channel %s has no stream head", channelID)
	}
	return seq
}

// testFollowPosition checks that channel.followed carries the channel's
// stream head at the follow, live and read back, so that a real-time stream
// can join the channel exactly there whatever the clocks say.
func testFollowPosition(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	a := h.Account("a")

	for i := 0; i < 3; i++ {
		h.Post(owner, ch, "before")
	}
	head := channelHead(t, h, ch.ID)
	if head < 3 {
		t.Fatalf("channel head after 3 posts = %d", head)
	}
	h.Events.Take()
	_, err := s.Follow(h.Ctx, a.ID, ch.ID)
	NoErr(t, err, "Follow")
	live := h.Events.Stream(herald.AccountStream(a.ID))
	if len(live) != 1 || live[0].Type != herald.EventChannelFollowed || live[0].ChannelSeq == nil || *live[0].ChannelSeq != head {
		t.Fatalf("published %s, want channel.followed with channel_seq %d", JSON(t, live), head)
	}
	got := followedEvents(t, h, a.ID, ch.ID)
	if len(got) != 1 || got[0].ChannelSeq == nil || *got[0].ChannelSeq != head {
		t.Fatalf("EventsAfter: %s, want one channel.followed with channel_seq %d", JSON(t, got), head)
	}
	// The follow itself adds nothing to the channel's stream.
	if n := channelHead(t, h, ch.ID); n != head {
		t.Fatalf("channel head moved from %d to %d on follow", head, n)
	}

	// What the channel logs after the position is exactly what was posted
	// after the follow, even with the clock set back before the posts that
	// preceded it: the position is no timestamp.
	h.Clock.Set(Start.Add(-time.Hour))
	after := h.Post(owner, ch, "after")
	evs, ok, err := s.EventsAfter(h.Ctx, ch.ID, *got[0].ChannelSeq, 100)
	NoErr(t, err, "EventsAfter channel")
	if !ok || len(evs) != 1 || evs[0].Type != herald.EventUpdateCreated || evs[0].UpdateID != after.ID || evs[0].ChannelSeq != nil {
		t.Fatalf("channel events after the follow: %s ok=%v", JSON(t, evs), ok)
	}

	// Unfollow and follow again by invite: the new position is the new head.
	NoErr(t, s.Unfollow(h.Ctx, a.ID, ch.ID), "Unfollow")
	h.Post(owner, ch, "while away")
	head2 := channelHead(t, h, ch.ID)
	if head2 <= head {
		t.Fatalf("channel head %d did not move past %d", head2, head)
	}
	h.Events.Take()
	_, err = s.FollowByInvite(h.Ctx, a.ID, ch.InviteCode)
	NoErr(t, err, "FollowByInvite")
	live = h.Events.Take()
	if len(live) != 1 || live[0].ChannelSeq == nil || *live[0].ChannelSeq != head2 {
		t.Fatalf("FollowByInvite published %s, want channel_seq %d", JSON(t, live), head2)
	}
	got = followedEvents(t, h, a.ID, ch.ID)
	if len(got) != 2 || *got[0].ChannelSeq != head || got[1].ChannelSeq == nil || *got[1].ChannelSeq != head2 {
		t.Fatalf("EventsAfter after refollow: %s, want channel_seq %d then %d", JSON(t, got), head, head2)
	}
	// Only channel.followed carries a position.
	all, _, err := s.EventsAfter(h.Ctx, herald.AccountStream(a.ID), 0, 100)
	NoErr(t, err, "EventsAfter account")
	for _, ev := range all {
		if ev.Type != herald.EventChannelFollowed && ev.ChannelSeq != nil {
			t.Fatalf("%s event carries channel_seq %d", ev.Type, *ev.ChannelSeq)
		}
	}

	// A channel with nothing logged yet: the position is 0, present.
	empty := h.Channel(owner, Unlisted)
	b := h.Account("b")
	_, err = s.FollowByInvite(h.Ctx, b.ID, empty.InviteCode)
	NoErr(t, err, "FollowByInvite empty")
	got = followedEvents(t, h, b.ID, empty.ID)
	if want := channelHead(t, h, empty.ID); len(got) != 1 || got[0].ChannelSeq == nil || *got[0].ChannelSeq != want {
		t.Fatalf("empty channel: %s, want channel_seq %d", JSON(t, got), want)
	}
}
