package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Machines/IdempotentWrite", testIdempotentWrite)
	register("Machines/IdempotentWriteConcurrent", testIdempotentWriteConcurrent)
	register("Machines/IdempotentWriteReplays", testIdempotentWriteReplays)
}

// keyedPost posts u under (principal, key, fp) in the post's transaction,
// keeping u's JSON as the answer.
func (h *Harness) keyedPost(actor, channelID, principal, key string, fp []byte, u *herald.Update) error {
	iw := &herald.IdempotentWrite{Principal: principal, Key: key, Fingerprint: fp, Answer: func() (*herald.IdempotentResponse, error) {
		b, err := json.Marshal(u)
		return &herald.IdempotentResponse{Status: 201, Body: b, ChannelID: channelID, ResourceID: u.ID,
			Headers: map[string]string{"Content-Type": "application/json"}}, err
	}}
	return h.Store.CreateUpdate(herald.WithIdempotentWrite(h.Ctx, iw), actor, channelID, u)
}

func replayOf(err error) *herald.IdempotentResponse {
	var r *herald.IdempotentReplay
	if errors.As(err, &r) {
		return r.Response
	}
	return nil
}

// The claim, the post and the answer commit together: a retry replays the
// first answer and writes nothing; the key shares its rows with the
// two-step claim (ClaimIdempotencyKey).
func testIdempotentWrite(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	fp, other := []byte("fp-1"), []byte("fp-2")

	first := &herald.Update{Text: "once"}
	NoErr(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "k1", fp, first), "keyed post")
	again := &herald.Update{Text: "once"}
	err := h.keyedPost(owner.ID, ch.ID, owner.ID, "k1", fp, again)
	want, _ := json.Marshal(first)
	if r := replayOf(err); r == nil || r.Status != 201 || !bytes.Equal(r.Body, want) || r.Headers["Content-Type"] != "application/json" {
		t.Fatalf("retry = %v, want the first answer %s", err, want)
	}
	WantKind(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "k1", other, &herald.Update{Text: "twice"}),
		herald.EUNPROCESSABLE, "idempotency-key-reused", "same key, another request")
	// The two-step claim (other routes) sees the key as used.
	_, err = s.ClaimIdempotencyKey(h.Ctx, owner.ID, "k1", other)
	WantKind(t, err, herald.EUNPROCESSABLE, "idempotency-key-reused", "two-step claim of a keyed post's key")
	// A key claimed by a running two-step request is in flight.
	_, err = s.ClaimIdempotencyKey(h.Ctx, owner.ID, "k2", fp)
	NoErr(t, err, "claim k2")
	WantKind(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "k2", fp, &herald.Update{Text: "x"}),
		herald.ECONFLICT, "idempotency-in-flight", "keyed post while claimed")
	// A failed write keeps nothing: the retry runs.
	stranger := h.Account("stranger")
	WantCode(t, h.keyedPost(stranger.ID, ch.ID, stranger.ID, "k3", fp, &herald.Update{Text: "x"}), herald.EFORBIDDEN, "not an admin")
	resp, err := s.ClaimIdempotencyKey(h.Ctx, stranger.ID, "k3", fp)
	if err != nil || resp != nil {
		t.Fatalf("a failed keyed write kept %+v, %v", resp, err)
	}
	// Scheduling takes it too.
	sched := func() error {
		su := &herald.ScheduledUpdate{Text: "later", PublishAt: Start.Add(time.Hour)}
		iw := &herald.IdempotentWrite{Principal: owner.ID, Key: "s1", Fingerprint: fp, Answer: func() (*herald.IdempotentResponse, error) {
			b, err := json.Marshal(su)
			return &herald.IdempotentResponse{Status: 202, Body: b, ChannelID: ch.ID, ResourceID: su.ID}, err
		}}
		return s.ScheduleUpdate(herald.WithIdempotentWrite(h.Ctx, iw), owner.ID, ch.ID, su)
	}
	NoErr(t, sched(), "keyed schedule")
	if r := replayOf(sched()); r == nil || r.Status != 202 {
		t.Fatalf("keyed schedule retried: %v", r)
	}
	list, err := s.ListScheduled(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListScheduled")
	us, err := s.ListUpdates(h.Ctx, owner.ID, ch.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	if len(list) != 1 || len(us) != 1 {
		t.Fatalf("%d scheduled, %d updates; want 1 and 1", len(list), len(us))
	}
	// The kept answer holds the text: erased with the update.
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, first.ID), "DeleteUpdate")
	if resp, err := s.ClaimIdempotencyKey(h.Ctx, owner.ID, "k1", fp); err != nil || resp != nil {
		t.Fatalf("answer kept after its update was deleted: %+v, %v", resp, err)
	}
	// After 24 hours the key is new again.
	h.Clock.Advance(herald.IdempotencyTTL)
	NoErr(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "s1", other, &herald.Update{Text: "a day later"}), "expired key")
}

