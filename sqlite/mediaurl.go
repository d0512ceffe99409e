package sqlite

import (
	"context"
	"crypto/rand"

	"github.com/heraldhq/herald"
)

const (
	settingMediaURLKey    = "media_url_key"
	settingKeyedPostIDKey = "keyed_post_id_key"
)

// loadSecrets reads the store's own keys, making each on the first open:
// the one signing unlisted channels' media URLs, and the one deriving a
// keyed post's update id (herald.IDDeriver).
func (db *DB) loadSecrets(ctx context.Context) error {
	var err error
	if db.mediaKey, err = db.loadSecret(ctx, settingMediaURLKey); err != nil {
		return err
	}
	key, err := db.loadSecret(ctx, settingKeyedPostIDKey)
	db.keyedPostIDs = herald.NewIDDeriver(key)
	return err
}

func (db *DB) loadSecret(ctx context.Context, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return nil, err
	}
	var key []byte
	err := db.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&key)
	return key, err
}

// MediaURLKey returns the key signing unlisted channels' media URLs.
func (db *DB) MediaURLKey(context.Context) ([]byte, error) { return db.mediaKey, nil }

// dbOf is the store a query runs on (nil if unknown).
func dbOf(q queryer) *DB {
	switch q := q.(type) {
	case *Tx:
		return q.db
	case *cachedTx:
		return q.db
	case pooled:
		return q.db
	}
	return nil
}

// signAvatar signs an unlisted channel's avatar URL.
func signAvatar(q queryer, ch *herald.Channel) {
	if db := dbOf(q); db != nil {
		ch.SignAvatarURL(db.mediaKey, db.cfg.Clock.Now())
	}
}

// signMedia signs the URLs of unlisted channels' media.
func signMedia(q queryer, list []herald.Media) {
	db := dbOf(q)
	if db == nil {
		return
	}
	now := db.cfg.Clock.Now()
	for i := range list {
		if list[i].Unlisted {
			list[i].SignURLs(db.mediaKey, now)
		}
	}
}
