package storetest

import (
	"maps"
	"slices"
	"testing"

	"github.com/heraldhq/herald"
)

func init() {
	register("Reaction/SetReplaceRemove", testReactionSetReplaceRemove)
	register("Reaction/Settings", testReactionSettings)
	register("Reaction/WhoMayReact", testReactionWho)
	register("Poll/Single", testPollSingle)
	register("Poll/Multiple", testPollMultiple)
	register("Poll/Validation", testPollValidation)
}

func wantReactions(t *testing.T, got *herald.Update, want map[string]int64, what string) {
	t.Helper()
	if !maps.Equal(got.Reactions, want) {
		t.Fatalf("%s: reactions = %v, want %v", what, got.Reactions, want)
	}
}

func testReactionSetReplaceRemove(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "react to me")
	a, b := h.Follower(ch), h.Follower(ch)

	got, err := s.SetReaction(h.Ctx, a.ID, ch.ID, u.ID, "👍")
	NoErr(t, err, "SetReaction a")
	wantReactions(t, got, map[string]int64{"👍": 1}, "a 👍")
	if got.Viewer.Reaction == nil || *got.Viewer.Reaction != "👍" {
		t.Fatalf("viewer reaction = %v", got.Viewer.Reaction)
	}
	got, err = s.SetReaction(h.Ctx, b.ID, ch.ID, u.ID, "👍")
	NoErr(t, err, "SetReaction b")
	wantReactions(t, got, map[string]int64{"👍": 2}, "b 👍")
	got, err = s.SetReaction(h.Ctx, a.ID, ch.ID, u.ID, "👍")
	NoErr(t, err, "SetReaction a same")
	wantReactions(t, got, map[string]int64{"👍": 2}, "a 👍 again")
	got, err = s.SetReaction(h.Ctx, a.ID, ch.ID, u.ID, "❤️")
	NoErr(t, err, "replace")
	wantReactions(t, got, map[string]int64{"👍": 1, "❤️": 1}, "a replaced by ❤️")

	// Each viewer sees only their own reaction.
	got, err = s.FindUpdate(h.Ctx, b.ID, ch.ID, u.ID)
	NoErr(t, err, "FindUpdate b")
	if got.Viewer.Reaction == nil || *got.Viewer.Reaction != "👍" {
		t.Fatalf("b's own reaction = %v", got.Viewer.Reaction)
	}
	got, err = s.FindUpdate(h.Ctx, owner.ID, ch.ID, u.ID)
	NoErr(t, err, "FindUpdate owner")
	if got.Viewer.Reaction != nil {
		t.Fatalf("owner sees a reaction of their own: %v", *got.Viewer.Reaction)
	}
	wantReactions(t, got, map[string]int64{"👍": 1, "❤️": 1}, "owner's view")

	got, err = s.RemoveReaction(h.Ctx, b.ID, ch.ID, u.ID)
	NoErr(t, err, "RemoveReaction")
	wantReactions(t, got, map[string]int64{"❤️": 1}, "b removed (zero counts omitted)")
	if got.Viewer.Reaction != nil {
		t.Fatal("viewer reaction kept after removal")
	}
	got, err = s.RemoveReaction(h.Ctx, b.ID, ch.ID, u.ID)
	NoErr(t, err, "RemoveReaction again")
	wantReactions(t, got, map[string]int64{"❤️": 1}, "idempotent removal")

	list, err := s.ListUpdates(h.Ctx, a.ID, ch.ID, 0, 20)
	NoErr(t, err, "ListUpdates")
	if len(list) != 1 || list[0].Viewer.Reaction == nil || *list[0].Viewer.Reaction != "❤️" {
		t.Fatalf("ListUpdates viewer = %+v", list)
	}
	wantReactions(t, list[0], map[string]int64{"❤️": 1}, "ListUpdates")

	_, err = s.SetReaction(h.Ctx, a.ID, ch.ID, "nope", "👍")
	WantCode(t, err, herald.ENOTFOUND, "SetReaction unknown update")
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, u.ID), "DeleteUpdate")
	_, err = s.SetReaction(h.Ctx, a.ID, ch.ID, u.ID, "👍")
	WantCode(t, err, herald.ENOTFOUND, "SetReaction deleted update")
	_, err = s.RemoveReaction(h.Ctx, a.ID, ch.ID, u.ID)
	WantCode(t, err, herald.ENOTFOUND, "RemoveReaction deleted update")
}

