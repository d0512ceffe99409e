package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

var errScheduledNotFound = herald.KindErrorf(herald.ENOTFOUND, "scheduled-not-found", "No such scheduled update.")

const scheduledCols = `s.id, s.channel_id, s.text, s.poll, s.publish_at, s.created_at`

func scanScheduled(row pgx.Row) (*herald.ScheduledUpdate, error) {
	var s herald.ScheduledUpdate
	var poll []byte
	if err := row.Scan(&s.ID, &s.ChannelID, &s.Text, &poll, &s.PublishAt, &s.CreatedAt); err != nil {
		return nil, err
	}
	if poll != nil {
		s.Poll = new(herald.Poll)
		if err := json.Unmarshal(poll, s.Poll); err != nil {
			return nil, err
		}
	}
	s.PublishAt, s.CreatedAt = s.PublishAt.UTC(), s.CreatedAt.UTC()
	return &s, nil
}

func pollJSON(p *herald.Poll) ([]byte, error) {
	if p == nil {
		return nil, nil
	}
	return json.Marshal(p)
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
	return db.inTx(ctx, func(t *tx) error {
		if err := herald.ValidatePublishAt(s.PublishAt, t.now); err != nil {
			return err
		}
		// An update lock serializes scheduling on the channel, so the count holds.
		r, err := t.adminAccess(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		return t.idempotentWrite(ctx, func() error {
			var n int
			if err := t.QueryRow(ctx, `SELECT count(*) FROM scheduled_updates WHERE channel_id = $1`, r.ch.ID).Scan(&n); err != nil {
				return err
			}
			if n >= herald.MaxScheduledPerChannel {
				return herald.KindErrorf(herald.ECONFLICT, "too-many-scheduled", "A channel has at most %d scheduled updates.", herald.MaxScheduledPerChannel)
			}
			id := herald.NewID()
			if _, err := t.Exec(ctx, `INSERT INTO scheduled_updates (id, channel_id, text, poll, publish_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				id, r.ch.ID, text, poll, s.PublishAt, t.now); err != nil {
				return err
			}
			// The uploads are attached to the scheduled update (its id), so
			// they are not erased as unattached; publishing moves them.
			if s.Media, err = t.attachMedia(ctx, r.ch.ID, id, refs); err != nil {
				return err
			}
			s.ID, s.ChannelID, s.Text, s.CreatedAt = id, r.ch.ID, text, t.now
			s.PublishAt = s.PublishAt.UTC()
			return nil
		}, nil)
	})
}

// ListScheduled returns the channel's scheduled updates, soonest first.
func (db *DB) ListScheduled(ctx context.Context, actorID, channelID string) ([]*herald.ScheduledUpdate, error) {
	out := []*herald.ScheduledUpdate{}
	err := db.read(ctx, func(t *tx) error {
		var r *chanRow
		var err error
		if keyID, ok := herald.KeyOfActor(actorID); ok {
			r, err = keyAccess(ctx, t, keyID, channelID, lockNone)
		} else {
			r, err = loadAccess(ctx, t, actorID, channelID, lockNone)
			if err == nil {
				err = r.rel.Admin(actorID)
			}
		}
		if err != nil {
			return err
		}
		rows, err := t.Query(ctx, `SELECT `+scheduledCols+` FROM scheduled_updates s WHERE s.channel_id = $1 ORDER BY s.publish_at, s.id`, r.ch.ID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.ScheduledUpdate, error) { return scanScheduled(r) })
		if err != nil {
			return err
		}
		return scheduledMedia(ctx, t, db, out...)
	})
	return out, err
}

func (t *tx) scheduled(ctx context.Context, r *chanRow, id string) (*herald.ScheduledUpdate, error) {
	s, err := scanScheduled(t.QueryRow(ctx, `SELECT `+scheduledCols+` FROM scheduled_updates s WHERE s.id = $1 AND s.channel_id = $2 FOR UPDATE`, id, r.ch.ID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errScheduledNotFound
	} else if err != nil {
		return nil, err
	}
	return s, scheduledMedia(ctx, t, t.db, s)
}

// EditScheduled changes a scheduled update's text and/or time.
func (db *DB) EditScheduled(ctx context.Context, actorID, channelID, id string, text *string, publishAt *time.Time) (*herald.ScheduledUpdate, error) {
	if text != nil {
		tx, err := herald.NormalizeEditText(*text)
		if err != nil {
			return nil, err
		}
		text = &tx
	}
	var out *herald.ScheduledUpdate
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		s, err := t.scheduled(ctx, r, id)
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
			if err := herald.ValidatePublishAt(*publishAt, t.now); err != nil {
				return err
			}
			s.PublishAt = publishAt.UTC()
		}
		if _, err := t.Exec(ctx, `UPDATE scheduled_updates SET text = $1, publish_at = $2 WHERE id = $3`, s.Text, s.PublishAt, s.ID); err != nil {
			return err
		}
		out = s
		return nil
	})
	return out, err
}

// CancelScheduled deletes a scheduled update.
func (db *DB) CancelScheduled(ctx context.Context, actorID, channelID, id string) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		tag, err := t.Exec(ctx, `DELETE FROM scheduled_updates WHERE id = $1 AND channel_id = $2`, id, r.ch.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errScheduledNotFound
		}
		return t.eraseAnswers(ctx, []string{id})
	})
}

// publish turns a scheduled update (row locked) into an update, in t.
func (t *tx) publish(ctx context.Context, r *chanRow, s *herald.ScheduledUpdate) (*herald.Update, error) {
	if _, err := t.Exec(ctx, `DELETE FROM scheduled_updates WHERE id = $1`, s.ID); err != nil {
		return nil, err
	}
	if err := t.eraseAnswers(ctx, []string{s.ID}); err != nil {
		return nil, err
	}
	u := &herald.Update{Text: s.Text, Poll: s.Poll}
	return u, t.insertUpdate(ctx, r, u, s.Text, nil, s.ID)
}

// PublishScheduled publishes a scheduled update now.
func (db *DB) PublishScheduled(ctx context.Context, actorID, channelID, id string) (*herald.Update, error) {
	var out *herald.Update
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		s, err := t.scheduled(ctx, r, id)
		if err != nil {
			return err
		}
		out, err = t.publish(ctx, r, s)
		return err
	})
	return out, err
}

// PublishDue publishes scheduled updates whose time has come: the rows are
// taken FOR UPDATE SKIP LOCKED, so nodes calling it together share the
// work and each update is published by the one transaction that deletes
// its row.
func (db *DB) PublishDue(ctx context.Context, limit int) (int, error) {
	n := 0
	err := db.inTx(ctx, func(t *tx) error {
		n = 0
		rows, err := t.Query(ctx, `SELECT `+scheduledCols+` FROM scheduled_updates s WHERE s.publish_at <= $1
			ORDER BY s.publish_at, s.id LIMIT $2 FOR UPDATE SKIP LOCKED`, t.now, limit)
		if err != nil {
			return err
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.ScheduledUpdate, error) { return scanScheduled(r) })
		if err != nil {
			return err
		}
		for _, s := range due {
			r := &chanRow{}
			// Key-share lock, as a post takes: the channel can't be deleted under us.
			if err := t.QueryRow(ctx, `SELECT pk, id FROM channels WHERE id = $1 FOR KEY SHARE`, s.ChannelID).Scan(&r.pk, &r.ch.ID); err != nil {
				return err
			}
			if _, err := t.publish(ctx, r, s); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
