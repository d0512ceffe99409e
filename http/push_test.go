package http_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/push"
	"github.com/heraldhq/herald/push/pushtest"
)

// testPush is the Web Push configuration of every test server (newEnv):
// a fresh VAPID key, the default endpoint policy.
var testPush = func() hhttp.PushConfig {
	raw, err := push.GenerateVAPIDKey()
	if err != nil {
		panic(err)
	}
	key, err := push.ParseVAPIDKey(raw)
	if err != nil {
		panic(err)
	}
	return hhttp.PushConfig{PublicKey: key.PublicKey(), ValidateEndpoint: push.Policy{}.ValidateEndpoint}
}()

func pushEnv(t *testing.T) (*env, string) {
	return newEnv(t), testPush.PublicKey
}

func TestPushKeyNeedsNoAccount(t *testing.T) {
	e, pub := pushEnv(t)
	got, err := e.anon.PushKey(ctx)
	if err != nil || got != pub {
		t.Fatalf("PushKey = %q, %v; want %q", got, err, pub)
	}
	off := newEnv(t, func(c *hhttp.Config) { c.Push = hhttp.PushConfig{} })
	r := off.do("GET", "/api/v1/push/key", "", nil)
	if r.status != http.StatusServiceUnavailable || r.problem(t).Type != hhttp.ProblemTypeBase+"push-unavailable" {
		t.Fatalf("push off: %d %s", r.status, r.body)
	}
}

func TestPushSubscriptionLifecycle(t *testing.T) {
	e, _ := pushEnv(t)
	alice, bob := e.signup("alice"), e.signup("bob")
	sub := pushtest.NewSubscriber()
	const endpoint = "https://fcm.googleapis.com/fcm/send/device-1"
	s1, err := alice.Subscribe(ctx, endpoint, sub.P256dh(), sub.Auth)
	if err != nil || s1.ID == "" || s1.Endpoint != endpoint {
		t.Fatalf("Subscribe = %+v, %v", s1, err)
	}
	// The same endpoint again: the same device, 200 not 201.
	body, _ := json.Marshal(map[string]any{"endpoint": endpoint, "expirationTime": nil, "keys": map[string]string{
		"p256dh": base64.URLEncoding.EncodeToString(sub.P256dh()), // padded: accepted too
		"auth":   base64.RawURLEncoding.EncodeToString(sub.Auth),
	}})
	r := e.do("POST", "/api/v1/push/subscriptions", alice.Token(), body)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(s1.ID)) {
		t.Fatalf("re-subscribe: %d %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("p256dh")) || bytes.Contains(r.body, []byte("auth")) {
		t.Fatalf("keys leaked: %s", r.body)
	}
	list, err := alice.PushSubscriptions(ctx)
	if err != nil || len(list) != 1 || list[0].ID != s1.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if l, err := bob.PushSubscriptions(ctx); err != nil || len(l) != 0 {
		t.Fatalf("bob sees %+v, %v", l, err)
	}
	wantProblem(t, bob.Unsubscribe(ctx, s1.ID), 404, "push-subscription-not-found")
	if err := alice.Unsubscribe(ctx, s1.ID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, alice.Unsubscribe(ctx, s1.ID), 404, "push-subscription-not-found")
	if _, err := e.anon.PushSubscriptions(ctx); err == nil {
		t.Fatal("anonymous list allowed")
	}
	_, err = e.anon.Subscribe(ctx, endpoint, sub.P256dh(), sub.Auth)
	wantProblem(t, err, 401, "unauthenticated")
}

func TestPushSubscribeRefusesBadInput(t *testing.T) {
	e, _ := pushEnv(t)
	alice := e.signup("alice")
	sub := pushtest.NewSubscriber()
	p256 := base64.RawURLEncoding.EncodeToString(sub.P256dh())
	auth := base64.RawURLEncoding.EncodeToString(sub.Auth)
	good := "https://updates.push.services.mozilla.com/wpush/v2/abc"
	for _, c := range []struct{ endpoint, p256dh, auth, kind string }{
		{"https://127.0.0.1/push/x", p256, auth, "push-endpoint-refused"},
		{"https://10.0.0.1/push/x", p256, auth, "push-endpoint-refused"},
		{"https://example.org/push/x", p256, auth, "push-endpoint-refused"},
		{"http://fcm.googleapis.com/fcm/send/x", p256, auth, "push-endpoint-invalid"},
		{"", p256, auth, "push-endpoint-invalid"},
		{"https://fcm.googleapis.com/" + strings.Repeat("a", 3000), p256, auth, "push-endpoint-invalid"},
		{good, "not base64!", auth, "push-key-invalid"},
		{good, p256[:20], auth, "push-key-invalid"},
		{good, strings.Repeat("A", 5000), auth, "push-key-invalid"},
		{good, "", auth, "push-key-invalid"},
		{good, p256, "%%%", "push-auth-invalid"},
		{good, p256, auth + "AA", "push-auth-invalid"},
	} {
		body, _ := json.Marshal(map[string]any{"endpoint": c.endpoint, "keys": map[string]string{"p256dh": c.p256dh, "auth": c.auth}})
		r := e.do("POST", "/api/v1/push/subscriptions", alice.Token(), body)
		if r.status != 400 || r.problem(t).Type != herald.ProblemTypeBase+c.kind {
			t.Errorf("%q/%q/%q: %d %s, want 400 %s", c.endpoint, c.p256dh, c.auth, r.status, r.body, c.kind)
		}
	}
	for _, body := range []string{`{"endpoint":"x","keys":null}`, `{"endpoint":1}`, `{"keys":{"p256dh":1}}`, `[]`, `{"endpoint":"` + good + `","keys":{"p256dh":"` + p256 + `","auth":"` + auth + `","x":1}}`} {
		r := e.do("POST", "/api/v1/push/subscriptions", alice.Token(), []byte(body))
		if r.status != 400 {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
		r.problem(t)
	}
}
