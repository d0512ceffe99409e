package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("PushJobs/CreatedWithUpdate", testPushJobCreated)
	register("PushJobs/Lease", testPushJobLease)
	register("PushJobs/EditWindow", testPushJobEdit)
	register("PushJobs/DeleteAndExpiry", testPushJobDelete)
	register("PushJobs/Retries", testPushRetries)
	register("PushJobs/RetriesFollowCurrentState", testPushRetriesFollow)
	register("PushJobs/ConcurrentClaims", testPushJobConcurrentClaims)
}

const lease = 15 * time.Second

func (h *Harness) claim(what string) *herald.PushJob {
	h.T.Helper()
	j, err := h.Store.ClaimPushJob(h.Ctx, lease)
	NoErr(h.T, err, what)
	return j
}

func (h *Harness) noJob(what string) {
	h.T.Helper()
	if j := h.claim(what); j != nil {
		h.T.Fatalf("%s: claimed %+v, want no job", what, j)
	}
}

func testPushJobCreated(t *testing.T, h *Harness) {
	h.noJob("Claim(empty)")
	owner := h.Account("owner")
	ch := h.Channel(owner)
	h.Clock.Advance(time.Minute)
	u := h.Post(owner, ch, "Flood warning")
	j := h.claim("Claim")
	if j == nil {
		t.Fatal("posting created no push job")
	}
	if j.ID == "" || j.Lease == "" || j.Cursor != "" || !j.QueuedAt.Equal(u.CreatedAt) || j.Edit ||
		j.UpdateID != u.ID || j.ChannelID != ch.ID || j.ChannelName != ch.Name || j.Seq != u.Seq ||
		j.Text != "Flood warning" || !j.CreatedAt.Equal(u.CreatedAt) || !j.ExpiresAt.Equal(u.ExpiresAt) {
		t.Fatalf("job = %+v, update %+v", j, u)
	}
	h.noJob("Claim(held)")
	NoErr(t, h.Store.FinishPushJob(h.Ctx, j.ID, j.Lease), "Finish")
	h.noJob("Claim(finished)")

	// Jobs come oldest first.
	h.Post(owner, ch, "first")
	h.Post(owner, ch, "second")
	if j := h.claim("Claim(first)"); j == nil || j.Text != "first" {
		t.Fatalf("first job = %+v", j)
	}
	if j := h.claim("Claim(second)"); j == nil || j.Text != "second" {
		t.Fatalf("second job = %+v", j)
	}
}

func testPushJobLease(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	h.Post(owner, ch, "one")
	j := h.claim("Claim")
	h.Clock.Advance(10 * time.Second)
	NoErr(t, h.Store.AdvancePushJob(h.Ctx, j.ID, j.Lease, "acct.sub", lease), "Advance")
	h.Clock.Advance(10 * time.Second) // 20 s after the claim, 10 s after the renewal
	h.noJob("Claim(renewed lease)")
	h.Clock.Advance(6 * time.Second) // the renewed lease has ended
	j2 := h.claim("Claim(lease ended)")
	if j2 == nil || j2.ID != j.ID || j2.Lease == j.Lease || j2.Cursor != "acct.sub" {
		t.Fatalf("reclaimed = %+v, want job %s resuming at acct.sub with a new lease", j2, j.ID)
	}
	WantKind(t, h.Store.AdvancePushJob(h.Ctx, j.ID, j.Lease, "acct.zzz", lease), herald.ECONFLICT, "push-lease-lost", "Advance(old lease)")
	WantKind(t, h.Store.FinishPushJob(h.Ctx, j.ID, j.Lease), herald.ECONFLICT, "push-lease-lost", "Finish(old lease)")
	WantKind(t, h.Store.FinishPushJob(h.Ctx, "12345678", j2.Lease), herald.ECONFLICT, "push-lease-lost", "Finish(unknown job)")
	WantKind(t, h.Store.FinishPushJob(h.Ctx, "not-a-number", j2.Lease), herald.ECONFLICT, "push-lease-lost", "Finish(malformed id)")
	NoErr(t, h.Store.FinishPushJob(h.Ctx, j2.ID, j2.Lease), "Finish")
	h.Clock.Advance(time.Minute)
	h.noJob("Claim(done)")
}

