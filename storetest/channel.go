package storetest

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func init() {
	register("Channel/CreateFind", testChannelCreateFind)
	register("Channel/Validation", testChannelValidation)
	register("Channel/Update", testChannelUpdate)
	register("Channel/Delete", testChannelDelete)
	register("Channel/UnlistedVisibility", testChannelUnlisted)
	register("Channel/Invites", testChannelInvites)
	register("Admin/AddListRemove", testAdminAddListRemove)
	register("Admin/Limit", testAdminLimit)
	register("Admin/Transfer", testAdminTransfer)
}

func ptr[T any](v T) *T { return &v }

func testChannelCreateFind(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := &herald.Channel{Name: "  Weather Lyon ", Description: " Hourly ", Category: "weather", Country: "fr", Language: "fr",
		Listed: true, Handle: "Meteo_Lyon", Verified: true, FollowerCount: 99}
	NoErr(t, s.CreateChannel(h.Ctx, owner.ID, ch), "CreateChannel")
	if ch.ID == "" || len(ch.InviteCode) < 10 || ch.InviteCode == ch.ID || strings.Contains(ch.InviteCode, ch.ID) {
		t.Fatalf("id %q invite %q: want a random id and an independent invite code of >= 10 characters", ch.ID, ch.InviteCode)
	}
	if ch.Name != "Weather Lyon" || ch.Country != "FR" || ch.Handle != "meteo_lyon" || ch.Reactions != herald.ReactionsAny {
		t.Fatalf("not normalized: %+v", ch)
	}
	if ch.Verified || ch.FollowerCount != 0 {
		t.Fatalf("client-set verified/follower_count kept: %+v", ch)
	}
	if ch.Viewer.Role == nil || *ch.Viewer.Role != herald.RoleOwner || !ch.CreatedAt.Equal(Start) {
		t.Fatalf("created channel viewer/created_at: %+v", ch)
	}

	got, err := s.FindChannel(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "FindChannel owner")
	if got.Name != ch.Name || got.InviteCode != ch.InviteCode || got.Viewer.Role == nil || *got.Viewer.Role != herald.RoleOwner ||
		got.Description != "Hourly" || got.Language != "fr" || got.Category != "weather" || !got.Listed || got.LastUpdateAt != nil {
		t.Fatalf("FindChannel(owner) = %+v", got)
	}
	other := h.Account("other")
	got, err = s.FindChannel(h.Ctx, other.ID, ch.ID)
	NoErr(t, err, "FindChannel other")
	if got.InviteCode != "" || got.Viewer.Role != nil || got.Viewer.Following {
		t.Fatalf("FindChannel(stranger) leaks admin data: %+v", got)
	}
	got, err = s.FindChannel(h.Ctx, "", ch.ID)
	NoErr(t, err, "FindChannel anonymous")
	if got.InviteCode != "" || got.Viewer.Role != nil {
		t.Fatalf("FindChannel(anonymous) = %+v", got)
	}
	_, err = s.FindChannel(h.Ctx, owner.ID, "doesnotexist")
	WantCode(t, err, herald.ENOTFOUND, "unknown channel")

	dup := &herald.Channel{Name: "Other", Category: "news", Handle: "meteo_lyon", Listed: true}
	WantKind(t, s.CreateChannel(h.Ctx, owner.ID, dup), herald.ECONFLICT, "handle-taken", "duplicate handle")
	// Channels without handles don't clash with each other.
	h.Channel(owner)
	h.Channel(owner)

	u := h.Post(owner, ch, "first")
	got, err = s.FindChannel(h.Ctx, other.ID, ch.ID)
	NoErr(t, err, "FindChannel after post")
	if got.LastUpdateAt == nil || !got.LastUpdateAt.Equal(u.CreatedAt) {
		t.Fatalf("LastUpdateAt = %v, want %v", got.LastUpdateAt, u.CreatedAt)
	}
}

