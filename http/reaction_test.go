package http_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

// reactionSetup is a channel with an owner, an update and n followers.
type reactionSetup struct {
	owner     *user
	ch        *herald.Channel
	upd       *herald.Update
	followers []*user
}

func (e *env) reactionSetup(n int, reactions string) *reactionSetup {
	e.t.Helper()
	owner := e.signup("owner")
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Weather", Category: "weather", Reactions: reactions})
	if err != nil {
		e.t.Fatal(err)
	}
	s := &reactionSetup{owner: owner, ch: ch, upd: e.post(owner, ch.ID, "Sunny all day")}
	for i := range n {
		f := e.signup(fmt.Sprintf("follower%d", i))
		if _, err := f.Follow(ctx, ch.ID); err != nil {
			e.t.Fatal(err)
		}
		s.followers = append(s.followers, f)
	}
	return s
}

func wantReactions(t *testing.T, u *herald.Update, want map[string]int64) {
	t.Helper()
	if u.Reactions == nil {
		t.Fatalf("reactions is null, want %v", want)
	}
	if !maps.Equal(u.Reactions, want) {
		t.Fatalf("reactions = %v, want %v", u.Reactions, want)
	}
}

func wantViewerReaction(t *testing.T, u *herald.Update, want string) {
	t.Helper()
	got := ""
	if u.Viewer.Reaction != nil {
		got = *u.Viewer.Reaction
		if got == "" {
			t.Fatal("viewer.reaction is an empty string, want null or an emoji")
		}
	}
	if got != want {
		t.Fatalf("viewer.reaction = %q, want %q", got, want)
	}
}

func TestReactionSetReplaceRemove(t *testing.T) {
	e := newEnv(t)
	s := e.reactionSetup(3, "")
	a, b, c := s.followers[0], s.followers[1], s.followers[2]
	cid, uid := s.ch.ID, s.upd.ID

	u, err := a.React(ctx, cid, uid, "👍")
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"👍": 1})
	wantViewerReaction(t, u, "👍")
	if u.ID != uid || u.Text != "Sunny all day" {
		t.Fatalf("answer is not the update: %+v", u)
	}

	// Replacing: the old emoji's count drops to zero and disappears.
	// "❤" without VS-16 is stored as "❤️".
	u, err = a.React(ctx, cid, uid, "❤")
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"❤️": 1})
	wantViewerReaction(t, u, "❤️")

	// Both spellings count as one emoji.
	u, err = b.React(ctx, cid, uid, "❤️")
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"❤️": 2})
	u, err = c.React(ctx, cid, uid, "👨‍👩‍👧‍👦")
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"❤️": 2, "👨‍👩‍👧‍👦": 1})

	// Setting the same reaction again changes nothing.
	if u, err = b.React(ctx, cid, uid, "❤"); err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"❤️": 2, "👨‍👩‍👧‍👦": 1})

	// Admins may react too.
	if u, err = s.owner.React(ctx, cid, uid, "🇫🇷"); err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"❤️": 2, "👨‍👩‍👧‍👦": 1, "🇫🇷": 1})

	// Every reader sees the counts and only their own reaction.
	u, err = c.GetUpdate(ctx, cid, uid)
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"❤️": 2, "👨‍👩‍👧‍👦": 1, "🇫🇷": 1})
	wantViewerReaction(t, u, "👨‍👩‍👧‍👦")
	list, err := a.ListUpdates(ctx, cid, client.ListOptions{})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v, %d updates", err, len(list))
	}
	wantReactions(t, list[0], map[string]int64{"❤️": 2, "👨‍👩‍👧‍👦": 1, "🇫🇷": 1})
	wantViewerReaction(t, list[0], "❤️")
	u, err = e.anon.GetUpdate(ctx, cid, uid)
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"❤️": 2, "👨‍👩‍👧‍👦": 1, "🇫🇷": 1})
	wantViewerReaction(t, u, "")

	// Removing, twice: the second is a no-op.
	for range 2 {
		if u, err = a.Unreact(ctx, cid, uid); err != nil {
			t.Fatal(err)
		}
		wantReactions(t, u, map[string]int64{"❤️": 1, "👨‍👩‍👧‍👦": 1, "🇫🇷": 1})
		wantViewerReaction(t, u, "")
	}
	for _, f := range []*user{b, c, s.owner} {
		if u, err = f.Unreact(ctx, cid, uid); err != nil {
			t.Fatal(err)
		}
	}
	wantReactions(t, u, map[string]int64{})

	// The raw JSON has an empty object and a null, not missing fields.
	r := e.do("GET", "/api/v1/channels/"+cid+"/updates/"+uid, a.Token(), nil)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw["reactions"]) != "{}" || !strings.Contains(string(raw["viewer"]), `"reaction":null`) {
		t.Fatalf("raw update: %s", r.body)
	}
}

