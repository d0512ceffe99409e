package postgres

import (
	"context"
	"crypto/rand"

	"github.com/heraldhq/herald"
)

const settingMediaURLKey = "media_url_key"

// loadMediaURLKey reads the key signing unlisted channels' media URLs,
// making it on the first open; nodes opening together agree on the first
// one stored.
func (db *DB) loadMediaURLKey(ctx context.Context) error {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		settingMediaURLKey, fresh); err != nil {
		return err
	}
	return db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, settingMediaURLKey).Scan(&db.mediaKey)
}

// MediaURLKey returns the key signing unlisted channels' media URLs.
func (db *DB) MediaURLKey(context.Context) ([]byte, error) { return db.mediaKey, nil }

// signed signs the media URLs of an unlisted channel's update (a scanUpdate result).
func (db *DB) signed(u *herald.Update, err error) (*herald.Update, error) {
	if u != nil {
		db.signUpdateMedia(u)
	}
	return u, err
}

// signUpdateMedia signs an unlisted channel's media URLs in an update: its
// attachments and its link preview's image.
func (db *DB) signUpdateMedia(u *herald.Update) {
	db.signMedia(u.Media)
	if p := u.LinkPreview; p != nil && p.Image != nil && p.Image.Unlisted {
		p.Image.SignURLs(db.mediaKey, db.clock.Now())
	}
}

// signAvatar signs an unlisted channel's avatar URL.
func (db *DB) signAvatar(ch *herald.Channel) { ch.SignAvatarURL(db.mediaKey, db.clock.Now()) }

// signAvatarIn signs an unlisted channel's avatar URL read through q when
// q is a transaction (pool reads sign at their call site).
func signAvatarIn(q querier, ch *herald.Channel) {
	if t, ok := q.(*tx); ok {
		t.db.signAvatar(ch)
	}
}

// signMedia signs the URLs of unlisted channels' media.
func (db *DB) signMedia(list []herald.Media) {
	now := db.clock.Now()
	for i := range list {
		if list[i].Unlisted {
			list[i].SignURLs(db.mediaKey, now)
		}
	}
}
