package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
)

func TestAccountsAndSessions(t *testing.T) {
	e := newEnv(t)
	s, err := e.anon.CreateAccount(ctx, "alice", "a long enough password", "  Alice A.  ")
	if err != nil {
		t.Fatal(err)
	}
	if s.Account.ID == "" || s.Account.Username != "alice" || s.Account.DisplayName != "Alice A." || len(s.Token) != 43 {
		t.Fatalf("account = %+v, token %q", s.Account, s.Token)
	}
	// Raw shape: {account: {id, username, display_name}, token}.
	r := e.do("POST", "/api/v1/accounts", "", []byte(`{"username":"bob","password":"a long enough password"}`))
	var raw map[string]json.RawMessage
	if r.status != 201 || json.Unmarshal(r.body, &raw) != nil || raw["token"] == nil || raw["account"] == nil {
		t.Fatalf("POST accounts = %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "password") {
		t.Fatalf("response mentions the password: %s", r.body)
	}

	_, err = e.anon.CreateAccount(ctx, "alice", "another long password", "")
	wantProblem(t, err, 409, "")
	_, err = e.anon.CreateAccount(ctx, "Al", "a long enough password", "")
	wantProblem(t, err, 400, "invalid-username")
	_, err = e.anon.CreateAccount(ctx, "Alice", "a long enough password", "")
	wantProblem(t, err, 400, "invalid-username")
	_, err = e.anon.CreateAccount(ctx, "carol", "short", "")
	wantProblem(t, err, 400, "invalid-password")

	alice := e.anon.WithToken(s.Token)
	me, err := alice.Me(ctx)
	if err != nil || me.ID != s.Account.ID {
		t.Fatalf("Me = %+v, %v", me, err)
	}

	l, err := e.anon.Login(ctx, "alice", "a long enough password")
	if err != nil || l.Account.ID != s.Account.ID || l.Token == s.Token {
		t.Fatalf("Login = %+v, %v", l, err)
	}
	_, err = e.anon.Login(ctx, "alice", "a wrong password!")
	wantProblem(t, err, 401, "invalid-credentials")
	_, err = e.anon.Login(ctx, "nobody", "a wrong password!")
	wantProblem(t, err, 401, "invalid-credentials")

	// Logout kills only that token.
	second := e.anon.WithToken(l.Token)
	if err := second.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = second.Me(ctx)
	wantProblem(t, err, 401, "invalid-token")
	wantProblem(t, second.Logout(ctx), 401, "")
	if _, err := alice.Me(ctx); err != nil {
		t.Fatalf("first session died with the second: %v", err)
	}

	_, err = e.anon.Me(ctx)
	wantProblem(t, err, 401, "unauthenticated")
	_, err = e.anon.WithToken("not-a-token").Me(ctx)
	wantProblem(t, err, 401, "invalid-token")
	_, err = e.anon.WithToken(strings.Repeat("A", 43)).Me(ctx)
	wantProblem(t, err, 401, "invalid-token")
	r = e.do("GET", "/api/v1/me", "", nil, "Authorization", "Basic Zm9vOmJhcg==")
	if r.status != 401 || r.problem(t).Type != hhttp.ProblemTypeBase+"invalid-token" || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("Basic auth = %d %s", r.status, r.body)
	}
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	u := e.signup("alice")
	e.clock.Advance(hhttp.DefaultSessionTTL + time.Minute)
	_, err := u.Me(ctx)
	wantProblem(t, err, 401, "invalid-token")
}