func TestReactionInvalidEmoji(t *testing.T) {
	e := newEnv(t)
	s := e.reactionSetup(1, "")
	f := s.followers[0]
	for _, bad := range []string{"", " ", "abc", "👍👍", "👍 ", "a👍", "😀 and 😃", "🇦🇦", "\uFE0F", "❤\uFE0E", "#", "1", ":+1:", strings.Repeat("👍", 1000)} {
		_, err := f.React(ctx, s.ch.ID, s.upd.ID, bad)
		wantProblem(t, err, 400, "invalid-emoji")
	}
	path := "/api/v1/channels/" + s.ch.ID + "/updates/" + s.upd.ID + "/reaction"
	for body, kind := range map[string]string{
		`{}`:                          "invalid-emoji",
		`{"emoji": null}`:             "invalid-emoji",
		`{"emoji": 1}`:                "wrong-type",
		`{"emoji": ["👍"]}`:            "wrong-type",
		`{"emoji": "👍", "who": "me"}`: "unknown-field",
		`{"emoji": "👍"`:               "invalid-json",
		`[]`:                          "wrong-type",
		"{\"emoji\": \"\xff\"}":       "invalid-utf8",
		`{"emoji": "👍"} {}`:           "trailing-data",
		``:                            "invalid-json",
	} {
		r := e.do("PUT", path, f.Token(), []byte(body))
		if r.status != 400 {
			t.Fatalf("body %q: status %d (%s), want 400", body, r.status, r.body)
		}
		if p := r.problem(t); p.Type != "https://herald.example/problems/"+kind {
			t.Fatalf("body %q: problem %s, want %s", body, p.Type, kind)
		}
	}
	u, err := f.GetUpdate(ctx, s.ch.ID, s.upd.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{})
}