func testReactionSettings(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	def := h.Channel(owner, ReactionSetting(herald.ReactionsDefault))
	none := h.Channel(owner, ReactionSetting(herald.ReactionsNone))
	f := h.Follower(def)
	_, err := s.Follow(h.Ctx, f.ID, none.ID)
	NoErr(t, err, "Follow none")
	ud := h.Post(owner, def, "default set")
	un := h.Post(owner, none, "no reactions")

	for _, e := range herald.DefaultReactions {
		_, err := s.SetReaction(h.Ctx, f.ID, def.ID, ud.ID, e)
		NoErr(t, err, "default reaction "+e)
	}
	_, err = s.SetReaction(h.Ctx, f.ID, def.ID, ud.ID, "🦄")
	WantKind(t, err, herald.EFORBIDDEN, "reaction-not-allowed", "emoji outside the default set")
	got, err := s.FindUpdate(h.Ctx, f.ID, def.ID, ud.ID)
	NoErr(t, err, "FindUpdate")
	last := herald.DefaultReactions[len(herald.DefaultReactions)-1]
	wantReactions(t, got, map[string]int64{last: 1}, "refused reaction changed nothing")

	_, err = s.SetReaction(h.Ctx, f.ID, none.ID, un.ID, "👍")
	WantKind(t, err, herald.EFORBIDDEN, "reactions-disabled", "reactions none")

	// Changing the setting keeps existing counts.
	_, err = s.UpdateChannel(h.Ctx, owner.ID, def.ID, herald.ChannelPatch{Reactions: ptr(herald.ReactionsNone)})
	NoErr(t, err, "UpdateChannel reactions none")
	got, err = s.FindUpdate(h.Ctx, f.ID, def.ID, ud.ID)
	NoErr(t, err, "FindUpdate after setting change")
	wantReactions(t, got, map[string]int64{last: 1}, "counts kept across setting change")
	_, err = s.SetReaction(h.Ctx, f.ID, def.ID, ud.ID, "👍")
	WantKind(t, err, herald.EFORBIDDEN, "reactions-disabled", "after switching to none")
	got, err = s.RemoveReaction(h.Ctx, f.ID, def.ID, ud.ID)
	NoErr(t, err, "withdrawing is always allowed")
	wantReactions(t, got, map[string]int64{}, "withdrawn")
	_, err = s.UpdateChannel(h.Ctx, owner.ID, def.ID, herald.ChannelPatch{Reactions: ptr(herald.ReactionsAny)})
	NoErr(t, err, "UpdateChannel reactions any")
	got, err = s.SetReaction(h.Ctx, f.ID, def.ID, ud.ID, "🦄")
	NoErr(t, err, "any emoji")
	wantReactions(t, got, map[string]int64{"🦄": 1}, "any")
}

func testReactionWho(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	u := h.PostPoll(owner, ch, false, "x", "y")
	stranger := h.Account("stranger")
	_, err := s.SetReaction(h.Ctx, stranger.ID, ch.ID, u.ID, "👍")
	WantKind(t, err, herald.EFORBIDDEN, "not-follower", "non-follower reacting")
	_, err = s.Vote(h.Ctx, stranger.ID, ch.ID, u.ID, []int{0})
	WantKind(t, err, herald.EFORBIDDEN, "not-follower", "non-follower voting")
	_, err = s.SetReaction(h.Ctx, "", ch.ID, u.ID, "👍")
	WantCode(t, err, herald.EUNAUTHORIZED, "anonymous reacting")
	_, err = s.SetReaction(h.Ctx, admin.ID, ch.ID, u.ID, "👍")
	NoErr(t, err, "admin reacting")
	got, err := s.Vote(h.Ctx, owner.ID, ch.ID, u.ID, []int{1})
	NoErr(t, err, "owner voting")
	wantReactions(t, got, map[string]int64{"👍": 1}, "after admin reaction")
	// A former follower can no longer react.
	f := h.Follower(ch)
	_, err = s.SetReaction(h.Ctx, f.ID, ch.ID, u.ID, "😂")
	NoErr(t, err, "follower reacting")
	NoErr(t, s.Unfollow(h.Ctx, f.ID, ch.ID), "Unfollow")
	_, err = s.SetReaction(h.Ctx, f.ID, ch.ID, u.ID, "😮")
	WantCode(t, err, herald.EFORBIDDEN, "ex-follower reacting")
}

