package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Update/CreateFind", testUpdateCreateFind)
	register("Update/SeqAndPaging", testUpdateSeqPaging)
	register("Update/EditDelete", testUpdateEditDelete)
	register("Update/Expiry", testUpdateExpiry)
	register("Update/PruneExpired", testUpdatePrune)
	register("Update/AuthorizationMatrix", testUpdateAuthorization)
}

func testUpdateCreateFind(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := &herald.Update{Text: "  Storm warning  ", Seq: 99, ID: "chosen"}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u), "CreateUpdate")
	if u.ID == "" || u.ID == "chosen" || u.ChannelID != ch.ID || u.Seq != 1 || u.Text != "Storm warning" {
		t.Fatalf("CreateUpdate = %+v", u)
	}
	if !u.CreatedAt.Equal(Start) || !u.ExpiresAt.Equal(Start.Add(herald.DefaultRetention)) || u.EditedAt != nil {
		t.Fatalf("times = %v %v %v", u.CreatedAt, u.ExpiresAt, u.EditedAt)
	}
	got, err := s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	NoErr(t, err, "FindUpdate anonymous on a listed channel")
	if got.Text != u.Text || got.Seq != 1 || got.Reactions == nil || len(got.Reactions) != 0 || got.Poll != nil ||
		got.Viewer.Reaction != nil || len(got.Viewer.Votes) != 0 {
		t.Fatalf("FindUpdate = %+v", got)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", herald.UpdateTextMaxLen+1), "a\x00b", "\xff"} {
		err := s.CreateUpdate(h.Ctx, owner.ID, ch.ID, &herald.Update{Text: bad})
		WantCode(t, err, herald.EINVALID, fmt.Sprintf("CreateUpdate(%q)", bad))
	}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, &herald.Update{Text: strings.Repeat("é", herald.UpdateTextMaxLen)}), "4096 characters")

	other := h.Channel(owner)
	_, err = s.FindUpdate(h.Ctx, owner.ID, other.ID, u.ID)
	WantCode(t, err, herald.ENOTFOUND, "update through the wrong channel")
	_, err = s.FindUpdate(h.Ctx, owner.ID, ch.ID, "nope")
	WantCode(t, err, herald.ENOTFOUND, "unknown update")
}

func testUpdateSeqPaging(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	other := h.Channel(owner)
	var ids []string
	for i := 1; i <= 45; i++ {
		u := h.Post(owner, ch, fmt.Sprintf("update %d", i))
		if u.Seq != int64(i) {
			t.Fatalf("update %d got seq %d", i, u.Seq)
		}
		ids = append(ids, u.ID)
		h.Clock.Advance(time.Second)
	}
	if u := h.Post(owner, other, "elsewhere"); u.Seq != 1 {
		t.Fatalf("seq is per channel: got %d", u.Seq)
	}
	page, err := s.ListUpdates(h.Ctx, "", ch.ID, 0, 20)
	NoErr(t, err, "ListUpdates")
	if len(page) != 20 || page[0].Seq != 45 || page[19].Seq != 26 || page[0].Text != "update 45" {
		t.Fatalf("first page: %d items, %d..%d", len(page), page[0].Seq, page[len(page)-1].Seq)
	}
	page, err = s.ListUpdates(h.Ctx, "", ch.ID, 26, 20)
	NoErr(t, err, "ListUpdates before 26")
	if len(page) != 20 || page[0].Seq != 25 || page[19].Seq != 6 {
		t.Fatalf("second page: %d items", len(page))
	}
	page, err = s.ListUpdates(h.Ctx, "", ch.ID, 6, 20)
	NoErr(t, err, "ListUpdates before 6")
	if len(page) != 5 || page[4].Seq != 1 || page[4].ID != ids[0] {
		t.Fatalf("last page: %+v", page)
	}
	page, err = s.ListUpdates(h.Ctx, "", ch.ID, 1, 20)
	NoErr(t, err, "ListUpdates before 1")
	if len(page) != 0 {
		t.Fatalf("before 1: %d updates", len(page))
	}
	page, err = s.ListUpdates(h.Ctx, "", ch.ID, 0, 3)
	NoErr(t, err, "ListUpdates limit 3")
	if len(page) != 3 {
		t.Fatalf("limit 3 gave %d", len(page))
	}
	// Deleted updates leave a gap; seqs are never reused.
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, ids[44]), "DeleteUpdate")
	if u := h.Post(owner, ch, "after delete"); u.Seq != 46 {
		t.Fatalf("seq after delete = %d, want 46", u.Seq)
	}
	page, err = s.ListUpdates(h.Ctx, "", ch.ID, 0, 2)
	NoErr(t, err, "ListUpdates")
	if page[0].Seq != 46 || page[1].Seq != 44 {
		t.Fatalf("after delete: %d, %d", page[0].Seq, page[1].Seq)
	}
	_, err = s.ListUpdates(h.Ctx, "", "nope", 0, 20)
	WantCode(t, err, herald.ENOTFOUND, "ListUpdates unknown channel")
	empty := h.Channel(owner)
	page, err = s.ListUpdates(h.Ctx, "", empty.ID, 0, 20)
	NoErr(t, err, "ListUpdates empty")
	if page == nil || len(page) != 0 {
		t.Fatalf("empty channel: %#v, want an empty non-nil list", page)
	}
}

