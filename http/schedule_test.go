package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A publish_at that is not an RFC 3339 time, in the past or more than a
// year ahead is a problem naming the field, on posting and on editing.
func TestPublishAtProblems(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "A")
	path := "/api/v1/channels/" + ch.ID + "/updates"
	post := func(publishAt any) response {
		body, _ := json.Marshal(map[string]any{"text": "later", "publish_at": publishAt})
		return e.do("POST", path, owner.Token(), body)
	}
	// The env's clock is 2026-03-01T12:00:00Z.
	for _, bad := range []string{"tomorrow", "2026-03-02", "2026-03-02 18:00:00", "2026-03-02T18:00:00", ""} {
		r := post(bad)
		wantKind(t, r, http.StatusBadRequest, "invalid-publish-at")
		if p := r.problem(t); !strings.Contains(p.Detail, "publish_at") || !strings.Contains(p.Detail, "RFC 3339") {
			t.Fatalf("publish_at %q: detail %q", bad, p.Detail)
		}
	}
	r := post(1772400000)
	wantKind(t, r, http.StatusBadRequest, "wrong-type")
	if p := r.problem(t); !strings.Contains(p.Detail, "publish_at") {
		t.Fatalf("numeric publish_at: detail %q", p.Detail)
	}
	r = post("2026-03-01T11:59:00Z")
	wantKind(t, r, http.StatusBadRequest, "invalid-publish-at")
	if p := r.problem(t); !strings.Contains(p.Detail, "future") {
		t.Fatalf("past publish_at: detail %q", p.Detail)
	}
	r = post("2027-03-03T12:00:00Z")
	wantKind(t, r, http.StatusBadRequest, "invalid-publish-at")
	if p := r.problem(t); !strings.Contains(p.Detail, "year") {
		t.Fatalf("distant publish_at: detail %q", p.Detail)
	}
	// A good one, with an offset, schedules; editing takes the same rules.
	r = post("2026-03-01T18:00:00+01:00")
	if r.status != http.StatusAccepted {
		t.Fatalf("schedule: %d %s", r.status, r.body)
	}
	var s struct {
		ID        string `json:"id"`
		PublishAt string `json:"publish_at"`
	}
	if err := json.Unmarshal(r.body, &s); err != nil || s.PublishAt != "2026-03-01T17:00:00Z" {
		t.Fatalf("scheduled %s (%v)", r.body, err)
	}
	edit := "/api/v1/channels/" + ch.ID + "/scheduled/" + s.ID
	wantKind(t, e.do("PATCH", edit, owner.Token(), []byte(`{"publish_at":"at six"}`)), http.StatusBadRequest, "invalid-publish-at")
	wantKind(t, e.do("PATCH", edit, owner.Token(), []byte(`{"publish_at":"2020-01-01T00:00:00Z"}`)), http.StatusBadRequest, "invalid-publish-at")
	if r := e.do("PATCH", edit, owner.Token(), []byte(`{"publish_at":"2026-03-01T19:30:00Z","text":"later still"}`)); r.status != http.StatusOK ||
		!strings.Contains(string(r.body), `"publish_at":"2026-03-01T19:30:00Z"`) || !strings.Contains(string(r.body), "later still") {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
}
