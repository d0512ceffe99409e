package http_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

func TestSigningKeyRoutes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner := e.signup("owner")
	ch := e.channel(owner, "Signed")
	u := e.post(owner, ch.ID, "Signed text")
	keys, err := e.anon.SigningKeys(ctx, ch.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("anonymous keys of a listed channel: %v %v", keys, err)
	}
	// The update as the API serves it verifies, and says which key.
	r := e.do("GET", "/api/v1/channels/"+ch.ID+"/updates/"+u.ID, "", nil)
	var got herald.Update
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.KeyID != keys[0].ID || herald.VerifyUpdate(&got, keys) != herald.SignatureValid {
		t.Fatalf("API update %s does not verify against %v", r.body, keys)
	}

	follower := e.signup("follower")
	if _, err := follower.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/api/v1/channels/"+ch.ID+"/keys/signing/rotate", follower.Token(), nil); r.status != 403 {
		t.Fatalf("rotation by a follower: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/channels/"+ch.ID+"/keys/signing/rotate", "", nil); r.status != 401 {
		t.Fatalf("anonymous rotation: %d", r.status)
	}
	k, err := owner.RotateSigningKey(ctx, ch.ID)
	if err != nil || k.ID == keys[0].ID {
		t.Fatalf("rotate: %v %v", k, err)
	}
	keys, err = e.anon.SigningKeys(ctx, ch.ID)
	if err != nil || len(keys) != 2 || keys[0].ID != k.ID || keys[1].RetiredAt == nil {
		t.Fatalf("keys after rotation: %v %v", keys, err)
	}
	if herald.VerifyUpdate(&got, keys) != herald.SignatureValid {
		t.Fatal("old update no longer verifies after a rotation")
	}

	listed := false
	if _, err := owner.UpdateChannel(ctx, ch.ID, client.ChannelPatch{Listed: &listed}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/api/v1/channels/"+ch.ID+"/keys/signing", "", nil); r.status != 404 {
		t.Fatalf("anonymous keys of an unlisted channel: %d", r.status)
	}
	if _, err := follower.SigningKeys(ctx, ch.ID); err != nil {
		t.Fatalf("follower's keys of an unlisted channel: %v", err)
	}
	if r := e.do("GET", "/api/v1/channels/nosuch/keys/signing", "", nil); r.status != 404 {
		t.Fatalf("unknown channel: %d", r.status)
	}
}
