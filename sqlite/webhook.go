package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

var errWebhookNotFound = herald.KindErrorf(herald.ENOTFOUND, "webhook-not-found", "No such webhook.")

// webhookAdminView is loadAccess for people admins only (keys never see
// webhooks).
func webhookAdminView(ctx context.Context, q queryer, actorID, channelID string) (*chanRow, error) {
	if _, isKey := herald.KeyOfActor(actorID); isKey || actorID == "" {
		return nil, errNotAdmin
	}
	r, err := loadAccess(ctx, q, actorID, channelID)
	if err != nil {
		return nil, err
	}
	return r, r.rel.Admin(actorID)
}

// streamHead returns the last seq of a stream (0 without events).
func streamHead(ctx context.Context, q queryer, stream string) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT last_seq FROM stream_heads WHERE stream = ?`, stream).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

const webhookSelect = `SELECT w.id, c.id, w.url, w.events, w.enabled, w.disabled_reason, w.failing_since, w.created_at
	FROM webhooks w JOIN channels c ON c.pk = w.channel_pk `

func scanWebhook(s scanner, extra ...any) (*herald.Webhook, error) {
	var w herald.Webhook
	var events string
	var enabled, created int64
	var failing sql.NullInt64
	if err := s.Scan(append([]any{&w.ID, &w.ChannelID, &w.URL, &events, &enabled, &w.DisabledReason, &failing, &created}, extra...)...); err != nil {
		return nil, err
	}
	w.Events = strings.Split(events, ",")
	w.Enabled = enabled != 0
	w.CreatedAt = fromNanos(created)
	if failing.Valid {
		t := fromNanos(failing.Int64)
		w.FailingSince = &t
	}
	return &w, nil
}

// CreateWebhook stores a webhook starting after the channel's last event.
func (db *DB) CreateWebhook(ctx context.Context, actorID, channelID string, w *herald.Webhook, secret []byte) error {
	events, err := herald.NormalizeWebhookEvents(w.Events)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		r, err := accountAdminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhooks WHERE channel_pk = ?`, r.pk).Scan(&n); err != nil {
			return err
		}
		if n >= herald.MaxWebhooksPerChannel {
			return herald.KindErrorf(herald.ECONFLICT, "too-many-webhooks", "A channel has at most %d webhooks: delete one first.", herald.MaxWebhooksPerChannel)
		}
		head, err := streamHead(ctx, tx, r.ch.ID)
		if err != nil {
			return err
		}
		id := herald.NewID()
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, channel_pk, url, events, secret, cursor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, r.pk, w.URL, strings.Join(events, ","), secret, head, nanos(tx.now)); err != nil {
			return err
		}
		*w = herald.Webhook{ID: id, ChannelID: r.ch.ID, URL: w.URL, Events: events, Enabled: true, CreatedAt: tx.now}
		return nil
	})
}

// ListWebhooks returns the channel's webhooks to its people admins.
func (db *DB) ListWebhooks(ctx context.Context, actorID, channelID string) ([]*herald.Webhook, error) {
	out := []*herald.Webhook{}
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		r, err := webhookAdminView(ctx, q, actorID, channelID)
		if err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, webhookSelect+`WHERE w.channel_pk = ? ORDER BY w.created_at, w.id`, r.pk)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			w, err := scanWebhook(rows)
			if err != nil {
				return err
			}
			out = append(out, w)
		}
		return rows.Err()
	})
	return out, err
}

