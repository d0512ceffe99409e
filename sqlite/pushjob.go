package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/heraldhq/herald"
)

// pushUpdateCols reads a PushUpdate from updates u and channels c.
const pushUpdateCols = `u.id, c.id, c.name, u.seq, u.text, u.created_at, u.expires_at`

func scanPushUpdate(p *herald.PushUpdate, created, expires *int64) []any {
	return []any{&p.UpdateID, &p.ChannelID, &p.ChannelName, &p.Seq, &p.Text, created, expires}
}

// insertPushJob queues the push of an update (in its transaction).
func insertPushJob(ctx context.Context, tx *Tx, updatePK int64, edit bool) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO push_jobs (update_pk, edit, created_at) VALUES (?, ?, ?)`, updatePK, boolInt(edit), nanos(tx.now))
	return err
}

// queueEditPush queues the push of an edited update posted less than
// herald.PushEditWindow ago, unless a job for it was never started (that
// one will read the new text).
func queueEditPush(ctx context.Context, tx *Tx, updatePK int64, createdAt time.Time) error {
	if tx.now.Sub(createdAt) >= herald.PushEditWindow {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO push_jobs (update_pk, edit, created_at)
		SELECT ?1, 1, ?2 WHERE NOT EXISTS (SELECT 1 FROM push_jobs WHERE update_pk = ?1 AND lease_token = '')`, updatePK, nanos(tx.now))
	return err
}

// ClaimPushJob takes the oldest free job of a live update.
func (db *DB) ClaimPushJob(ctx context.Context, lease time.Duration) (*herald.PushJob, error) {
	// A read first: the idle poll costs no write transaction.
	var n int
	err := db.view(ctx, func(q queryer, now time.Time) error {
		return q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM push_jobs WHERE lease_until <= ? LIMIT 1)`, nanos(now)).Scan(&n)
	})
	if err != nil || n == 0 {
		return nil, err
	}
	var job *herald.PushJob
	err = db.write(ctx, func(tx *Tx) error {
		job = nil
		var j herald.PushJob
		var id, edit, queued, created, expires int64
		// The jobs are walked in id order (NOT INDEXED: by rowid). Only
		// the few leased ones come before the first free one, whereas the
		// lease index would sort every free job on each claim, and under a
		// burst of posts that backlog is long.
		err := tx.QueryRowContext(ctx, `SELECT j.id, j.edit, j.cursor, j.created_at, `+pushUpdateCols+`
			FROM push_jobs j NOT INDEXED JOIN updates u ON u.pk = j.update_pk JOIN channels c ON c.pk = u.channel_pk
			WHERE j.lease_until <= ?1 AND u.expires_at > ?1 ORDER BY j.id LIMIT 1`, nanos(tx.now)).
			Scan(append([]any{&id, &edit, &j.Cursor, &queued}, scanPushUpdate(&j.PushUpdate, &created, &expires)...)...)
		if err == sql.ErrNoRows {
			return nil
		} else if err != nil {
			return err
		}
		j.ID, j.Lease, j.Edit = strconv.FormatInt(id, 10), herald.NewID(), edit != 0
		j.QueuedAt, j.CreatedAt, j.ExpiresAt = fromNanos(queued), fromNanos(created), fromNanos(expires)
		if _, err := tx.ExecContext(ctx, `UPDATE push_jobs SET lease_until = ?, lease_token = ? WHERE id = ?`,
			nanos(tx.now.Add(lease)), j.Lease, id); err != nil {
			return err
		}
		job = &j
		return nil
	})
	return job, err
}

func leaseResult(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return herald.ErrPushLeaseLost
	}
	return nil
}

// AdvancePushJob records a job's cursor and extends its lease.
func (db *DB) AdvancePushJob(ctx context.Context, id, leaseToken, cursor string, lease time.Duration) error {
	return db.write(ctx, func(tx *Tx) error {
		return leaseResult(tx.ExecContext(ctx, `UPDATE push_jobs SET cursor = ?, lease_until = ? WHERE id = ? AND lease_token = ?`,
			cursor, nanos(tx.now.Add(lease)), id, leaseToken))
	})
}

// FinishPushJob deletes a job walked to its end.
func (db *DB) FinishPushJob(ctx context.Context, id, leaseToken string) error {
	return db.write(ctx, func(tx *Tx) error {
		return leaseResult(tx.ExecContext(ctx, `DELETE FROM push_jobs WHERE id = ? AND lease_token = ?`, id, leaseToken))
	})
}

// SchedulePushRetry records (or replaces) a device's retry.
func (db *DB) SchedulePushRetry(ctx context.Context, updateID string, edit bool, accountID, subscriptionID string, attempts int, due time.Time) error {
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO push_retries (update_pk, edit, account_id, subscription_id, attempts, due_at)
			SELECT u.pk, ?2, s.account_id, s.id, ?5, ?6 FROM updates u, push_subscriptions s
			WHERE u.id = ?1 AND s.account_id = ?3 AND s.id = ?4
			ON CONFLICT (update_pk, edit, account_id, subscription_id) DO UPDATE
				SET attempts = excluded.attempts, due_at = excluded.due_at, lease_until = 0, lease_token = ''`,
			updateID, boolInt(edit), accountID, subscriptionID, attempts, nanos(due))
		return err
	})
}