func TestReactionAndVoteAuthorization(t *testing.T) {
	e := newEnv(t)
	s := e.reactionSetup(1, "")
	f := s.followers[0]
	stranger := e.signup("stranger")
	cid := s.ch.ID
	pu, err := s.owner.PostUpdate(ctx, cid, "Poll", &client.PollInput{Question: "Rain?", Options: []string{"yes", "no"}})
	if err != nil {
		t.Fatal(err)
	}

	type action struct {
		name string
		do   func(c *client.Client, uid string) error
	}
	actions := []action{
		{"react", func(c *client.Client, uid string) error { _, err := c.React(ctx, cid, uid, "👍"); return err }},
		{"unreact", func(c *client.Client, uid string) error { _, err := c.Unreact(ctx, cid, uid); return err }},
		{"vote", func(c *client.Client, uid string) error { _, err := c.Vote(ctx, cid, pu.ID, []int{0}); return err }},
		{"unvote", func(c *client.Client, uid string) error { _, err := c.Unvote(ctx, cid, pu.ID); return err }},
	}
	for _, a := range actions {
		t.Run(a.name, func(t *testing.T) {
			wantProblem(t, a.do(e.anon, s.upd.ID), 401, "")
			wantProblem(t, a.do(stranger.Client, s.upd.ID), 403, "")
			if err := a.do(f.Client, s.upd.ID); err != nil {
				t.Fatalf("follower: %v", err)
			}
			if err := a.do(s.owner.Client, s.upd.ID); err != nil {
				t.Fatalf("owner: %v", err)
			}
		})
	}
	// Unknown ids are 404 for everyone who may act.
	_, err = f.React(ctx, cid, "nosuchupdate", "👍")
	wantProblem(t, err, 404, "")
	_, err = f.React(ctx, "nosuchchannel", s.upd.ID, "👍")
	wantProblem(t, err, 404, "")
	_, err = f.Vote(ctx, "nosuchchannel", pu.ID, []int{0})
	wantProblem(t, err, 404, "")

	// After unfollowing, a follower is a stranger.
	if err := f.Unfollow(ctx, cid); err != nil {
		t.Fatal(err)
	}
	_, err = f.React(ctx, cid, s.upd.ID, "👍")
	wantProblem(t, err, 403, "")
	_, err = f.Vote(ctx, cid, pu.ID, []int{1})
	wantProblem(t, err, 403, "")
	if _, err := f.Follow(ctx, cid); err != nil {
		t.Fatal(err)
	}

	// Deleted updates are gone.
	if err := s.owner.DeleteUpdate(ctx, cid, s.upd.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.React(ctx, cid, s.upd.ID, "👍")
	wantProblem(t, err, 404, "")
	_, err = f.Unreact(ctx, cid, s.upd.ID)
	wantProblem(t, err, 404, "")

	// Expired updates are gone too, before any pruning.
	if _, err := f.Vote(ctx, cid, pu.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(herald.DefaultRetention + time.Second)
	_, err = f.Vote(ctx, cid, pu.ID, []int{0})
	wantProblem(t, err, 404, "")
	_, err = f.Unvote(ctx, cid, pu.ID)
	wantProblem(t, err, 404, "")
	_, err = f.React(ctx, cid, pu.ID, "👍")
	wantProblem(t, err, 404, "")
}

func TestReactionChannelSettings(t *testing.T) {
	e := newEnv(t)
	s := e.reactionSetup(2, herald.ReactionsDefault)
	a, b := s.followers[0], s.followers[1]
	cid, uid := s.ch.ID, s.upd.ID

	// "default": only the default set, in either spelling.
	for _, ok := range []string{"👍", "❤", "❤️", "😂", "😮", "😢", "🙏"} {
		if _, err := a.React(ctx, cid, uid, ok); err != nil {
			t.Fatalf("%q in default set: %v", ok, err)
		}
	}
	for _, no := range []string{"🎉", "👎", "👍🏽", "🇫🇷"} {
		_, err := a.React(ctx, cid, uid, no)
		wantProblem(t, err, 403, "")
	}
	u, err := b.React(ctx, cid, uid, "🙏")
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"🙏": 2})

	// "none": refused, but existing counts stay visible.
	if _, err := s.owner.UpdateChannel(ctx, cid, client.ChannelPatch{Reactions: client.Ptr(herald.ReactionsNone)}); err != nil {
		t.Fatal(err)
	}
	_, err = a.React(ctx, cid, uid, "👍")
	wantProblem(t, err, 403, "")
	_, err = s.owner.React(ctx, cid, uid, "👍")
	wantProblem(t, err, 403, "")
	if u, err = a.GetUpdate(ctx, cid, uid); err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"🙏": 2})
	wantViewerReaction(t, u, "🙏")
	// Withdrawing stays possible: the setting never traps a reaction.
	if u, err = b.Unreact(ctx, cid, uid); err != nil {
		t.Fatalf("unreact under \"none\": %v", err)
	}
	wantReactions(t, u, map[string]int64{"🙏": 1})

	// "any": everything again, counts intact.
	if _, err := s.owner.UpdateChannel(ctx, cid, client.ChannelPatch{Reactions: client.Ptr(herald.ReactionsAny)}); err != nil {
		t.Fatal(err)
	}
	if u, err = a.React(ctx, cid, uid, "🎉"); err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"🎉": 1})
	if u, err = b.React(ctx, cid, uid, "🙏"); err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"🙏": 1, "🎉": 1})

	// Back to "default": a reaction outside the set stays counted and can
	// still be withdrawn.
	if _, err := s.owner.UpdateChannel(ctx, cid, client.ChannelPatch{Reactions: client.Ptr(herald.ReactionsDefault)}); err != nil {
		t.Fatal(err)
	}
	if u, err = b.GetUpdate(ctx, cid, uid); err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"🙏": 1, "🎉": 1})
	if u, err = a.Unreact(ctx, cid, uid); err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, map[string]int64{"🙏": 1})
}

