package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
)

const settingVAPIDKey = "vapid_private_key"

// PushVAPIDKey returns the stored VAPID key, generating and storing it on
// the first call. generate runs outside the write transaction; if another
// caller stored a key meanwhile, that key wins and the generated one is dropped.
func (db *DB) PushVAPIDKey(ctx context.Context, generate func() ([]byte, error)) ([]byte, error) {
	var key []byte
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		return q.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingVAPIDKey).Scan(&key)
	})
	if err == nil {
		return key, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	fresh, err := generate()
	if err != nil {
		return nil, err
	}
	if len(fresh) == 0 {
		return nil, errors.New("sqlite: PushVAPIDKey: generate returned an empty key")
	}
	err = db.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, settingVAPIDKey, fresh); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingVAPIDKey).Scan(&key)
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

// SavePushSubscription stores or updates the subscription of an endpoint.
func (db *DB) SavePushSubscription(ctx context.Context, accountID string, s herald.PushSubscription) (herald.PushSubscription, bool, error) {
	if accountID == "" {
		return herald.PushSubscription{}, false, errNoActor
	}
	if err := herald.ValidatePushSubscription(s); err != nil {
		return herald.PushSubscription{}, false, err
	}
	var out herald.PushSubscription
	var created bool
	err := db.write(ctx, func(tx *Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE id = ?`, accountID).Scan(&exists); err != nil {
			return err
		} else if exists == 0 {
			return errAccountNotFound
		}
		var id, owner string
		var createdAt int64
		err := tx.QueryRowContext(ctx, `SELECT id, account_id, created_at FROM push_subscriptions WHERE endpoint = ?`, s.Endpoint).Scan(&id, &owner, &createdAt)
		switch {
		case err == nil && owner == accountID:
			if _, err := tx.ExecContext(ctx, `UPDATE push_subscriptions SET p256dh = ?, auth = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
				s.P256DH, s.Auth, nanos(tx.now), accountID, id); err != nil {
				return err
			}
			out = herald.PushSubscription{ID: id, AccountID: accountID, Endpoint: s.Endpoint, P256DH: s.P256DH, Auth: s.Auth,
				CreatedAt: fromNanos(createdAt), UpdatedAt: tx.now}
			created = false
			return nil
		case err == nil: // another account's browser is now this account's
			if err := checkPushCap(ctx, tx, accountID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE account_id = ? AND id = ?`, owner, id); err != nil {
				return err
			}
		case errors.Is(err, sql.ErrNoRows):
			if err := checkPushCap(ctx, tx, accountID); err != nil {
				return err
			}
		default:
			return err
		}
		out = herald.PushSubscription{ID: herald.NewID(), AccountID: accountID, Endpoint: s.Endpoint, P256DH: s.P256DH, Auth: s.Auth,
			CreatedAt: tx.now, UpdatedAt: tx.now}
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (id, account_id, endpoint, p256dh, auth, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			out.ID, accountID, out.Endpoint, out.P256DH, out.Auth, nanos(tx.now), nanos(tx.now)); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return herald.PushSubscription{}, false, err
	}
	return out, created, nil
}

func checkPushCap(ctx context.Context, tx *Tx, accountID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM push_subscriptions WHERE account_id = ?`, accountID).Scan(&n); err != nil {
		return err
	}
	if n >= herald.MaxPushSubscriptions {
		return herald.ErrTooManyPushSubscriptions
	}
	return nil
}

const pushCols = `s.id, s.account_id, s.endpoint, s.p256dh, s.auth, s.created_at, s.updated_at`

func scanPush(rows *sql.Rows) ([]herald.PushSubscription, error) {
	defer rows.Close()
	out := []herald.PushSubscription{}
	for rows.Next() {
		var p herald.PushSubscription
		var c, u int64
		if err := rows.Scan(&p.ID, &p.AccountID, &p.Endpoint, &p.P256DH, &p.Auth, &c, &u); err != nil {
			return nil, err
		}
		p.CreatedAt, p.UpdatedAt = fromNanos(c), fromNanos(u)
		out = append(out, p)
	}
	return out, rows.Err()
}

// PushSubscriptions returns the account's devices, oldest first.
func (db *DB) PushSubscriptions(ctx context.Context, accountID string) ([]herald.PushSubscription, error) {
	var out []herald.PushSubscription
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		rows, err := q.QueryContext(ctx, `SELECT `+pushCols+` FROM push_subscriptions s WHERE s.account_id = ? ORDER BY s.created_at, s.id`, accountID)
		if err != nil {
			return err
		}
		out, err = scanPush(rows)
		return err
	})
	return out, err
}

// DeletePushSubscription deletes one of the account's devices.
func (db *DB) DeletePushSubscription(ctx context.Context, accountID, id string) error {
	return db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE account_id = ? AND id = ?`, accountID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return herald.ErrPushSubscriptionNotFound
		}
		return nil
	})
}

// DeletePushSubscriptionByEndpoint deletes an endpoint's subscription, if any.
func (db *DB) DeletePushSubscriptionByEndpoint(ctx context.Context, endpoint string) error {
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE endpoint = ?`, endpoint)
		return err
	})
}

// pushTargetsQuery walks the channel's follows by primary key (channel_pk,
// account_id) from the cursor's account, skipping muted ones, and joins
// each follower's devices by primary key (account_id, id), which keeps them
// in the same order.
const pushTargetsQuery = `SELECT ` + pushCols + `
FROM follows f CROSS JOIN push_subscriptions s ON s.account_id = f.account_id
WHERE f.channel_pk = (SELECT pk FROM channels WHERE id = ?1) AND f.muted = 0
	AND f.account_id >= ?2 AND (f.account_id > ?2 OR s.id > ?3)
ORDER BY f.account_id, s.id
LIMIT ?4`

// PushTargets returns one page of the devices of the channel's unmuted followers.
func (db *DB) PushTargets(ctx context.Context, channelID, after string, limit int) ([]herald.PushSubscription, string, error) {
	acct, sub, err := herald.ParsePushCursor(after)
	if err != nil {
		return nil, "", err
	}
	limit = herald.ClampPushTargetsLimit(limit)
	var out []herald.PushSubscription
	err = db.view(ctx, func(q queryer, _ time.Time) error {
		rows, err := q.QueryContext(ctx, pushTargetsQuery, channelID, acct, sub, limit+1)
		if err != nil {
			return err
		}
		out, err = scanPush(rows)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = herald.PushCursor(last.AccountID, last.ID)
	}
	return out, next, nil
}
