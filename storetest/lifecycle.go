package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
)

func init() {
	register("Lifecycle/Sessions", testLifecycleSessions)
	register("Lifecycle/PasswordAndName", testLifecyclePasswordAndName)
	register("Lifecycle/Interactions", testLifecycleInteractions)
	register("Lifecycle/EraseAccount", testLifecycleErase)
}

func session(h *Harness, a *herald.Account, hash, ua string) *herald.Session {
	h.T.Helper()
	s := &herald.Session{TokenHash: bytes.Repeat([]byte(hash), 32/len(hash)+1)[:32], AccountID: a.ID, ExpiresAt: h.Clock.Now().Add(30 * 24 * time.Hour), UserAgent: ua}
	NoErr(h.T, h.Store.CreateSession(h.Ctx, s), "CreateSession")
	return s
}

func testLifecycleSessions(t *testing.T, h *Harness) {
	s := h.Store
	a, b := h.Account("alice"), h.Account("bob")
	s1 := session(h, a, "a", "Firefox\x00 on Linux")
	h.Clock.Advance(time.Hour)
	s2 := session(h, a, "b", "Chrome on Android")
	session(h, b, "c", "curl")

	list, err := s.ListSessions(h.Ctx, a.ID)
	NoErr(t, err, "ListSessions")
	if len(list) != 2 || list[0].ID != herald.SessionID(s2.TokenHash) || list[1].ID != herald.SessionID(s1.TokenHash) {
		t.Fatalf("ListSessions = %+v, want s2 then s1", list)
	}
	if list[1].UserAgent != "Firefox on Linux" || !list[1].CreatedAt.Equal(Start) || !list[1].LastSeenAt.Equal(herald.Day(Start)) {
		t.Fatalf("session 1 = %+v: want the cleaned User-Agent, created at Start, last seen that day", list[1])
	}

	// Last seen moves by the day only.
	h.Clock.Advance(48 * time.Hour)
	_, err = s.FindAccountBySession(h.Ctx, s1.TokenHash)
	NoErr(t, err, "use session 1")
	list, _ = s.ListSessions(h.Ctx, a.ID)
	if !list[1].LastSeenAt.Equal(herald.Day(h.Clock.Now())) || !list[0].LastSeenAt.Equal(herald.Day(Start)) {
		t.Fatalf("after use: %+v, want session 1 seen today, session 2 on the first day", list)
	}

	// Nobody ends another account's session.
	_, err = s.DeleteAccountSession(h.Ctx, b.ID, herald.SessionID(s1.TokenHash))
	WantKind(t, err, herald.ENOTFOUND, "session-not-found", "another account's session")
	hash, err := s.DeleteAccountSession(h.Ctx, a.ID, herald.SessionID(s1.TokenHash))
	NoErr(t, err, "DeleteAccountSession")
	if !bytes.Equal(hash, s1.TokenHash) {
		t.Fatalf("DeleteAccountSession returned %x, want %x", hash, s1.TokenHash)
	}
	_, err = s.FindAccountBySession(h.Ctx, s1.TokenHash)
	WantCode(t, err, herald.EUNAUTHORIZED, "ended session")
	_, err = s.FindAccountBySession(h.Ctx, s2.TokenHash)
	NoErr(t, err, "the other session lives")
}

