package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/internal/outbound"
)

func TestWebhookAPI(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "News")
	base := "/api/v1/channels/" + ch.ID + "/webhooks"
	body := func(url string, events ...string) []byte {
		b, _ := json.Marshal(map[string]any{"url": url, "events": events})
		return b
	}

	r := e.do("POST", base, owner.Token(), body("https://cms.example.org/hook", "update.created", "update.deleted"))
	if r.status != http.StatusCreated || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct {
		herald.Webhook
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || !strings.HasPrefix(created.Secret, "whsec_") || !created.Enabled {
		t.Fatalf("created %s (%v)", r.body, err)
	}

	// Refused URLs: a stable problem type, nothing stored.
	for _, url := range []string{"http://cms.example.org/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook",
		"https://[::1]/hook", "https://169.254.169.254/latest", "https://localhost/hook", "https://user:pw@cms.example.org/",
		"/relative", "https://cms.example.org/" + strings.Repeat("a", 2100)} {
		wantKind(t, e.do("POST", base, owner.Token(), body(url, "update.created")), http.StatusBadRequest, "webhook-url-refused")
	}
	wantKind(t, e.do("POST", base, owner.Token(), body("https://cms.example.org/", "channel.followed")), http.StatusBadRequest, "invalid-webhook-events")
	wantKind(t, e.do("POST", base, owner.Token(), []byte(`{"url":"https://cms.example.org/","events":["update.created"],"secret":"mine"}`)),
		http.StatusBadRequest, "unknown-field")

	// Keys and followers never manage webhooks.
	key := e.createKey(owner, ch.ID, herald.Scopes...)
	wantKind(t, e.do("POST", base, key.Secret, body("https://cms.example.org/k", "update.created")), http.StatusForbidden, "key-not-allowed")
	wantKind(t, e.do("GET", base, key.Secret, nil), http.StatusForbidden, "key-not-allowed")
	wantKind(t, e.do("DELETE", base+"/"+created.ID, key.Secret, nil), http.StatusForbidden, "key-not-allowed")
	follower := e.signup("follower")
	if _, err := follower.Follow(t.Context(), ch.ID); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.do("GET", base, follower.Token(), nil), http.StatusForbidden, "not-admin")
	wantKind(t, e.do("POST", base, follower.Token(), body("https://cms.example.org/f", "update.created")), http.StatusForbidden, "not-admin")

	// The list never shows a secret.
	r = e.do("GET", base, owner.Token(), nil)
	if r.status != http.StatusOK || strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), created.Secret[6:]) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var list struct {
		Webhooks []herald.Webhook `json:"webhooks"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Webhooks) != 1 {
		t.Fatalf("list %s", r.body)
	}

	r = e.do("PATCH", base+"/"+created.ID, owner.Token(), []byte(`{"events":["channel.updated"],"enabled":false}`))
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"enabled":false`) || !strings.Contains(string(r.body), `"events":["channel.updated"]`) {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	r = e.do("POST", base+"/"+created.ID+"/rotate", owner.Token(), nil)
	var rotated struct {
		Secret string `json:"secret"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &rotated) != nil || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == created.Secret {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	r = e.do("GET", base+"/"+created.ID+"/deliveries", owner.Token(), nil)
	if r.status != http.StatusOK || string(r.body) != `{"deliveries":[]}`+"\n" && string(r.body) != `{"deliveries":[]}` {
		t.Fatalf("deliveries: %d %q", r.status, r.body)
	}
	wantKind(t, e.do("GET", base+"/nope/deliveries", owner.Token(), nil), http.StatusNotFound, "webhook-not-found")

	// At most MaxWebhooksPerChannel.
	for i := 1; i < herald.MaxWebhooksPerChannel; i++ {
		if r := e.do("POST", base, owner.Token(), body("https://cms.example.org/more", "update.created")); r.status != http.StatusCreated {
			t.Fatalf("create %d: %d %s", i, r.status, r.body)
		}
	}
	wantKind(t, e.do("POST", base, owner.Token(), body("https://cms.example.org/more", "update.created")), http.StatusConflict, "too-many-webhooks")

	r = e.do("DELETE", base+"/"+created.ID, owner.Token(), nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantKind(t, e.do("DELETE", base+"/"+created.ID, owner.Token(), nil), http.StatusNotFound, "webhook-not-found")
}

func TestWebhookAllowedHost(t *testing.T) {
	e := newEnv(t, func(c *hhttp.Config) { c.Webhooks = outbound.Policy{AllowedHosts: []string{"127.0.0.1"}} })
	owner := e.signup("owner")
	ch := e.channel(owner, "News")
	b, _ := json.Marshal(map[string]any{"url": "https://127.0.0.1:8443/hook", "events": []string{"update.created"}})
	if r := e.do("POST", "/api/v1/channels/"+ch.ID+"/webhooks", owner.Token(), b); r.status != http.StatusCreated {
		t.Fatalf("an allowed loopback host: %d %s", r.status, r.body)
	}
	b, _ = json.Marshal(map[string]any{"url": "https://127.0.0.2/hook", "events": []string{"update.created"}})
	wantKind(t, e.do("POST", "/api/v1/channels/"+ch.ID+"/webhooks", owner.Token(), b), http.StatusBadRequest, "webhook-url-refused")
}
