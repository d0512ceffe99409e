package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// keyAccess is adminAccess for a store call made with an API key: the key
// must exist and belong to the channel.
func keyAccess(ctx context.Context, q queryer, keyID, channelID string) (*chanRow, error) {
	var r chanRow
	var listed int64
	var keyChannel sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT c.pk, c.id, c.listed, c.reactions, k.channel_pk FROM channels c
		LEFT JOIN channel_keys k ON k.id = ?1 WHERE c.id = ?2`, keyID, channelID).
		Scan(&r.pk, &r.ch.ID, &listed, &r.ch.Reactions, &keyChannel)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil {
		return nil, err
	}
	if !keyChannel.Valid {
		// Revoked: the HTTP layer's cached lookup of its secret ends here,
		// in the transaction, on every node.
		return nil, errBadKey
	}
	r.ch.Listed = listed != 0
	if keyChannel.Int64 == r.pk {
		r.rel.Role = herald.RoleAdmin
	}
	if !r.rel.CanSee(r.ch.Listed) {
		return nil, errChannelNotFound
	}
	return &r, r.rel.Admin(keyID)
}

// accountAdminAccess is adminAccess refusing API keys: for what only
// people may do (managing keys).
func accountAdminAccess(ctx context.Context, tx *Tx, actorID, channelID string) (*chanRow, error) {
	if _, isKey := herald.KeyOfActor(actorID); isKey {
		return nil, errNotAdmin
	}
	return adminAccess(ctx, tx, actorID, channelID)
}

// CreateChannelKey stores a new API key (admins only).
func (db *DB) CreateChannelKey(ctx context.Context, actorID, channelID string, k *herald.ChannelKey, secretHash []byte) error {
	if err := k.Normalize(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		r, err := accountAdminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM channel_keys WHERE channel_pk = ?`, r.pk).Scan(&n); err != nil {
			return err
		}
		if n >= herald.MaxKeysPerChannel {
			return herald.KindErrorf(herald.ECONFLICT, "too-many-keys", "A channel has at most %d API keys: revoke one first.", herald.MaxKeysPerChannel)
		}
		id := herald.NewID()
		if _, err := tx.ExecContext(ctx, `INSERT INTO channel_keys (id, channel_pk, name, scopes, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, r.pk, k.Name, strings.Join(k.Scopes, ","), secretHash, nanos(tx.now)); err != nil {
			return err
		}
		k.ID, k.ChannelID, k.CreatedAt, k.LastUsed = id, r.ch.ID, tx.now, nil
		return nil
	})
}

func scanKey(s scanner) (*herald.ChannelKey, error) {
	var k herald.ChannelKey
	var scopes string
	var created int64
	var last sql.NullString
	if err := s.Scan(&k.ID, &k.ChannelID, &k.Name, &scopes, &created, &last); err != nil {
		return nil, err
	}
	k.Scopes = strings.Split(scopes, ",")
	k.CreatedAt = fromNanos(created)
	if last.Valid {
		k.LastUsed = &last.String
	}
	return &k, nil
}

const keySelect = `SELECT k.id, c.id, k.name, k.scopes, k.created_at, k.last_used FROM channel_keys k JOIN channels c ON c.pk = k.channel_pk `

// ListChannelKeys returns the channel's keys to its admins.
func (db *DB) ListChannelKeys(ctx context.Context, actorID, channelID string) ([]*herald.ChannelKey, error) {
	if _, isKey := herald.KeyOfActor(actorID); isKey || actorID == "" {
		return nil, errNotAdmin
	}
	out := []*herald.ChannelKey{}
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		r, err := loadAccess(ctx, q, actorID, channelID)
		if err != nil {
			return err
		}
		if err := r.rel.Admin(actorID); err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, keySelect+`WHERE k.channel_pk = ? ORDER BY k.created_at, k.id`, r.pk)
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
	return db.write(ctx, func(tx *Tx) error {
		r, err := accountAdminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM channel_keys WHERE id = ? AND channel_pk = ?`, keyID, r.pk)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errKeyNotFound
		}
		return nil
	})
}

var errBadKey = herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "The API key is invalid or revoked.")