func testLifecyclePasswordAndName(t *testing.T, h *Harness) {
	s := h.Store
	a, b := h.Account("alice"), h.Account("bob")
	keep, other := session(h, a, "k", "one"), session(h, a, "o", "two")
	bs := session(h, b, "b", "bob's")
	NoErr(t, s.ChangePassword(h.Ctx, a.ID, "new-hash", keep.TokenHash), "ChangePassword")
	_, hash, err := s.FindAccountByUsername(h.Ctx, a.Username)
	NoErr(t, err, "FindAccountByUsername")
	if hash != "new-hash" {
		t.Fatalf("hash = %q, want new-hash", hash)
	}
	_, err = s.FindAccountBySession(h.Ctx, keep.TokenHash)
	NoErr(t, err, "the kept session")
	_, err = s.FindAccountBySession(h.Ctx, other.TokenHash)
	WantCode(t, err, herald.EUNAUTHORIZED, "the other session ended")
	_, err = s.FindAccountBySession(h.Ctx, bs.TokenHash)
	NoErr(t, err, "another account's session")
	NoErr(t, s.ChangePassword(h.Ctx, a.ID, "newer-hash", nil), "ChangePassword ending all")
	_, err = s.FindAccountBySession(h.Ctx, keep.TokenHash)
	WantCode(t, err, herald.EUNAUTHORIZED, "every session ended")
	WantCode(t, s.ChangePassword(h.Ctx, "nobody", "x", nil), herald.ENOTFOUND, "unknown account")

	got, err := s.SetDisplayName(h.Ctx, a.ID, "  Alice B.  ")
	NoErr(t, err, "SetDisplayName")
	if got.DisplayName != "Alice B." || got.Username != a.Username {
		t.Fatalf("SetDisplayName = %+v", got)
	}
	got, _ = s.FindAccountByID(h.Ctx, a.ID)
	if got.DisplayName != "Alice B." {
		t.Fatalf("stored display name = %q", got.DisplayName)
	}
	got, err = s.SetDisplayName(h.Ctx, a.ID, "")
	NoErr(t, err, "SetDisplayName empty")
	if got.DisplayName != a.Username {
		t.Fatalf("empty display name = %q, want the username", got.DisplayName)
	}
	_, err = s.SetDisplayName(h.Ctx, a.ID, "bad\x01name")
	WantCode(t, err, herald.EINVALID, "control character")
}

func testLifecycleInteractions(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	u1 := h.Post(owner, ch, "one")
	h.Clock.Advance(time.Second)
	p := h.PostPoll(owner, ch, true, "a", "b", "c")
	_, err := s.SetReaction(h.Ctx, f.ID, ch.ID, u1.ID, "👍")
	NoErr(t, err, "SetReaction")
	_, err = s.Vote(h.Ctx, f.ID, ch.ID, p.ID, []int{2, 0})
	NoErr(t, err, "Vote")
	_, err = s.SetReaction(h.Ctx, f.ID, ch.ID, p.ID, "🎉")
	NoErr(t, err, "SetReaction poll")
	_, err = s.SetReaction(h.Ctx, owner.ID, ch.ID, u1.ID, "❤️")
	NoErr(t, err, "owner's reaction")

	its, err := s.ListInteractions(h.Ctx, f.ID)
	NoErr(t, err, "ListInteractions")
	want := []herald.Interaction{
		{ChannelID: ch.ID, UpdateID: u1.ID, Reaction: "👍"},
		{ChannelID: ch.ID, UpdateID: p.ID, Reaction: "🎉", Votes: []int{0, 2}},
	}
	if JSON(t, its) != JSON(t, want) {
		t.Fatalf("ListInteractions = %s, want %s", JSON(t, its), JSON(t, want))
	}
	its, _ = s.ListInteractions(h.Ctx, h.Account("nobody").ID)
	if len(its) != 0 {
		t.Fatalf("a new account's interactions = %+v", its)
	}
}

