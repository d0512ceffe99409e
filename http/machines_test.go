package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/postgres"
)

type keyAnswer struct {
	herald.ChannelKey
	Secret string `json:"secret"`
}

func (e *env) createKey(owner *user, channelID string, scopes ...string) keyAnswer {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "station", "scopes": scopes})
	r := e.do("POST", "/api/v1/channels/"+channelID+"/keys", owner.Token(), body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create key: %d %s", r.status, r.body)
	}
	var k keyAnswer
	if err := json.Unmarshal(r.body, &k); err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(k.Secret, "hk_") || len(k.Secret) < 40 || r.header.Get("Cache-Control") != "no-store" {
		e.t.Fatalf("key answer %s (Cache-Control %q)", r.body, r.header.Get("Cache-Control"))
	}
	return k
}

func wantKind(t *testing.T, r response, status int, kind string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if p := r.problem(t); p.Type != hhttp.ProblemTypeBase+kind {
		t.Fatalf("problem %s, want %s", p.Type, kind)
	}
}

func TestChannelKeys(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	a := e.channel(owner, "A")
	b := e.channel(owner, "B")
	k := e.createKey(owner, a.ID, "post")
	full := e.createKey(owner, a.ID, "post", "edit", "delete")

	// Plain text, curl -d's form body, and JSON all post.
	r := e.do("POST", "/api/v1/channels/"+a.ID+"/updates", k.Secret, []byte("Ciel clair, 14 °C"), "Content-Type", "text/plain; charset=utf-8")
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"text":"Ciel clair, 14 °C"`) {
		t.Fatalf("text/plain post: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/channels/"+a.ID+"/updates", k.Secret, []byte("Pluie à 15 h"), "Content-Type", "application/x-www-form-urlencoded")
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"text":"Pluie à 15 h"`) {
		t.Fatalf("form post: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/channels/"+a.ID+"/updates", k.Secret, []byte(`{"text":"json"}`), "Content-Type", "application/x-www-form-urlencoded")
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"text":"json"`) {
		t.Fatalf("JSON post with curl's default type: %d %s", r.status, r.body)
	}
	var u herald.Update
	_ = json.Unmarshal(r.body, &u)

	// Scopes.
	wantKind(t, e.do("PATCH", "/api/v1/channels/"+a.ID+"/updates/"+u.ID, k.Secret, []byte(`{"text":"x"}`)), 403, "key-scope")
	wantKind(t, e.do("DELETE", "/api/v1/channels/"+a.ID+"/updates/"+u.ID, k.Secret, nil), 403, "key-scope")
	if r := e.do("PATCH", "/api/v1/channels/"+a.ID+"/updates/"+u.ID, full.Secret, []byte(`{"text":"edited"}`)); r.status != 200 {
		t.Fatalf("edit with the edit scope: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/channels/"+a.ID+"/updates/"+u.ID, full.Secret, nil); r.status != 204 {
		t.Fatalf("delete with the delete scope: %d %s", r.status, r.body)
	}

	// Its channel only; never admins, keys, the profile, or follower data.
	wantKind(t, e.do("POST", "/api/v1/channels/"+b.ID+"/updates", k.Secret, []byte("x"), "Content-Type", "text/plain"), 403, "key-wrong-channel")
	for _, req := range [][2]string{{"GET", "/admins"}, {"GET", "/keys"}, {"POST", "/keys"}, {"PATCH", ""}, {"DELETE", ""},
		{"POST", "/admins"}, {"POST", "/invite"}, {"PUT", "/follow"}} {
		wantKind(t, e.do(req[0], "/api/v1/channels/"+a.ID+req[1], full.Secret, []byte(`{}`)), 403, "key-not-allowed")
	}
	wantKind(t, e.do("GET", "/api/v1/me", full.Secret, nil), 403, "key-not-allowed")
	wantKind(t, e.do("GET", "/api/v1/events", full.Secret, nil), 403, "key-not-allowed")
	// Only in the Authorization header; a malformed key is a 401.
	wantKind(t, e.do("GET", "/api/v1/events?access_token="+full.Secret, "", nil), 403, "key-not-allowed")
	wantKind(t, e.do("POST", "/api/v1/channels/"+a.ID+"/updates", "hk_short", []byte("x"), "Content-Type", "text/plain"), 401, "invalid-token")

	// The owner lists keys without secrets, last used to the day.
	r = e.do("GET", "/api/v1/channels/"+a.ID+"/keys", owner.Token(), nil)
	if r.status != 200 || strings.Contains(string(r.body), "hk_") || strings.Contains(string(r.body), "secret") ||
		!strings.Contains(string(r.body), `"last_used":"2026-03-01"`) {
		t.Fatalf("list keys: %d %s", r.status, r.body)
	}

	// Revocation holds at once, on every node (a second server on the same store).
	node2 := httptest.NewServer(hhttp.NewServer(hhttp.Config{Store: e.db, Clock: e.clock, Hasher: password.NewHasher(password.TestParams)}))
	defer node2.Close()
	post := func(base string) int {
		req, _ := http.NewRequest("POST", base+"/api/v1/channels/"+a.ID+"/updates", strings.NewReader("still here?"))
		req.Header.Set("Authorization", "Bearer "+k.Secret)
		req.Header.Set("Content-Type", "text/plain")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s1, s2 := post(e.ts.URL), post(node2.URL); s1 != 201 || s2 != 201 {
		t.Fatalf("before revocation: %d %d", s1, s2)
	}
	if r := e.do("DELETE", "/api/v1/channels/"+a.ID+"/keys/"+k.ID, owner.Token(), nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if s1, s2 := post(e.ts.URL), post(node2.URL); s1 != 401 || s2 != 401 {
		t.Fatalf("after revocation: %d %d", s1, s2)
	}
}

func TestHandleAddressing(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "Météo")
	h := "meteo_lyon"
	if _, err := owner.UpdateChannel(context.Background(), ch.ID, client.ChannelPatch{Handle: &h}); err != nil {
		t.Fatal(err)
	}
	k := e.createKey(owner, ch.ID, "post")
	r := e.do("POST", "/api/v1/channels/@Meteo_Lyon/updates", k.Secret, []byte("par handle"), "Content-Type", "text/plain")
	if r.status != 201 || !strings.Contains(string(r.body), `"channel_id":"`+ch.ID+`"`) {
		t.Fatalf("post by handle: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/channels/@"+h, "", nil); r.status != 200 || !strings.Contains(string(r.body), ch.ID) {
		t.Fatalf("get by handle: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/channels/@"+h+"/updates", "", nil); r.status != 200 || !strings.Contains(string(r.body), "par handle") {
		t.Fatalf("updates by handle: %d %s", r.status, r.body)
	}
	wantKind(t, e.do("GET", "/api/v1/channels/@nobody_here", "", nil), 404, "channel-not-found")
	wantKind(t, e.do("GET", "/api/v1/channels/@x", "", nil), 404, "channel-not-found")
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "A")
	k := e.createKey(owner, ch.ID, "post")
	path := "/api/v1/channels/" + ch.ID + "/updates"

	first := e.do("POST", path, k.Secret, []byte("once"), "Content-Type", "text/plain", "Idempotency-Key", `"retry-1"`)
	again := e.do("POST", path, k.Secret, []byte("once"), "Content-Type", "text/plain", "Idempotency-Key", `"retry-1"`)
	if first.status != 201 || again.status != 201 || string(first.body) != string(again.body) ||
		again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Content-Type") != "application/json" {
		t.Fatalf("replay: %d %s / %d %s %v", first.status, first.body, again.status, again.body, again.header)
	}
	wantKind(t, e.do("POST", path, k.Secret, []byte("twice"), "Content-Type", "text/plain", "Idempotency-Key", `"retry-1"`), 422, "idempotency-key-reused")
	// Per principal: the owner's same key is another request.
	if r := e.do("POST", path, owner.Token(), []byte(`{"text":"owner"}`), "Idempotency-Key", "retry-1"); r.status != 201 {
		t.Fatalf("owner with the same key: %d %s", r.status, r.body)
	}
	// A failure is not kept: the retry runs.
	wantKind(t, e.do("POST", path, k.Secret, []byte(" "), "Content-Type", "text/plain", "Idempotency-Key", "k2"), 400, "invalid-text")
	if r := e.do("POST", path, k.Secret, []byte(" "), "Content-Type", "text/plain", "Idempotency-Key", "k2"); r.status != 400 || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("failed request replayed: %d %v", r.status, r.header)
	}
	wantKind(t, e.do("POST", path, k.Secret, []byte("x"), "Content-Type", "text/plain", "Idempotency-Key", strings.Repeat("k", 256)), 400, "invalid-idempotency-key")
	// Other creating POSTs take it too.
	c1 := e.do("POST", "/api/v1/channels", owner.Token(), []byte(`{"name":"C","category":"weather","country":"FR","language":"fr"}`), "Idempotency-Key", "ch")
	c2 := e.do("POST", "/api/v1/channels", owner.Token(), []byte(`{"name":"C","category":"weather","country":"FR","language":"fr"}`), "Idempotency-Key", "ch")
	if c1.status != 201 || string(c1.body) != string(c2.body) {
		t.Fatalf("channel replay: %s / %s", c1.body, c2.body)
	}
	us, err := owner.ListUpdates(context.Background(), ch.ID, client.ListOptions{})
	if err != nil || len(us) != 2 {
		t.Fatalf("updates = %d, %v", len(us), err)
	}
	// After 24 hours the key is forgotten.
	e.clock.Advance(herald.IdempotencyTTL)
	if _, err := e.db.PruneIdempotencyKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", path, k.Secret, []byte("twice"), "Content-Type", "text/plain", "Idempotency-Key", `"retry-1"`); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("after 24 h: %d %s", r.status, r.body)
	}
}

// concurrentRetries fires n identical keyed posts at once at the given
// servers: exactly one update must exist after, every answer a 201 (the
// first or its replay) or a 409 while it ran.
func concurrentRetries(t *testing.T, store herald.Store, bases []string, token, channelID string) {
	const n = 24
	var wg sync.WaitGroup
	statuses := make([]int, n)
	bodies := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", bases[i%len(bases)]+"/api/v1/channels/"+channelID+"/updates", strings.NewReader("exactly once"))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("Idempotency-Key", "cron-2026-03-01T12")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			b, _ := io.ReadAll(resp.Body)
			bodies[i] = string(b)
		}()
	}
	wg.Wait()
	created := ""
	for i, s := range statuses {
		switch s {
		case 201:
			if created != "" && bodies[i] != created {
				t.Fatalf("two different 201 answers:\n%s\n%s", created, bodies[i])
			}
			created = bodies[i]
		case 409:
		default:
			t.Fatalf("status %d: %s", s, bodies[i])
		}
	}
	us, err := store.ListUpdates(context.Background(), "", channelID, 0, 100)
	if err != nil || len(us) != 1 {
		t.Fatalf("updates after concurrent retries: %d, %v", len(us), err)
	}
}

func TestIdempotencyConcurrentSQLite(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "A")
	k := e.createKey(owner, ch.ID, "post")
	concurrentRetries(t, e.db, []string{e.ts.URL}, k.Secret, ch.ID)
}

func TestIdempotencyConcurrentPostgres(t *testing.T) {
	url := pgtest.FreshSchema(t, "herald_http_idem_")
	var bases []string
	var first herald.Store
	for i := 0; i < 2; i++ { // two nodes on one database
		db, err := postgres.Open(context.Background(), url, herald.StoreConfig{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ts := httptest.NewServer(hhttp.NewServer(hhttp.Config{Store: db, Hasher: password.NewHasher(password.TestParams)}))
		t.Cleanup(ts.Close)
		bases = append(bases, ts.URL)
		if first == nil {
			first = db
		}
	}
	anon := client.New(bases[0], "")
	s, err := anon.CreateAccount(context.Background(), "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := anon.WithToken(s.Token)
	ch, err := owner.CreateChannel(context.Background(), client.ChannelInput{Name: "A", Category: "weather", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	var k keyAnswer
	if err := owner.Do(context.Background(), "POST", "/api/v1/channels/"+ch.ID+"/keys", map[string]any{"name": "bot", "scopes": []string{"post"}}, &k); err != nil {
		t.Fatal(err)
	}
	concurrentRetries(t, first, bases, k.Secret, ch.ID)
}

// Key lookups are cached per node, but a revoked key fails at once on
// every route a key may use: each store call checks the key in its
// transaction.
func TestRevokedKeyFailsOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "A")
	k := e.createKey(owner, ch.ID, "post", "edit", "delete")
	base := "/api/v1/channels/" + ch.ID
	post := e.do("POST", base+"/updates", k.Secret, []byte("hello"), "Content-Type", "text/plain", "Idempotency-Key", "k1")
	sched := e.do("POST", base+"/updates", k.Secret, []byte(`{"text":"later","publish_at":"2026-03-02T12:00:00Z"}`))
	if post.status != 201 || sched.status != 202 {
		t.Fatalf("post %d %s, schedule %d %s", post.status, post.body, sched.status, sched.body)
	}
	var u, s struct{ ID string }
	_ = json.Unmarshal(post.body, &u)
	_ = json.Unmarshal(sched.body, &s)
	routes := []struct {
		method, path string
		body         []byte
	}{
		{"POST", base + "/updates", []byte(`{"text":"again"}`)},
		{"POST", base + "/updates", []byte(`{"text":"later","publish_at":"2026-03-02T13:00:00Z"}`)},
		{"PATCH", base + "/updates/" + u.ID, []byte(`{"text":"edited"}`)},
		{"GET", base + "/scheduled", nil},
		{"PATCH", base + "/scheduled/" + s.ID, []byte(`{"text":"edited"}`)},
		{"POST", base + "/scheduled/" + s.ID + "/publish", nil},
		{"DELETE", base + "/scheduled/" + s.ID, nil},
		{"DELETE", base + "/updates/" + u.ID, nil},
	}
	// Every route works (and caches the key), then none does.
	if r := e.do("GET", base+"/scheduled", k.Secret, nil); r.status != 200 {
		t.Fatalf("list scheduled: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/channels/"+ch.ID+"/keys/"+k.ID, owner.Token(), nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	for _, rt := range routes {
		wantKind(t, e.do(rt.method, rt.path, k.Secret, rt.body), 401, "invalid-token")
	}
	// A retry of its first post gets no replay of the kept answer either.
	wantKind(t, e.do("POST", base+"/updates", k.Secret, []byte("hello"), "Content-Type", "text/plain", "Idempotency-Key", "k1"), 401, "invalid-token")
	us, err := owner.ListUpdates(context.Background(), ch.ID, client.ListOptions{})
	if err != nil || len(us) != 1 || us[0].Text != "hello" {
		t.Fatalf("after revocation: %d updates, %v", len(us), err)
	}
}