func wantPoll(t *testing.T, got *herald.Update, votes []int64, voters int64, mine []int, what string) {
	t.Helper()
	if got.Poll == nil {
		t.Fatalf("%s: no poll", what)
	}
	var gotVotes []int64
	for _, o := range got.Poll.Options {
		gotVotes = append(gotVotes, o.Votes)
	}
	if !slices.Equal(gotVotes, votes) || got.Poll.Voters != voters {
		t.Fatalf("%s: votes %v voters %d, want %v %d", what, gotVotes, got.Poll.Voters, votes, voters)
	}
	if mine != nil && !slices.Equal(got.Viewer.Votes, mine) {
		t.Fatalf("%s: viewer votes %v, want %v", what, got.Viewer.Votes, mine)
	}
}

func testPollSingle(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.PostPoll(owner, ch, false, " Rain ", "Sun", "Snow")
	if u.Poll.Options[0].Text != "Rain" || u.Poll.Multiple || u.Poll.Question != "Which one?" {
		t.Fatalf("created poll = %+v", u.Poll)
	}
	a, b, c := h.Follower(ch), h.Follower(ch), h.Follower(ch)

	got, err := s.Vote(h.Ctx, a.ID, ch.ID, u.ID, []int{1})
	NoErr(t, err, "a votes Sun")
	wantPoll(t, got, []int64{0, 1, 0}, 1, []int{1}, "a")
	got, err = s.Vote(h.Ctx, b.ID, ch.ID, u.ID, []int{1})
	NoErr(t, err, "b votes Sun")
	wantPoll(t, got, []int64{0, 2, 0}, 2, []int{1}, "b")
	got, err = s.Vote(h.Ctx, c.ID, ch.ID, u.ID, []int{0})
	NoErr(t, err, "c votes Rain")
	wantPoll(t, got, []int64{1, 2, 0}, 3, []int{0}, "c")
	got, err = s.Vote(h.Ctx, a.ID, ch.ID, u.ID, []int{2})
	NoErr(t, err, "a changes to Snow")
	wantPoll(t, got, []int64{1, 1, 1}, 3, []int{2}, "a changed")
	got, err = s.Vote(h.Ctx, a.ID, ch.ID, u.ID, []int{2})
	NoErr(t, err, "a same vote")
	wantPoll(t, got, []int64{1, 1, 1}, 3, []int{2}, "a same")
	got, err = s.RetractVote(h.Ctx, b.ID, ch.ID, u.ID)
	NoErr(t, err, "b retracts")
	wantPoll(t, got, []int64{1, 0, 1}, 2, []int{}, "b retracted")
	got, err = s.RetractVote(h.Ctx, b.ID, ch.ID, u.ID)
	NoErr(t, err, "b retracts again")
	wantPoll(t, got, []int64{1, 0, 1}, 2, []int{}, "idempotent retract")

	got, err = s.FindUpdate(h.Ctx, c.ID, ch.ID, u.ID)
	NoErr(t, err, "FindUpdate c")
	wantPoll(t, got, []int64{1, 0, 1}, 2, []int{0}, "c's view")
	got, err = s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	NoErr(t, err, "FindUpdate anonymous")
	wantPoll(t, got, []int64{1, 0, 1}, 2, []int{}, "anonymous view")

	// Editing the text of a poll update keeps the poll and its counts.
	got, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "Poll, corrected")
	NoErr(t, err, "EditUpdate poll")
	wantPoll(t, got, []int64{1, 0, 1}, 2, nil, "after edit")
	if got.Poll.Options[1].Text != "Sun" {
		t.Fatalf("options changed by an edit: %+v", got.Poll.Options)
	}

	plain := h.Post(owner, ch, "no poll")
	_, err = s.Vote(h.Ctx, a.ID, ch.ID, plain.ID, []int{0})
	WantCode(t, err, herald.ENOTFOUND, "vote on an update without poll")
}