func testChannelValidation(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	cases := []struct {
		kind string
		ch   herald.Channel
	}{
		{"invalid-name", herald.Channel{Name: "  ", Category: "news"}},
		{"invalid-name", herald.Channel{Name: strings.Repeat("n", herald.ChannelNameMaxLen+1), Category: "news"}},
		{"invalid-description", herald.Channel{Name: "x", Category: "news", Description: strings.Repeat("d", herald.ChannelDescriptionMaxLen+1)}},
		{"invalid-category", herald.Channel{Name: "x", Category: "cats"}},
		{"invalid-country", herald.Channel{Name: "x", Category: "news", Country: "XX"}},
		{"invalid-language", herald.Channel{Name: "x", Category: "news", Language: "not a tag"}},
		{"invalid-reactions", herald.Channel{Name: "x", Category: "news", Reactions: "some"}},
		{"invalid-handle", herald.Channel{Name: "x", Category: "news", Handle: "a!"}},
	}
	for _, c := range cases {
		ch := c.ch
		WantKind(t, h.Store.CreateChannel(h.Ctx, owner.ID, &ch), herald.EINVALID, c.kind, "CreateChannel "+c.kind)
	}
	ch := h.Channel(owner)
	_, err := h.Store.UpdateChannel(h.Ctx, owner.ID, ch.ID, herald.ChannelPatch{Category: ptr("nope")})
	WantKind(t, err, herald.EINVALID, "invalid-category", "UpdateChannel bad category")
	_, err = h.Store.UpdateChannel(h.Ctx, owner.ID, ch.ID, herald.ChannelPatch{Reactions: ptr("")})
	WantKind(t, err, herald.EINVALID, "invalid-reactions", "UpdateChannel empty reactions")
	got, err := h.Store.FindChannel(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "FindChannel")
	if got.Category != "news" || got.Reactions != herald.ReactionsAny {
		t.Fatalf("a refused patch changed the channel: %+v", got)
	}
}

func testChannelUpdate(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	follower := h.Follower(ch)
	h.Events.Take()

	got, err := s.UpdateChannel(h.Ctx, admin.ID, ch.ID, herald.ChannelPatch{Name: ptr(" Renamed "), Listed: ptr(false), Reactions: ptr(herald.ReactionsDefault), Handle: ptr("renamed")})
	NoErr(t, err, "UpdateChannel by admin")
	if got.Name != "Renamed" || got.Listed || got.Reactions != herald.ReactionsDefault || got.Handle != "renamed" || got.Description != ch.Description {
		t.Fatalf("UpdateChannel = %+v", got)
	}
	if got.Viewer.Role == nil || *got.Viewer.Role != herald.RoleAdmin || got.InviteCode == "" {
		t.Fatalf("UpdateChannel viewer = %+v", got.Viewer)
	}
	evs := h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventChannelUpdated || evs[0].Stream != ch.ID || evs[0].Channel == nil ||
		evs[0].Channel.Name != "Renamed" || evs[0].Channel.InviteCode != "" || evs[0].Channel.Viewer.Role != nil {
		t.Fatalf("events = %+v", evs)
	}

	_, err = s.UpdateChannel(h.Ctx, follower.ID, ch.ID, herald.ChannelPatch{Name: ptr("Hijack")})
	WantCode(t, err, herald.EFORBIDDEN, "UpdateChannel by follower")
	stranger := h.Account("stranger")
	_, err = s.UpdateChannel(h.Ctx, stranger.ID, ch.ID, herald.ChannelPatch{Name: ptr("Hijack")})
	WantCode(t, err, herald.ENOTFOUND, "UpdateChannel of unlisted by stranger")
	if evs := h.Events.Take(); len(evs) != 0 {
		t.Fatalf("refused writes published %+v", evs)
	}

	other := h.Channel(owner, func(c *herald.Channel) { c.Handle = "taken" })
	_, err = s.UpdateChannel(h.Ctx, owner.ID, ch.ID, herald.ChannelPatch{Handle: ptr("taken")})
	WantKind(t, err, herald.ECONFLICT, "handle-taken", "UpdateChannel duplicate handle")
	_, err = s.UpdateChannel(h.Ctx, owner.ID, other.ID, herald.ChannelPatch{Handle: ptr("")})
	NoErr(t, err, "clearing a handle")
	_, err = s.UpdateChannel(h.Ctx, owner.ID, ch.ID, herald.ChannelPatch{Handle: ptr("taken")})
	NoErr(t, err, "handle freed by the other channel")
}