func wantPoll(t *testing.T, u *herald.Update, votes []int64, voters int64) {
	t.Helper()
	if u.Poll == nil {
		t.Fatal("update has no poll")
	}
	got := make([]int64, len(u.Poll.Options))
	for i, o := range u.Poll.Options {
		got[i] = o.Votes
	}
	if !slices.Equal(got, votes) || u.Poll.Voters != voters {
		t.Fatalf("poll votes %v voters %d, want %v voters %d", got, u.Poll.Voters, votes, voters)
	}
}

func wantViewerVotes(t *testing.T, u *herald.Update, want []int) {
	t.Helper()
	if u.Viewer.Votes == nil || !slices.Equal(u.Viewer.Votes, want) {
		t.Fatalf("viewer.votes = %#v, want %v", u.Viewer.Votes, want)
	}
}

func TestVoteSingleAndMultiple(t *testing.T) {
	e := newEnv(t)
	s := e.reactionSetup(3, "")
	a, b, c := s.followers[0], s.followers[1], s.followers[2]
	cid := s.ch.ID

	single, err := s.owner.PostUpdate(ctx, cid, "Lunch poll", &client.PollInput{Question: "Where?", Options: []string{"Café", "Bistro", "Canteen"}})
	if err != nil {
		t.Fatal(err)
	}
	if single.Poll == nil || single.Poll.Question != "Where?" || single.Poll.Multiple || len(single.Poll.Options) != 3 || single.Poll.Options[1].Text != "Bistro" {
		t.Fatalf("poll as posted: %+v", single.Poll)
	}
	wantPoll(t, single, []int64{0, 0, 0}, 0)
	wantViewerVotes(t, single, []int{})

	u, err := a.Vote(ctx, cid, single.ID, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{0, 1, 0}, 1)
	wantViewerVotes(t, u, []int{1})
	if u, err = b.Vote(ctx, cid, single.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{0, 2, 0}, 2)
	// Changing a vote moves it; voting the same again changes nothing.
	if u, err = a.Vote(ctx, cid, single.ID, []int{2}); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{0, 1, 1}, 2)
	wantViewerVotes(t, u, []int{2})
	if u, err = a.Vote(ctx, cid, single.ID, []int{2}); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{0, 1, 1}, 2)

	// Bad votes on a single-answer poll.
	for _, opts := range [][]int{{}, {0, 1}, {3}, {-1}, {12}, {1 << 40}, {0, 0}} {
		_, err := c.Vote(ctx, cid, single.ID, opts)
		wantProblem(t, err, 400, "invalid-vote")
	}
	path := "/api/v1/channels/" + cid + "/updates/" + single.ID + "/vote"
	for body, kind := range map[string]string{
		`{}`:                           "invalid-vote",
		`{"options": null}`:            "invalid-vote",
		`{"options": "0"}`:             "wrong-type",
		`{"options": [0.5]}`:           "wrong-type",
		`{"options": ["a"]}`:           "wrong-type",
		`{"options": [0], "who": "x"}`: "unknown-field",
		`{"options": [`:                "invalid-json",
	} {
		r := e.do("PUT", path, c.Token(), []byte(body))
		if r.status != 400 {
			t.Fatalf("body %q: status %d (%s), want 400", body, r.status, r.body)
		}
		if p := r.problem(t); p.Type != "https://herald.example/problems/"+kind {
			t.Fatalf("body %q: problem %s, want %s", body, p.Type, kind)
		}
	}

	// Retracting, twice.
	for range 2 {
		if u, err = a.Unvote(ctx, cid, single.ID); err != nil {
			t.Fatal(err)
		}
		wantPoll(t, u, []int64{0, 1, 0}, 1)
		wantViewerVotes(t, u, []int{})
	}

	multi, err := s.owner.PostUpdate(ctx, cid, "Weekend", &client.PollInput{Question: "Which days?", Options: []string{"Fri", "Sat", "Sun", "Mon"}, Multiple: true})
	if err != nil {
		t.Fatal(err)
	}
	if !multi.Poll.Multiple {
		t.Fatal("poll is not multiple")
	}
	if u, err = a.Vote(ctx, cid, multi.ID, []int{2, 0}); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{1, 0, 1, 0}, 1)
	wantViewerVotes(t, u, []int{0, 2})
	if u, err = b.Vote(ctx, cid, multi.ID, []int{0, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{2, 1, 2, 1}, 2)
	if u, err = a.Vote(ctx, cid, multi.ID, []int{3}); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{1, 1, 1, 2}, 2)
	wantViewerVotes(t, u, []int{3})
	for _, opts := range [][]int{{}, {4}, {1, 1}, {0, 1, 2, 3, 0}} {
		_, err := c.Vote(ctx, cid, multi.ID, opts)
		wantProblem(t, err, 400, "invalid-vote")
	}
	if u, err = b.Unvote(ctx, cid, multi.ID); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{0, 0, 0, 1}, 1)

	// Readers see counts and only their own votes.
	if u, err = c.GetUpdate(ctx, cid, multi.ID); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, []int64{0, 0, 0, 1}, 1)
	wantViewerVotes(t, u, []int{})
	if u, err = a.GetUpdate(ctx, cid, multi.ID); err != nil {
		t.Fatal(err)
	}
	wantViewerVotes(t, u, []int{3})

	// An update without a poll takes no votes.
	_, err = a.Vote(ctx, cid, s.upd.ID, []int{0})
	if p, ok := err.(*client.Problem); !ok || (p.Status != http.StatusNotFound && p.Status != http.StatusBadRequest) {
		t.Fatalf("vote on an update without poll: %v", err)
	}
}

