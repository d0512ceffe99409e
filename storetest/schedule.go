package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Machines/Schedule", testSchedule)
	register("Machines/PublishDue", testPublishDue)
	register("Machines/PublishDueConcurrent", testPublishDueConcurrent)
}

func testSchedule(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	follower := h.Follower(ch)
	k := &herald.ChannelKey{Name: "bot", Scopes: []string{"post"}}
	NoErr(t, s.CreateChannelKey(h.Ctx, owner.ID, ch.ID, k, secretHash("hk_s")), "key")

	for _, at := range []time.Time{Start, Start.Add(-time.Hour), Start.Add(herald.MaxScheduleAhead + time.Second)} {
		WantKind(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, &herald.ScheduledUpdate{Text: "x", PublishAt: at}), herald.EINVALID, "invalid-publish-at", at.String())
	}
	WantCode(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, &herald.ScheduledUpdate{Text: " ", PublishAt: Start.Add(time.Hour)}), herald.EINVALID, "empty text")
	WantCode(t, s.ScheduleUpdate(h.Ctx, follower.ID, ch.ID, &herald.ScheduledUpdate{Text: "x", PublishAt: Start.Add(time.Hour)}), herald.EFORBIDDEN, "a follower schedules")

	late := &herald.ScheduledUpdate{Text: " later ", PublishAt: Start.Add(2 * time.Hour)}
	NoErr(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, late), "schedule")
	soon := &herald.ScheduledUpdate{Text: "soon", PublishAt: Start.Add(time.Hour), Poll: &herald.Poll{Question: "Q?", Options: []herald.PollOption{{Text: "a"}, {Text: "b"}}}}
	NoErr(t, s.ScheduleUpdate(h.Ctx, herald.KeyActor(k.ID), ch.ID, soon), "a key schedules")
	if late.ID == "" || late.Text != "later" || late.ChannelID != ch.ID || !late.CreatedAt.Equal(Start) {
		t.Fatalf("ScheduleUpdate = %+v", late)
	}
	// Invisible to followers and to the public, before and after.
	_, err := s.ListScheduled(h.Ctx, follower.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a follower lists scheduled updates")
	list, err := s.ListScheduled(h.Ctx, herald.KeyActor(k.ID), ch.ID)
	NoErr(t, err, "a key lists")
	if len(list) != 2 || list[0].ID != soon.ID || list[1].ID != late.ID || list[0].Poll == nil || len(list[0].Poll.Options) != 2 {
		t.Fatalf("ListScheduled = %s", JSON(t, list))
	}
	if us, _ := s.ListUpdates(h.Ctx, follower.ID, ch.ID, 0, 10); len(us) != 0 {
		t.Fatalf("scheduled updates listed as updates: %s", JSON(t, us))
	}
	if evs := h.Events.Stream(ch.ID); len(evs) != 0 {
		t.Fatalf("scheduling published events: %s", JSON(t, evs))
	}

	text, at := "later, edited", Start.Add(3*time.Hour)
	ed, err := s.EditScheduled(h.Ctx, owner.ID, ch.ID, late.ID, &text, &at)
	NoErr(t, err, "EditScheduled")
	if ed.Text != text || !ed.PublishAt.Equal(at) {
		t.Fatalf("EditScheduled = %+v", ed)
	}
	past := Start.Add(-time.Minute)
	_, err = s.EditScheduled(h.Ctx, owner.ID, ch.ID, late.ID, nil, &past)
	WantKind(t, err, herald.EINVALID, "invalid-publish-at", "edit into the past")

	// Publish now: an ordinary update, retention from now.
	h.Clock.Advance(time.Minute)
	u, err := s.PublishScheduled(h.Ctx, owner.ID, ch.ID, soon.ID)
	NoErr(t, err, "PublishScheduled")
	if u.Text != "soon" || u.Seq != 1 || !u.CreatedAt.Equal(Start.Add(time.Minute)) || !u.ExpiresAt.Equal(Start.Add(time.Minute).Add(herald.DefaultRetention)) || u.Poll == nil {
		t.Fatalf("PublishScheduled = %s", JSON(t, u))
	}
	if evs := h.Events.Stream(ch.ID); len(evs) != 1 || evs[0].Type != herald.EventUpdateCreated || evs[0].UpdateID != u.ID {
		t.Fatalf("events = %s", JSON(t, evs))
	}
	_, err = s.PublishScheduled(h.Ctx, owner.ID, ch.ID, soon.ID)
	WantCode(t, err, herald.ENOTFOUND, "published twice")
	WantCode(t, s.CancelScheduled(h.Ctx, follower.ID, ch.ID, late.ID), herald.EFORBIDDEN, "a follower cancels")
	NoErr(t, s.CancelScheduled(h.Ctx, owner.ID, ch.ID, late.ID), "cancel")
	WantCode(t, s.CancelScheduled(h.Ctx, owner.ID, ch.ID, late.ID), herald.ENOTFOUND, "cancel twice")
	h.Clock.Advance(4 * time.Hour)
	n, err := s.PublishDue(h.Ctx, 100)
	if err != nil || n != 0 {
		t.Fatalf("PublishDue after cancel = %d, %v", n, err)
	}
}

