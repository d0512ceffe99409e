package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Pin/Limits", testPinLimits)
	register("Pin/ExpiryAndDeletion", testPinExpiryAndDeletion)
}

func pinnedIDs(t *testing.T, h *Harness, viewerID string, ch *herald.Channel) []string {
	t.Helper()
	list, err := h.Store.ListPinned(h.Ctx, viewerID, ch.ID)
	NoErr(t, err, "ListPinned")
	ids := []string{}
	for _, u := range list {
		if !u.Pinned {
			t.Fatalf("ListPinned returned an update with pinned false: %s", JSON(t, u))
		}
		ids = append(ids, u.ID)
	}
	return ids
}

func testPinLimits(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	follower := h.Follower(ch)
	var us []*herald.Update
	for _, text := range []string{"one", "two", "three", "four"} {
		us = append(us, h.Post(owner, ch, text))
	}
	_, err := s.SetPinned(h.Ctx, follower.ID, ch.ID, us[0].ID, true)
	WantCode(t, err, herald.EFORBIDDEN, "pin by a follower")
	_, err = s.SetPinned(h.Ctx, "", ch.ID, us[0].ID, true)
	if err == nil {
		t.Fatal("anonymous pin accepted")
	}
	_, err = s.SetPinned(h.Ctx, owner.ID, ch.ID, "nosuchupdate", true)
	WantCode(t, err, herald.ENOTFOUND, "pin of an unknown update")

	h.Events.Take()
	for i := range 3 {
		h.Clock.Advance(time.Second)
		u, err := s.SetPinned(h.Ctx, owner.ID, ch.ID, us[i].ID, true)
		NoErr(t, err, "SetPinned")
		if !u.Pinned {
			t.Fatalf("SetPinned returned pinned false")
		}
	}
	evs := h.Events.Stream(ch.ID)
	if len(evs) != 3 || evs[0].Type != herald.EventUpdatePinned || evs[0].Update == nil || !evs[0].Update.Pinned {
		t.Fatalf("pin events: %s", JSON(t, evs))
	}
	// Pinning again changes nothing and says nothing.
	_, err = s.SetPinned(h.Ctx, owner.ID, ch.ID, us[0].ID, true)
	NoErr(t, err, "SetPinned again")
	if evs := h.Events.Stream(ch.ID); len(evs) != 3 {
		t.Fatalf("an idempotent pin appended an event: %d events", len(evs))
	}
	_, err = s.SetPinned(h.Ctx, owner.ID, ch.ID, us[3].ID, true)
	WantKind(t, err, herald.ECONFLICT, "too-many-pinned", "a fourth pin")

	// Most recently pinned first, as anyone sees them; reads say pinned.
	got := pinnedIDs(t, h, "", ch)
	if len(got) != 3 || got[0] != us[2].ID || got[2] != us[0].ID {
		t.Fatalf("pinned %v", got)
	}
	list, err := s.ListUpdates(h.Ctx, "", ch.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	for _, u := range list {
		if u.Pinned != (u.ID != us[3].ID) {
			t.Fatalf("update %q pinned %v", u.Text, u.Pinned)
		}
	}
	// Unpinning frees a place, with an event.
	u, err := s.SetPinned(h.Ctx, owner.ID, ch.ID, us[1].ID, false)
	NoErr(t, err, "unpin")
	if u.Pinned {
		t.Fatal("unpin returned pinned true")
	}
	if evs := h.Events.Stream(ch.ID); len(evs) != 4 || evs[3].Update.Pinned {
		t.Fatalf("unpin event: %s", JSON(t, evs))
	}
	_, err = s.SetPinned(h.Ctx, owner.ID, ch.ID, us[3].ID, true)
	NoErr(t, err, "pin after an unpin")
	// History hydrates pin events from current state.
	hist, _, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	pins := 0
	for _, ev := range hist {
		if ev.Type == herald.EventUpdatePinned {
			pins++
			if ev.Update == nil {
				t.Fatalf("pin event without its update: %s", JSON(t, ev))
			}
		}
	}
	if pins != 5 {
		t.Fatalf("%d pin events in history, want 5", pins)
	}
}

func testPinExpiryAndDeletion(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	old := h.Post(owner, ch, "old")
	_, err := s.SetPinned(h.Ctx, owner.ID, ch.ID, old.ID, true)
	NoErr(t, err, "pin old")
	h.Clock.Advance(h.Config.Retention - time.Hour)
	var fresh []*herald.Update
	for _, text := range []string{"a", "b"} {
		u := h.Post(owner, ch, text)
		_, err := s.SetPinned(h.Ctx, owner.ID, ch.ID, u.ID, true)
		NoErr(t, err, "pin")
		fresh = append(fresh, u)
	}
	// Once the old one expires it is neither listed nor counted.
	h.Clock.Advance(time.Hour)
	if got := pinnedIDs(t, h, "", ch); len(got) != 2 {
		t.Fatalf("pinned after expiry: %v", got)
	}
	third := h.Post(owner, ch, "c")
	_, err = s.SetPinned(h.Ctx, owner.ID, ch.ID, third.ID, true)
	NoErr(t, err, "pin in the place of an expired one")
	// Deleting a pinned update unpins it.
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, fresh[0].ID), "DeleteUpdate")
	if got := pinnedIDs(t, h, "", ch); len(got) != 2 {
		t.Fatalf("pinned after a deletion: %v", got)
	}
	hidden := h.Channel(owner, Unlisted)
	_, err = s.ListPinned(h.Ctx, "", hidden.ID)
	WantCode(t, err, herald.ENOTFOUND, "ListPinned of an unlisted channel, anonymous")
}
