package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/signing"
)

// newSigningKey inserts a fresh current key for the channel and returns
// its id and seed.
func newSigningKey(ctx context.Context, tx *Tx, channelPK int64) (string, []byte, error) {
	id := herald.NewID()
	pub, seed := herald.NewSigningKeyPair()
	_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (id, channel_pk, public_key, private_key, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, channelPK, pub, seed, nanos(tx.now))
	return id, seed, err
}

// currentSigningKey returns the channel's current key, making one for a
// channel older than keys.
func currentSigningKey(ctx context.Context, tx *Tx, channelPK int64) (string, []byte, error) {
	var id string
	var seed []byte
	err := tx.QueryRowContext(ctx, `SELECT id, private_key FROM signing_keys WHERE channel_pk = ? AND retired_at IS NULL`, channelPK).Scan(&id, &seed)
	if errors.Is(err, sql.ErrNoRows) {
		return newSigningKey(ctx, tx, channelPK)
	}
	return id, seed, err
}

// signWith signs u with the channel's current key as already read (id
// and seed; no id: the channel has none yet, and one is made).
func signWith(ctx context.Context, tx *Tx, channelPK int64, u *herald.Update, keyID sql.NullString, seed []byte) error {
	if measureUnsigned {
		return nil
	}
	if !keyID.Valid {
		return signUpdate(ctx, tx, channelPK, u)
	}
	signing.SignUpdate(u, keyID.String, seed)
	return nil
}

// signUpdate signs u (all its signed fields set) with the channel's current key.
func signUpdate(ctx context.Context, tx *Tx, channelPK int64, u *herald.Update) error {
	if measureUnsigned {
		return nil
	}
	id, seed, err := currentSigningKey(ctx, tx, channelPK)
	if err != nil {
		return err
	}
	signing.SignUpdate(u, id, seed)
	return nil
}

// SigningKeys returns a channel's published keys (see herald.SigningStore).
func (db *DB) SigningKeys(ctx context.Context, viewerID, channelID string) ([]herald.SigningKey, error) {
	var out []herald.SigningKey
	err := db.view(ctx, func(q queryer, now time.Time) error {
		r, err := loadAccess(ctx, q, viewerID, channelID)
		if err != nil {
			return err
		}
		out, err = listSigningKeys(ctx, q, r.pk, now.Add(-db.cfg.Retention))
		return err
	})
	return out, err
}

func listSigningKeys(ctx context.Context, q queryer, channelPK int64, retiredAfter time.Time) ([]herald.SigningKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, public_key, created_at, retired_at FROM signing_keys
		WHERE channel_pk = ? AND (retired_at IS NULL OR retired_at > ?)
		ORDER BY retired_at IS NOT NULL, coalesce(retired_at, 0) DESC, pk DESC`, channelPK, nanos(retiredAfter))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.SigningKey{}
	for rows.Next() {
		var k herald.SigningKey
		var pub []byte
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.ID, &pub, &created, &retired); err != nil {
			return nil, err
		}
		k.Algorithm, k.PublicKey, k.CreatedAt, k.RetiredAt = herald.SignatureAlgorithm, herald.EncodeKey(pub), fromNanos(created), nullTime(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RotateSigningKey retires the current key and makes a new one (admins).
func (db *DB) RotateSigningKey(ctx context.Context, actorID, channelID string) (*herald.SigningKey, error) {
	var out *herald.SigningKey
	err := db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ? WHERE channel_pk = ? AND retired_at IS NULL`, nanos(tx.now), r.pk); err != nil {
			return err
		}
		if _, _, err := newSigningKey(ctx, tx, r.pk); err != nil {
			return err
		}
		keys, err := listSigningKeys(ctx, tx, r.pk, tx.now)
		if err != nil {
			return err
		}
		out = &keys[0]
		return nil
	})
	return out, err
}

// pruneSigningKeys erases keys retired for longer than the retention: no
// update they signed is left.
func pruneSigningKeys(ctx context.Context, tx *Tx, cutoff time.Time) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE retired_at <= ?`, nanos(cutoff))
	return err
}
