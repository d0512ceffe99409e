package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald"
)

var errScheduledNotFound = herald.KindErrorf(herald.ENOTFOUND, "scheduled-not-found", "No such scheduled update.")

const scheduledSelect = `SELECT s.id, c.id, s.text, s.poll, s.publish_at, s.created_at FROM scheduled_updates s JOIN channels c ON c.pk = s.channel_pk `

func scanScheduled(sc scanner) (*herald.ScheduledUpdate, error) {
	var s herald.ScheduledUpdate
	var poll sql.NullString
	var at, created int64
	if err := sc.Scan(&s.ID, &s.ChannelID, &s.Text, &poll, &at, &created); err != nil {
		return nil, err
	}
	if poll.Valid {
		s.Poll = new(herald.Poll)
		if err := json.Unmarshal([]byte(poll.String), s.Poll); err != nil {
			return nil, err
		}
	}
	s.PublishAt, s.CreatedAt = fromNanos(at), fromNanos(created)
	return &s, nil
}

func pollJSON(p *herald.Poll) (any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

// ScheduleUpdate stores an update to publish later (admins and keys).
func (db *DB) ScheduleUpdate(ctx context.Context, actorID, channelID string, s *herald.ScheduledUpdate) error {
	text, refs, err := herald.NormalizeUpdateContent(s.Text, s.Media)
	if err != nil {
		return err
	}
	if s.Poll != nil && len(refs) > 0 {
		return herald.ErrPollWithMedia
	}
	if s.Poll != nil {
		if err := s.Poll.Normalize(); err != nil {
			return err
		}
	}
	poll, err := pollJSON(s.Poll)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if err := herald.ValidatePublishAt(s.PublishAt, tx.now); err != nil {
			return err
		}
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		return idempotentWrite(ctx, tx, func() error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM scheduled_updates WHERE channel_pk = ?`, r.pk).Scan(&n); err != nil {
				return err
			}
			if n >= herald.MaxScheduledPerChannel {
				return herald.KindErrorf(herald.ECONFLICT, "too-many-scheduled", "A channel has at most %d scheduled updates.", herald.MaxScheduledPerChannel)
			}
			id := herald.NewID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO scheduled_updates (id, channel_pk, text, poll, publish_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				id, r.pk, text, poll, nanos(s.PublishAt), nanos(tx.now)); err != nil {
				return err
			}
			// The uploads are attached to the scheduled update (its id), so
			// they are not erased as unattached; publishing moves them.
			if s.Media, err = attachMedia(ctx, tx, r.ch.ID, id, refs); err != nil {
				return err
			}
			s.ID, s.ChannelID, s.Text, s.CreatedAt = id, r.ch.ID, text, tx.now
			s.PublishAt = s.PublishAt.UTC()
			return nil
		})
	})
}

// ListScheduled returns the channel's scheduled updates, soonest first.
func (db *DB) ListScheduled(ctx context.Context, actorID, channelID string) ([]*herald.ScheduledUpdate, error) {
	out := []*herald.ScheduledUpdate{}
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		var r *chanRow
		var err error
		if keyID, ok := herald.KeyOfActor(actorID); ok {
			r, err = keyAccess(ctx, q, keyID, channelID)
		} else {
			r, err = loadAccess(ctx, q, actorID, channelID)
			if err == nil {
				err = r.rel.Admin(actorID)
			}
		}
		if err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, scheduledSelect+`WHERE s.channel_pk = ? ORDER BY s.publish_at, s.id`, r.pk)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanScheduled(rows)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return scheduledMedia(ctx, q, out...)
	})
	return out, err
}

// scheduledMedia fills the media of scheduled updates.
func scheduledMedia(ctx context.Context, q queryer, list ...*herald.ScheduledUpdate) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*herald.ScheduledUpdate, len(list))
	ids := make([]string, 0, len(list))
	for _, s := range list {
		s.Media = nil
		byID[s.ID] = s
		ids = append(ids, s.ID)
	}
	media, owners, err := queryMedia(ctx, q, `SELECT `+mediaCols+` FROM media m
		WHERE m.update_id IN (SELECT value FROM json_each(?)) ORDER BY m.update_id, m.position`, jsonList(ids))
	if err != nil {
		return err
	}
	signMedia(q, media)
	for i := range media {
		if s := byID[owners[i]]; s != nil {
			s.Media = append(s.Media, media[i])
		}
	}
	return nil
}

func (tx *Tx) scheduled(ctx context.Context, r *chanRow, id string) (*herald.ScheduledUpdate, error) {
	s, err := scanScheduled(tx.QueryRowContext(ctx, scheduledSelect+`WHERE s.id = ? AND s.channel_pk = ?`, id, r.pk))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errScheduledNotFound
	} else if err != nil {
		return nil, err
	}
	return s, scheduledMedia(ctx, tx, s)
}

// EditScheduled changes a scheduled update's text and/or time.
func (db *DB) EditScheduled(ctx context.Context, actorID, channelID, id string, text *string, publishAt *time.Time) (*herald.ScheduledUpdate, error) {
	if text != nil {
		t, err := herald.NormalizeEditText(*text)
		if err != nil {
			return nil, err
		}
		text = &t
	}
	var out *herald.ScheduledUpdate
	err := db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		s, err := tx.scheduled(ctx, r, id)
		if err != nil {
			return err
		}
		if text != nil {
			if *text == "" && len(s.Media) == 0 {
				return herald.ErrEmptyText
			}
			s.Text = *text
		}
		if publishAt != nil {
			if err := herald.ValidatePublishAt(*publishAt, tx.now); err != nil {
				return err
			}
			s.PublishAt = publishAt.UTC()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scheduled_updates SET text = ?, publish_at = ? WHERE id = ?`, s.Text, nanos(s.PublishAt), s.ID); err != nil {
			return err
		}
		out = s
		return nil
	})
	return out, err
}

