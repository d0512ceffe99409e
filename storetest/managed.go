package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Managed/List", testManagedList)
	register("Managed/Streams", testManagedStreams)
}

// managedIDs lists accountID's managed channels, checking each is shown as
// its admin sees it, and returns their ids in order and roles by id.
func managedIDs(t *testing.T, h *Harness, accountID string) ([]string, map[string]string) {
	t.Helper()
	list, err := h.Store.ListManagedChannels(h.Ctx, accountID)
	NoErr(t, err, "ListManagedChannels")
	if list == nil {
		t.Fatal("ListManagedChannels returned nil, want an empty list")
	}
	ids := []string{}
	roles := map[string]string{}
	for _, c := range list {
		if c.Viewer.Role == nil || c.InviteCode == "" {
			t.Fatalf("managed channel %s without admin view: role %v, invite %q", c.ID, c.Viewer.Role, c.InviteCode)
		}
		ids = append(ids, c.ID)
		roles[c.ID] = *c.Viewer.Role
	}
	return ids, roles
}

func testManagedList(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	quiet := h.Channel(owner)
	older := h.Channel(owner, Unlisted)
	other := h.Account("other")
	newer := h.Channel(other)
	_, err := s.AddAdmin(h.Ctx, other.ID, newer.ID, owner.Username)
	NoErr(t, err, "AddAdmin owner to other's channel")
	h.Post(owner, older, "old news")
	h.Clock.Advance(time.Minute)
	last := h.Post(other, newer, "new news")

	list, err := s.ListManagedChannels(h.Ctx, owner.ID)
	NoErr(t, err, "ListManagedChannels")
	ids, roles := managedIDs(t, h, owner.ID)
	if want := []string{newer.ID, older.ID, quiet.ID}; !slices.Equal(ids, want) {
		t.Fatalf("order = %v, want %v (most recently active first, silent last)", ids, want)
	}
	if roles[newer.ID] != herald.RoleAdmin || roles[older.ID] != herald.RoleOwner || roles[quiet.ID] != herald.RoleOwner {
		t.Fatalf("roles = %v", roles)
	}
	if list[0].InviteCode != newer.InviteCode || list[2].InviteCode != quiet.InviteCode {
		t.Fatalf("invite codes = %q, %q, want %q, %q", list[0].InviteCode, list[2].InviteCode, newer.InviteCode, quiet.InviteCode)
	}
	if list[0].LastUpdateAt == nil || !list[0].LastUpdateAt.Equal(last.CreatedAt) || list[2].LastUpdateAt != nil {
		t.Fatalf("LastUpdateAt = %v / %v", list[0].LastUpdateAt, list[2].LastUpdateAt)
	}
	if list[1].Viewer.Following || list[1].Listed {
		t.Fatalf("unlisted, unfollowed channel view = %+v", list[1])
	}

	// Followers (even of every channel) manage nothing.
	fan := h.Follower(quiet)
	_, err = s.FollowByInvite(h.Ctx, fan.ID, older.InviteCode)
	NoErr(t, err, "FollowByInvite")
	if ids, _ := managedIDs(t, h, fan.ID); len(ids) != 0 {
		t.Fatalf("follower manages %v", ids)
	}
	// Following one's own channel changes nothing but Viewer.Following.
	_, err = s.Follow(h.Ctx, owner.ID, quiet.ID)
	NoErr(t, err, "owner follows")
	list, err = s.ListManagedChannels(h.Ctx, owner.ID)
	NoErr(t, err, "ListManagedChannels after follow")
	if len(list) != 3 || list[2].ID != quiet.ID || !list[2].Viewer.Following {
		t.Fatalf("after follow: %+v", list)
	}

	// A new admin sees the channel; removed, they no longer do.
	adm := h.Admin(owner, quiet)
	if ids, roles := managedIDs(t, h, adm.ID); !slices.Equal(ids, []string{quiet.ID}) || roles[quiet.ID] != herald.RoleAdmin {
		t.Fatalf("admin manages %v %v", ids, roles)
	}
	NoErr(t, s.RemoveAdmin(h.Ctx, owner.ID, quiet.ID, adm.ID), "RemoveAdmin")
	if ids, _ := managedIDs(t, h, adm.ID); len(ids) != 0 {
		t.Fatalf("removed admin still manages %v", ids)
	}

	// A transfer swaps the roles.
	heir := h.Admin(owner, older)
	NoErr(t, s.TransferOwnership(h.Ctx, owner.ID, older.ID, heir.ID), "TransferOwnership")
	if _, roles := managedIDs(t, h, heir.ID); roles[older.ID] != herald.RoleOwner {
		t.Fatalf("heir roles = %v", roles)
	}
	if _, roles := managedIDs(t, h, owner.ID); roles[older.ID] != herald.RoleAdmin {
		t.Fatalf("old owner roles = %v", roles)
	}

	// A deleted channel vanishes for every admin.
	NoErr(t, s.DeleteChannel(h.Ctx, other.ID, newer.ID), "DeleteChannel")
	if ids, _ := managedIDs(t, h, owner.ID); slices.Contains(ids, newer.ID) || len(ids) != 2 {
		t.Fatalf("after delete, owner manages %v", ids)
	}
	if ids, _ := managedIDs(t, h, other.ID); len(ids) != 0 {
		t.Fatalf("after delete, other manages %v", ids)
	}
}