func testChannelDelete(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	follower := h.Follower(ch)
	u := h.PostPoll(owner, ch, false, "a", "b")
	_, err := s.SetReaction(h.Ctx, follower.ID, ch.ID, u.ID, "👍")
	NoErr(t, err, "SetReaction")
	_, err = s.Vote(h.Ctx, follower.ID, ch.ID, u.ID, []int{0})
	NoErr(t, err, "Vote")

	WantCode(t, s.DeleteChannel(h.Ctx, admin.ID, ch.ID), herald.EFORBIDDEN, "DeleteChannel by admin")
	WantCode(t, s.DeleteChannel(h.Ctx, follower.ID, ch.ID), herald.EFORBIDDEN, "DeleteChannel by follower")
	h.Events.Take()
	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, ch.ID), "DeleteChannel by owner")
	evs := h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventChannelDeleted || evs[0].Stream != ch.ID || evs[0].ChannelID != ch.ID {
		t.Fatalf("DeleteChannel published %+v, want one channel.deleted", evs)
	}
	_, err = s.FindChannel(h.Ctx, owner.ID, ch.ID)
	WantCode(t, err, herald.ENOTFOUND, "FindChannel after delete")
	_, err = s.FindUpdate(h.Ctx, follower.ID, ch.ID, u.ID)
	WantCode(t, err, herald.ENOTFOUND, "FindUpdate after delete")
	list, err := s.ListFollowedChannels(h.Ctx, follower.ID)
	NoErr(t, err, "ListFollowedChannels")
	if len(list) != 0 {
		t.Fatalf("deleted channel still followed: %+v", list)
	}
	streams, err := s.FollowedStreams(h.Ctx, follower.ID)
	NoErr(t, err, "FollowedStreams")
	if len(streams) != 0 {
		t.Fatalf("FollowedStreams = %v", streams)
	}
	_, ok, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	if ok {
		t.Fatal("a deleted channel's stream still resumes; want resync")
	}
	_, err = s.FindChannelByInvite(h.Ctx, follower.ID, ch.InviteCode)
	WantCode(t, err, herald.ENOTFOUND, "invite of a deleted channel")
	WantCode(t, s.DeleteChannel(h.Ctx, owner.ID, ch.ID), herald.ENOTFOUND, "second delete")
}

func testChannelUnlisted(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner, Unlisted)
	admin := h.Admin(owner, ch)
	stranger := h.Account("stranger")
	u := h.Post(owner, ch, "secret-ish")

	for _, who := range []string{stranger.ID, ""} {
		_, err := s.FindChannel(h.Ctx, who, ch.ID)
		WantCode(t, err, herald.ENOTFOUND, "FindChannel unlisted by non-follower")
		_, err = s.ListUpdates(h.Ctx, who, ch.ID, 0, 20)
		WantCode(t, err, herald.ENOTFOUND, "ListUpdates unlisted by non-follower")
		_, err = s.FindUpdate(h.Ctx, who, ch.ID, u.ID)
		WantCode(t, err, herald.ENOTFOUND, "FindUpdate unlisted by non-follower")
	}
	_, err := s.Follow(h.Ctx, stranger.ID, ch.ID)
	WantCode(t, err, herald.ENOTFOUND, "Follow unlisted by id")
	_, err = s.SetReaction(h.Ctx, stranger.ID, ch.ID, u.ID, "👍")
	WantCode(t, err, herald.ENOTFOUND, "SetReaction unlisted by stranger")

	_, err = s.FindChannel(h.Ctx, admin.ID, ch.ID)
	NoErr(t, err, "FindChannel unlisted by admin")
	got, err := s.FindChannelByInvite(h.Ctx, stranger.ID, ch.InviteCode)
	NoErr(t, err, "FindChannelByInvite")
	if got.ID != ch.ID || got.InviteCode != "" {
		t.Fatalf("FindChannelByInvite = %+v", got)
	}
	got, err = s.FollowByInvite(h.Ctx, stranger.ID, ch.InviteCode)
	NoErr(t, err, "FollowByInvite")
	if !got.Viewer.Following || got.FollowerCount != 1 {
		t.Fatalf("FollowByInvite = %+v", got)
	}
	_, err = s.FindChannel(h.Ctx, stranger.ID, ch.ID)
	NoErr(t, err, "FindChannel unlisted by follower")
	list, err := s.ListUpdates(h.Ctx, stranger.ID, ch.ID, 0, 20)
	NoErr(t, err, "ListUpdates by follower")
	if len(list) != 1 || list[0].ID != u.ID {
		t.Fatalf("ListUpdates = %+v", list)
	}
	_, err = s.Follow(h.Ctx, stranger.ID, ch.ID)
	NoErr(t, err, "Follow again by id once following (idempotent)")
	NoErr(t, s.Unfollow(h.Ctx, stranger.ID, ch.ID), "Unfollow")
	_, err = s.FindChannel(h.Ctx, stranger.ID, ch.ID)
	WantCode(t, err, herald.ENOTFOUND, "FindChannel after unfollowing unlisted")
}