// ClaimPushRetries takes due retries whose device still follows the channel unmuted.
func (db *DB) ClaimPushRetries(ctx context.Context, limit int, lease time.Duration) ([]herald.PushRetry, error) {
	var n int
	err := db.view(ctx, func(q queryer, now time.Time) error {
		return q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM push_retries WHERE due_at <= ?1 AND lease_until <= ?1 LIMIT 1)`, nanos(now)).Scan(&n)
	})
	if err != nil || n == 0 {
		return nil, err
	}
	var out []herald.PushRetry
	err = db.write(ctx, func(tx *Tx) error {
		out = nil
		// A retry whose update expired or whose account no longer follows
		// the channel unmuted is dropped rather than sent.
		rows, err := tx.QueryContext(ctx, `SELECT r.id, r.attempts, r.edit, `+pushCols+`, `+pushUpdateCols+`,
				u.expires_at > ?1 AND f.account_id IS NOT NULL
			FROM push_retries r
			JOIN push_subscriptions s ON s.account_id = r.account_id AND s.id = r.subscription_id
			JOIN updates u ON u.pk = r.update_pk
			JOIN channels c ON c.pk = u.channel_pk
			LEFT JOIN follows f ON f.channel_pk = u.channel_pk AND f.account_id = r.account_id AND f.muted = 0
			WHERE r.due_at <= ?1 AND r.lease_until <= ?1
			ORDER BY r.due_at LIMIT ?2`, nanos(tx.now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		token := herald.NewID()
		var ids, dead []int64
		for rows.Next() {
			var r herald.PushRetry
			var id, edit, sc, su, created, expires int64
			var live bool
			s := &r.Target
			dest := append([]any{&id, &r.Attempts, &edit, &s.ID, &s.AccountID, &s.Endpoint, &s.P256DH, &s.Auth, &sc, &su},
				scanPushUpdate(&r.PushUpdate, &created, &expires)...)
			if err := rows.Scan(append(dest, &live)...); err != nil {
				return err
			}
			if !live {
				dead = append(dead, id)
				continue
			}
			r.ID, r.Lease, r.Edit = strconv.FormatInt(id, 10), token, edit != 0
			s.CreatedAt, s.UpdatedAt = fromNanos(sc), fromNanos(su)
			r.CreatedAt, r.ExpiresAt = fromNanos(created), fromNanos(expires)
			out = append(out, r)
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_retries WHERE id IN (SELECT value FROM json_each(?))`, jsonList(dead)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE push_retries SET lease_until = ?, lease_token = ? WHERE id IN (SELECT value FROM json_each(?))`,
			nanos(tx.now.Add(lease)), token, jsonList(ids))
		return err
	})
	return out, err
}

// FinishPushRetry deletes a retry still held by leaseToken.
func (db *DB) FinishPushRetry(ctx context.Context, id, leaseToken string) error {
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM push_retries WHERE id = ? AND lease_token = ?`, id, leaseToken)
		return err
	})
}