// testManagedStreams: an admin's real-time streams carry the channels they
// administer, followed or not, each once.
func testManagedStreams(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	mine := h.Channel(owner, Unlisted)
	followedToo := h.Channel(owner)
	other := h.Account("other")
	theirs := h.Channel(other)
	elsewhere := h.Channel(other)
	adm := h.Admin(other, theirs)
	_, err := s.Follow(h.Ctx, owner.ID, followedToo.ID)
	NoErr(t, err, "owner follows own channel")
	_, err = s.Follow(h.Ctx, owner.ID, elsewhere.ID)
	NoErr(t, err, "owner follows another channel")
	_, err = s.AddAdmin(h.Ctx, other.ID, theirs.ID, owner.Username)
	NoErr(t, err, "AddAdmin")

	streams := func(a *herald.Account) []string {
		t.Helper()
		got, err := s.FollowedStreams(h.Ctx, a.ID)
		NoErr(t, err, "FollowedStreams")
		slices.Sort(got)
		return got
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }

	if got, want := streams(owner), sorted(mine.ID, followedToo.ID, theirs.ID, elsewhere.ID); !slices.Equal(got, want) {
		t.Fatalf("owner streams = %v, want %v (each once)", got, want)
	}
	if got, want := streams(adm), sorted(theirs.ID); !slices.Equal(got, want) {
		t.Fatalf("admin streams = %v, want %v", got, want)
	}
	fan := h.Follower(mine)
	if got, want := streams(fan), sorted(mine.ID); !slices.Equal(got, want) {
		t.Fatalf("follower streams = %v, want %v", got, want)
	}

	// Removal and deletion take the channel away.
	NoErr(t, s.RemoveAdmin(h.Ctx, other.ID, theirs.ID, adm.ID), "RemoveAdmin")
	if got := streams(adm); len(got) != 0 {
		t.Fatalf("removed admin streams = %v", got)
	}
	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, mine.ID), "DeleteChannel")
	if got, want := streams(owner), sorted(followedToo.ID, theirs.ID, elsewhere.ID); !slices.Equal(got, want) {
		t.Fatalf("owner streams after delete = %v, want %v", got, want)
	}
}

func init() {
	register("Managed/RoleEvents", testManagedRoleEvents)
}

// testManagedRoleEvents checks that giving and taking an admin role tells
// that account's own stream (so its open streams pick the channel up or let
// it go), with the channel's position at the change, and tells no one else.
func testManagedRoleEvents(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	helper := h.Account("helper")
	for i := 0; i < 2; i++ {
		h.Post(owner, ch, "before")
	}
	head := channelHead(t, h, ch.ID)
	h.Events.Take()
	_, err := s.AddAdmin(h.Ctx, owner.ID, ch.ID, helper.Username)
	NoErr(t, err, "AddAdmin")
	live := h.Events.Take()
	if len(live) != 1 || live[0].Stream != herald.AccountStream(helper.ID) || live[0].Type != herald.EventChannelAdminAdded ||
		live[0].ChannelID != ch.ID || live[0].ChannelSeq == nil || *live[0].ChannelSeq != head {
		t.Fatalf("AddAdmin published %s, want one channel.admin_added on the helper's stream at channel_seq %d", JSON(t, live), head)
	}
	if n := channelHead(t, h, ch.ID); n != head {
		t.Fatalf("channel head moved from %d to %d on AddAdmin", head, n)
	}

	err = s.RemoveAdmin(h.Ctx, owner.ID, ch.ID, helper.ID)
	NoErr(t, err, "RemoveAdmin")
	live = h.Events.Take()
	if len(live) != 1 || live[0].Stream != herald.AccountStream(helper.ID) || live[0].Type != herald.EventChannelAdminRemoved || live[0].ChannelID != ch.ID {
		t.Fatalf("RemoveAdmin published %s, want one channel.admin_removed on the helper's stream", JSON(t, live))
	}

	// Read back from the durable log, with the channel filled in as for
	// follows.
	evs, ok, err := s.EventsAfter(h.Ctx, herald.AccountStream(helper.ID), 0, 100)
	NoErr(t, err, "EventsAfter")
	if !ok || len(evs) != 2 || evs[0].Type != herald.EventChannelAdminAdded || evs[1].Type != herald.EventChannelAdminRemoved {
		t.Fatalf("helper's log: %s", JSON(t, evs))
	}
	if evs[0].ChannelSeq == nil || *evs[0].ChannelSeq != head || evs[0].Channel == nil || evs[0].Channel.ID != ch.ID ||
		evs[1].Channel == nil || evs[1].Channel.ID != ch.ID {
		t.Fatalf("helper's log lacks position or channel: %s", JSON(t, evs))
	}
	// The owner's own stream tells of the channel's creation (so the
	// owner's open streams carry it from its start, position 0) and of
	// nothing the helper's role went through.
	own, _, err := s.EventsAfter(h.Ctx, herald.AccountStream(owner.ID), 0, 100)
	NoErr(t, err, "EventsAfter owner")
	var roles []herald.Event
	for _, ev := range own {
		if ev.Type == herald.EventChannelAdminAdded || ev.Type == herald.EventChannelAdminRemoved {
			roles = append(roles, ev)
		}
	}
	if len(roles) != 1 || roles[0].Type != herald.EventChannelAdminAdded || roles[0].ChannelID != ch.ID ||
		roles[0].ChannelSeq == nil || *roles[0].ChannelSeq != 0 || roles[0].Channel == nil || roles[0].Channel.InviteCode != "" {
		t.Fatalf("owner's stream: %s, want only the creation's channel.admin_added at 0, without the invite", JSON(t, roles))
	}
}
