package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/heraldhq/herald"
)

// pushUpdateCols reads a PushUpdate from updates u and channels c.
const pushUpdateCols = `u.id, c.id, c.name, u.seq, u.text, u.created_at, u.expires_at`

func scanPushUpdate(p *herald.PushUpdate) []any {
	return []any{&p.UpdateID, &p.ChannelID, &p.ChannelName, &p.Seq, &p.Text, &p.CreatedAt, &p.ExpiresAt}
}

func utcPushUpdate(p *herald.PushUpdate) {
	p.CreatedAt, p.ExpiresAt = p.CreatedAt.UTC(), p.ExpiresAt.UTC()
}

// queueEditPush queues the push of an edited update posted less than
// herald.PushEditWindow ago, unless a job for it was never started (that
// one will read the new text).
func (t *tx) queueEditPush(ctx context.Context, updateID string, createdAt time.Time) error {
	if t.now.Sub(createdAt) >= herald.PushEditWindow {
		return nil
	}
	_, err := t.Exec(ctx, `INSERT INTO push_jobs (update_id, edit, created_at)
		SELECT $1, true, $2 WHERE NOT EXISTS (SELECT 1 FROM push_jobs WHERE update_id = $1 AND lease_token = '')`, updateID, t.now)
	return err
}

// ClaimPushJob takes the oldest free job of a live update; concurrent
// claimers skip each other's row.
func (db *DB) ClaimPushJob(ctx context.Context, lease time.Duration) (*herald.PushJob, error) {
	now := db.now()
	var j herald.PushJob
	var id int64
	j.Lease = herald.NewID()
	err := db.pool.QueryRow(ctx, `WITH free AS (
			SELECT j.id FROM push_jobs j JOIN updates u ON u.id = j.update_id
			WHERE j.lease_until <= $1 AND u.expires_at > $1
			ORDER BY j.id LIMIT 1 FOR UPDATE OF j SKIP LOCKED)
		UPDATE push_jobs p SET lease_until = $2, lease_token = $3
		FROM free, updates u, channels c
		WHERE p.id = free.id AND u.id = p.update_id AND c.id = u.channel_id
		RETURNING p.id, p.edit, p.cursor, p.created_at, `+pushUpdateCols, now, now.Add(lease), j.Lease).
		Scan(append([]any{&id, &j.Edit, &j.Cursor, &j.QueuedAt}, scanPushUpdate(&j.PushUpdate)...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, mapError(err)
	}
	j.ID, j.QueuedAt = strconv.FormatInt(id, 10), j.QueuedAt.UTC()
	utcPushUpdate(&j.PushUpdate)
	return &j, nil
}

func leaseResult(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return herald.ErrPushLeaseLost
	}
	return nil
}

func jobID(id string) int64 {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return -1 // matches no row
	}
	return n
}

// AdvancePushJob records a job's cursor and extends its lease.
func (db *DB) AdvancePushJob(ctx context.Context, id, leaseToken, cursor string, lease time.Duration) error {
	return leaseResult(db.pool.Exec(ctx, `UPDATE push_jobs SET cursor = $3, lease_until = $4 WHERE id = $1 AND lease_token = $2`,
		jobID(id), leaseToken, cursor, db.now().Add(lease)))
}

// FinishPushJob deletes a job walked to its end.
func (db *DB) FinishPushJob(ctx context.Context, id, leaseToken string) error {
	return leaseResult(db.pool.Exec(ctx, `DELETE FROM push_jobs WHERE id = $1 AND lease_token = $2`, jobID(id), leaseToken))
}

// SchedulePushRetry records (or replaces) a device's retry.
func (db *DB) SchedulePushRetry(ctx context.Context, updateID string, edit bool, accountID, subscriptionID string, attempts int, due time.Time) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO push_retries (update_id, edit, subscription_id, attempts, due_at)
		SELECT u.id, $2, s.id, $5, $6 FROM updates u, push_subscriptions s
		WHERE u.id = $1 AND s.id = $4 AND s.account_id = $3
		ON CONFLICT (update_id, edit, subscription_id) DO UPDATE
			SET attempts = excluded.attempts, due_at = excluded.due_at, lease_until = '-infinity', lease_token = ''`,
		updateID, edit, accountID, subscriptionID, attempts, due)
	return mapError(err)
}

// ClaimPushRetries takes due retries whose device still follows the channel unmuted.
func (db *DB) ClaimPushRetries(ctx context.Context, limit int, lease time.Duration) ([]herald.PushRetry, error) {
	now := db.now()
	token := herald.NewID()
	rows, err := db.pool.Query(ctx, `WITH due AS (
			SELECT r.id FROM push_retries r
			WHERE r.due_at <= $1 AND r.lease_until <= $1
			ORDER BY r.due_at LIMIT $2 FOR UPDATE SKIP LOCKED),
		held AS (
			UPDATE push_retries r SET lease_until = $3, lease_token = $4 FROM due WHERE r.id = due.id
			RETURNING r.id, r.attempts, r.edit, r.update_id, r.subscription_id)
		SELECT h.id, h.attempts, h.edit, `+pushCols+`, `+pushUpdateCols+`,
			u.expires_at > $1 AND f.account_id IS NOT NULL
		FROM held h
		JOIN push_subscriptions s ON s.id = h.subscription_id
		JOIN updates u ON u.id = h.update_id
		JOIN channels c ON c.id = u.channel_id
		LEFT JOIN follows f ON f.channel_id = u.channel_id AND f.account_id = s.account_id AND NOT f.muted`,
		now, limit, now.Add(lease), token)
	if err != nil {
		return nil, mapError(err)
	}
	var out []herald.PushRetry
	var dead []int64
	for rows.Next() {
		var r herald.PushRetry
		var id int64
		var live bool
		s := &r.Target
		if err := rows.Scan(append([]any{&id, &r.Attempts, &r.Edit, &s.ID, &s.AccountID, &s.Endpoint, &s.P256DH, &s.Auth, &s.CreatedAt, &s.UpdatedAt},
			append(scanPushUpdate(&r.PushUpdate), &live)...)...); err != nil {
			rows.Close()
			return nil, mapError(err)
		}
		if !live {
			dead = append(dead, id)
			continue
		}
		r.ID, r.Lease = strconv.FormatInt(id, 10), token
		s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
		utcPushUpdate(&r.PushUpdate)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	// A retry whose update expired or whose account no longer follows the
	// channel unmuted is dropped rather than sent.
	if len(dead) > 0 {
		if _, err := db.pool.Exec(ctx, `DELETE FROM push_retries WHERE id = ANY($1) AND lease_token = $2`, dead, token); err != nil {
			return nil, mapError(err)
		}
	}
	return out, nil
}

// FinishPushRetry deletes a retry still held by leaseToken.
func (db *DB) FinishPushRetry(ctx context.Context, id, leaseToken string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM push_retries WHERE id = $1 AND lease_token = $2`, jobID(id), leaseToken)
	return mapError(err)
}