// UpdateWebhook changes a webhook's events or enabled state.
func (db *DB) UpdateWebhook(ctx context.Context, actorID, channelID, id string, p herald.WebhookPatch) (*herald.Webhook, error) {
	var events []string
	if p.Events != nil {
		var err error
		if events, err = herald.NormalizeWebhookEvents(p.Events); err != nil {
			return nil, err
		}
	}
	var out *herald.Webhook
	err := db.write(ctx, func(tx *Tx) error {
		r, err := accountAdminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		var enabled int64
		if err := tx.QueryRowContext(ctx, `SELECT enabled FROM webhooks WHERE id = ? AND channel_pk = ?`, id, r.pk).Scan(&enabled); errors.Is(err, sql.ErrNoRows) {
			return errWebhookNotFound
		} else if err != nil {
			return err
		}
		if events != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET events = ? WHERE id = ?`, strings.Join(events, ","), id); err != nil {
				return err
			}
		}
		if p.Enabled != nil && *p.Enabled != (enabled != 0) {
			if *p.Enabled {
				head, err := streamHead(ctx, tx, r.ch.ID)
				if err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, `UPDATE webhooks SET enabled = 1, disabled_reason = '', attempts = 0, failing_since = NULL,
					next_attempt_at = 0, cursor = ? WHERE id = ?`, head, id)
				if err != nil {
					return err
				}
			} else if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET enabled = 0, disabled_reason = '', lease_token = '', lease_until = 0 WHERE id = ?`, id); err != nil {
				return err
			}
		}
		out, err = scanWebhook(tx.QueryRowContext(ctx, webhookSelect+`WHERE w.id = ?`, id))
		return err
	})
	return out, err
}

// DeleteWebhook deletes a webhook and its log.
func (db *DB) DeleteWebhook(ctx context.Context, actorID, channelID, id string) error {
	return db.write(ctx, func(tx *Tx) error {
		r, err := accountAdminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ? AND channel_pk = ?`, id, r.pk)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errWebhookNotFound
		}
		// A kept Idempotency-Key answer to its creation holds the secret.
		return eraseAnswers(ctx, tx, []string{id})
	})
}

// RotateWebhookSecret replaces a webhook's signing secret.
func (db *DB) RotateWebhookSecret(ctx context.Context, actorID, channelID, id string, secret []byte) error {
	return db.write(ctx, func(tx *Tx) error {
		r, err := accountAdminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET secret = ? WHERE id = ? AND channel_pk = ?`, secret, id, r.pk)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errWebhookNotFound
		}
		// A kept Idempotency-Key answer to its creation holds the old secret.
		return eraseAnswers(ctx, tx, []string{id})
	})
}

// WebhookDeliveries returns a webhook's log, newest first.
func (db *DB) WebhookDeliveries(ctx context.Context, actorID, channelID, id string) ([]herald.WebhookDelivery, error) {
	out := []herald.WebhookDelivery{}
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		r, err := webhookAdminView(ctx, q, actorID, channelID)
		if err != nil {
			return err
		}
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM webhooks WHERE id = ? AND channel_pk = ?`, id, r.pk).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errWebhookNotFound
		}
		rows, err := q.QueryContext(ctx, `SELECT at, event_type, seq, attempt, status, latency_ms, error FROM webhook_deliveries
			WHERE webhook_id = ? ORDER BY n DESC LIMIT ?`, id, herald.WebhookLogSize)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d herald.WebhookDelivery
			var at int64
			if err := rows.Scan(&at, &d.EventType, &d.Seq, &d.Attempt, &d.Status, &d.LatencyMS, &d.Error); err != nil {
				return err
			}
			d.At = fromNanos(at)
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// ClaimWebhook takes a free, due webhook whose channel has new events.
func (db *DB) ClaimWebhook(ctx context.Context, lease time.Duration) (*herald.WebhookJob, error) {
	var job *herald.WebhookJob
	err := db.write(ctx, func(tx *Tx) error {
		now := nanos(tx.now)
		token := herald.NewID()
		var j herald.WebhookJob
		w, err := scanWebhook(tx.QueryRowContext(ctx, `UPDATE webhooks SET lease_token = ?1, lease_until = ?2
			WHERE id = (
				SELECT w.id FROM webhooks w JOIN channels c ON c.pk = w.channel_pk JOIN stream_heads h ON h.stream = c.id
				WHERE w.enabled = 1 AND w.lease_until <= ?3 AND w.next_attempt_at <= ?3 AND w.cursor < h.last_seq
				ORDER BY w.next_attempt_at, w.id LIMIT 1)
			RETURNING id, (SELECT c.id FROM channels c WHERE c.pk = channel_pk), url, events, enabled, disabled_reason, failing_since, created_at,
				secret, cursor, attempts,
				coalesce((SELECT h.floor_seq FROM stream_heads h WHERE h.stream = (SELECT c.id FROM channels c WHERE c.pk = channel_pk)), 0)`,
			token, nanos(tx.now.Add(lease)), now), &j.Secret, &j.Cursor, &j.Attempts, &j.Floor)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		j.Webhook, j.Lease = *w, token
		job = &j
		return nil
	})
	return job, err
}

// insertDelivery adds entry n of a webhook's log; every 10th entry drops
// what fell out of the last WebhookLogSize (the table holds at most 10 more).
func insertDelivery(ctx context.Context, tx *Tx, id string, n int64, d *herald.WebhookDelivery) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, n, at, event_type, seq, attempt, status, latency_ms, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, n, nanos(d.At), d.EventType, d.Seq, d.Attempt, d.Status, d.LatencyMS, d.Error); err != nil {
		return err
	}
	if n%10 != 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND n <= ?`, id, n-herald.WebhookLogSize)
	return err
}

