package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/hll"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
)

// dayNumber is t's UTC day as days since 1970-01-01, the day key of the
// insights tables.
func dayNumber(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// countFollow records follows (delta > 0) or unfollows in the channel's day,
// with the follower count after them. Counts only: no account.
func (t *tx) countFollow(ctx context.Context, channelPK, delta, followers int64) error {
	follows, unfollows := max(delta, 0), max(-delta, 0)
	_, err := t.Exec(ctx, `INSERT INTO follow_days (channel_pk, day, follows, unfollows, followers) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (channel_pk, day) DO UPDATE SET follows = follow_days.follows + excluded.follows,
			unfollows = follow_days.unfollows + excluded.unfollows, followers = excluded.followers`,
		channelPK, dayNumber(t.now), follows, unfollows, followers)
	return err
}

// ViewableUpdates returns the live updates among ids that accountID may read.
func (db *DB) ViewableUpdates(ctx context.Context, accountID string, ids []string) ([]herald.ViewTarget, error) {
	if accountID == "" {
		return nil, errNoActor
	}
	out := []herald.ViewTarget{}
	if len(ids) == 0 {
		return out, nil
	}
	err := db.read(ctx, func(t *tx) error {
		rows, err := t.Query(ctx, `SELECT u.id, u.channel_id, u.created_at FROM updates u
			JOIN channels c ON c.id = u.channel_id
			WHERE u.id = ANY($1) AND u.expires_at > $2
			AND (c.listed
				OR EXISTS (SELECT 1 FROM follows f WHERE f.channel_id = c.id AND f.account_id = $3)
				OR EXISTS (SELECT 1 FROM channel_admins a WHERE a.channel_id = c.id AND a.account_id = $3))`,
			ids, t.now, accountID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (herald.ViewTarget, error) {
			var v herald.ViewTarget
			err := r.Scan(&v.UpdateID, &v.ChannelID, &v.CreatedAt)
			v.CreatedAt = v.CreatedAt.UTC()
			return v, err
		})
		return err
	})
	if out == nil {
		out = []herald.ViewTarget{}
	}
	return out, err
}

// MergeViews merges view and language sketches in one transaction; the row
// locks taken by the reads serialize merges of one update across nodes.
func (db *DB) MergeViews(ctx context.Context, views []herald.ViewDelta, langs []herald.LanguageDelta) error {
	return db.inTx(ctx, func(t *tx) error {
		for _, v := range views {
			delta, err := hll.Parse(v.Sketch)
			if err != nil {
				return err
			}
			var live bool
			if err := t.QueryRow(ctx, `SELECT expires_at > $2 FROM updates WHERE id = $1`, v.UpdateID, t.now).Scan(&live); errors.Is(err, pgx.ErrNoRows) || (err == nil && !live) {
				continue // deleted or expired since: its views go with it
			} else if err != nil {
				return err
			}
			if _, err := t.Exec(ctx, `INSERT INTO update_views (update_id, sketch, views) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`,
				v.UpdateID, make([]byte, hll.Size)); err != nil {
				return err
			}
			var old []byte
			var views int64
			if err := t.QueryRow(ctx, `SELECT sketch, views FROM update_views WHERE update_id = $1 FOR UPDATE`, v.UpdateID).Scan(&old, &views); err != nil {
				return err
			}
			sk, err := hll.Parse(old)
			if err != nil {
				return err
			}
			if !sk.Merge(delta) && v.Anonymous == 0 {
				continue
			}
			n := sk.Estimate()
			if _, err := t.Exec(ctx, `UPDATE update_views SET sketch = $2, views = $3, shown = $4, anonymous = anonymous + $5,
					dirty = dirty OR views <> $3 WHERE update_id = $1`,
				v.UpdateID, []byte(sk), n, herald.Suppress(n, db.insightsK), v.Anonymous); err != nil {
				return err
			}
		}
		for _, l := range langs {
			delta, err := hll.Parse(l.Sketch)
			if err != nil {
				return err
			}
			var pk int64
			if err := t.QueryRow(ctx, `SELECT pk FROM channels WHERE id = $1`, l.ChannelID).Scan(&pk); errors.Is(err, pgx.ErrNoRows) {
				continue
			} else if err != nil {
				return err
			}
			day := dayNumber(l.Day)
			if _, err := t.Exec(ctx, `INSERT INTO view_languages (channel_pk, day, lang, sketch) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
				pk, day, l.Lang, make([]byte, hll.Size)); err != nil {
				return err
			}
			var old []byte
			if err := t.QueryRow(ctx, `SELECT sketch FROM view_languages WHERE channel_pk = $1 AND day = $2 AND lang = $3 FOR UPDATE`, pk, day, l.Lang).Scan(&old); err != nil {
				return err
			}
			sk, err := hll.Parse(old)
			if err != nil {
				return err
			}
			if !sk.Merge(delta) {
				continue
			}
			if _, err := t.Exec(ctx, `UPDATE view_languages SET sketch = $4 WHERE channel_pk = $1 AND day = $2 AND lang = $3`, pk, day, l.Lang, []byte(sk)); err != nil {
				return err
			}
		}
		return nil
	})
}

// FlushViews appends one update.views event per live update whose count
// changed and is shown, and clears the flags in the same transaction. Rows
// being merged right now are skipped (left for the next flush).
func (db *DB) FlushViews(ctx context.Context) (int, error) {
	n := 0
	err := db.inTx(ctx, func(t *tx) error {
		n = 0
		rows, err := t.Query(ctx, `SELECT v.update_id, u.channel_id, v.shown, u.expires_at > $1 FROM update_views v
			JOIN updates u ON u.id = v.update_id
			WHERE v.dirty ORDER BY u.created_at, u.channel_id, u.seq LIMIT 1000 FOR UPDATE OF v SKIP LOCKED`, t.now)
		if err != nil {
			return err
		}
		type dirty struct {
			updateID, channelID string
			shown               *int64
			live                bool
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dirty, error) {
			var d dirty
			err := r.Scan(&d.updateID, &d.channelID, &d.shown, &d.live)
			return d, err
		})
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(list))
		for _, d := range list {
			ids = append(ids, d.updateID)
			if d.shown == nil || !d.live {
				continue
			}
			if err := t.appendEvent(ctx, herald.Event{Stream: d.channelID, Type: herald.EventUpdateViews, ChannelID: d.channelID,
				UpdateID: d.updateID, Counts: &herald.Counts{Views: d.shown}}); err != nil {
				return err
			}
			n++
		}
		_, err = t.Exec(ctx, `UPDATE update_views SET dirty = false WHERE update_id = ANY($1)`, ids)
		return err
	})
	return n, err
}

// pruneInsights erases daily figures older than insights report.
func (t *tx) pruneInsights(ctx context.Context) error {
	cutoff := dayNumber(t.now) - herald.InsightsDays - 1
	if _, err := t.Exec(ctx, `DELETE FROM view_languages WHERE day < $1`, cutoff); err != nil {
		return err
	}
	_, err := t.Exec(ctx, `DELETE FROM follow_days WHERE day < $1`, cutoff)
	return err
}

// ChannelInsights reads a channel's insights for one of its admins.
func (db *DB) ChannelInsights(ctx context.Context, accountID, channelID string) (*herald.ChannelInsights, error) {
	if accountID == "" {
		return nil, errNoActor
	}
	var out *herald.ChannelInsights
	err := db.read(ctx, func(t *tx) error {
		r, err := loadChannel(ctx, t, t.now, accountID, channelID, lockNone)
		if err != nil {
			return err
		}
		if err := r.rel.Admin(accountID); err != nil {
			return err
		}
		today := dayNumber(t.now)
		first := today - herald.InsightsDays + 1
		raw := storeutil.InsightsRaw{Followers: r.ch.FollowerCount}
		if err := t.QueryRow(ctx, `SELECT count(*) FROM follows f WHERE f.channel_id = $1 AND NOT f.muted
			AND EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.account_id = f.account_id)`, r.ch.ID).Scan(&raw.Notified); err != nil {
			return err
		}
		rows, err := t.Query(ctx, `SELECT day, follows, unfollows, followers FROM follow_days WHERE channel_pk = $1 AND day >= $2 ORDER BY day`, r.pk, first)
		if err != nil {
			return err
		}
		raw.Days, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storeutil.FollowDay, error) {
			var d storeutil.FollowDay
			var day int32
			err := row.Scan(&day, &d.Follows, &d.Unfollows, &d.Followers)
			d.Day = int64(day)
			return d, err
		})
		if err != nil {
			return err
		}
		rows, err = t.Query(ctx, `SELECT u.id, u.seq, u.created_at, coalesce(v.views, 0), coalesce(v.anonymous, 0),
			coalesce((SELECT sum(value::bigint) FROM jsonb_each_text(uc.reactions)), 0),
			CASE WHEN u.poll_question IS NULL THEN -1 ELSE uc.voters END
			FROM updates u JOIN update_counts uc ON uc.update_id = u.id LEFT JOIN update_views v ON v.update_id = u.id
			WHERE u.channel_id = $1 AND u.expires_at > $2 ORDER BY u.seq DESC LIMIT $3`, r.ch.ID, t.now, storeutil.InsightsUpdates)
		if err != nil {
			return err
		}
		raw.Updates, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storeutil.UpdateRaw, error) {
			var u storeutil.UpdateRaw
			err := row.Scan(&u.ID, &u.Seq, &u.CreatedAt, &u.Views, &u.Anonymous, &u.Reactions, &u.PollVoters)
			u.CreatedAt = u.CreatedAt.UTC()
			return u, err
		})
		if err != nil {
			return err
		}
		rows, err = t.Query(ctx, `SELECT day, lang, sketch FROM view_languages WHERE channel_pk = $1 AND day >= $2 ORDER BY day, lang`, r.pk, first)
		if err != nil {
			return err
		}
		raw.Languages, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storeutil.LanguageRaw, error) {
			var l storeutil.LanguageRaw
			var day int32
			var sketch []byte
			err := row.Scan(&day, &l.Lang, &sketch)
			l.Day, l.Viewers = int64(day), hll.Sketch(sketch).Estimate()
			return l, err
		})
		if err != nil {
			return err
		}
		out = raw.Insights(r.ch.ID, today, db.insightsK)
		return nil
	})
	return out, err
}
