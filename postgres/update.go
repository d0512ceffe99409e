package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// updateCols selects an update with its public counts and viewer $1's own
// reaction and votes; used as "SELECT updateCols FROM updateFrom WHERE ...".
const updateCols = `u.id, u.channel_id, u.seq, u.text, u.created_at, u.edited_at, u.expires_at,
	u.poll_question, u.poll_multiple, u.poll_options, uc.voters, uc.reactions, uc.votes,
	r.emoji, v.options, vw.shown, coalesce(u.signature, ''), coalesce(u.key_id, ''), u.pinned_at IS NOT NULL, ` + updateMediaCol + `, ` + updatePreviewCol

// updateJoins adds an update's counts and the viewer's ($1) own reaction
// and votes to the updates aliased u.
const updateJoins = `
	JOIN update_counts uc ON uc.update_id = u.id
	LEFT JOIN reactions r ON r.update_id = u.id AND r.account_id = $1
	LEFT JOIN votes v ON v.update_id = u.id AND v.account_id = $1
	LEFT JOIN update_views vw ON vw.update_id = u.id`

const updateFrom = `updates u` + updateJoins

func scanUpdate(row pgx.Row, extra ...any) (*herald.Update, error) {
	var u herald.Update
	var question *string
	var multiple bool
	var options []string
	var voters int64
	var pollCounts []int64
	var reaction *string
	var votes []int32
	var media, preview []byte
	err := row.Scan(append(extra, &u.ID, &u.ChannelID, &u.Seq, &u.Text, &u.CreatedAt, &u.EditedAt, &u.ExpiresAt,
		&question, &multiple, &options, &voters, &u.Reactions, &pollCounts, &reaction, &votes, &u.Views, &u.Signature, &u.KeyID, &u.Pinned, &media, &preview)...)
	if err != nil {
		return nil, err
	}
	if u.Media, err = decodeUpdateMedia(media); err != nil {
		return nil, err
	}
	if u.LinkPreview, err = decodePreview(preview); err != nil {
		return nil, err
	}
	u.CreatedAt, u.ExpiresAt = u.CreatedAt.UTC(), u.ExpiresAt.UTC()
	if u.EditedAt != nil {
		e := u.EditedAt.UTC()
		u.EditedAt = &e
	}
	if u.Reactions == nil {
		u.Reactions = map[string]int64{}
	}
	if question != nil {
		p := &herald.Poll{Question: *question, Multiple: multiple, Voters: voters, Options: make([]herald.PollOption, len(options))}
		for i, o := range options {
			p.Options[i].Text = o
			if i < len(pollCounts) {
				p.Options[i].Votes = pollCounts[i]
			}
		}
		u.Poll = p
	}
	u.Viewer.Reaction = reaction
	u.Viewer.Votes = make([]int, len(votes))
	for i, v := range votes {
		u.Viewer.Votes[i] = int(v)
	}
	return &u, nil
}

