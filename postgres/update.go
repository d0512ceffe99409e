package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// updateCols selects an update with its public counts and viewer $1's own
// reaction and votes; used as "SELECT updateCols FROM updateFrom WHERE ...".
const updateCols = `u.id, u.channel_id, u.seq, u.text, u.created_at, u.edited_at, u.expires_at,
	u.poll_question, u.poll_multiple, u.poll_options, uc.voters, uc.reactions, uc.votes,
	r.emoji, v.options`

// updateJoins adds an update's counts and the viewer's ($1) own reaction
// and votes to the updates aliased u.
const updateJoins = `
	JOIN update_counts uc ON uc.update_id = u.id
	LEFT JOIN reactions r ON r.update_id = u.id AND r.account_id = $1
	LEFT JOIN votes v ON v.update_id = u.id AND v.account_id = $1`

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
	err := row.Scan(append(extra, &u.ID, &u.ChannelID, &u.Seq, &u.Text, &u.CreatedAt, &u.EditedAt, &u.ExpiresAt,
		&question, &multiple, &options, &voters, &u.Reactions, &pollCounts, &reaction, &votes)...)
	if err != nil {
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
	return u, err
}

// CreateUpdate posts an update (admins only) and appends update.created.
func (db *DB) CreateUpdate(ctx context.Context, actorID, channelID string, u *herald.Update) error {
	text, err := herald.NormalizeUpdateText(u.Text)
	if err != nil {
		return err
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
		id := newID()
		expires := t.now.Add(t.db.retention)
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
				SELECT $1, seq, $12, $1, $2, $7 FROM head)
			SELECT (SELECT seq FROM ins), (SELECT seq FROM head)`,
			r.ch.ID, id, text, question, multiple, options, t.now, expires, votes, r.pk, dayOf(t.now),
			herald.EventUpdateCreated).Scan(&seq, &evSeq)
		if err != nil {
			return err
		}
		u.ID, u.ChannelID, u.Seq, u.Text = id, r.ch.ID, seq, text
		u.CreatedAt, u.ExpiresAt, u.EditedAt = t.now, expires, nil
		u.Reactions = map[string]int64{}
		u.Viewer = herald.UpdateViewer{Votes: []int{}}
		t.events = append(t.events, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateCreated, ChannelID: r.ch.ID,
			Seq: evSeq, UpdateID: id, Update: eventUpdate(u), CreatedAt: t.now})
		return nil
	})
}

// eventUpdate is the copy of an update an event carries: no viewer, and
// nothing shared with the caller's copy.
func eventUpdate(u *herald.Update) *herald.Update {
	c := *u
	c.Viewer = herald.UpdateViewer{}
	c.Reactions = make(map[string]int64, len(u.Reactions))
	for k, v := range u.Reactions {
		c.Reactions[k] = v
	}
	if u.Poll != nil {
		p := *u.Poll
		p.Options = append([]herald.PollOption(nil), u.Poll.Options...)
		c.Poll = &p
	}
	return &c
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
		u, err = scanUpdate(rows)
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
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Update, error) { return scanUpdate(r) })
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
	text, err := herald.NormalizeUpdateText(text)
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
		if u, err = loadUpdate(ctx, t, t.now, actorID, r.ch.ID, updateID); err != nil {
			return err
		}
		return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateEdited, ChannelID: r.ch.ID,
			UpdateID: updateID, Update: eventUpdate(u)})
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
	_, err := t.Exec(ctx, `DELETE FROM updates WHERE id = ANY($1)`, ids)
	return err
}

// liveUpdate is what a reaction or vote needs to know about its update.
type liveUpdate struct {
	question *string
	multiple bool
	options  []string
}

// lockLiveUpdate locks a live update's counter header: every change to its
// counts holds this lock, so they are serialized and exact.
func (t *tx) lockLiveUpdate(ctx context.Context, channelID, updateID string) (*liveUpdate, error) {
	var lu liveUpdate
	err := t.QueryRow(ctx, `SELECT u.poll_question, u.poll_multiple, u.poll_options
		FROM update_counts uc JOIN updates u ON u.id = uc.update_id
		WHERE uc.update_id = $1 AND u.channel_id = $2 AND u.expires_at > $3 FOR UPDATE OF uc`,
		updateID, channelID, t.now).Scan(&lu.question, &lu.multiple, &lu.options)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errUpdateNotFound
	}
	return &lu, err
}

// interaction checks that accountID may react or vote (a follower or an
// admin of the visible channel) and locks the live update's counter header.
func (t *tx) interaction(ctx context.Context, accountID, channelID, updateID string) (*chanRow, *liveUpdate, error) {
	if accountID == "" {
		return nil, nil, errNoActor
	}
	r, err := loadAccess(ctx, t, accountID, channelID, lockNone)
	if err != nil {
		return nil, nil, err
	}
	if !r.following && !r.isAdmin() {
		return nil, nil, herald.KindErrorf(herald.EFORBIDDEN, "not-follower", "Follow the channel to react or vote.")
	}
	lu, err := t.lockLiveUpdate(ctx, r.ch.ID, updateID)
	if err != nil {
		return nil, nil, err
	}
	return r, lu, nil
}

// SetReaction sets the account's one reaction to an update.
func (db *DB) SetReaction(ctx context.Context, accountID, channelID, updateID, emoji string) (*herald.Update, error) {
	if emoji == "" {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-emoji", "Reaction must be one emoji.")
	}
	var u *herald.Update
	err := db.inTx(ctx, func(t *tx) error {
		r, _, err := t.interaction(ctx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
		switch r.ch.Reactions {
		case herald.ReactionsNone:
			return herald.KindErrorf(herald.EFORBIDDEN, "reactions-disabled", "This channel does not accept reactions.")
		case herald.ReactionsDefault:
			if !slices.Contains(herald.DefaultReactions, emoji) {
				return herald.KindErrorf(herald.EFORBIDDEN, "reaction-not-allowed", "This channel accepts only %v.", herald.DefaultReactions)
			}
		}
		// One statement under the header lock (taken by interaction): swap
		// the reaction, move the counts, mark them dirty, and read the
		// update back with its new counts. The lock is held for this round
		// trip and the commit only.
		var newCounts map[string]int64
		u, err = scanUpdate(t.QueryRow(ctx, `WITH
			prev AS (SELECT emoji FROM reactions WHERE update_id = $2 AND account_id = $1),
			chg AS (SELECT (SELECT emoji FROM prev) IS DISTINCT FROM $3::text AS yes),
			up AS (INSERT INTO reactions (update_id, account_id, emoji) SELECT $2, $1, $3 FROM chg WHERE yes
				ON CONFLICT (update_id, account_id) DO UPDATE SET emoji = excluded.emoji),
			cnt AS (UPDATE update_counts SET reactions = add_reaction(add_reaction(reactions, (SELECT emoji FROM prev), -1), $3, 1),
				reactions_dirty = true WHERE update_id = $2 AND (SELECT yes FROM chg) RETURNING reactions)
			SELECT (SELECT reactions FROM cnt), `+updateCols+` FROM `+updateFrom+` WHERE u.id = $2`,
			accountID, updateID, emoji), &newCounts)
		if err != nil {
			return err
		}
		if newCounts != nil {
			u.Reactions = newCounts
		}
		e := emoji
		u.Viewer.Reaction = &e
		return nil
	})
	return u, err
}

// RemoveReaction removes the account's reaction (idempotent).
func (db *DB) RemoveReaction(ctx context.Context, accountID, channelID, updateID string) (*herald.Update, error) {
	var u *herald.Update
	err := db.inTx(ctx, func(t *tx) error {
		if _, _, err := t.interaction(ctx, accountID, channelID, updateID); err != nil {
			return err
		}
		var newCounts map[string]int64
		var err error
		u, err = scanUpdate(t.QueryRow(ctx, `WITH
			del AS (DELETE FROM reactions WHERE update_id = $2 AND account_id = $1 RETURNING emoji),
			cnt AS (UPDATE update_counts SET reactions = add_reaction(reactions, (SELECT emoji FROM del), -1),
				reactions_dirty = true WHERE update_id = $2 AND EXISTS (SELECT 1 FROM del) RETURNING reactions)
			SELECT (SELECT reactions FROM cnt), `+updateCols+` FROM `+updateFrom+` WHERE u.id = $2`,
			accountID, updateID), &newCounts)
		if err != nil {
			return err
		}
		if newCounts != nil {
			u.Reactions = newCounts
		}
		u.Viewer.Reaction = nil
		return nil
	})
	return u, err
}

// Vote sets the account's vote in the update's poll.
func (db *DB) Vote(ctx context.Context, accountID, channelID, updateID string, options []int) (*herald.Update, error) {
	return db.vote(ctx, accountID, channelID, updateID, options, false)
}

// RetractVote removes the account's vote (idempotent).
func (db *DB) RetractVote(ctx context.Context, accountID, channelID, updateID string) (*herald.Update, error) {
	return db.vote(ctx, accountID, channelID, updateID, nil, true)
}

func (db *DB) vote(ctx context.Context, accountID, channelID, updateID string, options []int, retract bool) (*herald.Update, error) {
	var u *herald.Update
	err := db.inTx(ctx, func(t *tx) error {
		r, lu, err := t.interaction(ctx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
		if lu.question == nil {
			return errNoPoll
		}
		if !retract {
			poll := &herald.Poll{Multiple: lu.multiple, Options: make([]herald.PollOption, len(lu.options))}
			if err := poll.ValidateVote(options); err != nil {
				return err
			}
		}
		// Read under the header lock, so the old vote and the counts are
		// current; the change is applied to this copy after the write.
		if u, err = loadUpdate(ctx, t, t.now, accountID, r.ch.ID, updateID); err != nil {
			return err
		}
		return t.setVotes(ctx, u, accountID, options)
	})
	return u, err
}

// setVotes replaces the account's votes in u's poll with options (nil
// retracts), keeping every option's count and the voters count exact, and
// applies the change to u. The caller holds the update's header lock.
func (t *tx) setVotes(ctx context.Context, u *herald.Update, accountID string, options []int) error {
	old := slices.Clone(u.Viewer.Votes)
	slices.Sort(old)
	options = slices.Clone(options)
	slices.Sort(options)
	if slices.Equal(old, options) {
		return nil
	}
	delta := map[int]int64{}
	for _, o := range old {
		delta[o]--
	}
	for _, o := range options {
		delta[o]++
	}
	counts := make([]int64, len(u.Poll.Options))
	for o := range u.Poll.Options {
		u.Poll.Options[o].Votes += delta[o]
		counts[o] = u.Poll.Options[o].Votes
	}
	var voters int64
	switch {
	case len(old) == 0:
		voters = 1
	case len(options) == 0:
		voters = -1
	}
	u.Poll.Voters += voters
	if options == nil {
		options = []int{}
	}
	u.Viewer.Votes = options
	// u was read under the header lock, so its counts plus the change are
	// the new counts.
	var err error
	if len(options) == 0 {
		_, err = t.Exec(ctx, `WITH v AS (DELETE FROM votes WHERE update_id = $1 AND account_id = $2)
			UPDATE update_counts SET votes = $3, voters = $4, poll_dirty = true WHERE update_id = $1`,
			u.ID, accountID, counts, u.Poll.Voters)
	} else {
		_, err = t.Exec(ctx, `WITH v AS (INSERT INTO votes (update_id, account_id, options) VALUES ($1, $2, $5)
				ON CONFLICT (update_id, account_id) DO UPDATE SET options = excluded.options)
			UPDATE update_counts SET votes = $3, voters = $4, poll_dirty = true WHERE update_id = $1`,
			u.ID, accountID, counts, u.Poll.Voters, options)
	}
	return err
}
