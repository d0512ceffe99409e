package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("FollowHistory/UnfollowErased", testFollowHistoryUnfollow)
	register("FollowHistory/ChannelDeleted", testFollowHistoryChannelDeleted)
}

// naming returns the events of an account stream's log (from its floor on)
// that name channelID, and whether the log still resumes from 0.
func naming(t *testing.T, h *Harness, accountID, channelID string) (found []herald.Event, fromZero bool) {
	t.Helper()
	stream := herald.AccountStream(accountID)
	_, fromZero, err := h.Store.EventsAfter(h.Ctx, stream, 0, 1000)
	NoErr(t, err, "EventsAfter from 0")
	heads, err := h.Store.StreamHeads(h.Ctx, []string{stream})
	NoErr(t, err, "StreamHeads")
	// Walk every resumable position: whatever cursor a device holds, the
	// log it can read never names the channel.
	for after := int64(0); after <= heads[stream]; after++ {
		evs, ok, err := h.Store.EventsAfter(h.Ctx, stream, after, 1000)
		NoErr(t, err, "EventsAfter")
		if !ok {
			continue
		}
		for _, ev := range evs {
			if ev.ChannelID == channelID {
				found = append(found, ev)
			}
		}
		break
	}
	return found, fromZero
}

// An unfollow is readable from the account's stream for herald.UnfollowTrail
// (its devices hear it, or resume past it), then it is erased with the
// follows of the same channel before it. A device resuming from before the
// erased events is told to resync, never silently left following.
func testFollowHistoryUnfollow(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	left, kept := h.Channel(owner), h.Channel(owner)
	a := h.Account("a")
	stream := herald.AccountStream(a.ID)

	_, err := s.Follow(h.Ctx, a.ID, left.ID) // seq 1
	NoErr(t, err, "Follow")
	NoErr(t, s.Unfollow(h.Ctx, a.ID, left.ID), "Unfollow") // seq 2
	_, err = s.Follow(h.Ctx, a.ID, kept.ID)                // seq 3
	NoErr(t, err, "Follow kept")
	_, err = s.Follow(h.Ctx, a.ID, left.ID) // seq 4
	NoErr(t, err, "Follow again")
	NoErr(t, s.Unfollow(h.Ctx, a.ID, left.ID), "Unfollow again") // seq 5
	h.Clock.Advance(time.Minute)
	_, err = s.Follow(h.Ctx, a.ID, left.ID) // seq 6: the account follows again, later
	NoErr(t, err, "Follow a third time")

	// Within the trail, every device can read the whole history.
	h.Clock.Advance(herald.UnfollowTrail - 2*time.Minute)
	_, err = s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired within the trail")
	evs, ok, err := s.EventsAfter(h.Ctx, stream, 0, 100)
	NoErr(t, err, "EventsAfter")
	if !ok || len(evs) != 6 {
		t.Fatalf("within the trail: EventsAfter(0) = %d events, ok=%v; want all 6", len(evs), ok)
	}

	// Past it, the unfollows and the follows before them are gone; the
	// later follow, still current, stays.
	h.Clock.Advance(2 * time.Minute)
	_, err = s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired past the trail")
	found, fromZero := naming(t, h, a.ID, left.ID)
	if fromZero {
		t.Error("EventsAfter(0) still resumes after the unfollows were erased; want a resync")
	}
	if len(found) != 1 || found[0].Seq != 6 || found[0].Type != herald.EventChannelFollowed {
		t.Fatalf("events naming the left channel after the trail = %+v, want only the current follow (seq 6)", found)
	}
	for _, after := range []int64{0, 1, 2, 3, 4} {
		_, ok, err := s.EventsAfter(h.Ctx, stream, after, 100)
		NoErr(t, err, "EventsAfter")
		if ok {
			t.Errorf("resuming after seq %d (before the erased unfollow) is ok; want a resync", after)
		}
	}
	evs, ok, err = s.EventsAfter(h.Ctx, stream, 5, 100)
	NoErr(t, err, "EventsAfter(5)")
	if !ok || len(evs) != 1 || evs[0].Seq != 6 {
		t.Fatalf("resuming at the erased unfollow: %+v ok=%v, want seq 6", evs, ok)
	}
	list, err := s.ListFollowedChannels(h.Ctx, a.ID)
	NoErr(t, err, "ListFollowedChannels")
	if len(list) != 2 {
		t.Fatalf("follows after the trail = %d, want 2 (erasing history changes no follow)", len(list))
	}
	heads, err := s.StreamHeads(h.Ctx, []string{stream})
	NoErr(t, err, "StreamHeads")
	if heads[stream] != 6 {
		t.Fatalf("account stream head = %d, want 6", heads[stream])
	}
	// The stream goes on from its head.
	NoErr(t, s.Unfollow(h.Ctx, a.ID, kept.ID), "Unfollow kept")
	evs, ok, err = s.EventsAfter(h.Ctx, stream, 6, 100)
	NoErr(t, err, "EventsAfter(6)")
	if !ok || len(evs) != 1 || evs[0].Seq != 7 || evs[0].Type != herald.EventChannelUnfollowed {
		t.Fatalf("after the trail, new events: %+v ok=%v", evs, ok)
	}
}

// Deleting a channel erases, at once, every account-stream event that names
// it (follows, unfollows, admin roles): the channel's stream said
// channel.deleted, and nothing is left to resync to, so the other events of
// those streams resume as before.
func testFollowHistoryChannelDeleted(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	doomed, other := h.Channel(owner), h.Channel(owner)
	admin := h.Admin(owner, doomed)
	a, b := h.Account("a"), h.Account("b")
	_, err := s.Follow(h.Ctx, a.ID, doomed.ID)
	NoErr(t, err, "Follow")
	_, err = s.Follow(h.Ctx, a.ID, other.ID)
	NoErr(t, err, "Follow other")
	_, err = s.Follow(h.Ctx, b.ID, doomed.ID)
	NoErr(t, err, "Follow b")
	NoErr(t, s.Unfollow(h.Ctx, b.ID, doomed.ID), "Unfollow b")
	for _, acc := range []*herald.Account{owner, admin, a, b} {
		if found, _ := naming(t, h, acc.ID, doomed.ID); len(found) == 0 {
			t.Fatalf("control: %s's stream has no event naming the channel", acc.Username)
		}
	}

	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, doomed.ID), "DeleteChannel")
	for _, acc := range []*herald.Account{owner, admin, a, b} {
		found, fromZero := naming(t, h, acc.ID, doomed.ID)
		if len(found) != 0 {
			t.Errorf("%s's stream still names the deleted channel: %+v", acc.Username, found)
		}
		if !fromZero {
			t.Errorf("%s's stream no longer resumes from 0: erasing a deleted channel needs no resync", acc.Username)
		}
	}
	evs, ok, err := s.EventsAfter(h.Ctx, herald.AccountStream(a.ID), 0, 100)
	NoErr(t, err, "EventsAfter a")
	if !ok || len(evs) != 1 || evs[0].ChannelID != other.ID || evs[0].Seq != 2 {
		t.Fatalf("a's stream after the deletion = %+v ok=%v, want only the follow of the other channel (seq 2)", evs, ok)
	}
}