// Concurrent keyed posts of one key (several nodes on PostgreSQL): exactly
// one update; every other call replays it or finds it in flight.
func testIdempotentWriteConcurrent(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	const n = 16
	var created, replayed atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := h.keyedPost(owner.ID, ch.ID, owner.ID, "cron", []byte("fp"), &herald.Update{Text: "exactly once"})
			switch {
			case err == nil:
				created.Add(1)
			case replayOf(err) != nil, herald.ErrorKind(err) == "idempotency-in-flight":
				replayed.Add(1)
			default:
				t.Errorf("keyed post: %v", err)
			}
		})
	}
	wg.Wait()
	us, err := h.Store.ListUpdates(h.Ctx, owner.ID, ch.ID, 0, 100)
	NoErr(t, err, "ListUpdates")
	if created.Load() != 1 || replayed.Load() != n-1 || len(us) != 1 {
		t.Fatalf("created %d, replayed %d, updates %d", created.Load(), replayed.Load(), len(us))
	}
}

// A retry is answered with the first answer whatever followers did since
// (reactions, votes), media and polls included; a key whose post was
// deleted, or whose 24 hours are over, creates a new update, and a retry
// of that one replays it.
func testIdempotentWriteReplays(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	fp := []byte("fp")
	a, b := h.Upload(owner, ch, 10), h.Upload(owner, ch, 20)
	newMedia := func() *herald.Update {
		return &herald.Update{Text: "Photos", Media: []herald.Media{{ID: b.ID, Alt: "second"}, {ID: a.ID, Alt: "first"}}}
	}
	newPoll := func() *herald.Update {
		return &herald.Update{Text: "Vote", Poll: &herald.Poll{Question: "Which?", Options: []herald.PollOption{{Text: "x"}, {Text: "y"}}}}
	}
	replays := func(key string, next *herald.Update, first []byte) {
		t.Helper()
		err := h.keyedPost(owner.ID, ch.ID, owner.ID, key, fp, next)
		r := replayOf(err)
		if r == nil || r.Status != 201 || !bytes.Equal(r.Body, first) {
			var got []byte
			if r != nil {
				got = r.Body
			}
			t.Fatalf("retry of %q = %v %s, want the first answer %s", key, err, got, first)
		}
	}

	media := newMedia()
	NoErr(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "media", fp, media), "keyed post with media")
	firstMedia, _ := json.Marshal(media)
	_, err := s.SetReaction(h.Ctx, f.ID, ch.ID, media.ID, "👍")
	NoErr(t, err, "SetReaction")
	replays("media", newMedia(), firstMedia)

	poll := newPoll()
	NoErr(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "poll", fp, poll), "keyed poll")
	firstPoll, _ := json.Marshal(poll)
	_, err = s.Vote(h.Ctx, f.ID, ch.ID, poll.ID, []int{1})
	NoErr(t, err, "Vote")
	replays("poll", newPoll(), firstPoll)

	// Edited since: the retry shows the update as it now is, and creates
	// nothing (the text before the edit is kept nowhere).
	_, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, media.ID, "Photos, corrected")
	NoErr(t, err, "EditUpdate")
	edited := newMedia()
	err = h.keyedPost(owner.ID, ch.ID, owner.ID, "media", fp, edited)
	if replayOf(err) == nil || edited.ID != media.ID || edited.Text != "Photos, corrected" || edited.EditedAt == nil || len(edited.Media) != 2 {
		t.Fatalf("retry after an edit = %v, %s", err, JSON(t, edited))
	}
	var got herald.Update
	NoErr(t, json.Unmarshal(replayOf(err).Body, &got), "decode the replay")
	if got.Text != "Photos, corrected" || len(got.Reactions) != 0 {
		t.Fatalf("replay after an edit = %s", replayOf(err).Body)
	}

	// Deleted (its text erased with it): the retry posts again, under
	// another id (a deletion is final for clients and receivers).
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, poll.ID), "DeleteUpdate")
	again := newPoll()
	NoErr(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "poll", fp, again), "retry of a deleted keyed post")
	if again.Poll == nil || again.Seq == poll.Seq || again.ID == poll.ID {
		t.Fatalf("retry after deletion = %s", JSON(t, again))
	}
	firstAgain, _ := json.Marshal(again)
	replays("poll", newPoll(), firstAgain)

	// A day later the key is new: a second update, then replayed.
	h.Clock.Advance(herald.IdempotencyTTL)
	later := newMedia()
	later.Text = "Photos, a day later"
	later.Media = nil
	NoErr(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "media", fp, later), "same key a day later")
	if later.ID == media.ID || later.Text != "Photos, a day later" {
		t.Fatalf("a day later = %s, first was %s", JSON(t, later), media.ID)
	}
	firstLater, _ := json.Marshal(later)
	replays("media", &herald.Update{Text: "Photos, a day later"}, firstLater)
	us, err := s.ListUpdates(h.Ctx, owner.ID, ch.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	if len(us) != 3 {
		t.Fatalf("%d updates, want 3 (media, the reposted poll, a day later)", len(us))
	}

	// A suspended channel posts nothing, but a retry still gets its answer.
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: h.operator().ID, Action: herald.ActionSuspendChannel, ChannelID: ch.ID, Reason: "scam"})
	NoErr(t, err, "suspend")
	replays("media", &herald.Update{Text: "Photos, a day later"}, firstLater)
	WantKind(t, h.keyedPost(owner.ID, ch.ID, owner.ID, "new", fp, &herald.Update{Text: "x"}),
		herald.EFORBIDDEN, "channel-suspended", "keyed post while suspended")
}