func testUpdateEditDelete(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	u := h.PostPoll(owner, ch, false, "yes", "no")
	h.Clock.Advance(time.Minute)
	h.Events.Take()

	got, err := s.EditUpdate(h.Ctx, admin.ID, ch.ID, u.ID, "  Corrected  ")
	NoErr(t, err, "EditUpdate by another admin")
	if got.Text != "Corrected" || got.EditedAt == nil || !got.EditedAt.Equal(Start.Add(time.Minute)) || got.Seq != u.Seq ||
		!got.CreatedAt.Equal(u.CreatedAt) || got.Poll == nil || len(got.Poll.Options) != 2 {
		t.Fatalf("EditUpdate = %+v", got)
	}
	evs := h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventUpdateEdited || evs[0].UpdateID != u.ID || evs[0].Update == nil || evs[0].Update.Text != "Corrected" {
		t.Fatalf("edit events = %+v", evs)
	}
	_, err = s.EditUpdate(h.Ctx, admin.ID, ch.ID, u.ID, " ")
	WantCode(t, err, herald.EINVALID, "EditUpdate empty")
	found, err := s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	if found.Text != "Corrected" || found.EditedAt == nil {
		t.Fatalf("FindUpdate after edit = %+v", found)
	}

	NoErr(t, s.DeleteUpdate(h.Ctx, admin.ID, ch.ID, u.ID), "DeleteUpdate")
	evs = h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventUpdateDeleted || evs[0].UpdateID != u.ID || evs[0].Update != nil {
		t.Fatalf("delete events = %+v", evs)
	}
	_, err = s.FindUpdate(h.Ctx, owner.ID, ch.ID, u.ID)
	WantCode(t, err, herald.ENOTFOUND, "FindUpdate after delete")
	_, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "again")
	WantCode(t, err, herald.ENOTFOUND, "EditUpdate after delete")
	WantCode(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, u.ID), herald.ENOTFOUND, "DeleteUpdate twice")
}

func testUpdateExpiry(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	old := h.Post(owner, ch, "old")
	h.Clock.Advance(time.Hour)
	young := h.Post(owner, ch, "young")

	h.Clock.Set(old.ExpiresAt.Add(-time.Nanosecond))
	_, err := s.FindUpdate(h.Ctx, f.ID, ch.ID, old.ID)
	NoErr(t, err, "just before expiry")

	h.Clock.Set(old.ExpiresAt)
	_, err = s.FindUpdate(h.Ctx, f.ID, ch.ID, old.ID)
	WantCode(t, err, herald.ENOTFOUND, "FindUpdate at expiry, before pruning")
	list, err := s.ListUpdates(h.Ctx, f.ID, ch.ID, 0, 20)
	NoErr(t, err, "ListUpdates")
	if len(list) != 1 || list[0].ID != young.ID {
		t.Fatalf("ListUpdates after expiry = %+v", list)
	}
	_, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, old.ID, "revive")
	WantCode(t, err, herald.ENOTFOUND, "EditUpdate expired")
	WantCode(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, old.ID), herald.ENOTFOUND, "DeleteUpdate expired")
	_, err = s.SetReaction(h.Ctx, f.ID, ch.ID, old.ID, "👍")
	WantCode(t, err, herald.ENOTFOUND, "SetReaction expired")

	// The store's retention sets expires_at.
	h2 := h.With(func(c *herald.StoreConfig) { c.Retention = time.Hour })
	o2 := h2.Account("owner")
	c2 := h2.Channel(o2)
	u2 := h2.Post(o2, c2, "short-lived")
	if !u2.ExpiresAt.Equal(u2.CreatedAt.Add(time.Hour)) {
		t.Fatalf("expires_at = %v, want created_at + 1h", u2.ExpiresAt)
	}
	h2.Clock.Advance(time.Hour)
	_, err = h2.Store.FindUpdate(h2.Ctx, o2.ID, c2.ID, u2.ID)
	WantCode(t, err, herald.ENOTFOUND, "FindUpdate after a 1h retention")
}

