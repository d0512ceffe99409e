package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sqlite"
)

// keyedPost posts text under an Idempotency-Key, keeping u's JSON as the
// answer, as the HTTP layer does.
func keyedPost(db *sqlite.DB, f fixture, key, text string) (*herald.Update, error) {
	u := &herald.Update{Text: text}
	iw := &herald.IdempotentWrite{Principal: f.owner.ID, Key: key, Fingerprint: []byte("fp:" + text),
		Answer: func() (*herald.IdempotentResponse, error) {
			b, err := json.Marshal(u)
			return &herald.IdempotentResponse{Status: 201, Body: b, ChannelID: f.ch.ID, ResourceID: u.ID}, err
		}}
	return u, db.CreateUpdate(herald.WithIdempotentWrite(context.Background(), iw), f.owner.ID, f.ch.ID, u)
}

func replayed(t *testing.T, err error) *herald.Update {
	t.Helper()
	var r *herald.IdempotentReplay
	if !errors.As(err, &r) {
		t.Fatalf("retry = %v, want a replay", err)
	}
	var u herald.Update
	must(t, json.Unmarshal(r.Response.Body, &u))
	return &u
}

// A keyed post is its own record (migrations/0012): its retry is found
// after a restart, and answers with the update as it now is after an edit
// (the text before the edit is kept nowhere).
func TestKeyedPostReplay(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := sqlite.Open(ctx, path, herald.StoreConfig{})
	must(t, err)
	f := newFixture(t, db)
	first, err := keyedPost(db, f, "cron-18h", "Orages ce soir")
	must(t, err)
	must(t, db.Close())

	db = openAt(t, path, herald.StoreConfig{})
	_, err = keyedPost(db, f, "cron-18h", "Orages ce soir")
	if got := replayed(t, err); got.ID != first.ID || got.Text != "Orages ce soir" || got.Seq != first.Seq {
		t.Fatalf("retry after a restart = %+v, want update %s", got, first.ID)
	}
	_, err = db.EditUpdate(ctx, f.owner.ID, f.ch.ID, first.ID, "Orages ce soir, grêle possible")
	must(t, err)
	_, err = keyedPost(db, f, "cron-18h", "Orages ce soir")
	if got := replayed(t, err); got.ID != first.ID || got.Text != "Orages ce soir, grêle possible" || got.EditedAt == nil {
		t.Fatalf("retry after an edit = %+v", got)
	}
	us, err := db.ListUpdates(ctx, f.owner.ID, f.ch.ID, 0, 10)
	must(t, err)
	if len(us) != 1 {
		t.Fatalf("%d updates after the retries, want 1", len(us))
	}
}
