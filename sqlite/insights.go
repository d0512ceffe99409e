package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/hll"
	"github.com/heraldhq/herald/internal/storeutil"
)

// dayNumber is t's UTC day as days since 1970-01-01, the day key of the
// insights tables.
func dayNumber(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// countFollow records a follow (delta 1) or unfollow (-1) in the channel's
// day, with the follower count after it. Counts only: no account.
func (tx *Tx) countFollow(ctx context.Context, channelPK, delta, followers int64) error {
	follows, unfollows := int64(0), int64(0)
	if delta > 0 {
		follows = delta
	} else {
		unfollows = -delta
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO follow_days (channel_pk, day, follows, unfollows, followers) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (channel_pk, day) DO UPDATE SET follows = follows + excluded.follows,
			unfollows = unfollows + excluded.unfollows, followers = excluded.followers`,
		channelPK, dayNumber(tx.now), follows, unfollows, followers)
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
	// db.view: prepared once, this runs for every view report.
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		rows, err := tx.QueryContext(ctx, `SELECT u.id, c.id, u.created_at FROM updates u
			JOIN channels c ON c.pk = u.channel_pk
			WHERE u.id IN (SELECT value FROM json_each(?1)) AND u.expires_at > ?2
			AND (c.listed = 1
				OR EXISTS (SELECT 1 FROM follows f WHERE f.channel_pk = c.pk AND f.account_id = ?3)
				OR EXISTS (SELECT 1 FROM admins a WHERE a.channel_pk = c.pk AND a.account_id = ?3))`,
			jsonList(ids), nanos(now), accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t herald.ViewTarget
			var created int64
			if err := rows.Scan(&t.UpdateID, &t.ChannelID, &created); err != nil {
				return err
			}
			t.CreatedAt = fromNanos(created)
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// MergeViews merges view and language sketches in one transaction.
func (db *DB) MergeViews(ctx context.Context, views []herald.ViewDelta, langs []herald.LanguageDelta) error {
	k := storeutil.Threshold(db.cfg)
	return db.write(ctx, func(tx *Tx) error {
		for _, v := range views {
			delta, err := hll.Parse(v.Sketch)
			if err != nil {
				return err
			}
			var pk int64
			var old []byte
			err = tx.QueryRowContext(ctx, `SELECT u.pk, v.sketch FROM updates u LEFT JOIN update_views v ON v.update_pk = u.pk
				WHERE u.id = ? AND u.expires_at > ?`, v.UpdateID, nanos(tx.now)).Scan(&pk, &old)
			if err == sql.ErrNoRows {
				continue // deleted or expired since: its views go with it
			} else if err != nil {
				return err
			}
			sk, err := hll.Parse(old)
			if err != nil {
				return err
			}
			if !sk.Merge(delta) && old != nil && v.Anonymous == 0 {
				continue
			}
			n := sk.Estimate()
			if _, err := tx.ExecContext(ctx, `INSERT INTO update_views (update_pk, sketch, views, shown, anonymous, dirty) VALUES (?1, ?2, ?3, ?4, ?5, 1)
				ON CONFLICT (update_pk) DO UPDATE SET sketch = ?2, views = ?3, shown = ?4, anonymous = update_views.anonymous + ?5,
					dirty = CASE WHEN update_views.views = ?3 THEN update_views.dirty ELSE 1 END`,
				pk, []byte(sk), n, nullInt(herald.Suppress(n, k)), v.Anonymous); err != nil {
				return err
			}
		}
		for _, l := range langs {
			delta, err := hll.Parse(l.Sketch)
			if err != nil {
				return err
			}
			var pk int64
			var old []byte
			err = tx.QueryRowContext(ctx, `SELECT c.pk, v.sketch FROM channels c
				LEFT JOIN view_languages v ON v.channel_pk = c.pk AND v.day = ?2 AND v.lang = ?3
				WHERE c.id = ?1`, l.ChannelID, dayNumber(l.Day), l.Lang).Scan(&pk, &old)
			if err == sql.ErrNoRows {
				continue
			} else if err != nil {
				return err
			}
			sk, err := hll.Parse(old)
			if err != nil {
				return err
			}
			if !sk.Merge(delta) && old != nil {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO view_languages (channel_pk, day, lang, sketch) VALUES (?1, ?2, ?3, ?4)
				ON CONFLICT (channel_pk, day, lang) DO UPDATE SET sketch = ?4`, pk, dayNumber(l.Day), l.Lang, []byte(sk)); err != nil {
				return err
			}
		}
		return nil
	})
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// FlushViews appends one update.views event per live update whose count
// changed and is shown, and clears the flags in the same transaction.
func (db *DB) FlushViews(ctx context.Context) (int, error) {
	n := 0
	err := db.write(ctx, func(tx *Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, `SELECT u.id, c.id, v.shown FROM update_views v
			JOIN updates u ON u.pk = v.update_pk JOIN channels c ON c.pk = u.channel_pk
			WHERE v.dirty = 1 AND v.shown IS NOT NULL AND u.expires_at > ? ORDER BY v.update_pk`, nanos(tx.now))
		if err != nil {
			return err
		}
		var evs []herald.Event
		for rows.Next() {
			var ev herald.Event
			var shown int64
			if err := rows.Scan(&ev.UpdateID, &ev.ChannelID, &shown); err != nil {
				rows.Close()
				return err
			}
			ev.Stream, ev.Type, ev.Counts = ev.ChannelID, herald.EventUpdateViews, &herald.Counts{Views: &shown}
			evs = append(evs, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, ev := range evs {
			if err := tx.appendEvent(ctx, ev); err != nil {
				return err
			}
			n++
		}
		_, err = tx.ExecContext(ctx, `UPDATE update_views SET dirty = 0 WHERE dirty = 1`)
		return err
	})
	return n, err
}

// pruneInsights erases daily figures older than insights report.
func pruneInsights(ctx context.Context, tx *Tx) error {
	cutoff := dayNumber(tx.now) - herald.InsightsDays - 1
	if _, err := tx.ExecContext(ctx, `DELETE FROM view_languages WHERE day < ?`, cutoff); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM follow_days WHERE day < ?`, cutoff)
	return err
}

// ChannelInsights reads a channel's insights for one of its admins.
func (db *DB) ChannelInsights(ctx context.Context, accountID, channelID string) (*herald.ChannelInsights, error) {
	if accountID == "" {
		return nil, errNoActor
	}
	k := storeutil.Threshold(db.cfg)
	var out *herald.ChannelInsights
	err := db.read(ctx, func(tx *sql.Tx, now time.Time) error {
		r, err := loadChannel(ctx, tx, now, accountID, channelID)
		if err != nil {
			return err
		}
		if err := r.rel.Admin(accountID); err != nil {
			return err
		}
		today := dayNumber(now)
		first := today - herald.InsightsDays + 1
		var raw storeutil.InsightsRaw
		raw.Followers = r.ch.FollowerCount
		if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT f.account_id) FROM follows f
			WHERE f.channel_pk = ? AND f.muted = 0 AND EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.account_id = f.account_id)`,
			r.pk).Scan(&raw.Notified); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT day, follows, unfollows, followers FROM follow_days
			WHERE channel_pk = ? AND day >= ? ORDER BY day`, r.pk, first)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d storeutil.FollowDay
			if err := rows.Scan(&d.Day, &d.Follows, &d.Unfollows, &d.Followers); err != nil {
				rows.Close()
				return err
			}
			raw.Days = append(raw.Days, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT u.id, u.seq, u.created_at, coalesce(v.views, 0), coalesce(v.anonymous, 0),
			coalesce((SELECT sum(count) FROM reaction_counts rc WHERE rc.update_pk = u.pk), 0),
			CASE WHEN u.poll_question IS NULL THEN -1 ELSE u.poll_voters END
			FROM updates u LEFT JOIN update_views v ON v.update_pk = u.pk
			WHERE u.channel_pk = ? AND u.expires_at > ? ORDER BY u.seq DESC LIMIT ?`, r.pk, nanos(now), storeutil.InsightsUpdates)
		if err != nil {
			return err
		}
		for rows.Next() {
			var u storeutil.UpdateRaw
			var created int64
			if err := rows.Scan(&u.ID, &u.Seq, &created, &u.Views, &u.Anonymous, &u.Reactions, &u.PollVoters); err != nil {
				rows.Close()
				return err
			}
			u.CreatedAt = fromNanos(created)
			raw.Updates = append(raw.Updates, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT day, lang, sketch FROM view_languages WHERE channel_pk = ? AND day >= ? ORDER BY day, lang`, r.pk, first)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l storeutil.LanguageRaw
			var sketch []byte
			if err := rows.Scan(&l.Day, &l.Lang, &sketch); err != nil {
				return err
			}
			l.Viewers = hll.Sketch(sketch).Estimate()
			raw.Languages = append(raw.Languages, l)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		out = raw.Insights(r.ch.ID, today, k)
		return nil
	})
	return out, err
}
