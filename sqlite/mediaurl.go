package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"

	"github.com/heraldhq/herald"
)

const settingMediaURLKey = "media_url_key"

// loadMediaURLKey reads the key signing unlisted channels' media URLs,
// making it on the first open.
func (db *DB) loadMediaURLKey(ctx context.Context) error {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return err
	}
	var key []byte
	err := db.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingMediaURLKey).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = db.w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, settingMediaURLKey, fresh)
		if err == nil {
			err = db.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingMediaURLKey).Scan(&key)
		}
	}
	if err != nil {
		return err
	}
	db.mediaKey = key
	return nil
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
