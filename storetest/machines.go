package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Machines/Keys", testMachineKeys)
	register("Machines/KeyActsOnItsChannelOnly", testMachineKeyActor)
	register("Machines/Idempotency", testMachineIdempotency)
	register("Machines/IdempotencyConcurrent", testMachineIdempotencyConcurrent)
	register("Machines/IdempotencyErasedWithContent", testMachineIdempotencyErased)
}

func secretHash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func testMachineKeys(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	follower := h.Follower(ch)

	k := &herald.ChannelKey{Name: "  weather station ", Scopes: []string{"post", "edit", "post"}}
	NoErr(t, s.CreateChannelKey(h.Ctx, admin.ID, ch.ID, k, secretHash("hk_one")), "CreateChannelKey by an admin")
	if k.ID == "" || k.ChannelID != ch.ID || k.Name != "weather station" || fmt.Sprint(k.Scopes) != "[edit post]" ||
		!k.CreatedAt.Equal(Start) || k.LastUsed != nil {
		t.Fatalf("CreateChannelKey = %+v", k)
	}
	for _, bad := range []*herald.ChannelKey{{Name: "", Scopes: []string{"post"}}, {Name: "x", Scopes: nil},
		{Name: "x", Scopes: []string{"admin"}}, {Name: "a\x01", Scopes: []string{"post"}}} {
		WantCode(t, s.CreateChannelKey(h.Ctx, owner.ID, ch.ID, bad, secretHash("hk_bad")), herald.EINVALID, fmt.Sprintf("key %+v", bad))
	}
	WantCode(t, s.CreateChannelKey(h.Ctx, follower.ID, ch.ID, &herald.ChannelKey{Name: "x", Scopes: []string{"post"}}, secretHash("hk_f")),
		herald.EFORBIDDEN, "a follower creates a key")
	WantCode(t, s.CreateChannelKey(h.Ctx, herald.KeyActor(k.ID), ch.ID, &herald.ChannelKey{Name: "x", Scopes: []string{"post"}}, secretHash("hk_k")),
		herald.EFORBIDDEN, "a key creates a key")

	// Found by its hash; the day of use is recorded once a day.
	got, err := s.FindChannelKey(h.Ctx, secretHash("hk_one"))
	NoErr(t, err, "FindChannelKey")
	if got.ID != k.ID || got.ChannelID != ch.ID || got.LastUsed == nil || *got.LastUsed != "2026-03-01" {
		t.Fatalf("FindChannelKey = %+v", got)
	}
	_, err = s.FindChannelKey(h.Ctx, secretHash("hk_unknown"))
	WantCode(t, err, herald.EUNAUTHORIZED, "unknown key")

	// The owner sees the keys of an admin who left; followers and keys see none.
	NoErr(t, s.RemoveAdmin(h.Ctx, admin.ID, ch.ID, admin.ID), "the admin leaves")
	list, err := s.ListChannelKeys(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListChannelKeys")
	if len(list) != 1 || list[0].ID != k.ID || list[0].LastUsed == nil || *list[0].LastUsed != "2026-03-01" {
		t.Fatalf("ListChannelKeys = %s", JSON(t, list))
	}
	_, err = s.ListChannelKeys(h.Ctx, follower.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a follower lists keys")
	_, err = s.ListChannelKeys(h.Ctx, herald.KeyActor(k.ID), ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a key lists keys")
	_, err = s.FindChannelKey(h.Ctx, secretHash("hk_one"))
	NoErr(t, err, "the key outlives its creator's role")

	h.Clock.Advance(24 * time.Hour)
	got, err = s.FindChannelKey(h.Ctx, secretHash("hk_one"))
	NoErr(t, err, "FindChannelKey a day later")
	if *got.LastUsed != "2026-03-02" {
		t.Fatalf("last used = %s", *got.LastUsed)
	}

	// Revocation: gone at once; an unknown key is ENOTFOUND.
	WantCode(t, s.DeleteChannelKey(h.Ctx, follower.ID, ch.ID, k.ID), herald.EFORBIDDEN, "a follower revokes")
	NoErr(t, s.DeleteChannelKey(h.Ctx, owner.ID, ch.ID, k.ID), "DeleteChannelKey")
	_, err = s.FindChannelKey(h.Ctx, secretHash("hk_one"))
	WantCode(t, err, herald.EUNAUTHORIZED, "a revoked key")
	WantCode(t, s.DeleteChannelKey(h.Ctx, owner.ID, ch.ID, k.ID), herald.ENOTFOUND, "revoked twice")
	WantCode(t, s.CreateUpdate(h.Ctx, herald.KeyActor(k.ID), ch.ID, &herald.Update{Text: "x"}), herald.EUNAUTHORIZED, "a revoked key posts")

	// Deleting the channel erases its keys.
	k2 := &herald.ChannelKey{Name: "cms", Scopes: []string{"post"}}
	NoErr(t, s.CreateChannelKey(h.Ctx, owner.ID, ch.ID, k2, secretHash("hk_two")), "second key")
	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, ch.ID), "DeleteChannel")
	_, err = s.FindChannelKey(h.Ctx, secretHash("hk_two"))
	WantCode(t, err, herald.EUNAUTHORIZED, "a key of a deleted channel")
}

func testMachineKeyActor(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	a := h.Channel(owner)
	b := h.Channel(owner, Unlisted)
	k := &herald.ChannelKey{Name: "bot", Scopes: []string{"post", "edit", "delete"}}
	NoErr(t, s.CreateChannelKey(h.Ctx, owner.ID, a.ID, k, secretHash("hk_a")), "key")
	actor := herald.KeyActor(k.ID)

	u := &herald.Update{Text: "posted by a key"}
	NoErr(t, s.CreateUpdate(h.Ctx, actor, a.ID, u), "a key posts on its channel")
	ed, err := s.EditUpdate(h.Ctx, actor, a.ID, u.ID, "edited by a key")
	NoErr(t, err, "a key edits")
	if ed.Text != "edited by a key" || ed.Viewer.Reaction != nil || len(ed.Viewer.Votes) != 0 {
		t.Fatalf("EditUpdate = %+v", ed)
	}
	WantCode(t, s.CreateUpdate(h.Ctx, actor, b.ID, &herald.Update{Text: "x"}), herald.ENOTFOUND, "a key on an unlisted channel of the same owner")
	c := h.Channel(owner)
	WantCode(t, s.CreateUpdate(h.Ctx, actor, c.ID, &herald.Update{Text: "x"}), herald.EFORBIDDEN, "a key on another listed channel")
	_, err = s.ListAdmins(h.Ctx, actor, a.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a key lists admins")
	_, err = s.UpdateChannel(h.Ctx, actor, a.ID, herald.ChannelPatch{Name: new(string)})
	if herald.ErrorCode(err) != herald.EFORBIDDEN && herald.ErrorCode(err) != herald.EINVALID {
		t.Fatalf("a key edits the profile: %v", err)
	}
	NoErr(t, s.DeleteUpdate(h.Ctx, actor, a.ID, u.ID), "a key deletes")
}

func testMachineIdempotency(t *testing.T, h *Harness) {
	s := h.Store
	fp, other := []byte("fingerprint-1"), []byte("fingerprint-2")
	resp, err := s.ClaimIdempotencyKey(h.Ctx, "acct", "k1", fp)
	NoErr(t, err, "first claim")
	if resp != nil {
		t.Fatalf("first claim returned %+v", resp)
	}
	_, err = s.ClaimIdempotencyKey(h.Ctx, "acct", "k1", fp)
	WantKind(t, err, herald.ECONFLICT, "idempotency-in-flight", "claim while in flight")
	_, err = s.ClaimIdempotencyKey(h.Ctx, "acct", "k1", other)
	WantKind(t, err, herald.EUNPROCESSABLE, "idempotency-key-reused", "another body while in flight")
	// Keys are per principal.
	resp, err = s.ClaimIdempotencyKey(h.Ctx, "someone-else", "k1", other)
	NoErr(t, err, "same key, another principal")
	if resp != nil {
		t.Fatalf("another principal got %+v", resp)
	}

	want := &herald.IdempotentResponse{Status: 201, Headers: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"id":"x"}`)}
	NoErr(t, s.CompleteIdempotencyKey(h.Ctx, "acct", "k1", want), "complete")
	resp, err = s.ClaimIdempotencyKey(h.Ctx, "acct", "k1", fp)
	NoErr(t, err, "replay")
	if resp == nil || resp.Status != 201 || resp.Headers["Content-Type"] != "application/json" || !bytes.Equal(resp.Body, want.Body) {
		t.Fatalf("replay = %+v", resp)
	}
	_, err = s.ClaimIdempotencyKey(h.Ctx, "acct", "k1", other)
	WantKind(t, err, herald.EUNPROCESSABLE, "idempotency-key-reused", "another body after completion")

	// A released claim (the request failed) may run again.
	_, err = s.ClaimIdempotencyKey(h.Ctx, "acct", "k2", fp)
	NoErr(t, err, "claim k2")
	NoErr(t, s.ReleaseIdempotencyKey(h.Ctx, "acct", "k2"), "release")
	resp, err = s.ClaimIdempotencyKey(h.Ctx, "acct", "k2", fp)
	if err != nil || resp != nil {
		t.Fatalf("claim after release = %+v, %v", resp, err)
	}
	// A claim whose node died is taken over after the lease.
	h.Clock.Advance(herald.IdempotencyLease)
	resp, err = s.ClaimIdempotencyKey(h.Ctx, "acct", "k2", fp)
	if err != nil || resp != nil {
		t.Fatalf("claim after the lease = %+v, %v", resp, err)
	}

	// After 24 hours the answer is pruned and the key is new again.
	h.Clock.Advance(herald.IdempotencyTTL)
	n, err := s.PruneIdempotencyKeys(h.Ctx)
	NoErr(t, err, "prune")
	if n != 3 {
		t.Fatalf("pruned %d, want 3", n)
	}
	resp, err = s.ClaimIdempotencyKey(h.Ctx, "acct", "k1", other)
	if err != nil || resp != nil {
		t.Fatalf("claim after 24 h = %+v, %v", resp, err)
	}
}

// Concurrent claims of one key: exactly one wins.
func testMachineIdempotencyConcurrent(t *testing.T, h *Harness) {
	const n = 16
	var won, inflight atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := h.Store.ClaimIdempotencyKey(h.Ctx, "acct", "same", []byte("fp"))
			switch {
			case err == nil && resp == nil:
				won.Add(1)
			case herald.ErrorKind(err) == "idempotency-in-flight":
				inflight.Add(1)
			default:
				t.Errorf("claim = %+v, %v", resp, err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 || inflight.Load() != n-1 {
		t.Fatalf("won %d, in flight %d", won.Load(), inflight.Load())
	}
}

// A kept answer holds the text of what it created: it is erased with it.
func testMachineIdempotencyErased(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "secret text")
	sched := &herald.ScheduledUpdate{Text: "later", PublishAt: Start.Add(time.Hour)}
	NoErr(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, sched), "schedule")
	kept := map[string]*herald.IdempotentResponse{
		"update":    {Status: 201, Body: []byte(`{"id":"` + u.ID + `","text":"secret text"}`), ChannelID: ch.ID, ResourceID: u.ID},
		"scheduled": {Status: 202, Body: []byte(`{"id":"` + sched.ID + `"}`), ChannelID: ch.ID, ResourceID: sched.ID},
		"channel":   {Status: 201, Body: []byte(`{"id":"` + ch.ID + `"}`), ResourceID: ch.ID},
	}
	for key, resp := range kept {
		_, err := s.ClaimIdempotencyKey(h.Ctx, owner.ID, key, []byte(key))
		NoErr(t, err, "claim "+key)
		NoErr(t, s.CompleteIdempotencyKey(h.Ctx, owner.ID, key, resp), "complete "+key)
	}
	gone := func(key string) {
		t.Helper()
		resp, err := s.ClaimIdempotencyKey(h.Ctx, owner.ID, key, []byte(key))
		if err != nil || resp != nil {
			t.Fatalf("answer %q still kept: %+v, %v", key, resp, err)
		}
	}
	kept1 := func(key string) {
		t.Helper()
		resp, err := s.ClaimIdempotencyKey(h.Ctx, owner.ID, key, []byte(key))
		if err != nil || resp == nil {
			t.Fatalf("answer %q lost: %v", key, err)
		}
	}
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, u.ID), "DeleteUpdate")
	gone("update")
	kept1("scheduled")
	_, err := s.PublishScheduled(h.Ctx, owner.ID, ch.ID, sched.ID)
	NoErr(t, err, "PublishScheduled")
	gone("scheduled")
	kept1("channel")
	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, ch.ID), "DeleteChannel")
	gone("channel")
}
