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
// A key that a keyed post holds (see keyedRetry) is refused as used: only
// a post's own route may replay it, and it never claims in two steps.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, principal, key string, fingerprint []byte) (*herald.IdempotentResponse, error) {
	var out *herald.IdempotentResponse
	err := db.write(ctx, func(tx *Tx) error {
		found, err := lookupIdempotency(ctx, tx, principal, key, db.keyedPostID(principal, key), fingerprint)
		switch {
		case err != nil:
			return err
		case found.post:
			return herald.ErrIdempotencyKeyReused
		case !found.claim:
			out = found.prior
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO idempotency_keys (principal, key, fingerprint, created_at) VALUES (?, ?, ?, ?)`,
			principal, key, fingerprint, nanos(tx.now))
		return err
	})
	return out, err
}

// An Idempotency-Key is kept in one of two places (migrations/0012): a
// keyed post is its own record (its update's id is derived from the key,
// its row holds the request's fingerprint); anything else is a row of
// idempotency_keys, with its answer.

// keyedPostID is the id of the update a keyed post of (principal, key)
// creates, unless an older post of the key still holds it.
func (db *DB) keyedPostID(principal, key string) string {
	return db.keyedPostIDs.ID("update", principal, key)
}

// keyFound is what lookupIdempotency found of a key.
type keyFound struct {
	claim bool // the request may run: no key, an expired one, or a claim whose node died
	// prior is the first answer to replay (not claim, not post).
	prior *herald.IdempotentResponse
	// post: the key's first request was a keyed post, to replay from
	// the update of keyedPostID (not claim).
	post bool
	// idTaken: keyedPostID names an older post, or a deleted one (claim):
	// a new keyed post needs another id.
	idTaken bool
}

// lookupIdempotency reads (principal, key) in both places, the update's
// through derivedID (keyedPostID's), in one statement. It returns the
// reused and in-flight errors.
func lookupIdempotency(ctx context.Context, tx *Tx, principal, key, derivedID string, fingerprint []byte) (keyFound, error) {
	rows, err := tx.QueryContext(ctx, `SELECT 0, fingerprint, created_at, status, headers, body FROM idempotency_keys
			WHERE principal = ?2 AND key = ?3
		UNION ALL
		SELECT 1, idempotency_fingerprint, created_at, 0, NULL, NULL FROM updates WHERE id = ?1
		UNION ALL
		SELECT 2, NULL, 0, NULL, NULL, NULL FROM keyed_post_tombstones WHERE id = ?1`,
		derivedID, principal, key)
	if err != nil {
		return keyFound{}, err
	}
	defer rows.Close()
	found := keyFound{claim: true}
	for rows.Next() {
		var where int // 0: idempotency_keys, 1: a keyed post, 2: a deleted one
		var fp []byte
		var created int64
		var status sql.NullInt64
		var headers sql.NullString
		var body []byte
		if err := rows.Scan(&where, &fp, &created, &status, &headers, &body); err != nil {
			return keyFound{}, err
		}
		if where == 2 {
			found.idTaken = true // its answer went with it: the request runs again
			continue
		}
		isPost := where == 1
		prior, claim, err := decide(tx, fingerprint, fp, created, status, headers, body)
		if err != nil {
			return keyFound{}, err
		}
		if isPost {
			found.idTaken = found.idTaken || claim
		}
		if !claim {
			return keyFound{prior: prior, post: isPost}, nil
		}
	}
	return found, rows.Err()
}

// decide judges a kept key against a request's fingerprint.
func decide(tx *Tx, fingerprint, fp []byte, created int64, status sql.NullInt64, headers sql.NullString, body []byte) (*herald.IdempotentResponse, bool, error) {
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
// carries (if any): the key is looked up first (a retry is replayed and
// writes nothing), and the answer kept after the write, in the same
// transaction. SQLite has one writer: no other claim can slip in between.
func idempotentWrite(ctx context.Context, tx *Tx, write func() error) error {
	w := herald.IdempotentWriteOf(ctx)
	if w == nil {
		return write()
	}
	found, err := lookupIdempotency(ctx, tx, w.Principal, w.Key, tx.db.keyedPostID(w.Principal, w.Key), w.Fingerprint)
	switch {
	case err != nil:
		return err
	case found.post:
		return herald.ErrIdempotencyKeyReused // a post's key, and this is no post
	case !found.claim:
		return &herald.IdempotentReplay{Response: found.prior}
	}
	if err := write(); err != nil {
		return err
	}
	return keepAnswer(ctx, tx, w)
}

// keepAnswer keeps w's answer in idempotency_keys.
func keepAnswer(ctx context.Context, tx *Tx, w *herald.IdempotentWrite) error {
	resp, err := w.Answer()
	if err != nil {
		return err
	}
	headers, err := json.Marshal(resp.Headers)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO idempotency_keys (principal, key, fingerprint, created_at, status, headers, body, channel_id, resource_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, w.Principal, w.Key, w.Fingerprint, nanos(tx.now), resp.Status, string(headers), resp.Body,
		nullString(resp.ChannelID), nullString(resp.ResourceID))
	return err
}

// A keyed post (CreateUpdate under an Idempotency-Key) gets the update id
// derived from (principal, key) and keeps the request's fingerprint on its
// row, so that a retry finds it by the lookup by id any post makes, and
// nothing else is written (migrations/0012). insertUpdate's first
// statement tells whether the key was seen before; only then does
// keyedRetry look it up. A retry is answered with the update as a fresh
// post's answer shows it (its content as it now is, no counts yet).

// keyedRetry decides a keyed post whose key was seen before (or whose
// channel is suspended: seqErr, returned unless the key replays). It
// returns the id to post under, and keepIndexed when the key's older post
// outlived the key: this one gets a random id, and its answer is kept in
// idempotency_keys. A replay is an error (*herald.IdempotentReplay).
func (tx *Tx) keyedRetry(ctx context.Context, w *herald.IdempotentWrite, id string, u *herald.Update, seqErr error) (string, bool, error) {
	found, err := lookupIdempotency(ctx, tx, w.Principal, w.Key, id, w.Fingerprint)
	switch {
	case err != nil:
		return "", false, err
	case found.post:
		return "", false, tx.replayPost(ctx, w, id, u)
	case !found.claim:
		return "", false, &herald.IdempotentReplay{Response: found.prior}
	case errors.Is(seqErr, sql.ErrNoRows):
		return "", false, herald.ErrChannelSuspended
	case seqErr != nil:
		return "", false, seqErr
	case found.idTaken:
		return "", true, nil
	}
	return id, false, nil
}

// replayPost answers a keyed post's retry from its update: the content as
// it now is (an edit shows), with the counts of a fresh post (none).
func (tx *Tx) replayPost(ctx context.Context, w *herald.IdempotentWrite, id string, u *herald.Update) error {
	list, err := readUpdates(ctx, tx, "", `WHERE u.id = ?2`, id)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return errUpdateNotFound // read in this transaction: cannot happen
	}
	*u = *list[0]
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
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM keyed_post_tombstones WHERE created_at <= ?`, nanos(tx.now.Add(-tx.db.cfg.Retention)))
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
// scheduled updates or channels created): their bodies hold the text. (A
// keyed post keeps no answer: see keyedRetry.)
func eraseAnswers(ctx context.Context, tx *Tx, ids []string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE resource_id IN (SELECT value FROM json_each(?1))
		OR channel_id IN (SELECT value FROM json_each(?1))`, jsonList(ids))
	return err
}