// CancelScheduled deletes a scheduled update.
func (db *DB) CancelScheduled(ctx context.Context, actorID, channelID, id string) error {
	return db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM scheduled_updates WHERE id = ? AND channel_pk = ?`, id, r.pk)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errScheduledNotFound
		}
		return eraseAnswers(ctx, tx, []string{id})
	})
}

// publish turns a scheduled update into an update, in tx.
func (tx *Tx) publish(ctx context.Context, r *chanRow, s *herald.ScheduledUpdate) (*herald.Update, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM scheduled_updates WHERE id = ?`, s.ID); err != nil {
		return nil, err
	}
	if err := eraseAnswers(ctx, tx, []string{s.ID}); err != nil {
		return nil, err
	}
	u := &herald.Update{Text: s.Text, Poll: s.Poll}
	_, err := tx.insertUpdate(ctx, r, u, s.Text, nil, s.ID, nil)
	return u, err
}

// PublishScheduled publishes a scheduled update now.
func (db *DB) PublishScheduled(ctx context.Context, actorID, channelID, id string) (*herald.Update, error) {
	var out *herald.Update
	err := db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		s, err := tx.scheduled(ctx, r, id)
		if err != nil {
			return err
		}
		out, err = tx.publish(ctx, r, s)
		return err
	})
	return out, err
}

// PublishDue publishes scheduled updates whose time has come. SQLite has
// one writer, so each is published once.
func (db *DB) PublishDue(ctx context.Context, limit int) (int, error) {
	n := 0
	err := db.write(ctx, func(tx *Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, scheduledSelect+`WHERE s.publish_at <= ? ORDER BY s.publish_at, s.id LIMIT ?`, nanos(tx.now), limit)
		if err != nil {
			return err
		}
		var due []*herald.ScheduledUpdate
		var pks []int64
		for rows.Next() {
			s, err := scanScheduled(rows)
			if err != nil {
				rows.Close()
				return err
			}
			due = append(due, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, s := range due {
			var pk int64
			if err := tx.QueryRowContext(ctx, `SELECT pk FROM channels WHERE id = ?`, s.ChannelID).Scan(&pk); err != nil {
				return err
			}
			pks = append(pks, pk)
		}
		for i, s := range due {
			r := &chanRow{pk: pks[i]}
			r.ch.ID = s.ChannelID
			if _, err := tx.publish(ctx, r, s); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
