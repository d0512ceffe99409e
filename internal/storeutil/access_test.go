package storeutil

import (
	"errors"
	"testing"

	"github.com/heraldhq/herald"
)

func TestRelationRules(t *testing.T) {
	stranger, follower := Relation{}, Relation{Following: true, Muted: true}
	admin, owner := Relation{Role: herald.RoleAdmin}, Relation{Role: herald.RoleOwner}
	for _, tc := range []struct {
		name                   string
		r                      Relation
		seeUnlisted            bool
		admin, owner, interact error
	}{
		{"stranger", stranger, false, ErrNotAdmin, ErrNotOwner, ErrNotFollower},
		{"follower", follower, true, ErrNotAdmin, ErrNotOwner, nil},
		{"admin", admin, true, nil, ErrNotOwner, nil},
		{"owner", owner, true, nil, nil, nil},
	} {
		if !tc.r.CanSee(true) || tc.r.CanSee(false) != tc.seeUnlisted {
			t.Errorf("%s: CanSee(listed)=%v CanSee(unlisted)=%v", tc.name, tc.r.CanSee(true), tc.r.CanSee(false))
		}
		if err := tc.r.Admin("acc"); !errors.Is(err, tc.admin) {
			t.Errorf("%s: Admin = %v, want %v", tc.name, err, tc.admin)
		}
		if err := tc.r.Owner("acc"); !errors.Is(err, tc.owner) {
			t.Errorf("%s: Owner = %v, want %v", tc.name, err, tc.owner)
		}
		if err := tc.r.Interact(); !errors.Is(err, tc.interact) {
			t.Errorf("%s: Interact = %v, want %v", tc.name, err, tc.interact)
		}
		if err := tc.r.Admin(""); !errors.Is(err, ErrNoActor) {
			t.Errorf("%s: Admin(\"\") = %v, want ErrNoActor", tc.name, err)
		}
	}
	ch := herald.Channel{ID: "c", Name: "N"}
	if v := stranger.View(ch, "code"); v.InviteCode != "" || v.Viewer.Role != nil || v.Viewer.Following {
		t.Errorf("stranger's view = %+v", v)
	}
	if v := follower.View(ch, "code"); v.InviteCode != "" || !v.Viewer.Following || !v.Viewer.Muted {
		t.Errorf("follower's view = %+v", v)
	}
	if v := admin.View(ch, "code"); v.InviteCode != "code" || v.Viewer.Role == nil || *v.Viewer.Role != herald.RoleAdmin {
		t.Errorf("admin's view = %+v", v)
	}
	if v := (Relation{Muted: true}).View(ch, ""); v.Viewer.Muted {
		t.Error("muted without following shows as muted")
	}
}

func TestHydrate(t *testing.T) {
	live := &herald.Update{ID: "u1", Reactions: map[string]int64{"👍": 3}}
	evs := []herald.Event{
		{Seq: 1, Type: herald.EventUpdateCreated, UpdateID: "u1"},
		{Seq: 2, Type: herald.EventUpdateCreated, UpdateID: "gone"},
		{Seq: 3, Type: herald.EventUpdateReactions, UpdateID: "u1"},
		{Seq: 4, Type: herald.EventChannelUpdated, ChannelID: "c1"},
		{Seq: 5, Type: herald.EventChannelUpdated, ChannelID: "deleted"},
		{Seq: 6, Type: herald.EventChannelFollowed, ChannelID: "c1"},
		{Seq: 7, Type: herald.EventUpdateDeleted, UpdateID: "gone"},
	}
	if ids := UpdateIDs(evs); len(ids) != 2 || ids[0] != "u1" || ids[1] != "gone" {
		t.Fatalf("UpdateIDs = %q", ids)
	}
	calls := map[string]int{}
	out, err := Hydrate(evs, map[string]*herald.Update{"u1": live}, func(id string) (*herald.Channel, error) {
		calls[id]++
		if id == "deleted" {
			return nil, nil
		}
		return &herald.Channel{ID: id}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, ev := range out {
		seqs = append(seqs, ev.Seq)
	}
	if len(seqs) != 5 || seqs[0] != 1 || seqs[1] != 3 || seqs[2] != 4 || seqs[3] != 6 || seqs[4] != 7 {
		t.Fatalf("hydrated seqs = %v, want [1 3 4 6 7]", seqs)
	}
	if out[0].Update != live || out[1].Counts.Reactions["👍"] != 3 || out[2].Channel.ID != "c1" || out[3].Channel.ID != "c1" {
		t.Fatalf("payloads wrong: %+v", out)
	}
	if calls["c1"] != 1 || calls["deleted"] != 1 {
		t.Fatalf("channel loaded %v times, want once each", calls)
	}
	boom := errors.New("boom")
	if _, err := Hydrate(evs, nil, func(string) (*herald.Channel, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("Hydrate error = %v, want boom", err)
	}
}

func TestAllowReaction(t *testing.T) {
	if err := AllowReaction(herald.ReactionsAny, "🦄"); err != nil {
		t.Error(err)
	}
	if err := AllowReaction(herald.ReactionsDefault, "👍"); err != nil {
		t.Error(err)
	}
	if herald.ErrorKind(AllowReaction(herald.ReactionsDefault, "🦄")) != "reaction-not-allowed" {
		t.Error("default setting allowed a non-default emoji")
	}
	if herald.ErrorKind(AllowReaction(herald.ReactionsNone, "👍")) != "reactions-disabled" {
		t.Error("none setting allowed a reaction")
	}
}
