package herald

import (
	"strings"
	"testing"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 26 || strings.ToLower(id) != id || strings.HasPrefix(id, "@") {
			t.Fatalf("NewID() = %q: want 26 lowercase base32 characters", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
		if c := NewInviteCode(); len(c) != 16 || strings.ToLower(c) != c {
			t.Fatalf("NewInviteCode() = %q: want 16 lowercase characters", c)
		}
	}
}

// Public views drop the viewer's part and the invite code, and share
// nothing with the original, so an event's copy can't change under it.
func TestPublicViews(t *testing.T) {
	role := RoleOwner
	c := &Channel{ID: "c", Name: "N", InviteCode: "secret", Viewer: ChannelViewer{Following: true, Muted: true, Role: &role}}
	p := c.Public()
	if p.InviteCode != "" || p.Viewer != (ChannelViewer{}) || p.Name != "N" || p.ID != "c" {
		t.Fatalf("Channel.Public() = %+v", p)
	}
	if c.InviteCode != "secret" || c.Viewer.Role == nil {
		t.Fatal("Channel.Public() changed the original")
	}
	mine := "👍"
	u := &Update{ID: "u", Text: "t", Reactions: map[string]int64{"👍": 2},
		Poll:   &Poll{Question: "q", Options: []PollOption{{Text: "a", Votes: 1}, {Text: "b"}}, Voters: 1},
		Viewer: UpdateViewer{Reaction: &mine, Votes: []int{0}}}
	pu := u.Public()
	if pu.Viewer.Reaction != nil || pu.Viewer.Votes != nil || pu.Text != "t" || pu.Reactions["👍"] != 2 || pu.Poll.Options[0].Votes != 1 {
		t.Fatalf("Update.Public() = %+v", pu)
	}
	pu.Reactions["👍"] = 9
	pu.Poll.Options[0].Votes = 9
	pu.Poll.Voters = 9
	if u.Reactions["👍"] != 2 || u.Poll.Options[0].Votes != 1 || u.Poll.Voters != 1 {
		t.Fatal("Update.Public() shares counts with the original")
	}
	if (&Update{}).Public().Reactions == nil {
		t.Fatal("Update.Public() of an update without counts: Reactions must be {} (encodes as {}, not null)")
	}
}

func TestIDDeriver(t *testing.T) {
	k1, k2 := NewIDDeriver([]byte("key one")), NewIDDeriver([]byte("key two"))
	a := k1.ID("acct", "cron-1")
	if len(a) != 26 || strings.ToLower(a) != a || strings.HasPrefix(a, "@") {
		t.Fatalf("DerivedID = %q, want 26 lowercase base32 characters", a)
	}
	if b := k1.ID("acct", "cron-1"); b != a {
		t.Fatalf("same parts gave %q then %q", a, b)
	}
	for _, other := range []string{
		k2.ID("acct", "cron-1"), // another key
		k1.ID("acct", "cron-2"),
		k1.ID("acct2", "cron-1"),
		k1.ID("acctc", "ron-1"), // parts do not run together
		k1.ID("acct", "cron-1", ""),
	} {
		if other == a {
			t.Fatalf("different inputs gave the same id %q", a)
		}
	}
}

func BenchmarkIDDeriver(b *testing.B) {
	d := NewIDDeriver([]byte("0123456789abcdef0123456789abcdef"))
	b.ReportAllocs()
	for b.Loop() {
		d.ID("update", "key:abcdefghijklmnopqrstuvwxyz", "cron-2026-03-01T18")
	}
}