func testLifecycleErase(t *testing.T, h *Harness) {
	s := h.Store
	gone := h.Account("gone")
	session(h, gone, "g", "phone")
	alone := h.Channel(gone)
	shared := h.Channel(gone)
	helper := h.Admin(gone, shared)
	other := h.Account("other")
	ch := h.Channel(other)
	_, err := s.Follow(h.Ctx, gone.ID, ch.ID)
	NoErr(t, err, "Follow")
	keeper := h.Follower(ch)
	u := h.Post(other, ch, "hello")
	p := h.PostPoll(other, ch, false, "yes", "no")
	for _, a := range []*herald.Account{gone, keeper} {
		_, err = s.SetReaction(h.Ctx, a.ID, ch.ID, u.ID, "👍")
		NoErr(t, err, "SetReaction")
		_, err = s.Vote(h.Ctx, a.ID, ch.ID, p.ID, []int{1})
		NoErr(t, err, "Vote")
	}
	// Two reactions on one poll update: every count the account is in drops.
	_, err = s.SetReaction(h.Ctx, gone.ID, ch.ID, p.ID, "🎉")
	NoErr(t, err, "SetReaction 2")

	sole, err := storeutil.SoleOwnedChannels(h.Ctx, s, gone.ID)
	NoErr(t, err, "SoleOwnedChannels")
	if len(sole) != 1 || sole[0].ID != alone.ID {
		t.Fatalf("SoleOwnedChannels = %+v, want only %s", sole, alone.ID)
	}
	WantKind(t, storeutil.EraseAccount(h.Ctx, s, gone.ID, nil), herald.ECONFLICT, "confirm-channels", "erase without confirming")
	WantKind(t, storeutil.EraseAccount(h.Ctx, s, gone.ID, []string{alone.ID, shared.ID}), herald.ECONFLICT, "confirm-channels", "erase confirming too much")
	WantKind(t, s.DeleteAccount(h.Ctx, gone.ID), herald.ECONFLICT, "owned-channels", "DeleteAccount while owning")
	if _, err := s.FindAccountByID(h.Ctx, gone.ID); err != nil {
		t.Fatalf("a refused erasure erased the account: %v", err)
	}

	NoErr(t, storeutil.EraseAccount(h.Ctx, s, gone.ID, []string{alone.ID}), "EraseAccount")
	_, err = s.FindAccountByID(h.Ctx, gone.ID)
	WantCode(t, err, herald.ENOTFOUND, "erased account")
	_, _, err = s.FindAccountByUsername(h.Ctx, gone.Username)
	WantCode(t, err, herald.ENOTFOUND, "erased username")
	if list, _ := s.ListSessions(h.Ctx, gone.ID); len(list) != 0 {
		t.Fatalf("sessions left: %+v", list)
	}
	_, err = s.FindChannel(h.Ctx, other.ID, alone.ID)
	WantCode(t, err, herald.ENOTFOUND, "the channel owned alone")
	admins, err := s.ListAdmins(h.Ctx, helper.ID, shared.ID)
	NoErr(t, err, "ListAdmins of the shared channel")
	if len(admins) != 1 || admins[0].Account.ID != helper.ID || admins[0].Role != herald.RoleOwner {
		t.Fatalf("shared channel admins = %+v, want the helper as owner", admins)
	}

	got, err := s.FindChannel(h.Ctx, other.ID, ch.ID)
	NoErr(t, err, "FindChannel")
	if got.FollowerCount != 1 {
		t.Fatalf("follower count = %d, want 1", got.FollowerCount)
	}
	uu, err := s.FindUpdate(h.Ctx, keeper.ID, ch.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	if uu.Reactions["👍"] != 1 {
		t.Fatalf("reactions = %v, want 👍:1", uu.Reactions)
	}
	pp, err := s.FindUpdate(h.Ctx, keeper.ID, ch.ID, p.ID)
	NoErr(t, err, "FindUpdate poll")
	if pp.Poll.Voters != 1 || pp.Poll.Options[1].Votes != 1 || pp.Poll.Options[0].Votes != 0 || len(pp.Reactions) != 0 {
		t.Fatalf("poll = %+v reactions %v, want one voter for 'no' and no reaction", pp.Poll, pp.Reactions)
	}
	// Followers hear the new counts at the next flush.
	h.Events.Take()
	_, err = s.FlushCounts(h.Ctx)
	NoErr(t, err, "FlushCounts")
	var types []string
	for _, ev := range h.Events.Take() {
		types = append(types, ev.Type)
	}
	for _, want := range []string{herald.EventUpdateReactions, herald.EventUpdatePoll} {
		if !slices.Contains(types, want) {
			t.Fatalf("flushed events %v, want %s", types, want)
		}
	}
	heads, err := s.StreamHeads(h.Ctx, []string{herald.AccountStream(gone.ID)})
	NoErr(t, err, "StreamHeads")
	if _, ok := heads[herald.AccountStream(gone.ID)]; ok {
		t.Fatalf("the erased account's stream is still there: %v", heads)
	}
	WantCode(t, s.DeleteAccount(h.Ctx, gone.ID), herald.ENOTFOUND, "erasing twice")
}
