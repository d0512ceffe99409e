package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
)

const settingVAPIDKey = "vapid_private_key"

// PushVAPIDKey returns the stored VAPID key, generating and storing it on
// the first call. generate runs outside any transaction; nodes racing on
// the first call each insert-if-absent and read back, so all get the key
// that was stored first.
func (db *DB) PushVAPIDKey(ctx context.Context, generate func() ([]byte, error)) ([]byte, error) {
	var key []byte
	err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, settingVAPIDKey).Scan(&key)
	if err == nil {
		return key, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return nil, mapError(err)
	}
	fresh, err := generate()
	if err != nil {
		return nil, err
	}
	if len(fresh) == 0 {
		return nil, errors.New("postgres: PushVAPIDKey: generate returned an empty key")
	}
	// ON CONFLICT DO NOTHING waits for a concurrent inserter to commit, so
	// the read that follows (a new snapshot under READ COMMITTED) sees its key.
	if _, err := db.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, settingVAPIDKey, fresh); err != nil {
		return nil, mapError(err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, settingVAPIDKey).Scan(&key); err != nil {
		return nil, mapError(err)
	}
	return key, nil
}

// SavePushSubscription stores or updates the subscription of an endpoint.
// The account's row is locked first, so two saves for one account take
// turns and the device cap holds; then saves of the endpoint take turns.
func (db *DB) SavePushSubscription(ctx context.Context, accountID string, s herald.PushSubscription) (herald.PushSubscription, bool, error) {
	if accountID == "" {
		return herald.PushSubscription{}, false, errNoActor
	}
	if err := herald.ValidatePushSubscription(s); err != nil {
		return herald.PushSubscription{}, false, err
	}
	var out herald.PushSubscription
	var created bool
	err := db.inTx(ctx, func(t *tx) error {
		var one int
		err := t.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, accountID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAccountNotFound
		} else if err != nil {
			return err
		}
		// Saves of one endpoint take turns (a transaction-scoped advisory
		// lock on its hash, taken after the account's row lock, so two
		// saves can't wait on each other in a cycle): a browser moving
		// between accounts while it re-subscribes moves once.
		if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('herald.push.' || current_schema() || $1))`, s.Endpoint); err != nil {
			return err
		}
		// Twice at most, for safety: an INSERT that met a concurrent insert
		// of the same endpoint (ON CONFLICT DO NOTHING waited for it) looks again.
		for attempt := 0; attempt < 2; attempt++ {
			var id, owner string
			err := t.QueryRow(ctx, `SELECT id, account_id FROM push_subscriptions WHERE endpoint = $1 FOR UPDATE`, s.Endpoint).Scan(&id, &owner)
			switch {
			case err == nil && owner == accountID:
				out = herald.PushSubscription{AccountID: accountID, Endpoint: s.Endpoint, P256DH: s.P256DH, Auth: s.Auth, UpdatedAt: t.now}
				created = false
				return t.QueryRow(ctx, `UPDATE push_subscriptions SET p256dh = $2, auth = $3, updated_at = $4 WHERE id = $1 RETURNING id, created_at`,
					id, s.P256DH, s.Auth, t.now).Scan(&out.ID, &out.CreatedAt)
			case err == nil: // another account's browser is now this account's
				if err := checkPushCap(ctx, t, accountID); err != nil {
					return err
				}
				if _, err := t.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = $1`, id); err != nil {
					return err
				}
			case errors.Is(err, pgx.ErrNoRows):
				if err := checkPushCap(ctx, t, accountID); err != nil {
					return err
				}
			default:
				return err
			}
			out = herald.PushSubscription{ID: herald.NewID(), AccountID: accountID, Endpoint: s.Endpoint, P256DH: s.P256DH, Auth: s.Auth,
				CreatedAt: t.now, UpdatedAt: t.now}
			tag, err := t.Exec(ctx, `INSERT INTO push_subscriptions (id, account_id, endpoint, p256dh, auth, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (endpoint) DO NOTHING`,
				out.ID, accountID, out.Endpoint, out.P256DH, out.Auth, t.now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				created = true
				return nil
			}
		}
		return herald.Errorf(herald.ECONFLICT, "The device is being registered by another request; try again.")
	})
	if err != nil {
		return herald.PushSubscription{}, false, err
	}
	return out, created, nil
}

func checkPushCap(ctx context.Context, t *tx, accountID string) error {
	var n int
	if err := t.QueryRow(ctx, `SELECT count(*) FROM push_subscriptions WHERE account_id = $1`, accountID).Scan(&n); err != nil {
		return err
	}
	if n >= herald.MaxPushSubscriptions {
		return herald.ErrTooManyPushSubscriptions
	}
	return nil
}

const pushCols = `s.id, s.account_id, s.endpoint, s.p256dh, s.auth, s.created_at, s.updated_at`

func collectPush(rows pgx.Rows) ([]herald.PushSubscription, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (herald.PushSubscription, error) {
		var p herald.PushSubscription
		err := r.Scan(&p.ID, &p.AccountID, &p.Endpoint, &p.P256DH, &p.Auth, &p.CreatedAt, &p.UpdatedAt)
		p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		return p, err
	})
	if err != nil {
		return nil, mapError(err)
	}
	if out == nil {
		out = []herald.PushSubscription{}
	}
	return out, nil
}

// PushSubscriptions returns the account's devices, oldest first.
func (db *DB) PushSubscriptions(ctx context.Context, accountID string) ([]herald.PushSubscription, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+pushCols+` FROM push_subscriptions s WHERE s.account_id = $1 ORDER BY s.created_at, s.id`, accountID)
	if err != nil {
		return nil, mapError(err)
	}
	return collectPush(rows)
}

// DeletePushSubscription deletes one of the account's devices.
func (db *DB) DeletePushSubscription(ctx context.Context, accountID, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = $1 AND account_id = $2`, id, accountID)
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return herald.ErrPushSubscriptionNotFound
	}
	return nil
}

// DeletePushSubscriptionByEndpoint deletes an endpoint's subscription, if any.
func (db *DB) DeletePushSubscriptionByEndpoint(ctx context.Context, endpoint string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE endpoint = $1`, endpoint)
	return mapError(err)
}

// pushTargetsQuery walks the channel's unmuted follows through
// follows_push_targets (channel_id, account_id) from the cursor's account
// and joins each follower's devices through push_subscriptions_account.
// The redundant s.account_id >= $2 bounds the devices' side too, so a merge
// join starts at the cursor rather than at the first subscription.
const pushTargetsQuery = `SELECT ` + pushCols + `
FROM follows f JOIN push_subscriptions s ON s.account_id = f.account_id
WHERE f.channel_id = $1 AND NOT f.muted
	AND f.account_id >= $2 AND s.account_id >= $2 AND (f.account_id > $2 OR s.id > $3)
ORDER BY f.account_id, s.id
LIMIT $4`

// PushTargets returns one page of the devices of the channel's unmuted followers.
func (db *DB) PushTargets(ctx context.Context, channelID, after string, limit int) ([]herald.PushSubscription, string, error) {
	acct, sub, err := herald.ParsePushCursor(after)
	if err != nil {
		return nil, "", err
	}
	limit = herald.ClampPushTargetsLimit(limit)
	rows, err := db.pool.Query(ctx, pushTargetsQuery, channelID, acct, sub, limit+1)
	if err != nil {
		return nil, "", mapError(err)
	}
	out, err := collectPush(rows)
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
