package storetest

import (
	"maps"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Event/SeqAndHydration", testEventSeqHydration)
	register("Event/Resync", testEventResync)
	register("Event/Paging", testEventPaging)
	register("Event/FlushCoalesces", testEventFlush)
}

func types(evs []herald.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

func testEventSeqHydration(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	heads, err := s.StreamHeads(h.Ctx, []string{ch.ID, "unknownstream"})
	NoErr(t, err, "StreamHeads")
	if seq, ok := heads[ch.ID]; !ok || seq != 0 || len(heads) != 1 {
		t.Fatalf("StreamHeads = %v, want {%s: 0} with the unknown stream omitted", heads, ch.ID)
	}

	u1 := h.Post(owner, ch, "one")
	u2 := h.Post(owner, ch, "two")
	_, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, u1.ID, "one, edited")
	NoErr(t, err, "EditUpdate")
	_, err = s.UpdateChannel(h.Ctx, owner.ID, ch.ID, herald.ChannelPatch{Description: ptr("new description")})
	NoErr(t, err, "UpdateChannel")
	u3 := h.Post(owner, ch, "three")

	live := h.Events.Stream(ch.ID)
	for i, ev := range live {
		if ev.Seq != int64(i+1) || ev.ChannelID != ch.ID || ev.Stream != ch.ID {
			t.Fatalf("live event %d = %+v: seqs must be contiguous from 1", i, ev)
		}
		if ev.Update != nil && (ev.Update.Viewer.Reaction != nil || len(ev.Update.Viewer.Votes) != 0) {
			t.Fatalf("event update carries a viewer: %+v", ev.Update.Viewer)
		}
	}
	if len(live) != 5 || live[0].Update == nil || live[0].Update.Text != "one" || live[4].Type != herald.EventUpdateCreated {
		t.Fatalf("live events = %v", types(live))
	}
	heads, err = s.StreamHeads(h.Ctx, []string{ch.ID})
	NoErr(t, err, "StreamHeads")
	if heads[ch.ID] != 5 {
		t.Fatalf("head = %d, want 5", heads[ch.ID])
	}

	evs, ok, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	if !ok || len(evs) != 5 {
		t.Fatalf("EventsAfter(0) = %v ok=%v", types(evs), ok)
	}
	// Hydrated from current state: the created event shows the edited text.
	if evs[0].Type != herald.EventUpdateCreated || evs[0].Update == nil || evs[0].Update.Text != "one, edited" || evs[0].UpdateID != u1.ID {
		t.Fatalf("hydrated created event = %+v", evs[0])
	}
	if evs[3].Type != herald.EventChannelUpdated || evs[3].Channel == nil || evs[3].Channel.Description != "new description" ||
		evs[3].Channel.InviteCode != "" || evs[3].Channel.Viewer.Role != nil {
		t.Fatalf("hydrated channel event = %+v", evs[3])
	}
	evs, ok, err = s.EventsAfter(h.Ctx, ch.ID, 3, 100)
	NoErr(t, err, "EventsAfter(3)")
	if !ok || len(evs) != 2 || evs[0].Seq != 4 || evs[1].UpdateID != u3.ID {
		t.Fatalf("EventsAfter(3) = %+v", evs)
	}
	evs, ok, err = s.EventsAfter(h.Ctx, ch.ID, 5, 100)
	NoErr(t, err, "EventsAfter(head)")
	if !ok || len(evs) != 0 {
		t.Fatalf("EventsAfter(head) = %v ok=%v, want nothing and ok", evs, ok)
	}

	// A deleted update's events vanish from the history; its delete stays.
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, u2.ID), "DeleteUpdate")
	evs, ok, err = s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter after delete")
	if !ok {
		t.Fatal("resume broken by a delete")
	}
	for _, ev := range evs {
		if ev.UpdateID == u2.ID && ev.Type != herald.EventUpdateDeleted {
			t.Fatalf("event of the deleted update kept: %+v", ev)
		}
	}
	last := evs[len(evs)-1]
	if last.Type != herald.EventUpdateDeleted || last.UpdateID != u2.ID || last.Seq != 6 || last.Update != nil {
		t.Fatalf("last event = %+v, want update.deleted seq 6", last)
	}
	// An expired update's created event is dropped too.
	h.Clock.Set(u1.ExpiresAt)
	evs, _, err = s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter after expiry")
	for _, ev := range evs {
		if ev.Update != nil && ev.UpdateID != u3.ID {
			t.Fatalf("expired update served by history: %+v", ev)
		}
	}
}