func TestCookieSession(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/accounts", "", []byte(`{"username":"alice","password":"a long enough password","cookie":true}`))
	if r.status != 201 {
		t.Fatalf("signup = %d %s", r.status, r.body)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == hhttp.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure || cookie.Path != "/" || cookie.MaxAge <= 0 {
		t.Fatalf("session cookie = %+v", cookie)
	}
	ck := hhttp.SessionCookie + "=" + cookie.Value
	if r := e.do("GET", "/api/v1/me", "", nil, "Cookie", ck); r.status != 200 {
		t.Fatalf("GET me with cookie = %d %s", r.status, r.body)
	}
	// A cross-site page can't use the cookie to change state.
	body := []byte(`{"name":"Evil","category":"news"}`)
	r = e.do("POST", "/api/v1/channels", "", body, "Cookie", ck, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.status != 403 || r.problem(t).Type != hhttp.ProblemTypeBase+"cross-origin" {
		t.Fatalf("cross-site POST = %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/channels", "", body, "Cookie", ck, "Origin", "https://evil.example")
	if r.status != 403 {
		t.Fatalf("cross-origin POST (Origin only) = %d %s", r.status, r.body)
	}
	// Same-origin requests pass.
	r = e.do("POST", "/api/v1/channels", "", body, "Cookie", ck, "Sec-Fetch-Site", "same-origin", "Origin", e.ts.URL)
	if r.status != 201 {
		t.Fatalf("same-origin POST = %d %s", r.status, r.body)
	}
	// Login CSRF: a cross-site page can't log the browser into its account.
	r = e.do("POST", "/api/v1/sessions", "", []byte(`{"username":"alice","password":"a long enough password","cookie":true}`), "Sec-Fetch-Site", "cross-site")
	if r.status != 403 {
		t.Fatalf("cross-site cookie login = %d %s", r.status, r.body)
	}
	// Logout clears the cookie and kills the session.
	r = e.do("DELETE", "/api/v1/sessions/current", "", nil, "Cookie", ck, "Sec-Fetch-Site", "same-origin")
	if r.status != 204 || !strings.Contains(r.header.Get("Set-Cookie"), hhttp.SessionCookie+"=;") || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout = %d, Set-Cookie %q", r.status, r.header.Get("Set-Cookie"))
	}
	if r := e.do("GET", "/api/v1/me", "", nil, "Cookie", ck); r.status != 401 {
		t.Fatalf("GET me after logout = %d", r.status)
	}
}

func TestCookieSecureBehindHTTPS(t *testing.T) {
	e := newEnv(t, func(c *hhttp.Config) { c.PublicURL = "https://herald.example.org" })
	r := e.do("POST", "/api/v1/sessions", "", []byte(`{"username":"x","password":"y","cookie":true}`))
	if r.status != 401 {
		t.Fatalf("login unknown = %d", r.status)
	}
	e.signup("alice")
	r = e.do("POST", "/api/v1/sessions", "", []byte(`{"username":"alice","password":"a long enough password","cookie":true}`))
	if r.status != 201 || !strings.Contains(r.header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("login = %d, Set-Cookie %q", r.status, r.header.Get("Set-Cookie"))
	}
	// The public origin is trusted for cookie requests.
	ck := r.header.Get("Set-Cookie")
	ck = ck[:strings.IndexByte(ck, ';')]
	r = e.do("POST", "/api/v1/channels", "", []byte(`{"name":"A","category":"news"}`), "Cookie", ck, "Origin", "https://herald.example.org", "Sec-Fetch-Site", "same-site")
	if r.status != 201 {
		t.Fatalf("POST from public origin = %d %s", r.status, r.body)
	}
}

func TestChannels(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{
		Name: "  Météo Lyon ", Description: "Le temps à Lyon", Category: "weather", Country: "fr", Language: "fr-FR",
	})
	if err != nil {
		t.Fatal(err)
	}
	if ch.ID == "" || ch.Name != "Météo Lyon" || ch.Country != "FR" || !ch.Listed || ch.Reactions != "any" ||
		ch.Verified || ch.FollowerCount != 0 || ch.InviteCode == "" || ch.Viewer.Role == nil || *ch.Viewer.Role != "owner" || ch.CreatedAt.IsZero() {
		t.Fatalf("created channel = %+v", ch)
	}
	// Raw JSON has every contract field.
	r := e.do("GET", "/api/v1/channels/"+ch.ID, owner.Token(), nil)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"id", "name", "description", "category", "country", "language", "listed", "verified", "follower_count", "created_at", "invite_code", "viewer", "reactions"} {
		if raw[f] == nil {
			t.Errorf("channel JSON lacks %q: %s", f, r.body)
		}
	}

	// Anonymous and follower views: no invite code, no role.
	got, err := e.anon.GetChannel(ctx, ch.ID)
	if err != nil || got.InviteCode != "" || got.Viewer.Role != nil || got.Viewer.Following {
		t.Fatalf("anonymous view = %+v, %v", got, err)
	}
	unlisted, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Secret", Category: "news", Listed: client.Ptr(false), Reactions: "none"})
	if err != nil || unlisted.Listed || unlisted.Reactions != "none" {
		t.Fatalf("unlisted = %+v, %v", unlisted, err)
	}
	_, err = e.anon.GetChannel(ctx, unlisted.ID)
	wantProblem(t, err, 404, "")

	// Patch.
	got, err = owner.UpdateChannel(ctx, ch.ID, client.ChannelPatch{Name: client.Ptr("Météo Lyon & Rhône"), Listed: client.Ptr(false), Reactions: client.Ptr("default")})
	if err != nil || got.Name != "Météo Lyon & Rhône" || got.Listed || got.Reactions != "default" || got.Description != "Le temps à Lyon" {
		t.Fatalf("patched = %+v, %v", got, err)
	}
	_, err = owner.UpdateChannel(ctx, ch.ID, client.ChannelPatch{Category: client.Ptr("nonsense")})
	wantProblem(t, err, 400, "invalid-category")
	_, err = owner.UpdateChannel(ctx, ch.ID, client.ChannelPatch{Name: client.Ptr("")})
	wantProblem(t, err, 400, "invalid-name")
	for _, body := range []string{`{"verified":true}`, `{"follower_count":5}`, `{"id":"x"}`, `{"invite_code":"abc"}`} {
		r := e.do("PATCH", "/api/v1/channels/"+ch.ID, owner.Token(), []byte(body))
		if r.status != 400 || r.problem(t).Type != hhttp.ProblemTypeBase+"read-only-field" {
			t.Errorf("PATCH %s = %d %s", body, r.status, r.body)
		}
	}
	r = e.do("POST", "/api/v1/channels", owner.Token(), []byte(`{"name":"X","category":"news","verified":true}`))
	if r.status != 400 || r.problem(t).Type != hhttp.ProblemTypeBase+"read-only-field" {
		t.Errorf("POST with verified = %d %s", r.status, r.body)
	}

	// Create errors.
	for _, in := range []client.ChannelInput{
		{Name: "", Category: "news"},
		{Name: strings.Repeat("n", 101), Category: "news"},
		{Name: "X", Category: "pets"},
		{Name: "X", Category: "news", Country: "XX"},
		{Name: "X", Category: "news", Language: "not a tag"},
		{Name: "X", Category: "news", Reactions: "some"},
		{Name: "X", Category: "news", Description: strings.Repeat("d", 2001)},
	} {
		_, err := owner.CreateChannel(ctx, in)
		wantProblem(t, err, 400, "")
	}
	_, err = e.anon.CreateChannel(ctx, client.ChannelInput{Name: "X", Category: "news"})
	wantProblem(t, err, 401, "")

	// Delete.
	if err := owner.DeleteChannel(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	_, err = owner.GetChannel(ctx, ch.ID)
	wantProblem(t, err, 404, "")
	wantProblem(t, owner.DeleteChannel(ctx, ch.ID), 404, "")
	_, err = owner.GetChannel(ctx, "nonexistent")
	wantProblem(t, err, 404, "")
}

func TestAdmins(t *testing.T) {
	e := newEnv(t)
	owner, bob, carol := e.signup("owner"), e.signup("bob"), e.signup("carol")
	ch := e.channel(owner, "Traffic")

	a, err := owner.AddAdmin(ctx, ch.ID, "bob")
	if err != nil || a.Account.ID != bob.account.ID || a.Role != "admin" {
		t.Fatalf("AddAdmin = %+v, %v", a, err)
	}
	_, err = owner.AddAdmin(ctx, ch.ID, "bob")
	wantProblem(t, err, 409, "")
	_, err = owner.AddAdmin(ctx, ch.ID, "nobody")
	wantProblem(t, err, 404, "")
	// Admins can't add admins.
	_, err = bob.AddAdmin(ctx, ch.ID, "carol")
	wantProblem(t, err, 403, "")

	admins, err := bob.ListAdmins(ctx, ch.ID)
	if err != nil || len(admins) != 2 {
		t.Fatalf("ListAdmins = %+v, %v", admins, err)
	}
	// Followers and strangers don't see admins.
	if _, err := carol.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	_, err = carol.ListAdmins(ctx, ch.ID)
	if !client.IsStatus(err, 403) && !client.IsStatus(err, 404) {
		t.Fatalf("follower ListAdmins err = %v", err)
	}
	_, err = e.anon.ListAdmins(ctx, ch.ID)
	wantProblem(t, err, 401, "")

	// Bob sees himself as admin.
	got, err := bob.GetChannel(ctx, ch.ID)
	if err != nil || got.Viewer.Role == nil || *got.Viewer.Role != "admin" || got.InviteCode == "" {
		t.Fatalf("admin view = %+v, %v", got, err)
	}

	// Transfer ownership to bob; owner stays admin.
	wantProblem(t, bob.TransferOwnership(ctx, ch.ID, bob.account.ID), 403, "")
	if err := owner.TransferOwnership(ctx, ch.ID, bob.account.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = bob.GetChannel(ctx, ch.ID)
	if *got.Viewer.Role != "owner" {
		t.Fatalf("bob role after transfer = %v", *got.Viewer.Role)
	}
	got, _ = owner.GetChannel(ctx, ch.ID)
	if got.Viewer.Role == nil || *got.Viewer.Role != "admin" {
		t.Fatalf("old owner role after transfer = %v", got.Viewer.Role)
	}
	r := e.do("POST", "/api/v1/channels/"+ch.ID+"/owner", bob.Token(), []byte(`{}`))
	if r.status != 400 {
		t.Fatalf("transfer without account_id = %d %s", r.status, r.body)
	}

	// The new owner removes the old one.
	wantProblem(t, owner.RemoveAdmin(ctx, ch.ID, bob.account.ID), 403, "")
	if err := bob.RemoveAdmin(ctx, ch.ID, owner.account.ID); err != nil {
		t.Fatal(err)
	}
	_, err = owner.ListAdmins(ctx, ch.ID)
	if !client.IsStatus(err, 403) && !client.IsStatus(err, 404) {
		t.Fatalf("removed admin ListAdmins err = %v", err)
	}

	// At most 16 admins including the owner.
	for i := 0; i < herald.MaxAdmins-1; i++ {
		u := e.signup("admin" + string(rune('a'+i)))
		if _, err := bob.AddAdmin(ctx, ch.ID, u.account.Username); err != nil {
			t.Fatalf("admin %d: %v", i+2, err)
		}
	}
	_, err = bob.AddAdmin(ctx, ch.ID, "carol")
	wantProblem(t, err, 409, "")
}

func TestFollowMute(t *testing.T) {
	e := newEnv(t)
	owner, alice := e.signup("owner"), e.signup("alice")
	ch := e.channel(owner, "Weather")

	_, err := alice.Mute(ctx, ch.ID)
	if !client.IsStatus(err, 409) && !client.IsStatus(err, 400) {
		t.Fatalf("mute before follow err = %v", err)
	}
	for i := 0; i < 2; i++ { // idempotent
		got, err := alice.Follow(ctx, ch.ID)
		if err != nil || !got.Viewer.Following || got.FollowerCount != 1 {
			t.Fatalf("Follow #%d = %+v, %v", i, got, err)
		}
	}
	got, err := alice.Mute(ctx, ch.ID)
	if err != nil || !got.Viewer.Muted {
		t.Fatalf("Mute = %+v, %v", got, err)
	}
	got, err = alice.Unmute(ctx, ch.ID)
	if err != nil || got.Viewer.Muted {
		t.Fatalf("Unmute = %+v, %v", got, err)
	}
	e.post(owner, ch.ID, "first")
	mine, err := alice.MyChannels(ctx)
	if err != nil || len(mine) != 1 || mine[0].ID != ch.ID || mine[0].LastUpdateAt == nil {
		t.Fatalf("MyChannels = %+v, %v", mine, err)
	}
	for i := 0; i < 2; i++ {
		if err := alice.Unfollow(ctx, ch.ID); err != nil {
			t.Fatalf("Unfollow #%d: %v", i, err)
		}
	}
	mine, err = alice.MyChannels(ctx)
	if err != nil || len(mine) != 0 {
		t.Fatalf("MyChannels after unfollow = %+v, %v", mine, err)
	}
	r := e.do("GET", "/api/v1/me/channels", alice.Token(), nil)
	if string(r.body) != "{\"channels\":[]}\n" {
		t.Fatalf("empty list JSON = %s", r.body)
	}
	_, err = alice.Follow(ctx, "missing")
	wantProblem(t, err, 404, "")
	_, err = e.anon.Follow(ctx, ch.ID)
	wantProblem(t, err, 401, "")
}

func TestUpdates(t *testing.T) {
	e := newEnv(t)
	owner, alice := e.signup("owner"), e.signup("alice")
	ch := e.channel(owner, "News")
	if _, err := alice.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}

	u, err := owner.PostUpdate(ctx, ch.ID, "  Storm warning until 18:00  ", nil)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.ChannelID != ch.ID || u.Seq != 1 || u.Text != "Storm warning until 18:00" || u.EditedAt != nil ||
		!u.ExpiresAt.Equal(u.CreatedAt.Add(herald.DefaultRetention)) || u.Poll != nil {
		t.Fatalf("posted = %+v", u)
	}
	r := e.do("GET", "/api/v1/channels/"+ch.ID+"/updates/"+u.ID, alice.Token(), nil)
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(r.body, &raw)
	for _, f := range []string{"id", "channel_id", "seq", "text", "created_at", "edited_at", "expires_at"} {
		if raw[f] == nil {
			t.Errorf("update JSON lacks %q: %s", f, r.body)
		}
	}
	if string(raw["edited_at"]) != "null" {
		t.Errorf("edited_at = %s, want null", raw["edited_at"])
	}

	p, err := owner.PostUpdate(ctx, ch.ID, "Lunch?", &client.PollInput{Question: "Where?", Options: []string{" Park ", "Café", "Office"}, Multiple: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Seq != 2 || p.Poll == nil || p.Poll.Question != "Where?" || len(p.Poll.Options) != 3 || p.Poll.Options[0].Text != "Park" || !p.Poll.Multiple {
		t.Fatalf("poll update = %+v / %+v", p, p.Poll)
	}
	for _, bad := range []*client.PollInput{
		{Question: "Q", Options: []string{"only"}},
		{Question: "", Options: []string{"a", "b"}},
		{Question: "Q", Options: []string{"a", "a"}},
		{Question: "Q", Options: strings.Split("a b c d e f g h i j k l m", " ")},
		{Question: "Q", Options: []string{"a", strings.Repeat("o", 101)}},
	} {
		_, err := owner.PostUpdate(ctx, ch.ID, "poll", bad)
		wantProblem(t, err, 400, "invalid-poll")
	}

	for i := 3; i <= 25; i++ {
		e.post(owner, ch.ID, "update")
	}
	page, err := alice.ListUpdates(ctx, ch.ID, client.ListOptions{})
	if err != nil || len(page) != 20 || page[0].Seq != 25 || page[19].Seq != 6 {
		t.Fatalf("first page: %d updates, %v", len(page), err)
	}
	page, err = alice.ListUpdates(ctx, ch.ID, client.ListOptions{Limit: 10, Before: 6})
	if err != nil || len(page) != 5 || page[0].Seq != 5 || page[4].Seq != 1 {
		t.Fatalf("second page: %d updates, %v", len(page), err)
	}
	page, err = e.anon.ListUpdates(ctx, ch.ID, client.ListOptions{Limit: 100})
	if err != nil || len(page) != 25 {
		t.Fatalf("anonymous page: %d, %v", len(page), err)
	}

	got, err := alice.GetUpdate(ctx, ch.ID, u.ID)
	if err != nil || got.Text != u.Text {
		t.Fatalf("GetUpdate = %+v, %v", got, err)
	}
	e.clock.Advance(time.Minute)
	ed, err := owner.EditUpdate(ctx, ch.ID, u.ID, "Storm warning until 20:00")
	if err != nil || ed.Text != "Storm warning until 20:00" || ed.EditedAt == nil || !ed.EditedAt.After(ed.CreatedAt) || ed.Seq != 1 {
		t.Fatalf("EditUpdate = %+v, %v", ed, err)
	}
	_, err = owner.EditUpdate(ctx, ch.ID, u.ID, "   ")
	wantProblem(t, err, 400, "invalid-text")
	_, err = owner.PostUpdate(ctx, ch.ID, strings.Repeat("é", herald.UpdateTextMaxLen+1), nil)
	wantProblem(t, err, 400, "text-too-long")
	if _, err := owner.PostUpdate(ctx, ch.ID, strings.Repeat("é", herald.UpdateTextMaxLen), nil); err != nil {
		t.Fatalf("4096 characters refused: %v", err)
	}

	if err := owner.DeleteUpdate(ctx, ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = alice.GetUpdate(ctx, ch.ID, u.ID)
	wantProblem(t, err, 404, "")
	wantProblem(t, owner.DeleteUpdate(ctx, ch.ID, u.ID), 404, "")
	_, err = owner.EditUpdate(ctx, ch.ID, u.ID, "again")
	wantProblem(t, err, 404, "")
	// An update id looked up under another channel is not found.
	other := e.channel(owner, "Other")
	_, err = alice.GetUpdate(ctx, other.ID, p.ID)
	wantProblem(t, err, 404, "")
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	owner, alice := e.signup("owner"), e.signup("alice")
	ch := e.channel(owner, "News")
	if _, err := alice.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	old := e.post(owner, ch.ID, "old news")
	e.clock.Advance(herald.DefaultRetention - time.Hour)
	fresh := e.post(owner, ch.ID, "fresh news")
	if _, err := alice.GetUpdate(ctx, ch.ID, old.ID); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	e.clock.Advance(time.Hour) // old is now exactly 30 days old: expired
	_, err := alice.GetUpdate(ctx, ch.ID, old.ID)
	wantProblem(t, err, 404, "")
	_, err = owner.GetUpdate(ctx, ch.ID, old.ID)
	wantProblem(t, err, 404, "")
	_, err = owner.EditUpdate(ctx, ch.ID, old.ID, "revived?")
	wantProblem(t, err, 404, "")
	page, err := alice.ListUpdates(ctx, ch.ID, client.ListOptions{})
	if err != nil || len(page) != 1 || page[0].ID != fresh.ID {
		t.Fatalf("list after expiry = %d updates, %v", len(page), err)
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	owner, admin, follower, stranger := e.signup("owner"), e.signup("admin"), e.signup("follower"), e.signup("stranger")
	ch := e.channel(owner, "Mine")
	other := e.channel(stranger, "Theirs")
	if _, err := owner.AddAdmin(ctx, ch.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := follower.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	u := e.post(owner, ch.ID, "hello")
	theirs := e.post(stranger, other.ID, "theirs")

	// Followers can't post, edit, delete or change the channel.
	_, err := follower.PostUpdate(ctx, ch.ID, "hijack", nil)
	wantProblem(t, err, 403, "")
	_, err = follower.EditUpdate(ctx, ch.ID, u.ID, "hijack")
	wantProblem(t, err, 403, "")
	wantProblem(t, follower.DeleteUpdate(ctx, ch.ID, u.ID), 403, "")
	_, err = follower.UpdateChannel(ctx, ch.ID, client.ChannelPatch{Name: client.Ptr("x")})
	wantProblem(t, err, 403, "")
	wantProblem(t, follower.DeleteChannel(ctx, ch.ID), 403, "")
	_, err = follower.AddAdmin(ctx, ch.ID, "stranger")
	wantProblem(t, err, 403, "")

	// Admins can post, edit, delete any update, but not add admins,
	// transfer, or delete the channel.
	if _, err := admin.PostUpdate(ctx, ch.ID, "by admin", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.EditUpdate(ctx, ch.ID, u.ID, "edited by admin"); err != nil {
		t.Fatal(err)
	}
	_, err = admin.AddAdmin(ctx, ch.ID, "stranger")
	wantProblem(t, err, 403, "")
	wantProblem(t, admin.TransferOwnership(ctx, ch.ID, admin.account.ID), 403, "")
	wantProblem(t, admin.DeleteChannel(ctx, ch.ID), 403, "")
	wantProblem(t, admin.RemoveAdmin(ctx, ch.ID, owner.account.ID), 403, "")

	// Nobody touches a channel they don't administer (403, or 404 where
	// the channel is invisible to them).
	notAllowed := func(err error) {
		t.Helper()
		if !client.IsStatus(err, 403) && !client.IsStatus(err, 404) {
			t.Fatalf("err = %v, want 403 or 404", err)
		}
	}
	_, err = admin.PostUpdate(ctx, other.ID, "x", nil)
	notAllowed(err)
	_, err = admin.EditUpdate(ctx, other.ID, theirs.ID, "x")
	notAllowed(err)
	notAllowed(admin.DeleteUpdate(ctx, other.ID, theirs.ID))
	_, err = admin.UpdateChannel(ctx, other.ID, client.ChannelPatch{Name: client.Ptr("x")})
	notAllowed(err)
	notAllowed(admin.DeleteChannel(ctx, other.ID))
	_, err = admin.ListAdmins(ctx, other.ID)
	notAllowed(err)
	// Cross-channel: an admin of ch can't reach other's update through ch.
	_, err = admin.EditUpdate(ctx, ch.ID, theirs.ID, "x")
	wantProblem(t, err, 404, "")
	wantProblem(t, admin.DeleteUpdate(ctx, ch.ID, theirs.ID), 404, "")

	// Anonymous: 401 on every route that needs an account.
	anonRoutes := []struct{ method, path, body string }{
		{"DELETE", "/api/v1/sessions/current", ""},
		{"GET", "/api/v1/me", ""},
		{"GET", "/api/v1/me/channels", ""},
		{"POST", "/api/v1/channels", `{"name":"x","category":"news"}`},
		{"PATCH", "/api/v1/channels/" + ch.ID, `{"name":"x"}`},
		{"DELETE", "/api/v1/channels/" + ch.ID, ""},
		{"GET", "/api/v1/channels/" + ch.ID + "/admins", ""},
		{"POST", "/api/v1/channels/" + ch.ID + "/admins", `{"username":"stranger"}`},
		{"DELETE", "/api/v1/channels/" + ch.ID + "/admins/" + admin.account.ID, ""},
		{"POST", "/api/v1/channels/" + ch.ID + "/owner", `{"account_id":"` + admin.account.ID + `"}`},
		{"PUT", "/api/v1/channels/" + ch.ID + "/follow", ""},
		{"DELETE", "/api/v1/channels/" + ch.ID + "/follow", ""},
		{"PUT", "/api/v1/channels/" + ch.ID + "/mute", ""},
		{"DELETE", "/api/v1/channels/" + ch.ID + "/mute", ""},
		{"POST", "/api/v1/channels/" + ch.ID + "/updates", `{"text":"x"}`},
		{"PATCH", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID, `{"text":"x"}`},
		{"DELETE", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID, ""},
		{"PUT", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID + "/reaction", `{"emoji":"👍"}`},
		{"DELETE", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID + "/reaction", ""},
		{"PUT", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID + "/vote", `{"options":[0]}`},
		{"DELETE", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID + "/vote", ""},
		{"GET", "/api/v1/events", ""},
		{"GET", "/api/v1/ws", ""},
	}
	for _, rt := range anonRoutes {
		var body []byte
		if rt.body != "" {
			body = []byte(rt.body)
		}
		r := e.do(rt.method, rt.path, "", body)
		if r.status != 401 {
			t.Errorf("anonymous %s %s = %d %s", rt.method, rt.path, r.status, r.body)
			continue
		}
		r.problem(t)
	}
	// Nothing changed.
	got, err := owner.GetUpdate(ctx, ch.ID, u.ID)
	if err != nil || got.Text != "edited by admin" {
		t.Fatalf("update after attacks = %+v, %v", got, err)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/healthz", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"ok"`) {
		t.Fatalf("healthz = %d %s", r.status, r.body)
	}
	e.srv.SetReady(false)
	r = e.do("GET", "/healthz", "", nil)
	if r.status != 503 {
		t.Fatalf("healthz not ready = %d", r.status)
	}
	r.problem(t)
	e.srv.SetReady(true)
	e.signup("alice")
	r = e.do("GET", "/metrics", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `herald_http_requests_total{route="POST /api/v1/accounts",status="201"}`) {
		t.Fatalf("metrics = %d, lacks the request counter", r.status)
	}
}

func TestStreamsHook(t *testing.T) {
	e := newEnv(t)
	alice := e.signup("alice")
	r := e.do("GET", "/api/v1/events", alice.Token(), nil)
	if r.status != 503 || r.problem(t).Type != hhttp.ProblemTypeBase+"streams-unavailable" {
		t.Fatalf("events without streams = %d %s", r.status, r.body)
	}
	fs := &fakeStreams{}
	e.srv.Streams = fs
	if r := e.do("GET", "/api/v1/events", alice.Token(), nil); r.status != 200 || string(r.body) != "sse "+alice.account.ID {
		t.Fatalf("events = %d %s", r.status, r.body)
	}
	// EventSource and browser WebSockets authenticate with ?access_token=.
	if r := e.do("GET", "/api/v1/ws?access_token="+alice.Token(), "", nil, wsHandshake...); r.status != 200 || string(r.body) != "ws "+alice.account.ID {
		t.Fatalf("ws = %d %s", r.status, r.body)
	}
	if fs.last.Addr != "127.0.0.1" {
		t.Fatalf("client address = %q", fs.last.Addr)
	}
	// ?access_token= is accepted only on the stream routes.
	if r := e.do("GET", "/api/v1/me?access_token="+alice.Token(), "", nil); r.status != 401 {
		t.Fatalf("me with access_token = %d", r.status)
	}
	if r := e.do("GET", "/api/v1/events?access_token=bogus", "", nil); r.status != 401 {
		t.Fatalf("events with bad access_token = %d", r.status)
	}
}

func TestWebMount(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("web app " + r.URL.Path))
	})
	e := newEnv(t, func(c *hhttp.Config) { c.Web = web })
	for _, p := range []string{"/", "/c/abc123", "/channels/x/settings", "/channels/new"} {
		r := e.do("GET", p, "", nil)
		if r.status != 200 || string(r.body) != "web app "+p || r.header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s = %d %s", p, r.status, r.body)
		}
	}
	r := e.do("GET", "/api/v1/nope", "", nil)
	if r.status != 404 || r.problem(t).Type != hhttp.ProblemTypeBase+"route-not-found" {
		t.Errorf("unknown API path = %d %s", r.status, r.body)
	}
	r = e.do("PUT", "/api/v1/me", "", nil)
	if r.status != 405 || r.header.Get("Allow") == "" {
		t.Errorf("PUT /me = %d, Allow %q", r.status, r.header.Get("Allow"))
	}
	r.problem(t)
}

func TestPanicIsA500Problem(t *testing.T) {
	e := newEnv(t, func(c *hhttp.Config) {
		c.Web = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") })
	})
	r := e.do("GET", "/boom", "", nil)
	if r.status != 500 || r.problem(t).Type != hhttp.ProblemTypeBase+"internal" || r.problem(t).Detail != "Internal error." {
		t.Fatalf("panic = %d %s", r.status, r.body)
	}
	// The server keeps serving.
	if r := e.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz after panic = %d", r.status)
	}
}