// TestReactionAndVoteGarbage sends many malformed and random bodies: every
// answer is a 200 or a well-formed 400 problem, never a 5xx.
func TestReactionAndVoteGarbage(t *testing.T) {
	e := newEnv(t)
	s := e.reactionSetup(1, "")
	f := s.followers[0]
	poll, err := s.owner.PostUpdate(ctx, s.ch.ID, "Poll", &client.PollInput{Question: "Q?", Options: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/channels/" + s.ch.ID + "/updates/"
	seeds := []string{`{"emoji":"👍"}`, `{"options":[0]}`, `{"emoji":"❤"}`, `{"options":[1]}`, `{}`, `null`, `"👍"`, `[0]`}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`{}[]":,0123456789-.eE truefalsnul\` + "\xff\x00\u00e9👍❤️\uFE0F\u200D")
	statuses := map[int]int{}
	for i := range 600 {
		b := []byte(seeds[i%len(seeds)])
		for range 1 + rng.IntN(4) {
			switch rng.IntN(3) {
			case 0: // flip a byte
				if len(b) > 0 {
					b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
				}
			case 1: // insert a byte
				p := rng.IntN(len(b) + 1)
				b = append(b[:p], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[p:]...)...)
			case 2: // cut
				if len(b) > 0 {
					p := rng.IntN(len(b))
					b = append(b[:p:p], b[p+1:]...)
				}
			}
		}
		path := base + s.upd.ID + "/reaction"
		if i%2 == 1 {
			path = base + poll.ID + "/vote"
		}
		r := e.do("PUT", path, f.Token(), b)
		statuses[r.status]++
		switch r.status {
		case 200:
		case 400:
			r.problem(t)
		default:
			t.Fatalf("PUT %s %q: %d %s", path, b, r.status, r.body)
		}
	}
	// The mutations keep some bodies valid: both outcomes were exercised.
	if statuses[200] == 0 || statuses[400] == 0 {
		t.Fatalf("statuses %v: want both 200s and 400s", statuses)
	}
	t.Logf("statuses: %v", statuses)
}