func testEventResync(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	h.Post(owner, ch, "one")
	h.Post(owner, ch, "two")

	_, ok, err := s.EventsAfter(h.Ctx, ch.ID, 3, 100)
	NoErr(t, err, "EventsAfter ahead")
	if ok {
		t.Fatal("a cursor ahead of the head must resync")
	}
	_, ok, err = s.EventsAfter(h.Ctx, "nosuchstream", 0, 100)
	NoErr(t, err, "EventsAfter unknown")
	if ok {
		t.Fatal("an unknown stream must resync")
	}

	// Events older than the retention are pruned and the floor rises.
	h.Clock.Advance(herald.DefaultRetention + time.Hour)
	u3 := h.Post(owner, ch, "three")
	_, err = s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired")
	_, err = s.UpdateChannel(h.Ctx, owner.ID, ch.ID, herald.ChannelPatch{Name: ptr("Renamed")})
	NoErr(t, err, "UpdateChannel")
	// Seqs 1 and 2 were the pruned updates' own events: they were erased
	// with them, which loses nothing a client could still show.
	evs, ok, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter(0)")
	if !ok || len(evs) != 2 || evs[0].UpdateID != u3.ID || evs[0].Seq != 3 || evs[1].Type != herald.EventChannelUpdated {
		t.Fatalf("EventsAfter(0) after prune = %+v ok=%v", evs, ok)
	}
	// A channel.updated event older than the retention is pruned by age.
	h.Clock.Advance(herald.DefaultRetention + time.Hour)
	h.Post(owner, ch, "four")
	_, err = s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired 2")
	_, ok, err = s.EventsAfter(h.Ctx, ch.ID, 3, 100)
	NoErr(t, err, "EventsAfter(3)")
	if ok {
		t.Fatal("resuming below the pruned floor must resync")
	}
	evs, ok, err = s.EventsAfter(h.Ctx, ch.ID, 4, 100)
	NoErr(t, err, "EventsAfter(4)")
	if !ok || len(evs) != 1 || evs[0].Seq != 5 {
		t.Fatalf("EventsAfter(floor) = %+v ok=%v", evs, ok)
	}
}

func testEventPaging(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	for i := 0; i < 7; i++ {
		h.Post(owner, ch, "x")
	}
	var seqs []int64
	after := int64(0)
	for {
		evs, ok, err := s.EventsAfter(h.Ctx, ch.ID, after, 3)
		NoErr(t, err, "EventsAfter")
		if !ok {
			t.Fatal("not ok")
		}
		if len(evs) > 3 {
			t.Fatalf("limit 3 returned %d", len(evs))
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			seqs = append(seqs, ev.Seq)
		}
		after = evs[len(evs)-1].Seq
	}
	if len(seqs) != 7 || seqs[0] != 1 || seqs[6] != 7 {
		t.Fatalf("paged seqs = %v", seqs)
	}

	// Expired (not yet pruned) updates' events are dropped without cutting
	// a page short: a short page means the end of the stream.
	h.Clock.Advance(24 * time.Hour)
	h.Post(owner, ch, "live 1")
	h.Post(owner, ch, "live 2")
	h.Clock.Advance(herald.DefaultRetention - time.Hour)
	evs, ok, err := s.EventsAfter(h.Ctx, ch.ID, 0, 2)
	NoErr(t, err, "EventsAfter past expired events")
	if !ok || len(evs) != 2 || evs[0].Seq != 8 || evs[1].Seq != 9 {
		t.Fatalf("EventsAfter(0, 2) = %v (%d events) ok=%v, want seqs 8 and 9", types(evs), len(evs), ok)
	}
}

