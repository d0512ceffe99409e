package http_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
)

// TestPrivacy acts as each admin and calls every GET route the server
// registers, asserting that no follower's id or username appears in any
// answer; then acts as a follower and asserts no admin's identity appears.
// Routes are read from the server, so a new GET route is covered (or makes
// this test fail until it gets a value for its path parameters).
func TestPrivacy(t *testing.T) {
	e := newEnv(t)
	owner, admin := e.signup("owner_olga"), e.signup("admin_adam")
	ch := e.channel(owner, "Météo Lyon")
	if _, err := owner.AddAdmin(ctx, ch.ID, admin.account.Username); err != nil {
		t.Fatal(err)
	}
	u, err := owner.PostUpdate(ctx, ch.ID, "Vote!", &client.PollInput{Question: "Rain?", Options: []string{"yes", "no"}})
	if err != nil {
		t.Fatal(err)
	}
	byAdmin := e.post(admin, ch.ID, "posted by the second admin")

	var followers []*user
	for _, name := range []string{"follower_fiona", "follower_felix", "follower_frank"} {
		f := e.signup(name)
		followers = append(followers, f)
		if _, err := f.Follow(ctx, ch.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.React(ctx, ch.ID, u.ID, "👍"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Vote(ctx, ch.ID, u.ID, []int{0}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.React(ctx, ch.ID, byAdmin.ID, "❤️"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := followers[1].Mute(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := owner.GetUpdate(ctx, ch.ID, u.ID)
	if err != nil || got.Reactions["👍"] != 3 || got.Poll.Voters != 3 {
		t.Fatalf("counts are public: %+v, %v", got, err)
	}
	full, err := owner.GetChannel(ctx, ch.ID)
	if err != nil || full.FollowerCount != 3 {
		t.Fatalf("follower count = %+v, %v", full, err)
	}

	// A webhook, so that its routes answer with content.
	hook, err := owner.CreateWebhook(ctx, ch.ID, "https://cms.example.org/herald", "update.created", "channel.updated")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{
		"{webhook_id}": hook.ID,
		"{id}":         ch.ID,
		"{uid}":        u.ID,
		"{account_id}": admin.account.ID,
		"{code}":       full.InviteCode,
		"{variant}":    "original",
		"{username}":   admin.account.Username,
	}
	queries := []string{"", "?limit=100", "?q=meteo", "?category=weather"}
	skip := map[string]bool{"GET /api/v1/events": true, "GET /api/v1/ws": true} // streams: tested by realtime

	fetchAll := func(as *user) map[string]string {
		bodies := map[string]string{}
		for _, pat := range e.srv.Patterns() {
			method, path, _ := strings.Cut(pat, " ")
			if method != "GET" || skip[pat] {
				continue
			}
			for k, v := range params {
				path = strings.ReplaceAll(path, k, v)
			}
			if strings.Contains(path, "{") {
				t.Fatalf("route %s: add a value for its path parameter to this test", pat)
			}
			for _, q := range queries {
				r := e.do("GET", path+q, as.Token(), nil)
				if r.status >= 500 {
					t.Errorf("GET %s%s = %d", path, q, r.status)
				}
				var hdr strings.Builder
				for k, vs := range r.header {
					hdr.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
				}
				bodies["GET "+path+q] = hdr.String() + string(r.body)
			}
		}
		return bodies
	}

	for _, as := range []*user{owner, admin} {
		bodies := fetchAll(as)
		if len(bodies) < 10 {
			t.Fatalf("only %d GET answers", len(bodies))
		}
		for route, body := range bodies {
			for _, f := range followers {
				if strings.Contains(body, f.account.ID) || strings.Contains(body, f.account.Username) {
					t.Errorf("as %s, %s reveals follower %s:\n%s", as.account.Username, route, f.account.Username, trim([]byte(body)))
				}
			}
		}
	}
	// A follower sees the channel, never its admins' accounts.
	for route, body := range fetchAll(followers[0]) {
		for _, a := range []*user{owner, admin} {
			if strings.Contains(body, a.account.ID) || strings.Contains(body, a.account.Username) {
				t.Errorf("as a follower, %s reveals admin %s:\n%s", route, a.account.Username, trim([]byte(body)))
			}
		}
		for _, f := range followers[1:] {
			if strings.Contains(body, f.account.ID) || strings.Contains(body, f.account.Username) {
				t.Errorf("as a follower, %s reveals another follower %s", route, f.account.Username)
			}
		}
	}
}