// loadUpdate reads a live update of the channel as viewerID sees it.
func loadUpdate(ctx context.Context, q querier, now time.Time, viewerID, channelID, updateID string) (*herald.Update, error) {
	u, err := scanUpdate(q.QueryRow(ctx, `SELECT `+updateCols+` FROM `+updateFrom+`
		WHERE u.id = $2 AND u.channel_id = $3 AND u.expires_at > $4`, viewerID, updateID, channelID, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errUpdateNotFound
	}
	if t, ok := q.(*tx); ok && u != nil {
		t.db.signUpdateMedia(u)
	}
	return u, err
}

// CreateUpdate posts an update (admins only) and appends update.created.
func (db *DB) CreateUpdate(ctx context.Context, actorID, channelID string, u *herald.Update) error {
	text, refs, err := herald.NormalizeUpdateContent(u.Text, u.Media)
	if err != nil {
		return err
	}
	if u.Poll != nil && len(refs) > 0 {
		return herald.ErrPollWithMedia
	}
	if u.Poll != nil {
		if err := u.Poll.Normalize(); err != nil {
			return err
		}
	}
	return db.inTx(ctx, func(t *tx) error {
		// Key-share lock on the channel: it can't be deleted under us, and
		// posting doesn't wait for follows.
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		return t.idempotentWrite(ctx, func() error { return t.insertUpdate(ctx, r, u, text, refs, "") }, u)
	})
}

// insertUpdate posts a validated update (text normalized) on the channel r
// (key-share locked) and appends update.created: the one path of a post,
// immediate or scheduled, with retention counted from now. Its media are
// the uploads refs, or the media of the scheduled update fromScheduled.
func (t *tx) insertUpdate(ctx context.Context, r *chanRow, u *herald.Update, text string, refs []herald.MediaRef, fromScheduled string) error {
	// A suspended channel posts nothing, scheduled updates included.
	if err := refuseSuspended(ctx, t, r.pk); err != nil {
		return err
	}
	id := herald.NewID()
	expires := t.now.Add(t.db.retention)
	// Media rows before the stream head, as FinishMedia locks them.
	var err error
	if fromScheduled != "" {
		u.Media, err = t.moveMedia(ctx, fromScheduled, id)
	} else {
		u.Media, err = t.attachMedia(ctx, r.ch.ID, id, refs)
	}
	if err != nil {
		return err
	}
	var question *string
	var options []string
	var votes []int64 // NULL without a poll
	multiple := false
	if u.Poll != nil {
		question, multiple = &u.Poll.Question, u.Poll.Multiple
		votes = make([]int64, len(u.Poll.Options))
		for i, o := range u.Poll.Options {
			options = append(options, o.Text)
			u.Poll.Options[i].Votes = 0
		}
	}
	// One statement, so the locks it takes (the channel's update and
	// stream heads) are held for one round trip and the commit only.
	// It also logs the directory activity: today's old value for walks
	// in progress, then the post in the 7 windows containing today.
	var seq, evSeq int64
	err = t.QueryRow(ctx, `WITH
		seq AS (UPDATE update_heads SET seq = seq + 1 WHERE channel_id = $1 RETURNING seq),
		ins AS (INSERT INTO updates (id, channel_id, seq, text, poll_question, poll_multiple, poll_options, created_at, expires_at)
			SELECT $2, $1, seq, $3, $4, $5, $6, $7, $8 FROM seq RETURNING seq),
		cnt AS (INSERT INTO update_counts (update_id, votes) VALUES ($2, $9)),
		log AS (INSERT INTO directory_changes (channel_pk, kind, day, old_value)
			SELECT $10, 1, $11, coalesce((SELECT n FROM directory_activity WHERE channel_pk = $10 AND day = $11), 0)),
		act AS (INSERT INTO directory_activity (channel_pk, day, n)
			SELECT $10, $11::bigint + d, 1 FROM generate_series(0, 6) d
			ON CONFLICT (channel_pk, day) DO UPDATE SET n = directory_activity.n + 1),
		head AS (INSERT INTO stream_heads (stream, seq) VALUES ($1, 1)
			ON CONFLICT (stream) DO UPDATE SET seq = stream_heads.seq + 1 RETURNING seq),
		ev AS (INSERT INTO events (stream, seq, type, channel_id, update_id, created_at)
			SELECT $1, seq, $12, $1, $2, $7 FROM head),
		job AS (INSERT INTO push_jobs (update_id, created_at) SELECT $2, $7 FROM ins)
		SELECT (SELECT seq FROM ins), (SELECT seq FROM head)`,
		r.ch.ID, id, text, question, multiple, options, t.now, expires, votes, r.pk, dayOf(t.now),
		herald.EventUpdateCreated).Scan(&seq, &evSeq)
	if err != nil {
		return err
	}
	if err := t.queuePreview(ctx, id, text); err != nil {
		return err
	}
	u.ID, u.ChannelID, u.Seq, u.Text = id, r.ch.ID, seq, text
	u.CreatedAt, u.ExpiresAt, u.EditedAt = t.now, expires, nil
	if err := t.signUpdate(ctx, u, "", nil); err != nil {
		return err
	}
	u.Reactions = map[string]int64{}
	u.Viewer = herald.UpdateViewer{Votes: []int{}}
	t.events = append(t.events, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateCreated, ChannelID: r.ch.ID,
		Seq: evSeq, UpdateID: id, Update: u.Public(), CreatedAt: t.now})
	return nil
}

// FindUpdate returns a live update with counts and the viewer's own interactions.
func (db *DB) FindUpdate(ctx context.Context, viewerID, channelID, updateID string) (*herald.Update, error) {
	var u *herald.Update
	err := db.readChannel(ctx, viewerID, channelID, func(rows pgx.Rows) (err error) {
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return errUpdateNotFound
		}
		u, err = db.signed(scanUpdate(rows))
		return err
	}, `SELECT `+updateCols+` FROM `+updateFrom+` WHERE u.id = $2 AND u.channel_id = $3 AND u.expires_at > $4`,
		viewerID, updateID, channelID, db.now())
	return u, err
}

