package postgres

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// updateCols selects an update with its public counts and viewer $1's own
// reaction and votes; used as "SELECT updateCols FROM updateFrom WHERE ...".
const updateCols = `u.id, u.channel_id, u.seq, u.text, u.created_at, u.edited_at, u.expires_at,
	u.poll_question, u.poll_multiple, u.poll_options, uc.voters,
	(SELECT jsonb_object_agg(rc.emoji, rc.n) FROM reaction_counts rc WHERE rc.update_id = u.id AND rc.n > 0),
	(SELECT array_agg(pc.n ORDER BY pc.option) FROM poll_counts pc WHERE pc.update_id = u.id),
	r.emoji, v.options`

const updateFrom = `updates u
	JOIN update_counts uc ON uc.update_id = u.id
	LEFT JOIN reactions r ON r.update_id = u.id AND r.account_id = $1
	LEFT JOIN votes v ON v.update_id = u.id AND v.account_id = $1`

func scanUpdate(row pgx.Row) (*herald.Update, error) {
	var u herald.Update
	var question *string
	var multiple bool
	var options []string
	var voters int64
	var pollCounts []int64
	var reaction *string
	var votes []int32
	err := row.Scan(&u.ID, &u.ChannelID, &u.Seq, &u.Text, &u.CreatedAt, &u.EditedAt, &u.ExpiresAt,
		&question, &multiple, &options, &voters, &u.Reactions, &pollCounts, &reaction, &votes)
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
		r, err := t.adminChannel(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		var seq int64
		if err := t.QueryRow(ctx, `UPDATE update_heads SET seq = seq + 1 WHERE channel_id = $1 RETURNING seq`, r.ch.ID).Scan(&seq); err != nil {
			return err
		}
		id := newID()
		expires := t.now.Add(t.db.retention)
		var question *string
		var options []string
		multiple := false
		if u.Poll != nil {
			question, multiple = &u.Poll.Question, u.Poll.Multiple
			for _, o := range u.Poll.Options {
				options = append(options, o.Text)
			}
		}
		if _, err := t.Exec(ctx, `INSERT INTO updates (id, channel_id, seq, text, poll_question, poll_multiple,
			poll_options, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			id, r.ch.ID, seq, text, question, multiple, options, t.now, expires); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `INSERT INTO update_counts (update_id) VALUES ($1)`, id); err != nil {
			return err
		}
		if u.Poll != nil {
			if _, err := t.Exec(ctx, `INSERT INTO poll_counts (update_id, option, n)
				SELECT $1, g, 0 FROM generate_series(0, $2::int - 1) g`, id, len(options)); err != nil {
				return err
			}
			for i := range u.Poll.Options {
				u.Poll.Options[i].Votes = 0
			}
		}
		// Directory activity: log today's old value for walks in progress,
		// then count the post in the 7 windows that contain today.
		if _, err := t.Exec(ctx, `WITH log AS (INSERT INTO directory_changes (channel_pk, kind, day, old_value)
				SELECT $1, 1, $2, coalesce((SELECT n FROM directory_activity WHERE channel_pk = $1 AND day = $2), 0))
			INSERT INTO directory_activity (channel_pk, day, n)
			SELECT $1, $2::bigint + d, 1 FROM generate_series(0, 6) d
			ON CONFLICT (channel_pk, day) DO UPDATE SET n = directory_activity.n + 1`, r.pk, dayOf(t.now)); err != nil {
			return err
		}
		u.ID, u.ChannelID, u.Seq, u.Text = id, r.ch.ID, seq, text
		u.CreatedAt, u.ExpiresAt, u.EditedAt = t.now, expires, nil
		u.Reactions = map[string]int64{}
		u.Viewer = herald.UpdateViewer{Votes: []int{}}
		return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateCreated, ChannelID: r.ch.ID,
			UpdateID: id, Update: eventUpdate(u)})
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
	err := db.read(ctx, func(t *tx) error {
		if _, err := loadChannel(ctx, t, t.now, viewerID, channelID, lockNone); err != nil {
			return err
		}
		var err error
		u, err = loadUpdate(ctx, t, t.now, viewerID, channelID, updateID)
		return err
	})
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
	var list []*herald.Update
	err := db.read(ctx, func(t *tx) error {
		if _, err := loadChannel(ctx, t, t.now, viewerID, channelID, lockNone); err != nil {
			return err
		}
		rows, err := t.Query(ctx, `SELECT `+updateCols+` FROM `+updateFrom+`
			WHERE u.channel_id = $2 AND u.seq < $3 AND u.expires_at > $4
			ORDER BY u.seq DESC LIMIT $5`, viewerID, channelID, before, t.now, limit)
		if err != nil {
			return err
		}
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Update, error) { return scanUpdate(r) })
		return err
	})
	if list == nil && err == nil {
		list = []*herald.Update{}
	}
	return list, err
}

// EditUpdate replaces the text of a live update (admins) and appends update.edited.
func (db *DB) EditUpdate(ctx context.Context, actorID, channelID, updateID, text string) (*herald.Update, error) {
	text, err := herald.NormalizeUpdateText(text)
	if err != nil {
		return nil, err
	}
	var u *herald.Update
	err = db.inTx(ctx, func(t *tx) error {
		r, err := t.adminChannel(ctx, actorID, channelID, lockKeyShare)
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
		r, err := t.adminChannel(ctx, actorID, channelID, lockKeyShare)
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
	r, err := loadChannel(ctx, t, t.now, accountID, channelID, lockNone)
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
		// One statement swaps the reaction and returns the old one.
		var old *string
		err = t.QueryRow(ctx, `WITH prev AS (SELECT emoji FROM reactions WHERE update_id = $1 AND account_id = $2),
			up AS (INSERT INTO reactions (update_id, account_id, emoji) VALUES ($1, $2, $3)
				ON CONFLICT (update_id, account_id) DO UPDATE SET emoji = excluded.emoji
				WHERE reactions.emoji <> excluded.emoji RETURNING 1)
			SELECT (SELECT emoji FROM prev)`, updateID, accountID, emoji).Scan(&old)
		if err != nil {
			return err
		}
		if old == nil || *old != emoji {
			delta := map[string]int64{emoji: 1}
			if old != nil {
				delta[*old] = -1
			}
			if err := t.addReactionCounts(ctx, updateID, delta); err != nil {
				return err
			}
		}
		u, err = loadUpdate(ctx, t, t.now, accountID, r.ch.ID, updateID)
		return err
	})
	return u, err
}

// RemoveReaction removes the account's reaction (idempotent).
func (db *DB) RemoveReaction(ctx context.Context, accountID, channelID, updateID string) (*herald.Update, error) {
	var u *herald.Update
	err := db.inTx(ctx, func(t *tx) error {
		r, _, err := t.interaction(ctx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
		var old string
		err = t.QueryRow(ctx, `DELETE FROM reactions WHERE update_id = $1 AND account_id = $2 RETURNING emoji`,
			updateID, accountID).Scan(&old)
		if err == nil {
			err = t.addReactionCounts(ctx, updateID, map[string]int64{old: -1})
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		u, err = loadUpdate(ctx, t, t.now, accountID, r.ch.ID, updateID)
		return err
	})
	return u, err
}

// addReactionCounts applies count changes in emoji order and marks the
// update's reactions dirty. The caller holds the update's header lock.
// Rows that reach zero stay (reads skip them): deleting them would cost a
// statement on the hottest path.
func (t *tx) addReactionCounts(ctx context.Context, updateID string, delta map[string]int64) error {
	emojis := make([]string, 0, len(delta))
	for e := range delta {
		emojis = append(emojis, e)
	}
	sort.Strings(emojis)
	for _, e := range emojis {
		if _, err := t.Exec(ctx, `INSERT INTO reaction_counts (update_id, emoji, n) VALUES ($1, $2, $3)
			ON CONFLICT (update_id, emoji) DO UPDATE SET n = reaction_counts.n + excluded.n`, updateID, e, delta[e]); err != nil {
			return err
		}
	}
	_, err := t.Exec(ctx, `UPDATE update_counts SET reactions_dirty = true WHERE update_id = $1`, updateID)
	return err
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
		if err := t.setVotes(ctx, updateID, accountID, options); err != nil {
			return err
		}
		u, err = loadUpdate(ctx, t, t.now, accountID, r.ch.ID, updateID)
		return err
	})
	return u, err
}

// setVotes replaces the account's votes with options (nil retracts),
// keeping every option's count and the voters count exact. The caller holds
// the update's header lock.
func (t *tx) setVotes(ctx context.Context, updateID, accountID string, options []int) error {
	var prev []int32
	err := t.QueryRow(ctx, `SELECT options FROM votes WHERE update_id = $1 AND account_id = $2`, updateID, accountID).Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	old := make([]int, len(prev))
	for i, o := range prev {
		old[i] = int(o)
	}
	slices.Sort(old)
	options = slices.Clone(options)
	slices.Sort(options)
	if slices.Equal(old, options) {
		return nil
	}
	if len(options) == 0 {
		_, err = t.Exec(ctx, `DELETE FROM votes WHERE update_id = $1 AND account_id = $2`, updateID, accountID)
	} else {
		_, err = t.Exec(ctx, `INSERT INTO votes (update_id, account_id, options) VALUES ($1, $2, $3)
			ON CONFLICT (update_id, account_id) DO UPDATE SET options = excluded.options`, updateID, accountID, options)
	}
	if err != nil {
		return err
	}
	delta := map[int]int64{}
	for _, o := range old {
		delta[o]--
	}
	for _, o := range options {
		delta[o]++
	}
	opts := make([]int, 0, len(delta))
	for o, d := range delta {
		if d != 0 {
			opts = append(opts, o)
		}
	}
	sort.Ints(opts)
	for _, o := range opts {
		if _, err := t.Exec(ctx, `UPDATE poll_counts SET n = n + $3 WHERE update_id = $1 AND option = $2`,
			updateID, o, delta[o]); err != nil {
			return err
		}
	}
	var voters int64
	switch {
	case len(old) == 0:
		voters = 1
	case len(options) == 0:
		voters = -1
	}
	_, err = t.Exec(ctx, `UPDATE update_counts SET voters = voters + $2, poll_dirty = true WHERE update_id = $1`, updateID, voters)
	return err
}