// heldWhere matches a webhook still held by the lease (?id, ?lease, ?now).
const heldWhere = ` WHERE id = :id AND lease_token = :lease AND lease_until > :now AND enabled = 1 RETURNING log_n`

// AdvanceWebhook moves a held webhook's cursor.
func (db *DB) AdvanceWebhook(ctx context.Context, id, leaseToken string, seq int64, d *herald.WebhookDelivery, lease time.Duration) error {
	return db.write(ctx, func(tx *Tx) error {
		logged := 0
		if d != nil {
			logged = 1
		}
		var n int64
		err := tx.QueryRowContext(ctx, `UPDATE webhooks SET cursor = max(cursor, :seq), attempts = 0, failing_since = NULL,
			lease_until = :until, log_n = log_n + :logged`+heldWhere,
			sql.Named("seq", seq), sql.Named("until", nanos(tx.now.Add(lease))), sql.Named("logged", logged),
			sql.Named("id", id), sql.Named("lease", leaseToken), sql.Named("now", nanos(tx.now))).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return herald.ErrWebhookLeaseLost
		} else if err != nil || d == nil {
			return err
		}
		return insertDelivery(ctx, tx, id, n, d)
	})
}

// FailWebhook records a failed attempt and releases or disables the webhook.
func (db *DB) FailWebhook(ctx context.Context, id, leaseToken string, d herald.WebhookDelivery, retryAt time.Time, disableReason string) error {
	return db.write(ctx, func(tx *Tx) error {
		enabled := 1
		if disableReason != "" {
			enabled = 0
		}
		var n int64
		err := tx.QueryRowContext(ctx, `UPDATE webhooks SET attempts = attempts + 1, failing_since = coalesce(failing_since, :now),
			next_attempt_at = :retry, lease_token = '', lease_until = 0, enabled = :enabled, disabled_reason = :reason, log_n = log_n + 1`+heldWhere,
			sql.Named("retry", nanos(retryAt)), sql.Named("enabled", enabled), sql.Named("reason", disableReason),
			sql.Named("id", id), sql.Named("lease", leaseToken), sql.Named("now", nanos(tx.now))).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return herald.ErrWebhookLeaseLost
		} else if err != nil {
			return err
		}
		return insertDelivery(ctx, tx, id, n, &d)
	})
}

// ReleaseWebhook gives a held webhook back.
func (db *DB) ReleaseWebhook(ctx context.Context, id, leaseToken string) error {
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhooks SET lease_token = '', lease_until = 0, next_attempt_at = ?
			WHERE id = ? AND lease_token = ?`, nanos(tx.now), id, leaseToken)
		return err
	})
}