func testUpdatePrune(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	old := h.PostPoll(owner, ch, true, "a", "b", "c")
	_, err := s.SetReaction(h.Ctx, f.ID, ch.ID, old.ID, "🎉")
	NoErr(t, err, "SetReaction")
	_, err = s.Vote(h.Ctx, f.ID, ch.ID, old.ID, []int{0, 2})
	NoErr(t, err, "Vote")
	_, err = s.FlushCounts(h.Ctx)
	NoErr(t, err, "FlushCounts")
	h.Clock.Advance(24 * time.Hour)
	young := h.Post(owner, ch, "young")

	h.Clock.Set(old.ExpiresAt.Add(time.Minute))
	n, err := s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired")
	if n != 1 {
		t.Fatalf("PruneExpired erased %d, want 1", n)
	}
	n, err = s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired again")
	if n != 0 {
		t.Fatalf("second PruneExpired erased %d", n)
	}
	_, err = s.FindUpdate(h.Ctx, f.ID, ch.ID, young.ID)
	NoErr(t, err, "young update survives")
	// Nothing of the old update is left in the history.
	evs, ok, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	for _, ev := range evs {
		if ev.UpdateID == old.ID {
			t.Fatalf("event of a pruned update kept: %+v", ev)
		}
	}
	if !ok {
		t.Fatal("pruning an update's events must not break resumption")
	}
	// The follower's reaction and vote went with it: reacting to a fresh
	// update works and counts start from zero.
	got, err := s.SetReaction(h.Ctx, f.ID, ch.ID, young.ID, "🎉")
	NoErr(t, err, "SetReaction on young")
	if got.Reactions["🎉"] != 1 {
		t.Fatalf("counts = %v", got.Reactions)
	}
}

// testUpdateAuthorization checks who may do what on updates, in one table.
func testUpdateAuthorization(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	follower := h.Follower(ch)
	stranger := h.Account("stranger")
	otherOwner := h.Account("otherowner")
	otherCh := h.Channel(otherOwner)
	u := h.Post(owner, ch, "target")

	type actor struct {
		name string
		id   string
		want string // error code for writes; "" = allowed
	}
	actors := []actor{
		{"owner", owner.ID, ""},
		{"admin", admin.ID, ""},
		{"follower", follower.ID, herald.EFORBIDDEN},
		{"stranger", stranger.ID, herald.EFORBIDDEN},
		{"admin of another channel", otherOwner.ID, herald.EFORBIDDEN},
		{"anonymous", "", herald.EUNAUTHORIZED},
	}
	for _, a := range actors {
		err := s.CreateUpdate(h.Ctx, a.id, ch.ID, &herald.Update{Text: "by " + a.name})
		WantCode(t, err, a.want, "CreateUpdate by "+a.name)
		_, err = s.EditUpdate(h.Ctx, a.id, ch.ID, u.ID, "edited by "+a.name)
		WantCode(t, err, a.want, "EditUpdate by "+a.name)
		_, err = s.UpdateChannel(h.Ctx, a.id, ch.ID, herald.ChannelPatch{Description: ptr("by " + a.name)})
		WantCode(t, err, a.want, "UpdateChannel by "+a.name)
		_, err = s.RotateInvite(h.Ctx, a.id, ch.ID)
		WantCode(t, err, a.want, "RotateInvite by "+a.name)
	}
	for _, a := range actors[2:] {
		WantCode(t, s.DeleteUpdate(h.Ctx, a.id, ch.ID, u.ID), a.want, "DeleteUpdate by "+a.name)
	}
	// An admin of one channel can't reach another channel's update through it.
	WantCode(t, s.DeleteUpdate(h.Ctx, otherOwner.ID, otherCh.ID, u.ID), herald.ENOTFOUND, "DeleteUpdate via another channel")
	_, err := s.EditUpdate(h.Ctx, otherOwner.ID, otherCh.ID, u.ID, "x")
	WantCode(t, err, herald.ENOTFOUND, "EditUpdate via another channel")
	got, err := s.FindUpdate(h.Ctx, owner.ID, ch.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	if got.Text != "edited by admin" {
		t.Fatalf("text = %q, want the admin's edit", got.Text)
	}
	NoErr(t, s.DeleteUpdate(h.Ctx, admin.ID, ch.ID, u.ID), "DeleteUpdate by admin")
}