func testChannelInvites(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner, Unlisted)
	admin := h.Admin(owner, ch)
	follower := h.Follower(ch)
	_, err := s.RotateInvite(h.Ctx, follower.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "RotateInvite by follower")
	code, err := s.RotateInvite(h.Ctx, admin.ID, ch.ID)
	NoErr(t, err, "RotateInvite by admin")
	if len(code) < 10 || code == ch.InviteCode {
		t.Fatalf("rotated code %q (old %q)", code, ch.InviteCode)
	}
	late := h.Account("late")
	_, err = s.FollowByInvite(h.Ctx, late.ID, ch.InviteCode)
	WantCode(t, err, herald.ENOTFOUND, "old invite code")
	_, err = s.FindChannelByInvite(h.Ctx, late.ID, ch.InviteCode)
	WantCode(t, err, herald.ENOTFOUND, "old invite code lookup")
	_, err = s.FindChannelByInvite(h.Ctx, late.ID, "")
	WantCode(t, err, herald.ENOTFOUND, "empty invite code")
	_, err = s.FollowByInvite(h.Ctx, late.ID, code)
	NoErr(t, err, "new invite code")
	got, err := s.FindChannel(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "FindChannel")
	if got.InviteCode != code {
		t.Fatalf("owner sees invite %q, want %q", got.InviteCode, code)
	}
}

