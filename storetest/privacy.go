package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func init() {
	register("Privacy/AdminSeesNoFollower", testPrivacyAdmin)
	register("Privacy/FollowerSeesNoAdmin", testPrivacyFollower)
}

// privacyScene builds a channel where followers follow, mute, react and
// vote, and admins post, edit and flush counts.
func privacyScene(t *testing.T, h *Harness) (owner, admin *herald.Account, followers []*herald.Account, ch *herald.Channel, updates []*herald.Update) {
	s := h.Store
	owner = h.Account("owner")
	ch = h.Channel(owner)
	admin = h.Admin(owner, ch)
	plain := h.Post(admin, ch, "hello followers")
	poll := h.PostPoll(owner, ch, true, "a", "b")
	for i := 0; i < 5; i++ {
		f := h.Follower(ch)
		followers = append(followers, f)
		_, err := s.SetReaction(h.Ctx, f.ID, ch.ID, plain.ID, "👍")
		NoErr(t, err, "SetReaction")
		_, err = s.Vote(h.Ctx, f.ID, ch.ID, poll.ID, []int{i % 2})
		NoErr(t, err, "Vote")
		if i == 0 {
			_, err = s.SetMuted(h.Ctx, f.ID, ch.ID, true)
			NoErr(t, err, "SetMuted")
		}
	}
	_, err := s.EditUpdate(h.Ctx, admin.ID, ch.ID, plain.ID, "hello again")
	NoErr(t, err, "EditUpdate")
	_, err = s.FlushCounts(h.Ctx)
	NoErr(t, err, "FlushCounts")
	return owner, admin, followers, ch, []*herald.Update{plain, poll}
}

func assertAbsent(t *testing.T, what, doc string, who []*herald.Account) {
	t.Helper()
	for _, a := range who {
		for _, secret := range []string{a.ID, a.Username} {
			if strings.Contains(doc, secret) {
				t.Fatalf("%s reveals %q:\n%s", what, secret, doc)
			}
		}
	}
}

// testPrivacyAdmin acts as each admin, fetches everything the store offers
// them and checks that no follower's id or username appears anywhere.
func testPrivacyAdmin(t *testing.T, h *Harness) {
	s := h.Store
	owner, admin, followers, ch, updates := privacyScene(t, h)
	for _, who := range []*herald.Account{owner, admin} {
		var docs []any
		c, err := s.FindChannel(h.Ctx, who.ID, ch.ID)
		NoErr(t, err, "FindChannel")
		docs = append(docs, c)
		c, err = s.FindChannelByInvite(h.Ctx, who.ID, ch.InviteCode)
		NoErr(t, err, "FindChannelByInvite")
		docs = append(docs, c)
		admins, err := s.ListAdmins(h.Ctx, who.ID, ch.ID)
		NoErr(t, err, "ListAdmins")
		docs = append(docs, admins)
		list, err := s.ListUpdates(h.Ctx, who.ID, ch.ID, 0, 100)
		NoErr(t, err, "ListUpdates")
		docs = append(docs, list)
		for _, u := range updates {
			got, err := s.FindUpdate(h.Ctx, who.ID, ch.ID, u.ID)
			NoErr(t, err, "FindUpdate")
			docs = append(docs, got)
		}
		evs, _, err := s.EventsAfter(h.Ctx, ch.ID, 0, 1000)
		NoErr(t, err, "EventsAfter")
		docs = append(docs, evs)
		heads, err := s.StreamHeads(h.Ctx, []string{ch.ID})
		NoErr(t, err, "StreamHeads")
		docs = append(docs, heads)
		mine, err := s.ListFollowedChannels(h.Ctx, who.ID)
		NoErr(t, err, "ListFollowedChannels")
		docs = append(docs, mine)
		patched, err := s.UpdateChannel(h.Ctx, who.ID, ch.ID, herald.ChannelPatch{Description: ptr("still private")})
		NoErr(t, err, "UpdateChannel")
		docs = append(docs, patched)
		edited, err := s.EditUpdate(h.Ctx, who.ID, ch.ID, updates[1].ID, "edited by one of the admins")
		NoErr(t, err, "EditUpdate")
		docs = append(docs, edited)
		for i, d := range docs {
			assertAbsent(t, fmt.Sprintf("admin %s read #%d", who.Username, i), JSON(t, d), followers)
		}
	}
	// Everything published on the channel's stream is what any subscriber gets.
	assertAbsent(t, "channel stream events", JSON(t, h.Events.Stream(ch.ID)), followers)
	// Nor does anything name the admin who posted.
	assertAbsent(t, "channel stream events", JSON(t, h.Events.Stream(ch.ID)), []*herald.Account{owner, admin})
}

// testPrivacyFollower checks that a follower's view names no admin and no
// other follower.
func testPrivacyFollower(t *testing.T, h *Harness) {
	s := h.Store
	owner, admin, followers, ch, updates := privacyScene(t, h)
	me, others := followers[1], append([]*herald.Account{owner, admin, followers[0]}, followers[2:]...)
	var docs []any
	c, err := s.FindChannel(h.Ctx, me.ID, ch.ID)
	NoErr(t, err, "FindChannel")
	docs = append(docs, c)
	list, err := s.ListUpdates(h.Ctx, me.ID, ch.ID, 0, 100)
	NoErr(t, err, "ListUpdates")
	docs = append(docs, list)
	for _, u := range updates {
		got, err := s.FindUpdate(h.Ctx, me.ID, ch.ID, u.ID)
		NoErr(t, err, "FindUpdate")
		docs = append(docs, got)
	}
	mine, err := s.ListFollowedChannels(h.Ctx, me.ID)
	NoErr(t, err, "ListFollowedChannels")
	docs = append(docs, mine)
	evs, _, err := s.EventsAfter(h.Ctx, herald.AccountStream(me.ID), 0, 1000)
	NoErr(t, err, "EventsAfter own stream")
	docs = append(docs, evs)
	_, err = s.ListAdmins(h.Ctx, me.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "ListAdmins by follower")
	for _, d := range docs {
		assertAbsent(t, "follower read", JSON(t, d), others)
	}
}
