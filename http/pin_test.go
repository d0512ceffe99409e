package http_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/heraldhq/herald"
)

func TestPinRoutes(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "pins", true)
	var us []*herald.Update
	for _, text := range []string{"Oldest news", "Second", "Third", "Fourth", "Newest news"} {
		us = append(us, e.post(owner, ch.ID, text))
	}
	follower := e.signup("follower")
	if r := e.do("PUT", "/api/v1/channels/"+ch.ID+"/updates/"+us[0].ID+"/pin", follower.Token(), nil); r.status != 403 {
		t.Fatalf("pin by a non-admin: %d", r.status)
	}
	if r := e.do("PUT", "/api/v1/channels/"+ch.ID+"/updates/"+us[0].ID+"/pin", "", nil); r.status != 401 {
		t.Fatalf("anonymous pin: %d", r.status)
	}
	// Before pinning, the page is newest first; the public page is cached now.
	if r := e.do("GET", "/@pins", "", nil); bytes.Index(r.body, []byte("Oldest news")) < bytes.Index(r.body, []byte("Newest news")) {
		t.Fatal("page not newest first")
	}
	for i := range 3 {
		r := e.do("PUT", "/api/v1/channels/"+ch.ID+"/updates/"+us[i].ID+"/pin", owner.Token(), nil)
		var u herald.Update
		if r.status != 200 || json.Unmarshal(r.body, &u) != nil || !u.Pinned {
			t.Fatalf("pin %d: %d %s", i, r.status, r.body)
		}
	}
	r := e.do("PUT", "/api/v1/channels/"+ch.ID+"/updates/"+us[3].ID+"/pin", owner.Token(), nil)
	if r.status != 409 || r.problem(t).Type != hhttpProblem("too-many-pinned") {
		t.Fatalf("fourth pin: %d %s", r.status, r.body)
	}
	// The API says pinned, and lists them.
	r = e.do("GET", "/api/v1/channels/"+ch.ID+"/pinned", "", nil)
	var pinned struct{ Updates []herald.Update }
	if r.status != 200 || json.Unmarshal(r.body, &pinned) != nil || len(pinned.Updates) != 3 || pinned.Updates[0].ID != us[2].ID {
		t.Fatalf("GET pinned: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/api/v1/channels/"+ch.ID+"/updates/"+us[0].ID, "", nil)
	if !bytes.Contains(r.body, []byte(`"pinned":true`)) {
		t.Fatalf("update not pinned in the API: %s", r.body)
	}
	// The public page shows them first (its cache was invalidated by the pins).
	r = e.do("GET", "/@pins", "", nil)
	if i := bytes.Index(r.body, []byte("Oldest news")); i < 0 || i > bytes.Index(r.body, []byte("Newest news")) || !bytes.Contains(r.body, []byte("Pinned")) {
		t.Fatalf("pinned update not first on the page:\n%s", r.body)
	}
	if r := e.do("DELETE", "/api/v1/channels/"+ch.ID+"/updates/"+us[0].ID+"/pin", owner.Token(), nil); r.status != 200 || bytes.Contains(r.body, []byte(`"pinned":true`)) {
		t.Fatalf("unpin: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/api/v1/channels/"+ch.ID+"/updates/"+us[3].ID+"/pin", owner.Token(), nil); r.status != 200 {
		t.Fatalf("pin after an unpin: %d", r.status)
	}
}

func hhttpProblem(kind string) string { return herald.ProblemTypeBase + kind }
