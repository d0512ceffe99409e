package storetest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Concurrency/ExactCounts", testConcurrentCounts)
	register("Concurrency/FollowerCount", testConcurrentFollows)
}

// testConcurrentCounts has 200 followers react, change, withdraw, vote,
// change and retract at once, with a flusher running beside them, and checks
// that the counts (and the last flushed event) are exact.
func testConcurrentCounts(t *testing.T, h *Harness) {
	const n = 200
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.PostPoll(owner, ch, true, "a", "b", "c")
	followers := make([]*herald.Account, n)
	for i := range followers {
		followers[i] = h.Follower(ch)
	}
	emojis := []string{"👍", "❤️", "😂", "😮"}

	wantReactions := map[string]int64{}
	wantVotes := make([]int64, 3)
	var wantVoters int64
	for i := 0; i < n; i++ {
		if i%3 != 0 {
			wantReactions[emojis[(i+1)%4]]++
		}
		if i%5 != 0 {
			wantVoters++
			wantVotes[(i+1)%3]++
			wantVotes[(i+2)%3]++
		}
	}

	ctx, stop := context.WithCancel(h.Ctx)
	flushed := make(chan error, 1)
	go func() {
		var err error
		for ctx.Err() == nil && err == nil {
			_, err = s.FlushCounts(h.Ctx)
			time.Sleep(time.Millisecond) // pacing only: leave the writer to the followers
		}
		flushed <- err
	}()

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, f := range followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do := func(_ *herald.Update, err error) bool {
				if err != nil {
					errs <- err
					return false
				}
				return true
			}
			ok := do(s.SetReaction(h.Ctx, f.ID, ch.ID, u.ID, emojis[i%4])) &&
				do(s.Vote(h.Ctx, f.ID, ch.ID, u.ID, []int{i % 3})) &&
				do(s.SetReaction(h.Ctx, f.ID, ch.ID, u.ID, emojis[(i+1)%4])) &&
				do(s.Vote(h.Ctx, f.ID, ch.ID, u.ID, []int{(i + 2) % 3, (i + 1) % 3})) &&
				do(s.FindUpdate(h.Ctx, f.ID, ch.ID, u.ID))
			if ok && i%3 == 0 {
				ok = do(s.RemoveReaction(h.Ctx, f.ID, ch.ID, u.ID))
			}
			if ok && i%5 == 0 {
				do(s.RetractVote(h.Ctx, f.ID, ch.ID, u.ID))
			}
		}()
	}
	wg.Wait()
	stop()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent interaction failed: %v", err)
	}
	NoErr(t, <-flushed, "concurrent FlushCounts")

	got, err := s.FindUpdate(h.Ctx, owner.ID, ch.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	if !maps.Equal(got.Reactions, wantReactions) {
		t.Fatalf("reactions = %v, want %v", got.Reactions, wantReactions)
	}
	wantPoll(t, got, wantVotes, wantVoters, nil, "concurrent votes")

	// Every follower sees exactly their own final state.
	for i, f := range followers {
		mine, err := s.FindUpdate(h.Ctx, f.ID, ch.ID, u.ID)
		NoErr(t, err, "FindUpdate follower")
		if i%3 == 0 && mine.Viewer.Reaction != nil || i%3 != 0 && (mine.Viewer.Reaction == nil || *mine.Viewer.Reaction != emojis[(i+1)%4]) {
			t.Fatalf("follower %d reaction = %v", i, mine.Viewer.Reaction)
		}
		want := []int{}
		if i%5 != 0 {
			want = []int{(i + 1) % 3, (i + 2) % 3}
			slices.Sort(want)
		}
		if !slices.Equal(mine.Viewer.Votes, want) {
			t.Fatalf("follower %d votes = %v, want %v", i, mine.Viewer.Votes, want)
		}
	}

	// After a final flush, the newest counts events carry the exact totals.
	_, err = s.FlushCounts(h.Ctx)
	NoErr(t, err, "final FlushCounts")
	var lastReactions, lastPoll *herald.Counts
	for _, ev := range h.Events.Stream(ch.ID) {
		switch ev.Type {
		case herald.EventUpdateReactions:
			lastReactions = ev.Counts
		case herald.EventUpdatePoll:
			lastPoll = ev.Counts
		}
	}
	if lastReactions == nil || !maps.Equal(lastReactions.Reactions, wantReactions) {
		t.Fatalf("last update.reactions counts = %+v, want %v", lastReactions, wantReactions)
	}
	if lastPoll == nil || !slices.Equal(lastPoll.Votes, wantVotes) || lastPoll.Voters == nil || *lastPoll.Voters != wantVoters {
		t.Fatalf("last update.poll counts = %+v, want %v / %d", lastPoll, wantVotes, wantVoters)
	}
}

// testConcurrentFollows follows and unfollows from many goroutines at once.
func testConcurrentFollows(t *testing.T, h *Harness) {
	const n = 100
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	accounts := make([]*herald.Account, n)
	for i := range accounts {
		accounts[i] = h.Account("f")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i, a := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 2; k++ {
				if _, err := s.Follow(h.Ctx, a.ID, ch.ID); err != nil {
					errs <- err
				}
			}
			if i%4 == 0 {
				if err := s.Unfollow(h.Ctx, a.ID, ch.ID); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent follow failed: %v", err)
	}
	got, err := s.FindChannel(h.Ctx, "", ch.ID)
	NoErr(t, err, "FindChannel")
	if want := int64(n - n/4); got.FollowerCount != want {
		t.Fatalf("follower_count = %d, want %d", got.FollowerCount, want)
	}
}