func testPushJobEdit(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "v1")
	// Edited before its job started: that job reads the new text; no second job.
	_, err := h.Store.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "v2")
	NoErr(t, err, "Edit(unstarted)")
	j := h.claim("Claim")
	if j == nil || j.Text != "v2" || j.Edit {
		t.Fatalf("job = %+v", j)
	}
	h.noJob("Claim(only one job)")
	NoErr(t, h.Store.FinishPushJob(h.Ctx, j.ID, j.Lease), "Finish")
	// Edited after the push, within the hour: pushed again.
	h.Clock.Advance(59 * time.Minute)
	_, err = h.Store.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "v3")
	NoErr(t, err, "Edit(59 min)")
	e := h.claim("Claim(edit)")
	if e == nil || !e.Edit || e.Text != "v3" || e.UpdateID != u.ID || e.Cursor != "" {
		t.Fatalf("edit job = %+v", e)
	}
	NoErr(t, h.Store.FinishPushJob(h.Ctx, e.ID, e.Lease), "Finish(edit)")
	// An hour after the post: edits are not pushed.
	h.Clock.Advance(time.Minute)
	_, err = h.Store.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "v4")
	NoErr(t, err, "Edit(60 min)")
	h.noJob("Claim(late edit)")
}

func testPushJobDelete(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	sub := h.savePush(f, PushSub(1, 1))
	u := h.Post(owner, ch, "doomed")
	j := h.claim("Claim")
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, f.ID, sub.ID, 1, Start), "ScheduleRetry")
	NoErr(t, h.Store.DeleteUpdate(h.Ctx, owner.ID, ch.ID, u.ID), "DeleteUpdate")
	WantKind(t, h.Store.AdvancePushJob(h.Ctx, j.ID, j.Lease, "a.b", lease), herald.ECONFLICT, "push-lease-lost", "Advance(deleted update)")
	h.Clock.Advance(time.Minute)
	h.noJob("Claim(deleted update)")
	if rs, err := h.Store.ClaimPushRetries(h.Ctx, 10, lease); err != nil || len(rs) != 0 {
		t.Fatalf("retries of a deleted update: %+v, %v", rs, err)
	}
	// Scheduling for a gone update or device is a no-op.
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, f.ID, sub.ID, 1, Start), "ScheduleRetry(deleted update)")

	// Expired updates' jobs are never claimed.
	h2 := h.With(func(c *herald.StoreConfig) { c.Retention = time.Hour })
	o2 := h2.Account("owner")
	ch2 := h2.Channel(o2)
	h2.Post(o2, ch2, "short-lived")
	h2.Clock.Advance(time.Hour)
	h2.noJob("Claim(expired)")
	_, err := h2.Store.PruneExpired(h2.Ctx)
	NoErr(t, err, "PruneExpired")
	h2.noJob("Claim(pruned)")
}