// ListUpdates returns live updates newest first.
func (db *DB) ListUpdates(ctx context.Context, viewerID, channelID string, before int64, limit int) ([]*herald.Update, error) {
	if limit <= 0 {
		limit = herald.DefaultUpdatesLimit
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	list := []*herald.Update{}
	err := db.readChannel(ctx, viewerID, channelID, func(rows pgx.Rows) (err error) {
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Update, error) { return db.signed(scanUpdate(r)) })
		return err
	}, `SELECT `+updateCols+`
		FROM (SELECT * FROM updates WHERE channel_id = $2 AND seq < $3 AND expires_at > $4
			ORDER BY seq DESC LIMIT $5) u`+updateJoins+`
		ORDER BY u.seq DESC`, viewerID, channelID, before, db.now(), limit)
	// The page is cut before the joins: with statistics that still think a
	// channel small (a new channel posting fast, a table not yet analyzed)
	// the planner sorts the channel's rows instead of walking the (channel,
	// seq) index backwards, and it must not also join every one of them
	// (7 ms against 0.8 ms for a page of a 1,500-update channel).
	return list, err
}

// readChannel checks that the channel is visible to viewerID and runs one
// query about it, both sent in one round trip (a pipelined batch: one
// implicit transaction). read sees the query's rows only if the check passed.
func (db *DB) readChannel(ctx context.Context, viewerID, channelID string, read func(pgx.Rows) error, query string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT c.listed OR f.account_id IS NOT NULL OR adm.account_id IS NOT NULL FROM `+channelFrom+`
		WHERE c.id = $2`, viewerID, channelID)
	b.Queue(query, args...)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	var visible bool
	if err := br.QueryRow().Scan(&visible); errors.Is(err, pgx.ErrNoRows) || err == nil && !visible {
		return errChannelNotFound
	} else if err != nil {
		return mapError(err)
	}
	rows, err := br.Query()
	if err != nil {
		return mapError(err)
	}
	defer rows.Close()
	if err := read(rows); err != nil {
		return mapError(err)
	}
	rows.Close()
	return mapError(rows.Err())
}

// EditUpdate replaces the text of a live update (admins) and appends update.edited.
func (db *DB) EditUpdate(ctx context.Context, actorID, channelID, updateID, text string) (*herald.Update, error) {
	text, err := herald.NormalizeEditText(text)
	if err != nil {
		return nil, err
	}
	var u *herald.Update
	err = db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		tag, err := t.Exec(ctx, `UPDATE updates SET text = $4, edited_at = $3
			WHERE id = $1 AND channel_id = $2 AND expires_at > $3`, updateID, r.ch.ID, t.now, text)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errUpdateNotFound
		}
		if err := t.editPreview(ctx, updateID, text); err != nil {
			return err
		}
		if u, err = loadUpdate(ctx, t, t.now, actorID, r.ch.ID, updateID); err != nil {
			return err
		}
		if text == "" && len(u.Media) == 0 {
			return herald.ErrEmptyText // rolls the edit back
		}
		if err := t.signUpdate(ctx, u, "", nil); err != nil {
			return err
		}
		if err := t.queueEditPush(ctx, updateID, u.CreatedAt); err != nil {
			return err
		}
		return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateEdited, ChannelID: r.ch.ID,
			UpdateID: updateID, Update: u.Public()})
	})
	return u, err
}

// DeleteUpdate erases a live update with its reactions, votes and past
// events (admins), and appends update.deleted.
func (db *DB) DeleteUpdate(ctx context.Context, actorID, channelID, updateID string) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		// The counter header before the stream head: FlushCounts' lock order.
		if _, err := t.lockLiveUpdate(ctx, r.ch.ID, updateID); err != nil {
			return err
		}
		if err := t.eraseUpdates(ctx, []string{updateID}); err != nil {
			return err
		}
		return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateDeleted, ChannelID: r.ch.ID,
			UpdateID: updateID})
	})
}

// eraseUpdates deletes updates and, through foreign keys, their counters,
// reactions and votes, plus the events that name them.
func (t *tx) eraseUpdates(ctx context.Context, ids []string) error {
	if _, err := t.Exec(ctx, `DELETE FROM events WHERE update_id = ANY($1)`, ids); err != nil {
		return err
	}
	if err := t.eraseAnswers(ctx, ids); err != nil {
		return err
	}
	_, err := t.Exec(ctx, `DELETE FROM updates WHERE id = ANY($1)`, ids)
	return err
}
