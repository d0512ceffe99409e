package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
)

var errWebhookNotFound = herald.KindErrorf(herald.ENOTFOUND, "webhook-not-found", "No such webhook.")

// webhookAdminView is loadAccess for people admins only (keys never see
// webhooks).
func webhookAdminView(ctx context.Context, t *tx, actorID, channelID string) (*chanRow, error) {
	if _, isKey := herald.KeyOfActor(actorID); isKey || actorID == "" {
		return nil, errNotAdmin
	}
	r, err := loadAccess(ctx, t, actorID, channelID, lockNone)
	if err != nil {
		return nil, err
	}
	return r, r.rel.Admin(actorID)
}

const webhookCols = `id, channel_id, url, events, enabled, disabled_reason, failing_since, created_at`

func scanWebhook(row pgx.Row, extra ...any) (*herald.Webhook, error) {
	var w herald.Webhook
	if err := row.Scan(append([]any{&w.ID, &w.ChannelID, &w.URL, &w.Events, &w.Enabled, &w.DisabledReason, &w.FailingSince, &w.CreatedAt}, extra...)...); err != nil {
		return nil, err
	}
	w.CreatedAt = w.CreatedAt.UTC()
	if w.FailingSince != nil {
		t := w.FailingSince.UTC()
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
	return db.inTx(ctx, func(t *tx) error {
		// An update lock on the channel serializes creation, so the count
		// holds until commit.
		r, err := t.accountAdminAccess(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM webhooks WHERE channel_id = $1`, r.ch.ID).Scan(&n); err != nil {
			return err
		}
		if n >= herald.MaxWebhooksPerChannel {
			return herald.KindErrorf(herald.ECONFLICT, "too-many-webhooks", "A channel has at most %d webhooks: delete one first.", herald.MaxWebhooksPerChannel)
		}
		head, err := t.streamHead(ctx, r.ch.ID)
		if err != nil {
			return err
		}
		id := herald.NewID()
		if _, err := t.Exec(ctx, `INSERT INTO webhooks (id, channel_id, url, events, secret, cursor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id, r.ch.ID, w.URL, events, secret, head, t.now); err != nil {
			return err
		}
		*w = herald.Webhook{ID: id, ChannelID: r.ch.ID, URL: w.URL, Events: events, Enabled: true, CreatedAt: t.now}
		return nil
	})
}

// ListWebhooks returns the channel's webhooks to its people admins.
func (db *DB) ListWebhooks(ctx context.Context, actorID, channelID string) ([]*herald.Webhook, error) {
	out := []*herald.Webhook{}
	err := db.read(ctx, func(t *tx) error {
		r, err := webhookAdminView(ctx, t, actorID, channelID)
		if err != nil {
			return err
		}
		rows, err := t.Query(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE channel_id = $1 ORDER BY created_at, id`, r.ch.ID)
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
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.accountAdminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		var enabled bool
		err = t.QueryRow(ctx, `SELECT enabled FROM webhooks WHERE id = $1 AND channel_id = $2 FOR UPDATE`, id, r.ch.ID).Scan(&enabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return errWebhookNotFound
		} else if err != nil {
			return err
		}
		if events != nil {
			if _, err := t.Exec(ctx, `UPDATE webhooks SET events = $1 WHERE id = $2`, events, id); err != nil {
				return err
			}
		}
		if p.Enabled != nil && *p.Enabled != enabled {
			if *p.Enabled {
				head, err := t.streamHead(ctx, r.ch.ID)
				if err != nil {
					return err
				}
				if _, err := t.Exec(ctx, `UPDATE webhooks SET enabled = true, disabled_reason = '', attempts = 0, failing_since = NULL,
					next_attempt_at = '-infinity', cursor = $1 WHERE id = $2`, head, id); err != nil {
					return err
				}
			} else if _, err := t.Exec(ctx, `UPDATE webhooks SET enabled = false, disabled_reason = '', lease_token = '', lease_until = '-infinity' WHERE id = $1`, id); err != nil {
				return err
			}
		}
		out, err = scanWebhook(t.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id))
		return err
	})
	return out, err
}

// DeleteWebhook deletes a webhook and its log.
func (db *DB) DeleteWebhook(ctx context.Context, actorID, channelID, id string) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.accountAdminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		tag, err := t.Exec(ctx, `DELETE FROM webhooks WHERE id = $1 AND channel_id = $2`, id, r.ch.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errWebhookNotFound
		}
		// A kept Idempotency-Key answer to its creation holds the secret.
		return t.eraseAnswers(ctx, []string{id})
	})
}

// RotateWebhookSecret replaces a webhook's signing secret.
func (db *DB) RotateWebhookSecret(ctx context.Context, actorID, channelID, id string, secret []byte) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.accountAdminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		tag, err := t.Exec(ctx, `UPDATE webhooks SET secret = $1 WHERE id = $2 AND channel_id = $3`, secret, id, r.ch.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errWebhookNotFound
		}
		// A kept Idempotency-Key answer to its creation holds the old secret.
		return t.eraseAnswers(ctx, []string{id})
	})
}

// WebhookDeliveries returns a webhook's log, newest first.
func (db *DB) WebhookDeliveries(ctx context.Context, actorID, channelID, id string) ([]herald.WebhookDelivery, error) {
	out := []herald.WebhookDelivery{}
	err := db.read(ctx, func(t *tx) error {
		r, err := webhookAdminView(ctx, t, actorID, channelID)
		if err != nil {
			return err
		}
		var ok bool
		if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = $1 AND channel_id = $2)`, id, r.ch.ID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return errWebhookNotFound
		}
		rows, err := t.Query(ctx, `SELECT at, event_type, seq, attempt, status, latency_ms, error FROM webhook_deliveries
			WHERE webhook_id = $1 ORDER BY n DESC LIMIT $2`, id, herald.WebhookLogSize)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d herald.WebhookDelivery
			if err := rows.Scan(&d.At, &d.EventType, &d.Seq, &d.Attempt, &d.Status, &d.LatencyMS, &d.Error); err != nil {
				return err
			}
			d.At = d.At.UTC()
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// ClaimWebhook takes a free, due webhook whose channel has new events;
// concurrent claimers skip each other's row.
func (db *DB) ClaimWebhook(ctx context.Context, lease time.Duration) (*herald.WebhookJob, error) {
	now := db.now()
	var j herald.WebhookJob
	j.Lease = herald.NewID()
	w, err := scanWebhook(db.pool.QueryRow(ctx, `WITH free AS (
			SELECT w.id FROM webhooks w JOIN stream_heads h ON h.stream = w.channel_id
			WHERE w.enabled AND w.lease_until <= $1 AND w.next_attempt_at <= $1 AND w.cursor < h.seq
			ORDER BY w.next_attempt_at, w.id LIMIT 1 FOR UPDATE OF w SKIP LOCKED)
		UPDATE webhooks w SET lease_token = $2, lease_until = $3 FROM free WHERE w.id = free.id
		RETURNING w.id, w.channel_id, w.url, w.events, w.enabled, w.disabled_reason, w.failing_since, w.created_at,
			w.secret, w.cursor, w.attempts, coalesce((SELECT f.floor FROM stream_floors f WHERE f.stream = w.channel_id), 0)`,
		now, j.Lease, now.Add(lease)), &j.Secret, &j.Cursor, &j.Attempts, &j.Floor)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, mapError(err)
	}
	j.Webhook = *w
	return &j, nil
}

// insertDelivery adds entry n of a webhook's log; every 10th entry drops
// what fell out of the last WebhookLogSize (the table holds at most 10 more).
func (t *tx) insertDelivery(ctx context.Context, id string, n int64, d *herald.WebhookDelivery) error {
	if _, err := t.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, n, at, event_type, seq, attempt, status, latency_ms, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, n, d.At, d.EventType, d.Seq, d.Attempt, d.Status, d.LatencyMS, d.Error); err != nil {
		return err
	}
	if n%10 != 0 {
		return nil
	}
	_, err := t.Exec(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND n <= $2`, id, n-herald.WebhookLogSize)
	return err
}

// AdvanceWebhook moves a held webhook's cursor.
func (db *DB) AdvanceWebhook(ctx context.Context, id, leaseToken string, seq int64, d *herald.WebhookDelivery, lease time.Duration) error {
	return db.inTx(ctx, func(t *tx) error {
		logged := 0
		if d != nil {
			logged = 1
		}
		var n int64
		err := t.QueryRow(ctx, `UPDATE webhooks SET cursor = greatest(cursor, $1), attempts = 0, failing_since = NULL,
			lease_until = $2, log_n = log_n + $3
			WHERE id = $4 AND lease_token = $5 AND lease_until > $6 AND enabled RETURNING log_n`,
			seq, t.now.Add(lease), logged, id, leaseToken, t.now).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			return herald.ErrWebhookLeaseLost
		} else if err != nil || d == nil {
			return err
		}
		return t.insertDelivery(ctx, id, n, d)
	})
}

// FailWebhook records a failed attempt and releases or disables the webhook.
func (db *DB) FailWebhook(ctx context.Context, id, leaseToken string, d herald.WebhookDelivery, retryAt time.Time, disableReason string) error {
	return db.inTx(ctx, func(t *tx) error {
		var n int64
		err := t.QueryRow(ctx, `UPDATE webhooks SET attempts = attempts + 1, failing_since = coalesce(failing_since, $1),
			next_attempt_at = $2, lease_token = '', lease_until = '-infinity', enabled = $3, disabled_reason = $4, log_n = log_n + 1
			WHERE id = $5 AND lease_token = $6 AND lease_until > $1 AND enabled RETURNING log_n`,
			t.now, retryAt, disableReason == "", disableReason, id, leaseToken).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			return herald.ErrWebhookLeaseLost
		} else if err != nil {
			return err
		}
		return t.insertDelivery(ctx, id, n, &d)
	})
}

// ReleaseWebhook gives a held webhook back.
func (db *DB) ReleaseWebhook(ctx context.Context, id, leaseToken string) error {
	return db.inTx(ctx, func(t *tx) error {
		_, err := t.Exec(ctx, `UPDATE webhooks SET lease_token = '', lease_until = '-infinity', next_attempt_at = $1
			WHERE id = $2 AND lease_token = $3`, t.now, id, leaseToken)
		return err
	})
}