func testEventFlush(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "popular")
	p := h.PostPoll(owner, ch, false, "yes", "no")
	quiet := h.Post(owner, ch, "quiet")
	n, err := s.FlushCounts(h.Ctx)
	NoErr(t, err, "FlushCounts with nothing dirty")
	if n != 0 {
		t.Fatalf("FlushCounts with nothing to do = %d", n)
	}
	for i := 0; i < 30; i++ {
		f := h.Follower(ch)
		_, err := s.SetReaction(h.Ctx, f.ID, ch.ID, u.ID, "👍")
		NoErr(t, err, "SetReaction")
		if i < 3 {
			_, err = s.SetReaction(h.Ctx, f.ID, ch.ID, p.ID, "🔥")
			NoErr(t, err, "SetReaction poll update")
			_, err = s.Vote(h.Ctx, f.ID, ch.ID, p.ID, []int{i % 2})
			NoErr(t, err, "Vote")
		}
	}
	h.Events.Take()
	n, err = s.FlushCounts(h.Ctx)
	NoErr(t, err, "FlushCounts")
	if n != 3 {
		t.Fatalf("FlushCounts = %d events, want 3 (reactions of two updates, one poll)", n)
	}
	evs := h.Events.Take()
	if len(evs) != 3 {
		t.Fatalf("published %v", types(evs))
	}
	byKey := map[string]herald.Event{}
	for _, ev := range evs {
		byKey[ev.UpdateID+" "+ev.Type] = ev
		if ev.Update != nil || ev.Counts == nil || ev.Stream != ch.ID {
			t.Fatalf("counts event = %+v", ev)
		}
	}
	if ev := byKey[u.ID+" "+herald.EventUpdateReactions]; ev.Counts == nil || !maps.Equal(ev.Counts.Reactions, map[string]int64{"👍": 30}) {
		t.Fatalf("coalesced reactions event = %+v", ev)
	}
	ev := byKey[p.ID+" "+herald.EventUpdatePoll]
	if ev.Counts == nil || len(ev.Counts.Votes) != 2 || ev.Counts.Votes[0] != 2 || ev.Counts.Votes[1] != 1 || ev.Counts.Voters == nil || *ev.Counts.Voters != 3 {
		t.Fatalf("poll event = %+v", ev)
	}
	if _, ok := byKey[quiet.ID+" "+herald.EventUpdateReactions]; ok {
		t.Fatal("an untouched update got a counts event")
	}
	n, err = s.FlushCounts(h.Ctx)
	NoErr(t, err, "FlushCounts again")
	if n != 0 || len(h.Events.Take()) != 0 {
		t.Fatalf("second flush produced %d events", n)
	}
	// The history replays counts from current state.
	f := h.Follower(ch)
	_, err = s.SetReaction(h.Ctx, f.ID, ch.ID, u.ID, "😂")
	NoErr(t, err, "SetReaction")
	hist, ok, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	if !ok {
		t.Fatal("not ok")
	}
	for _, ev := range hist {
		if ev.Type == herald.EventUpdateReactions && ev.UpdateID == u.ID && !maps.Equal(ev.Counts.Reactions, map[string]int64{"👍": 30, "😂": 1}) {
			t.Fatalf("history counts = %v, want current counts", ev.Counts.Reactions)
		}
	}
	// Withdrawing every reaction flushes empty counts, not nothing.
	_, err = s.RemoveReaction(h.Ctx, f.ID, ch.ID, quiet.ID)
	NoErr(t, err, "RemoveReaction of nothing")
	h.Events.Take()
	n, err = s.FlushCounts(h.Ctx)
	NoErr(t, err, "FlushCounts")
	if n != 1 {
		t.Fatalf("flush after one change = %d (an idempotent no-op must not mark the update)", n)
	}
}