func testPublishDue(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	a, b := h.Channel(owner), h.Channel(owner)
	for i, ch := range []*herald.Channel{a, b, a} {
		NoErr(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, &herald.ScheduledUpdate{Text: "at noon " + string(rune('a'+i)), PublishAt: Start.Add(time.Hour)}), "schedule")
	}
	NoErr(t, s.ScheduleUpdate(h.Ctx, owner.ID, a.ID, &herald.ScheduledUpdate{Text: "tomorrow", PublishAt: Start.Add(24 * time.Hour)}), "schedule")
	h.Clock.Advance(time.Hour - time.Millisecond)
	if n, err := s.PublishDue(h.Ctx, 100); err != nil || n != 0 {
		t.Fatalf("PublishDue before the time = %d, %v", n, err)
	}
	h.Clock.Advance(time.Millisecond)
	if n, err := s.PublishDue(h.Ctx, 2); err != nil || n != 2 {
		t.Fatalf("PublishDue(2) = %d, %v", n, err)
	}
	if n, err := s.PublishDue(h.Ctx, 100); err != nil || n != 1 {
		t.Fatalf("PublishDue rest = %d, %v", n, err)
	}
	if n, err := s.PublishDue(h.Ctx, 100); err != nil || n != 0 {
		t.Fatalf("PublishDue again = %d, %v", n, err)
	}
	us, err := s.ListUpdates(h.Ctx, "", a.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	// (Updates due at the same instant are published in id order.)
	if len(us) != 2 || us[0].Text+us[1].Text != "at noon aat noon c" && us[0].Text+us[1].Text != "at noon cat noon a" ||
		!us[0].CreatedAt.Equal(Start.Add(time.Hour)) ||
		!us[0].ExpiresAt.Equal(Start.Add(time.Hour+herald.DefaultRetention)) {
		t.Fatalf("published = %s", JSON(t, us))
	}
	if evs := h.Events.Stream(a.ID); len(evs) != 2 || evs[0].Type != herald.EventUpdateCreated {
		t.Fatalf("events = %s", JSON(t, evs))
	}
	// Deleting a channel drops its schedule.
	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, a.ID), "DeleteChannel")
	h.Clock.Advance(24 * time.Hour)
	if n, err := s.PublishDue(h.Ctx, 100); err != nil || n != 0 {
		t.Fatalf("PublishDue after the channel's deletion = %d, %v", n, err)
	}
}

// Callers racing (as nodes do) publish each scheduled update once.
func testPublishDueConcurrent(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	const total = 60
	for i := 0; i < total; i++ {
		NoErr(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, &herald.ScheduledUpdate{Text: "same second", PublishAt: Start.Add(time.Second)}), "schedule")
	}
	h.Clock.Advance(time.Second)
	var mu sync.Mutex
	published := 0
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := s.PublishDue(h.Ctx, 7)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				published += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	us, err := s.ListUpdates(h.Ctx, "", ch.ID, 0, 100)
	NoErr(t, err, "ListUpdates")
	if published != total || len(us) != total {
		t.Fatalf("published %d, updates %d, want %d", published, len(us), total)
	}
}