func testAdminAddListRemove(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	follower := h.Follower(ch)
	bob := h.Account("bob")

	ad, err := s.AddAdmin(h.Ctx, owner.ID, ch.ID, bob.Username)
	NoErr(t, err, "AddAdmin")
	if ad.Account.ID != bob.ID || ad.Role != herald.RoleAdmin {
		t.Fatalf("AddAdmin = %+v", ad)
	}
	_, err = s.AddAdmin(h.Ctx, owner.ID, ch.ID, bob.Username)
	WantKind(t, err, herald.ECONFLICT, "already-admin", "AddAdmin twice")
	_, err = s.AddAdmin(h.Ctx, owner.ID, ch.ID, "no_such_user")
	WantCode(t, err, herald.ENOTFOUND, "AddAdmin unknown username")
	carol := h.Account("carol")
	_, err = s.AddAdmin(h.Ctx, bob.ID, ch.ID, carol.Username)
	WantCode(t, err, herald.EFORBIDDEN, "admin adding an admin")
	_, err = s.AddAdmin(h.Ctx, follower.ID, ch.ID, carol.Username)
	WantCode(t, err, herald.EFORBIDDEN, "follower adding an admin")

	list, err := s.ListAdmins(h.Ctx, bob.ID, ch.ID)
	NoErr(t, err, "ListAdmins by admin")
	if len(list) != 2 || list[0].Account.ID != owner.ID || list[0].Role != herald.RoleOwner || list[1].Account.ID != bob.ID {
		t.Fatalf("ListAdmins = %+v", list)
	}
	_, err = s.ListAdmins(h.Ctx, follower.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "ListAdmins by follower")

	got, err := s.FindChannel(h.Ctx, bob.ID, ch.ID)
	NoErr(t, err, "FindChannel admin")
	if got.Viewer.Role == nil || *got.Viewer.Role != herald.RoleAdmin || got.InviteCode == "" {
		t.Fatalf("admin view = %+v", got)
	}

	WantCode(t, s.RemoveAdmin(h.Ctx, bob.ID, ch.ID, owner.ID), herald.EFORBIDDEN, "admin removing the owner")
	WantKind(t, s.RemoveAdmin(h.Ctx, owner.ID, ch.ID, owner.ID), herald.ECONFLICT, "owner-cannot-be-removed", "owner removing themselves")
	WantCode(t, s.RemoveAdmin(h.Ctx, owner.ID, ch.ID, carol.ID), herald.ENOTFOUND, "removing a non-admin")
	NoErr(t, s.RemoveAdmin(h.Ctx, owner.ID, ch.ID, bob.ID), "owner removing an admin")
	_, err = s.ListAdmins(h.Ctx, bob.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "removed admin lists admins")
	err = s.CreateUpdate(h.Ctx, bob.ID, ch.ID, &herald.Update{Text: "still here?"})
	WantCode(t, err, herald.EFORBIDDEN, "removed admin posting")

	_, err = s.AddAdmin(h.Ctx, owner.ID, ch.ID, carol.Username)
	NoErr(t, err, "AddAdmin carol")
	NoErr(t, s.RemoveAdmin(h.Ctx, carol.ID, ch.ID, carol.ID), "admin leaving")
	list, err = s.ListAdmins(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListAdmins")
	if len(list) != 1 {
		t.Fatalf("ListAdmins after leaving = %+v", list)
	}
}

func testAdminLimit(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	for i := 1; i < herald.MaxAdmins; i++ {
		h.Admin(owner, ch)
	}
	extra := h.Account("extra")
	_, err := h.Store.AddAdmin(h.Ctx, owner.ID, ch.ID, extra.Username)
	WantKind(t, err, herald.ECONFLICT, "too-many-admins", "admin past the limit")
	list, err := h.Store.ListAdmins(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListAdmins")
	if len(list) != herald.MaxAdmins {
		t.Fatalf("%d admins, want %d", len(list), herald.MaxAdmins)
	}
}

func testAdminTransfer(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	bob := h.Admin(owner, ch)
	follower := h.Follower(ch)

	WantCode(t, s.TransferOwnership(h.Ctx, bob.ID, ch.ID, bob.ID), herald.EFORBIDDEN, "admin taking ownership")
	WantCode(t, s.TransferOwnership(h.Ctx, owner.ID, ch.ID, follower.ID), herald.ENOTFOUND, "transfer to a non-admin")
	NoErr(t, s.TransferOwnership(h.Ctx, owner.ID, ch.ID, bob.ID), "TransferOwnership")

	list, err := s.ListAdmins(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListAdmins by old owner")
	if len(list) != 2 || list[0].Account.ID != bob.ID || list[0].Role != herald.RoleOwner || list[1].Role != herald.RoleAdmin {
		t.Fatalf("after transfer: %+v", list)
	}
	WantCode(t, s.DeleteChannel(h.Ctx, owner.ID, ch.ID), herald.EFORBIDDEN, "old owner deleting")
	_, err = s.AddAdmin(h.Ctx, owner.ID, ch.ID, follower.Username)
	WantCode(t, err, herald.EFORBIDDEN, "old owner adding an admin")
	NoErr(t, s.RemoveAdmin(h.Ctx, bob.ID, ch.ID, owner.ID), "new owner removes old owner")
	got, err := s.FindChannel(h.Ctx, bob.ID, ch.ID)
	NoErr(t, err, "FindChannel new owner")
	if got.Viewer.Role == nil || *got.Viewer.Role != herald.RoleOwner {
		t.Fatalf("new owner's role: %+v", got.Viewer)
	}
}

func init() {
	register("Channel/Verified", testChannelVerified)
}

// testChannelVerified checks the operators' verified flag: set on listed
// and unlisted channels, seen by everyone who sees the channel, announced
// once to the channel's stream, and refused for an unknown channel.
func testChannelVerified(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	listed := h.Channel(owner)
	hidden := h.Channel(owner, Unlisted)
	reader := h.Account("reader")

	h.Events.Take()
	got, err := s.SetVerified(h.Ctx, listed.ID, true)
	NoErr(t, err, "SetVerified")
	if !got.Verified || got.ID != listed.ID || got.Name != listed.Name {
		t.Fatalf("SetVerified returned %s", JSON(t, got))
	}
	live := h.Events.Stream(listed.ID)
	if len(live) != 1 || live[0].Type != herald.EventChannelUpdated || live[0].Channel == nil || !live[0].Channel.Verified {
		t.Fatalf("published %s, want one channel.updated carrying verified", JSON(t, live))
	}
	seen, err := s.FindChannel(h.Ctx, reader.ID, listed.ID)
	NoErr(t, err, "FindChannel by a reader")
	if !seen.Verified {
		t.Fatal("a reader doesn't see the verified flag")
	}
	// Setting it again changes nothing and tells no one.
	h.Events.Take()
	_, err = s.SetVerified(h.Ctx, listed.ID, true)
	NoErr(t, err, "SetVerified again")
	if evs := h.Events.Take(); len(evs) != 0 {
		t.Fatalf("unchanged flag published %s", JSON(t, evs))
	}

	_, err = s.SetVerified(h.Ctx, hidden.ID, true)
	NoErr(t, err, "SetVerified unlisted")
	mine, err := s.FindChannel(h.Ctx, owner.ID, hidden.ID)
	NoErr(t, err, "FindChannel unlisted by owner")
	if !mine.Verified {
		t.Fatal("unlisted channel not verified")
	}
	got, err = s.SetVerified(h.Ctx, hidden.ID, false)
	NoErr(t, err, "SetVerified off")
	if got.Verified {
		t.Fatal("flag still set after clearing it")
	}
	_, err = s.SetVerified(h.Ctx, "no-such-channel", true)
	WantCode(t, err, herald.ENOTFOUND, "SetVerified unknown channel")
}
