package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/signing"
	"github.com/jackc/pgx/v5"
)

// newSigningKey inserts a fresh current key for the channel and returns
// its id and seed.
func (t *tx) newSigningKey(ctx context.Context, channelID string) (string, []byte, error) {
	id := herald.NewID()
	pub, seed := herald.NewSigningKeyPair()
	_, err := t.Exec(ctx, `INSERT INTO signing_keys (id, channel_id, public_key, private_key, created_at) VALUES ($1, $2, $3, $4, $5)`,
		id, channelID, pub, seed, t.now)
	return id, seed, err
}

// signUpdate signs u (all its signed fields set) with the channel's
// current key (keyID and seed when the caller read them already, making
// one for a channel older than keys) and stores the signature.
func (t *tx) signUpdate(ctx context.Context, u *herald.Update, keyID string, seed []byte) error {
	if keyID == "" {
		err := t.QueryRow(ctx, `SELECT id, private_key FROM signing_keys WHERE channel_id = $1 AND retired_at IS NULL`, u.ChannelID).Scan(&keyID, &seed)
		if errors.Is(err, pgx.ErrNoRows) {
			keyID, seed, err = t.newSigningKey(ctx, u.ChannelID)
		}
		if err != nil {
			return err
		}
	}
	signing.SignUpdate(u, keyID, seed)
	_, err := t.Exec(ctx, `UPDATE updates SET signature = $2, key_id = $3 WHERE id = $1`, u.ID, u.Signature, u.KeyID)
	return err
}

// SigningKeys returns a channel's published keys (see herald.SigningStore).
func (db *DB) SigningKeys(ctx context.Context, viewerID, channelID string) ([]herald.SigningKey, error) {
	var out []herald.SigningKey
	err := db.read(ctx, func(t *tx) error {
		if _, err := loadAccess(ctx, t, viewerID, channelID, lockNone); err != nil {
			return err
		}
		var err error
		out, err = t.signingKeys(ctx, channelID, t.now.Add(-db.retention))
		return err
	})
	return out, err
}

func (t *tx) signingKeys(ctx context.Context, channelID string, retiredAfter time.Time) ([]herald.SigningKey, error) {
	rows, err := t.Query(ctx, `SELECT id, public_key, created_at, retired_at FROM signing_keys
		WHERE channel_id = $1 AND (retired_at IS NULL OR retired_at > $2)
		ORDER BY retired_at IS NOT NULL, retired_at DESC, created_at DESC`, channelID, retiredAfter)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (herald.SigningKey, error) {
		var k herald.SigningKey
		var pub []byte
		if err := r.Scan(&k.ID, &pub, &k.CreatedAt, &k.RetiredAt); err != nil {
			return k, err
		}
		k.Algorithm, k.PublicKey, k.CreatedAt = herald.SignatureAlgorithm, herald.EncodeKey(pub), k.CreatedAt.UTC()
		if k.RetiredAt != nil {
			r := k.RetiredAt.UTC()
			k.RetiredAt = &r
		}
		return k, nil
	})
	if out == nil {
		out = []herald.SigningKey{}
	}
	return out, err
}

// RotateSigningKey retires the current key and makes a new one (admins).
func (db *DB) RotateSigningKey(ctx context.Context, actorID, channelID string) (*herald.SigningKey, error) {
	var out *herald.SigningKey
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `UPDATE signing_keys SET retired_at = $2 WHERE channel_id = $1 AND retired_at IS NULL`, r.ch.ID, t.now); err != nil {
			return err
		}
		if _, _, err := t.newSigningKey(ctx, r.ch.ID); err != nil {
			return err
		}
		keys, err := t.signingKeys(ctx, r.ch.ID, t.now)
		if err != nil {
			return err
		}
		out = &keys[0]
		return nil
	})
	return out, err
}
