package http_test

import (
	"testing"
)

func TestManagedChannels(t *testing.T) {
	e := newEnv(t)
	owner, bob, fan := e.signup("owner"), e.signup("bob"), e.signup("fan")
	quiet := e.channel(owner, "Quiet")
	busy := e.channel(owner, "Busy")
	if _, err := owner.AddAdmin(ctx, busy.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := fan.Follow(ctx, busy.ID); err != nil {
		t.Fatal(err)
	}
	e.post(bob, busy.ID, "news")

	// The owner follows neither channel yet finds both, busiest first, as their admin.
	if mine, err := owner.MyChannels(ctx); err != nil || len(mine) != 0 {
		t.Fatalf("owner MyChannels = %+v, %v", mine, err)
	}
	got, err := owner.MyManagedChannels(ctx)
	if err != nil || len(got) != 2 || got[0].ID != busy.ID || got[1].ID != quiet.ID {
		t.Fatalf("owner MyManagedChannels = %+v, %v", got, err)
	}
	for _, c := range got {
		if c.Viewer.Role == nil || *c.Viewer.Role != "owner" || c.InviteCode == "" || c.Viewer.Following {
			t.Fatalf("owner view of %s = %+v", c.ID, c)
		}
	}
	if got[0].LastUpdateAt == nil || got[1].LastUpdateAt != nil {
		t.Fatalf("LastUpdateAt = %v, %v", got[0].LastUpdateAt, got[1].LastUpdateAt)
	}

	got, err = bob.MyManagedChannels(ctx)
	if err != nil || len(got) != 1 || got[0].ID != busy.ID || got[0].Viewer.Role == nil || *got[0].Viewer.Role != "admin" {
		t.Fatalf("bob MyManagedChannels = %+v, %v", got, err)
	}
	// A follower manages nothing: an empty list, not null.
	r := e.do("GET", "/api/v1/me/managed-channels", fan.Token(), nil)
	if r.status != 200 || string(r.body) != "{\"channels\":[]}\n" {
		t.Fatalf("follower list = %d %s", r.status, r.body)
	}
	// Removed, bob no longer sees it.
	if err := owner.RemoveAdmin(ctx, busy.ID, bob.account.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := bob.MyManagedChannels(ctx); err != nil || len(got) != 0 {
		t.Fatalf("removed admin MyManagedChannels = %+v, %v", got, err)
	}
	// Anonymous callers get a 401 problem.
	r = e.do("GET", "/api/v1/me/managed-channels", "", nil)
	if r.status != 401 {
		t.Fatalf("anonymous = %d %s", r.status, r.body)
	}
	r.problem(t)
	_, err = e.anon.MyManagedChannels(ctx)
	wantProblem(t, err, 401, "")
}