func testPushRetries(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	sub := h.savePush(f, PushSub(1, 7))
	other := h.savePush(f, PushSub(2, 8))
	u := h.Post(owner, ch, "retry me")
	claim := func(what string, want int) []herald.PushRetry {
		t.Helper()
		rs, err := h.Store.ClaimPushRetries(h.Ctx, 10, lease)
		NoErr(t, err, what)
		if len(rs) != want {
			t.Fatalf("%s: %d retries %+v, want %d", what, len(rs), rs, want)
		}
		return rs
	}
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, f.ID, sub.ID, 1, Start.Add(10*time.Second)), "Schedule")
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, "someone-else", other.ID, 1, Start), "Schedule(wrong account)")
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, f.ID, "no-such-device", 1, Start), "Schedule(unknown device)")
	claim("Claim(not due)", 0)
	h.Clock.Advance(10 * time.Second)
	r := claim("Claim(due)", 1)[0]
	want := PushSub(1, 7)
	if r.ID == "" || r.Lease == "" || r.Attempts != 1 || r.Edit || r.UpdateID != u.ID || r.ChannelID != ch.ID || r.ChannelName != ch.Name ||
		r.Text != "retry me" || r.Seq != u.Seq || !r.ExpiresAt.Equal(u.ExpiresAt) ||
		r.Target.ID != sub.ID || r.Target.AccountID != f.ID || r.Target.Endpoint != want.Endpoint ||
		string(r.Target.P256DH) != string(want.P256DH) || string(r.Target.Auth) != string(want.Auth) {
		t.Fatalf("retry = %+v", r)
	}
	claim("Claim(held)", 0)
	// Failed again: rescheduled, the lease released.
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, f.ID, sub.ID, 2, Start.Add(20*time.Second)), "Reschedule")
	claim("Claim(rescheduled, not due)", 0)
	h.Clock.Advance(10 * time.Second)
	r2 := claim("Claim(rescheduled)", 1)[0]
	if r2.ID != r.ID || r2.Attempts != 2 {
		t.Fatalf("rescheduled = %+v, want the same row at attempt 2", r2)
	}
	// The edit's push is another row.
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, true, f.ID, sub.ID, 1, Start), "Schedule(edit)")
	if e := claim("Claim(edit)", 1)[0]; !e.Edit || e.ID == r.ID {
		t.Fatalf("edit retry = %+v", e)
	}
	NoErr(t, h.Store.FinishPushRetry(h.Ctx, r2.ID, "wrong lease"), "Finish(wrong lease)")
	h.Clock.Advance(lease)
	r3 := claim("Claim(lease ended)", 2)
	for _, r := range r3 {
		NoErr(t, h.Store.FinishPushRetry(h.Ctx, r.ID, r.Lease), "Finish")
	}
	h.Clock.Advance(lease)
	claim("Claim(finished)", 0)
	// A deleted device takes its retries along.
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, f.ID, other.ID, 1, h.Clock.Now()), "Schedule(other)")
	NoErr(t, h.Store.DeletePushSubscriptionByEndpoint(h.Ctx, other.Endpoint), "DeleteByEndpoint")
	claim("Claim(device gone)", 0)
}

func testPushRetriesFollow(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	muted, gone := h.Follower(ch), h.Follower(ch)
	ms, gs := h.savePush(muted, PushSub(1, 1)), h.savePush(gone, PushSub(2, 2))
	u := h.Post(owner, ch, "text")
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, muted.ID, ms.ID, 1, Start), "Schedule(muted)")
	NoErr(t, h.Store.SchedulePushRetry(h.Ctx, u.ID, false, gone.ID, gs.ID, 1, Start), "Schedule(unfollowed)")
	_, err := h.Store.SetMuted(h.Ctx, muted.ID, ch.ID, true)
	NoErr(t, err, "Mute")
	NoErr(t, h.Store.Unfollow(h.Ctx, gone.ID, ch.ID), "Unfollow")
	rs, err := h.Store.ClaimPushRetries(h.Ctx, 10, lease)
	if err != nil || len(rs) != 0 {
		t.Fatalf("retries to a muted and an unfollowed device: %+v, %v", rs, err)
	}
	// They were dropped, not kept: unmuted, nothing comes back.
	_, err = h.Store.SetMuted(h.Ctx, muted.ID, ch.ID, false)
	NoErr(t, err, "Unmute")
	h.Clock.Advance(lease)
	if rs, err := h.Store.ClaimPushRetries(h.Ctx, 10, lease); err != nil || len(rs) != 0 {
		t.Fatalf("dropped retries came back: %+v, %v", rs, err)
	}
}

// Claimers racing (several nodes) each get a different job; every job is
// claimed once.
func testPushJobConcurrentClaims(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	const jobs, workers = 12, 4
	for i := range jobs {
		h.Post(owner, ch, "post "+string(rune('a'+i)))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				j, err := h.Store.ClaimPushJob(h.Ctx, lease)
				if err != nil {
					errs <- err
					return
				}
				if j == nil {
					return
				}
				mu.Lock()
				seen[j.ID]++
				mu.Unlock()
				if err := h.Store.FinishPushJob(h.Ctx, j.ID, j.Lease); err != nil && !errors.Is(err, herald.ErrPushLeaseLost) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != jobs {
		t.Fatalf("claimed %d distinct jobs, want %d", len(seen), jobs)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("job %s claimed %d times", id, n)
		}
	}
}
