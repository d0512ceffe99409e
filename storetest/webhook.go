package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Webhooks/Manage", testWebhookManage)
	register("Webhooks/ClaimAdvanceFail", testWebhookClaim)
	register("Webhooks/LeaseExpires", testWebhookLease)
	register("Webhooks/DisableAndEnable", testWebhookDisable)
	register("Webhooks/LogBounded", testWebhookLog)
	register("Webhooks/ClaimConcurrent", testWebhookClaimConcurrent)
	register("Webhooks/ErasedWithChannel", testWebhookErased)
	register("Webhooks/KeptAnswerErased", testWebhookAnswerErased)
	register("Webhooks/ClaimSaysTheFloor", testWebhookFloor)
}

var allHookEvents = []string{herald.EventUpdateCreated, herald.EventUpdateDeleted}

func newHook(t *testing.T, h *Harness, actor *herald.Account, ch *herald.Channel, secret string) *herald.Webhook {
	t.Helper()
	w := &herald.Webhook{URL: "https://hooks.example.org/herald", Events: allHookEvents}
	NoErr(t, h.Store.CreateWebhook(h.Ctx, actor.ID, ch.ID, w, []byte(secret)), "CreateWebhook")
	return w
}

func testWebhookManage(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	follower := h.Follower(ch)
	other := h.Channel(owner)

	w := &herald.Webhook{URL: "https://hooks.example.org/a", Events: []string{"update.poll", "update.created", "update.created"}}
	NoErr(t, s.CreateWebhook(h.Ctx, admin.ID, ch.ID, w, []byte("k1")), "CreateWebhook by an admin")
	if w.ID == "" || w.ChannelID != ch.ID || !w.Enabled || fmt.Sprint(w.Events) != "[update.created update.poll]" || !w.CreatedAt.Equal(Start) {
		t.Fatalf("CreateWebhook = %+v", w)
	}
	for _, bad := range [][]string{nil, {"update.pinned"}, {"channel.followed"}} {
		WantKind(t, s.CreateWebhook(h.Ctx, owner.ID, ch.ID, &herald.Webhook{URL: "https://x.example/", Events: bad}, []byte("k")),
			herald.EINVALID, "invalid-webhook-events", fmt.Sprintf("events %v", bad))
	}
	mk := func(actor string) error {
		return s.CreateWebhook(h.Ctx, actor, ch.ID, &herald.Webhook{URL: "https://x.example/", Events: allHookEvents}, []byte("k"))
	}
	WantCode(t, mk(follower.ID), herald.EFORBIDDEN, "a follower creates a webhook")
	key := &herald.ChannelKey{Name: "bot", Scopes: herald.Scopes}
	NoErr(t, s.CreateChannelKey(h.Ctx, owner.ID, ch.ID, key, secretHash("hk_hooks")), "CreateChannelKey")
	WantCode(t, mk(herald.KeyActor(key.ID)), herald.EFORBIDDEN, "a key creates a webhook")
	_, err := s.ListWebhooks(h.Ctx, herald.KeyActor(key.ID), ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a key lists webhooks")
	_, err = s.ListWebhooks(h.Ctx, follower.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a follower lists webhooks")
	_, err = s.UpdateWebhook(h.Ctx, herald.KeyActor(key.ID), ch.ID, w.ID, herald.WebhookPatch{Events: allHookEvents})
	WantCode(t, err, herald.EFORBIDDEN, "a key edits a webhook")
	WantCode(t, s.DeleteWebhook(h.Ctx, herald.KeyActor(key.ID), ch.ID, w.ID), herald.EFORBIDDEN, "a key deletes a webhook")
	_, err = s.WebhookDeliveries(h.Ctx, follower.ID, ch.ID, w.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a follower reads the log")

	// At most MaxWebhooksPerChannel.
	for i := 1; i < herald.MaxWebhooksPerChannel; i++ {
		h.Clock.Advance(time.Millisecond) // listed oldest first
		NoErr(t, mk(owner.ID), "CreateWebhook up to the limit")
	}
	WantKind(t, mk(owner.ID), herald.ECONFLICT, "too-many-webhooks", "one webhook too many")

	list, err := s.ListWebhooks(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListWebhooks")
	if len(list) != herald.MaxWebhooksPerChannel || list[0].ID != w.ID || list[0].URL != w.URL {
		t.Fatalf("ListWebhooks = %d webhooks, first %+v", len(list), list[0])
	}

	// Another channel's admin path never reaches it.
	_, err = s.UpdateWebhook(h.Ctx, owner.ID, other.ID, w.ID, herald.WebhookPatch{Events: allHookEvents})
	WantCode(t, err, herald.ENOTFOUND, "a webhook through another channel")
	WantCode(t, s.RotateWebhookSecret(h.Ctx, owner.ID, other.ID, w.ID, []byte("x")), herald.ENOTFOUND, "rotate through another channel")
	_, err = s.WebhookDeliveries(h.Ctx, owner.ID, other.ID, w.ID)
	WantCode(t, err, herald.ENOTFOUND, "log through another channel")

	got, err := s.UpdateWebhook(h.Ctx, owner.ID, ch.ID, w.ID, herald.WebhookPatch{Events: []string{"channel.updated"}})
	NoErr(t, err, "UpdateWebhook events")
	if fmt.Sprint(got.Events) != "[channel.updated]" || !got.Enabled {
		t.Fatalf("UpdateWebhook = %+v", got)
	}
	_, err = s.UpdateWebhook(h.Ctx, owner.ID, ch.ID, w.ID, herald.WebhookPatch{Events: []string{"nope"}})
	WantCode(t, err, herald.EINVALID, "UpdateWebhook with an unknown event")

	// Rotation: the next claim signs with the new secret.
	NoErr(t, s.RotateWebhookSecret(h.Ctx, owner.ID, ch.ID, w.ID, []byte("k2")), "RotateWebhookSecret")
	for _, l := range list[1:] {
		NoErr(t, s.DeleteWebhook(h.Ctx, owner.ID, ch.ID, l.ID), "DeleteWebhook")
	}
	h.Post(owner, ch, "hello")
	job, err := s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	if job == nil || job.ID != w.ID || !bytes.Equal(job.Secret, []byte("k2")) {
		t.Fatalf("ClaimWebhook = %+v, want webhook %s with the rotated secret", job, w.ID)
	}
	WantCode(t, s.DeleteWebhook(h.Ctx, owner.ID, ch.ID, "nope"), herald.ENOTFOUND, "delete an unknown webhook")
	NoErr(t, s.DeleteWebhook(h.Ctx, owner.ID, ch.ID, w.ID), "DeleteWebhook")
	WantCode(t, s.AdvanceWebhook(h.Ctx, w.ID, job.Lease, 10, nil, time.Minute), herald.ECONFLICT, "advance a deleted webhook")
	list, err = s.ListWebhooks(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListWebhooks")
	if len(list) != 0 {
		t.Fatalf("ListWebhooks after deleting all = %+v", list)
	}
}

func testWebhookClaim(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	h.Post(owner, ch, "before the webhook")
	w := newHook(t, h, owner, ch, "secret")

	job, err := s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	if job != nil {
		t.Fatalf("ClaimWebhook without new events = %+v", job)
	}
	u := h.Post(owner, ch, "after")
	job, err = s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	if job == nil || job.ID != w.ID || job.ChannelID != ch.ID || job.URL != w.URL || job.Cursor != u.Seq-1 || job.Attempts != 0 || job.Lease == "" {
		t.Fatalf("ClaimWebhook = %+v (update seq %d)", job, u.Seq)
	}
	if again, err := s.ClaimWebhook(h.Ctx, time.Minute); err != nil || again != nil {
		t.Fatalf("second ClaimWebhook while held = %+v, %v", again, err)
	}
	evs, ok, err := s.EventsAfter(h.Ctx, ch.ID, job.Cursor, 10)
	NoErr(t, err, "EventsAfter")
	if !ok || len(evs) != 1 || evs[0].Type != herald.EventUpdateCreated {
		t.Fatalf("EventsAfter(cursor) = %+v, %v", evs, ok)
	}
	WantCode(t, s.AdvanceWebhook(h.Ctx, w.ID, "not-mine", evs[0].Seq, nil, time.Minute), herald.ECONFLICT, "advance with another lease")

	// A failure: counted, logged, released until retryAt.
	h.Clock.Advance(time.Second)
	d := herald.WebhookDelivery{At: h.Clock.Now(), EventType: evs[0].Type, Seq: evs[0].Seq, Attempt: 1, Status: 503, LatencyMS: 7, Error: "The receiver answered 503."}
	NoErr(t, s.FailWebhook(h.Ctx, w.ID, job.Lease, d, h.Clock.Now().Add(5*time.Second), ""), "FailWebhook")
	if again, err := s.ClaimWebhook(h.Ctx, time.Minute); err != nil || again != nil {
		t.Fatalf("ClaimWebhook before retryAt = %+v, %v", again, err)
	}
	list, err := s.ListWebhooks(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListWebhooks")
	if !list[0].Enabled || list[0].FailingSince == nil || !list[0].FailingSince.Equal(Start.Add(time.Second)) {
		t.Fatalf("failing webhook = %+v", list[0])
	}
	h.Clock.Advance(5 * time.Second)
	job, err = s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook at retryAt")
	if job == nil || job.Attempts != 1 || job.Cursor != u.Seq-1 || job.FailingSince == nil {
		t.Fatalf("ClaimWebhook after a failure = %+v", job)
	}

	// Success: the cursor moves, the failure state clears.
	d2 := herald.WebhookDelivery{At: h.Clock.Now(), EventType: evs[0].Type, Seq: evs[0].Seq, Attempt: 2, Status: 204, LatencyMS: 3}
	NoErr(t, s.AdvanceWebhook(h.Ctx, w.ID, job.Lease, evs[0].Seq, &d2, time.Minute), "AdvanceWebhook")
	NoErr(t, s.ReleaseWebhook(h.Ctx, w.ID, job.Lease), "ReleaseWebhook")
	NoErr(t, s.ReleaseWebhook(h.Ctx, w.ID, job.Lease), "ReleaseWebhook again")
	if again, err := s.ClaimWebhook(h.Ctx, time.Minute); err != nil || again != nil {
		t.Fatalf("ClaimWebhook when caught up = %+v, %v", again, err)
	}
	log, err := s.WebhookDeliveries(h.Ctx, owner.ID, ch.ID, w.ID)
	NoErr(t, err, "WebhookDeliveries")
	if len(log) != 2 || log[0].Status != 204 || log[0].Attempt != 2 || log[1].Status != 503 || log[1].Error == "" ||
		!log[1].At.Equal(Start.Add(time.Second)) || log[1].LatencyMS != 7 || log[1].Seq != evs[0].Seq {
		t.Fatalf("WebhookDeliveries = %+v", log)
	}
	list, err = s.ListWebhooks(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListWebhooks")
	if list[0].FailingSince != nil {
		t.Fatalf("webhook after a success = %+v", list[0])
	}
}

func testWebhookLease(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	w := newHook(t, h, owner, ch, "secret")
	u := h.Post(owner, ch, "one")
	first, err := s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	if first == nil {
		t.Fatal("nothing claimed")
	}
	// The first worker died: past its lease another takes the webhook.
	h.Clock.Advance(61 * time.Second)
	second, err := s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook after the lease")
	if second == nil || second.ID != w.ID || second.Lease == first.Lease {
		t.Fatalf("second claim = %+v", second)
	}
	WantCode(t, s.AdvanceWebhook(h.Ctx, w.ID, first.Lease, u.Seq, nil, time.Minute), herald.ECONFLICT, "the old lease advances")
	WantCode(t, s.FailWebhook(h.Ctx, w.ID, first.Lease, herald.WebhookDelivery{At: h.Clock.Now()}, h.Clock.Now(), ""), herald.ECONFLICT, "the old lease fails")
	NoErr(t, s.ReleaseWebhook(h.Ctx, w.ID, first.Lease), "the old lease releases (a no-op)")
	if again, err := s.ClaimWebhook(h.Ctx, time.Minute); err != nil || again != nil {
		t.Fatalf("claim while the second holds it = %+v, %v", again, err)
	}
	NoErr(t, s.AdvanceWebhook(h.Ctx, w.ID, second.Lease, u.Seq, nil, time.Minute), "the new lease advances")
}

func testWebhookDisable(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	w := newHook(t, h, owner, ch, "secret")
	h.Post(owner, ch, "one")
	job, err := s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	d := herald.WebhookDelivery{At: h.Clock.Now(), EventType: "update.created", Seq: job.Cursor + 1, Attempt: 1, Status: 410}
	NoErr(t, s.FailWebhook(h.Ctx, w.ID, job.Lease, d, h.Clock.Now(), "The receiver answered 410 Gone."), "FailWebhook disabling")
	list, err := s.ListWebhooks(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListWebhooks")
	if list[0].Enabled || list[0].DisabledReason != "The receiver answered 410 Gone." {
		t.Fatalf("disabled webhook = %+v", list[0])
	}
	h.Post(owner, ch, "two")
	h.Clock.Advance(time.Hour)
	if again, err := s.ClaimWebhook(h.Ctx, time.Minute); err != nil || again != nil {
		t.Fatalf("ClaimWebhook of a disabled webhook = %+v, %v", again, err)
	}
	// Enabled again: failures forgotten, it starts with new events.
	on := true
	got, err := s.UpdateWebhook(h.Ctx, owner.ID, ch.ID, w.ID, herald.WebhookPatch{Enabled: &on})
	NoErr(t, err, "UpdateWebhook enabled")
	if !got.Enabled || got.DisabledReason != "" || got.FailingSince != nil {
		t.Fatalf("enabled webhook = %+v", got)
	}
	if again, err := s.ClaimWebhook(h.Ctx, time.Minute); err != nil || again != nil {
		t.Fatalf("ClaimWebhook right after enabling = %+v, %v", again, err)
	}
	u := h.Post(owner, ch, "three")
	job, err = s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	if job == nil || job.Cursor != u.Seq-1 || job.Attempts != 0 {
		t.Fatalf("ClaimWebhook after enabling = %+v", job)
	}
	// An admin disables it: the holder loses its lease.
	off := false
	got, err = s.UpdateWebhook(h.Ctx, owner.ID, ch.ID, w.ID, herald.WebhookPatch{Enabled: &off})
	NoErr(t, err, "UpdateWebhook disabled")
	if got.Enabled || got.DisabledReason != "" {
		t.Fatalf("webhook disabled by an admin = %+v", got)
	}
	WantCode(t, s.AdvanceWebhook(h.Ctx, w.ID, job.Lease, u.Seq, nil, time.Minute), herald.ECONFLICT, "advance a disabled webhook")
}

func testWebhookLog(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	w := newHook(t, h, owner, ch, "secret")
	h.Post(owner, ch, "one")
	job, err := s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	n := herald.WebhookLogSize + 5
	for i := 1; i <= n; i++ {
		d := herald.WebhookDelivery{At: h.Clock.Now(), EventType: "update.created", Seq: int64(i), Attempt: 1, Status: 200}
		NoErr(t, s.AdvanceWebhook(h.Ctx, w.ID, job.Lease, int64(i), &d, time.Minute), "AdvanceWebhook")
	}
	log, err := s.WebhookDeliveries(h.Ctx, owner.ID, ch.ID, w.ID)
	NoErr(t, err, "WebhookDeliveries")
	if len(log) != herald.WebhookLogSize || log[0].Seq != int64(n) || log[len(log)-1].Seq != int64(n-herald.WebhookLogSize+1) {
		t.Fatalf("log: %d entries, newest %d, oldest %d", len(log), log[0].Seq, log[len(log)-1].Seq)
	}
}

func testWebhookClaimConcurrent(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	const hooks = 3
	for range hooks {
		ch := h.Channel(owner)
		newHook(t, h, owner, ch, "secret")
		h.Post(owner, ch, "news")
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			job, err := s.ClaimWebhook(h.Ctx, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if job != nil {
				mu.Lock()
				claimed[job.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != hooks {
		t.Fatalf("claimed %v, want each of %d webhooks once", claimed, hooks)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Fatalf("webhook %s claimed %d times", id, n)
		}
	}
}

func testWebhookErased(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	w := newHook(t, h, owner, ch, "secret")
	h.Post(owner, ch, "one")
	job, err := s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	d := herald.WebhookDelivery{At: h.Clock.Now(), EventType: "update.created", Seq: job.Cursor + 1, Attempt: 1, Status: 200}
	NoErr(t, s.AdvanceWebhook(h.Ctx, w.ID, job.Lease, job.Cursor+1, &d, time.Minute), "AdvanceWebhook")
	h.Post(owner, ch, "two")
	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, ch.ID), "DeleteChannel")
	h.Clock.Advance(2 * time.Minute)
	if again, err := s.ClaimWebhook(h.Ctx, time.Minute); err != nil || again != nil {
		t.Fatalf("ClaimWebhook after the channel was deleted = %+v, %v", again, err)
	}
	_, err = s.WebhookDeliveries(h.Ctx, owner.ID, ch.ID, w.ID)
	WantCode(t, err, herald.ENOTFOUND, "the log of a deleted channel's webhook")
	WantCode(t, s.AdvanceWebhook(h.Ctx, w.ID, job.Lease, job.Cursor+2, nil, time.Minute), herald.ECONFLICT, "advance a deleted channel's webhook")
}

// The kept Idempotency-Key answer to a webhook's creation holds its secret:
// rotating the secret or deleting the webhook erases it.
func testWebhookAnswerErased(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	for i, erase := range []func(w *herald.Webhook) error{
		func(w *herald.Webhook) error {
			return s.RotateWebhookSecret(h.Ctx, owner.ID, ch.ID, w.ID, []byte("new"))
		},
		func(w *herald.Webhook) error { return s.DeleteWebhook(h.Ctx, owner.ID, ch.ID, w.ID) },
	} {
		key := fmt.Sprintf("create-hook-%d", i)
		fp := []byte(key)
		prior, err := s.ClaimIdempotencyKey(h.Ctx, owner.ID, key, fp)
		NoErr(t, err, "ClaimIdempotencyKey")
		if prior != nil {
			t.Fatalf("first claim replayed %+v", prior)
		}
		w := newHook(t, h, owner, ch, "secret")
		NoErr(t, s.CompleteIdempotencyKey(h.Ctx, owner.ID, key, &herald.IdempotentResponse{Status: 201,
			Body: []byte(`{"id":"` + w.ID + `","secret":"whsec_x"}`), ChannelID: ch.ID, ResourceID: w.ID}), "CompleteIdempotencyKey")
		prior, err = s.ClaimIdempotencyKey(h.Ctx, owner.ID, key, fp)
		NoErr(t, err, "ClaimIdempotencyKey (replay)")
		if prior == nil {
			t.Fatal("the answer was not kept")
		}
		NoErr(t, erase(w), "erase")
		prior, err = s.ClaimIdempotencyKey(h.Ctx, owner.ID, key, fp)
		NoErr(t, err, "ClaimIdempotencyKey after erasure")
		if prior != nil {
			t.Fatalf("case %d: the answer holding the secret survived: %s", i, prior.Body)
		}
	}
}

// A claim returns the log's floor, so that a webhook whose events were
// pruned by age goes on from there.
func testWebhookFloor(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	newHook(t, h, owner, ch, "secret")
	name := "Renamed"
	_, err := s.UpdateChannel(h.Ctx, owner.ID, ch.ID, herald.ChannelPatch{Name: &name})
	NoErr(t, err, "UpdateChannel")
	job, err := s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook")
	if job == nil || job.Floor > job.Cursor {
		t.Fatalf("ClaimWebhook = %+v", job)
	}
	NoErr(t, s.FailWebhook(h.Ctx, job.ID, job.Lease, herald.WebhookDelivery{At: h.Clock.Now(), Attempt: 1}, h.Clock.Now(), ""), "FailWebhook")
	h.Clock.Advance(herald.DefaultRetention + time.Hour)
	_, err = s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired")
	h.Post(owner, ch, "fresh")
	job, err = s.ClaimWebhook(h.Ctx, time.Minute)
	NoErr(t, err, "ClaimWebhook after pruning")
	if job == nil || job.Floor <= job.Cursor {
		t.Fatalf("ClaimWebhook after pruning = %+v, want the floor above the cursor", job)
	}
	evs, ok, err := s.EventsAfter(h.Ctx, ch.ID, job.Floor, 10)
	NoErr(t, err, "EventsAfter(floor)")
	if !ok || len(evs) != 1 || evs[0].Type != herald.EventUpdateCreated {
		t.Fatalf("EventsAfter(floor) = %+v, %v", evs, ok)
	}
}
