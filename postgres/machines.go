package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// keyAccess is adminAccess for a store call made with an API key: the key
// must exist and belong to the channel.
func keyAccess(ctx context.Context, q querier, keyID, channelID, lock string) (*chanRow, error) {
	var r chanRow
	var keyChannel *string
	err := q.QueryRow(ctx, `SELECT c.pk, c.id, c.listed, c.reactions,
		(SELECT k.channel_id FROM channel_keys k WHERE k.id = $1)
		FROM channels c WHERE c.id = $2`+lock, keyID, channelID).
		Scan(&r.pk, &r.ch.ID, &r.ch.Listed, &r.ch.Reactions, &keyChannel)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil {
		return nil, err
	}
	if keyChannel == nil {
		// Revoked: the HTTP layer's cached lookup of its secret ends here,
		// in the transaction, on every node.
		return nil, errBadKey
	}
	if *keyChannel == r.ch.ID {
		r.rel.Role = herald.RoleAdmin
	}
	if !r.rel.CanSee(r.ch.Listed) {
		return nil, errChannelNotFound
	}
	return &r, r.rel.Admin(keyID)
}

// accountAdminAccess is adminAccess refusing API keys: for what only
// people may do (managing keys).
func (t *tx) accountAdminAccess(ctx context.Context, actorID, channelID, lock string) (*chanRow, error) {
	if _, isKey := herald.KeyOfActor(actorID); isKey {
		return nil, errNotAdmin
	}
	return t.adminAccess(ctx, actorID, channelID, lock)
}

// CreateChannelKey stores a new API key (admins only).
func (db *DB) CreateChannelKey(ctx context.Context, actorID, channelID string, k *herald.ChannelKey, secretHash []byte) error {
	if err := k.Normalize(); err != nil {
		return err
	}
	return db.inTx(ctx, func(t *tx) error {
		// An update lock on the channel serializes key creation, so the
		// count below holds until commit.
		r, err := t.accountAdminAccess(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM channel_keys WHERE channel_id = $1`, r.ch.ID).Scan(&n); err != nil {
			return err
		}
		if n >= herald.MaxKeysPerChannel {
			return herald.KindErrorf(herald.ECONFLICT, "too-many-keys", "A channel has at most %d API keys: revoke one first.", herald.MaxKeysPerChannel)
		}
		id := herald.NewID()
		if _, err := t.Exec(ctx, `INSERT INTO channel_keys (id, channel_id, name, scopes, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, r.ch.ID, k.Name, k.Scopes, secretHash, t.now); err != nil {
			return err
		}
		k.ID, k.ChannelID, k.CreatedAt, k.LastUsed = id, r.ch.ID, t.now, nil
		return nil
	})
}

const keySelect = `SELECT id, channel_id, name, scopes, created_at, to_char(last_used, 'YYYY-MM-DD') FROM channel_keys `

func scanKey(row pgx.Row) (*herald.ChannelKey, error) {
	var k herald.ChannelKey
	if err := row.Scan(&k.ID, &k.ChannelID, &k.Name, &k.Scopes, &k.CreatedAt, &k.LastUsed); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// ListChannelKeys returns the channel's keys to its admins.
func (db *DB) ListChannelKeys(ctx context.Context, actorID, channelID string) ([]*herald.ChannelKey, error) {
	if _, isKey := herald.KeyOfActor(actorID); isKey || actorID == "" {
		return nil, errNotAdmin
	}
	out := []*herald.ChannelKey{}
	err := db.read(ctx, func(t *tx) error {
		r, err := loadAccess(ctx, t, actorID, channelID, lockNone)
		if err != nil {
			return err
		}
		if err := r.rel.Admin(actorID); err != nil {
			return err
		}
		rows, err := t.Query(ctx, keySelect+`WHERE channel_id = $1 ORDER BY created_at, id`, r.ch.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	return out, err
}

var errKeyNotFound = herald.KindErrorf(herald.ENOTFOUND, "key-not-found", "No such API key.")

// DeleteChannelKey revokes a key (admins only).
func (db *DB) DeleteChannelKey(ctx context.Context, actorID, channelID, keyID string) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.accountAdminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		tag, err := t.Exec(ctx, `DELETE FROM channel_keys WHERE id = $1 AND channel_id = $2`, keyID, r.ch.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errKeyNotFound
		}
		return nil
	})
}

var errBadKey = herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "The API key is invalid or revoked.")

// FindChannelKey returns the key of a secret's hash and records today's use.
func (db *DB) FindChannelKey(ctx context.Context, secretHash []byte) (*herald.ChannelKey, error) {
	now := db.now()
	k, err := scanKey(db.pool.QueryRow(ctx, keySelect+`WHERE secret_hash = $1`, secretHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errBadKey
	} else if err != nil {
		return nil, mapError(err)
	}
	today := herald.KeyDay(now)
	if k.LastUsed == nil || *k.LastUsed != today {
		// Once a day per key: the only write authentication costs.
		if _, err := db.pool.Exec(ctx, `UPDATE channel_keys SET last_used = $1::date WHERE id = $2`, today, k.ID); err != nil {
			return nil, mapError(err)
		}
		k.LastUsed = &today
	}
	return k, nil
}

// ClaimIdempotencyKey claims (principal, key) or returns its first answer.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, principal, key string, fingerprint []byte) (*herald.IdempotentResponse, error) {
	var out *herald.IdempotentResponse
	err := db.inTx(ctx, func(t *tx) error {
		var err error
		out, err = t.claimIdempotency(ctx, principal, key, fingerprint)
		return err
	})
	return out, err
}

// claimIdempotency claims (principal, key) in t, or returns its first
// answer, or the reused/in-flight errors.
func (t *tx) claimIdempotency(ctx context.Context, principal, key string, fingerprint []byte) (*herald.IdempotentResponse, error) {
	// Insert, or take over an expired key or a same-request claim whose
	// node died; a concurrent claim waits here for the first to commit.
	var claimed bool
	err := t.QueryRow(ctx, `INSERT INTO idempotency_keys AS i (principal, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (principal, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at,
			status = NULL, headers = NULL, body = NULL
		WHERE i.created_at <= $5 OR (i.status IS NULL AND i.created_at <= $6 AND i.fingerprint = EXCLUDED.fingerprint)
		RETURNING true`, principal, key, fingerprint, t.now, t.now.Add(-herald.IdempotencyTTL), t.now.Add(-herald.IdempotencyLease)).Scan(&claimed)
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	var fp, body []byte
	var status *int
	var headers map[string]string
	var resource *string
	err = t.QueryRow(ctx, `SELECT fingerprint, status, headers, body, resource_id FROM idempotency_keys WHERE principal = $1 AND key = $2`,
		principal, key).Scan(&fp, &status, &headers, &body, &resource)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, herald.ErrIdempotencyInFlight // released meanwhile: the client retries
	} else if err != nil {
		return nil, err
	}
	switch {
	case !bytes.Equal(fp, fingerprint):
		return nil, herald.ErrIdempotencyKeyReused
	case status == nil:
		return nil, herald.ErrIdempotencyInFlight
	}
	out := &herald.IdempotentResponse{Status: *status, Headers: headers, Body: body}
	if resource != nil {
		out.ResourceID = *resource
	}
	return out, nil
}