func testPollMultiple(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.PostPoll(owner, ch, true, "a", "b", "c", "d")
	x, y := h.Follower(ch), h.Follower(ch)
	got, err := s.Vote(h.Ctx, x.ID, ch.ID, u.ID, []int{3, 0})
	NoErr(t, err, "x votes 3,0")
	wantPoll(t, got, []int64{1, 0, 0, 1}, 1, []int{0, 3}, "x")
	got, err = s.Vote(h.Ctx, y.ID, ch.ID, u.ID, []int{0, 1, 2, 3})
	NoErr(t, err, "y votes all")
	wantPoll(t, got, []int64{2, 1, 1, 2}, 2, []int{0, 1, 2, 3}, "y")
	got, err = s.Vote(h.Ctx, x.ID, ch.ID, u.ID, []int{1, 3})
	NoErr(t, err, "x changes to 1,3")
	wantPoll(t, got, []int64{1, 2, 1, 2}, 2, []int{1, 3}, "x changed")
	got, err = s.RetractVote(h.Ctx, y.ID, ch.ID, u.ID)
	NoErr(t, err, "y retracts")
	wantPoll(t, got, []int64{0, 1, 0, 1}, 1, []int{}, "y retracted")
}

func testPollValidation(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	bad := []*herald.Poll{
		{Question: "", Options: []herald.PollOption{{Text: "a"}, {Text: "b"}}},
		{Question: "q", Options: []herald.PollOption{{Text: "a"}}},
		{Question: "q", Options: []herald.PollOption{{Text: "a"}, {Text: " a "}}},
		{Question: "q", Options: []herald.PollOption{{Text: "a"}, {Text: ""}}},
	}
	for _, p := range bad {
		err := s.CreateUpdate(h.Ctx, owner.ID, ch.ID, &herald.Update{Text: "t", Poll: p})
		WantKind(t, err, herald.EINVALID, "invalid-poll", "bad poll")
	}
	single := h.PostPoll(owner, ch, false, "a", "b")
	f := h.Follower(ch)
	for _, opts := range [][]int{nil, {}, {0, 1}, {2}, {-1}} {
		_, err := s.Vote(h.Ctx, f.ID, ch.ID, single.ID, opts)
		WantKind(t, err, herald.EINVALID, "invalid-vote", "bad single vote")
	}
	multi := h.PostPoll(owner, ch, true, "a", "b")
	_, err := s.Vote(h.Ctx, f.ID, ch.ID, multi.ID, []int{1, 1})
	WantKind(t, err, herald.EINVALID, "invalid-vote", "repeated option")
	got, err := s.FindUpdate(h.Ctx, f.ID, ch.ID, multi.ID)
	NoErr(t, err, "FindUpdate")
	wantPoll(t, got, []int64{0, 0}, 0, []int{}, "refused votes counted nothing")
	// Seeded counts from the client are ignored.
	seeded := &herald.Update{Text: "t", Poll: &herald.Poll{Question: "q", Voters: 50, Options: []herald.PollOption{{Text: "a", Votes: 9}, {Text: "b", Votes: 9}}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, seeded), "CreateUpdate seeded")
	got, err = s.FindUpdate(h.Ctx, f.ID, ch.ID, seeded.ID)
	NoErr(t, err, "FindUpdate seeded")
	wantPoll(t, got, []int64{0, 0}, 0, []int{}, "seeded counts")
}