// FindChannelKey returns the key of a secret's hash and records today's use.
func (db *DB) FindChannelKey(ctx context.Context, secretHash []byte) (*herald.ChannelKey, error) {
	var k *herald.ChannelKey
	var today string
	err := db.view(ctx, func(q queryer, now time.Time) error {
		var err error
		k, err = scanKey(q.QueryRowContext(ctx, keySelect+`WHERE k.secret_hash = ?`, secretHash))
		if errors.Is(err, sql.ErrNoRows) {
			return errBadKey
		}
		today = herald.KeyDay(now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if k.LastUsed == nil || *k.LastUsed != today {
		// Once a day per key: the only write authentication costs.
		err := db.write(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE channel_keys SET last_used = ? WHERE id = ?`, today, k.ID)
			return err
		})
		if err != nil {
			return nil, err
		}
		k.LastUsed = &today
	}
	return k, nil
}

// ClaimIdempotencyKey claims (principal, key) or returns its first answer.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, principal, key string, fingerprint []byte) (*herald.IdempotentResponse, error) {
	var out *herald.IdempotentResponse
	err := db.write(ctx, func(tx *Tx) error {
		var claim bool
		var err error
		out, claim, err = checkIdempotency(ctx, tx, principal, key, fingerprint)
		if err != nil || !claim {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO idempotency_keys (principal, key, fingerprint, created_at) VALUES (?, ?, ?, ?)`,
			principal, key, fingerprint, nanos(tx.now))
		return err
	})
	return out, err
}

// checkIdempotency reads (principal, key): the first answer to replay, or
// claim true when the caller may run the request (no key, or an expired
// one, or a claim whose node died), or the reused/in-flight errors.
func checkIdempotency(ctx context.Context, tx *Tx, principal, key string, fingerprint []byte) (*herald.IdempotentResponse, bool, error) {
	var fp []byte
	var created int64
	var status sql.NullInt64
	var headers sql.NullString
	var body []byte
	err := tx.QueryRowContext(ctx, `SELECT fingerprint, created_at, status, headers, body FROM idempotency_keys WHERE principal = ? AND key = ?`,
		principal, key).Scan(&fp, &created, &status, &headers, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, true, nil
	} else if err != nil {
		return nil, false, err
	}
	at := fromNanos(created)
	switch {
	case !tx.now.Before(at.Add(herald.IdempotencyTTL)):
		return nil, true, nil // expired: a new request
	case !bytes.Equal(fp, fingerprint):
		return nil, false, herald.ErrIdempotencyKeyReused
	case !status.Valid && tx.now.Before(at.Add(herald.IdempotencyLease)):
		return nil, false, herald.ErrIdempotencyInFlight
	case !status.Valid:
		return nil, true, nil // its first request died with its node
	}
	out := &herald.IdempotentResponse{Status: int(status.Int64), Body: body}
	if headers.Valid {
		if err := json.Unmarshal([]byte(headers.String), &out.Headers); err != nil {
			return nil, false, err
		}
	}
	return out, false, nil
}

// idempotentWrite runs write, in tx, under the herald.IdempotentWrite ctx
// carries (if any): its answer is inserted after the write, in the same
// transaction, so that the request costs one transaction. A key already
// there is rare (a retry): only then is it read, and the write undone (the
// request's savepoint rolls back) unless the key had expired. SQLite has
// one writer: no other claim can slip in between.
func idempotentWrite(ctx context.Context, tx *Tx, write func() error) error {
	w := herald.IdempotentWriteOf(ctx)
	if w == nil {
		return write()
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
	args := []any{w.Principal, w.Key, w.Fingerprint, nanos(tx.now), resp.Status, string(headers), resp.Body,
		nullString(resp.ChannelID), nullString(resp.ResourceID)}
	res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (principal, key, fingerprint, created_at, status, headers, body, channel_id, resource_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (principal, key) DO NOTHING`, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	prior, claim, err := checkIdempotency(ctx, tx, w.Principal, w.Key, w.Fingerprint)
	if err != nil {
		return err
	}
	if !claim {
		return &herald.IdempotentReplay{Response: prior}
	}
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO idempotency_keys (principal, key, fingerprint, created_at, status, headers, body, channel_id, resource_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	return err
}

// CompleteIdempotencyKey stores a claimed key's answer.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, principal, key string, resp *herald.IdempotentResponse) error {
	headers, err := json.Marshal(resp.Headers)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, headers = ?, body = ?, channel_id = ?, resource_id = ?
			WHERE principal = ? AND key = ?`,
			resp.Status, string(headers), resp.Body, nullString(resp.ChannelID), nullString(resp.ResourceID), principal, key)
		return err
	})
}

// ReleaseIdempotencyKey forgets a claimed key that got no answer to keep.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE principal = ? AND key = ? AND status IS NULL`, principal, key)
		return err
	})
}

// PruneIdempotencyKeys erases answers older than herald.IdempotencyTTL.
func (db *DB) PruneIdempotencyKeys(ctx context.Context) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *Tx) error {
		// Rows are in time order (a claim or a replaced key gets a new
		// rowid; migrations/0011): delete up to the first one still kept,
		// which visits only the rows to delete, with no created_at index.
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE rowid < coalesce(
			(SELECT rowid FROM idempotency_keys WHERE created_at > ? ORDER BY rowid LIMIT 1),
			(SELECT coalesce(max(rowid), 0) + 1 FROM idempotency_keys))`, nanos(tx.now.Add(-herald.IdempotencyTTL)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// ChannelIDByHandle returns the id of the channel with a handle.
func (db *DB) ChannelIDByHandle(ctx context.Context, handle string) (string, error) {
	var id string
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		err := q.QueryRowContext(ctx, `SELECT id FROM channels WHERE handle = ?`, handle).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errChannelNotFound
		}
		return err
	})
	return id, err
}

// eraseAnswers erases the kept Idempotency-Key answers about ids (updates,
// scheduled updates or channels created): their bodies hold the text.
func eraseAnswers(ctx context.Context, tx *Tx, ids []string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE resource_id IN (SELECT value FROM json_each(?1))
		OR channel_id IN (SELECT value FROM json_each(?1))`, jsonList(ids))
	return err
}