// idempotentWrite runs write in t under the herald.IdempotentWrite ctx
// carries (if any): claimed before (a concurrent duplicate on another node
// waits on the row, then finds the answer), answered after, all in the
// write's transaction. A replay of a post (replayed not nil) is rendered
// from the update it created, as SQLite renders it.
func (t *tx) idempotentWrite(ctx context.Context, write func() error, replayed *herald.Update) error {
	w := herald.IdempotentWriteOf(ctx)
	if w == nil {
		return write()
	}
	prior, err := t.claimIdempotency(ctx, w.Principal, w.Key, w.Fingerprint)
	if err != nil {
		return err
	}
	if prior != nil {
		if replayed != nil && prior.ResourceID != "" {
			return t.replayPost(ctx, w, prior, replayed)
		}
		return &herald.IdempotentReplay{Response: prior}
	}
	if err := write(); err != nil {
		return err
	}
	resp, err := w.Answer()
	if err != nil {
		return err
	}
	headers, err := json.Marshal(resp.Headers)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `UPDATE idempotency_keys SET status = $1, headers = $2, body = $3, channel_id = $4, resource_id = $5
		WHERE principal = $6 AND key = $7`,
		resp.Status, headers, resp.Body, nullIfEmpty(resp.ChannelID), nullIfEmpty(resp.ResourceID), w.Principal, w.Key)
	return err
}

// replayPost answers a keyed post's retry with the update as it now is
// (an edit shows), in the form of a fresh post's answer; with the kept
// answer if the update is gone.
func (t *tx) replayPost(ctx context.Context, w *herald.IdempotentWrite, prior *herald.IdempotentResponse, u *herald.Update) error {
	cur, err := t.db.signed(scanUpdate(t.QueryRow(ctx, `SELECT `+updateCols+` FROM `+updateFrom+` WHERE u.id = $2`, "", prior.ResourceID)))
	if errors.Is(err, pgx.ErrNoRows) {
		return &herald.IdempotentReplay{Response: prior}
	} else if err != nil {
		return err
	}
	*u = *cur
	u.AsFreshPost()
	resp, err := w.Answer()
	if err != nil {
		return err
	}
	return &herald.IdempotentReplay{Response: resp}
}

// CompleteIdempotencyKey stores a claimed key's answer.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, principal, key string, resp *herald.IdempotentResponse) error {
	headers, err := json.Marshal(resp.Headers)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $1, headers = $2, body = $3, channel_id = $4, resource_id = $5
		WHERE principal = $6 AND key = $7`,
		resp.Status, headers, resp.Body, nullIfEmpty(resp.ChannelID), nullIfEmpty(resp.ResourceID), principal, key)
	return mapError(err)
}

// ReleaseIdempotencyKey forgets a claimed key that got no answer to keep.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL`, principal, key)
	return mapError(err)
}

// PruneIdempotencyKeys erases answers older than herald.IdempotencyTTL.
func (db *DB) PruneIdempotencyKeys(ctx context.Context) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at <= $1`, db.now().Add(-herald.IdempotencyTTL))
	if err != nil {
		return 0, mapError(err)
	}
	return int(tag.RowsAffected()), nil
}

// ChannelIDByHandle returns the id of the channel with a handle.
func (db *DB) ChannelIDByHandle(ctx context.Context, handle string) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT id FROM channels WHERE handle = $1`, handle).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errChannelNotFound
	}
	return id, mapError(err)
}

// eraseAnswers erases the kept Idempotency-Key answers about ids (updates,
// scheduled updates or channels created): their bodies hold the text.
func (t *tx) eraseAnswers(ctx context.Context, ids []string) error {
	_, err := t.Exec(ctx, `DELETE FROM idempotency_keys WHERE resource_id = ANY($1) OR channel_id = ANY($1)`, ids)
	return err
}
