package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/emoji"
	"github.com/heraldhq/herald/internal/storeutil"
)

// interactionSelect reads, in one query, what a reaction or vote checks
// (?1 = account, ?2 = channel id, ?3 = update id, ?4 = now): the account's
// relation to the channel, the live update and the account's reaction.
const interactionSelect = `SELECT c.pk, c.id, c.listed, c.reactions, a.role, f.muted,
	u.pk, u.id, u.seq, u.text, u.created_at, u.edited_at, u.expires_at,
	u.poll_question, u.poll_multiple, u.poll_voters, u.reactions_dirty, rx.emoji
FROM channels c
LEFT JOIN admins a ON a.channel_pk = c.pk AND a.account_id = ?1
LEFT JOIN follows f ON f.channel_pk = c.pk AND f.account_id = ?1
LEFT JOIN updates u ON u.id = ?3 AND u.channel_pk = c.pk AND u.expires_at > ?4
LEFT JOIN reactions rx ON rx.update_pk = u.pk AND rx.account_id = ?1
WHERE c.id = ?2`

// interactionRow is what interaction loads.
type interactionRow struct {
	ch       *chanRow
	upd      updRow
	reaction string // the account's current reaction, or ""
	dirty    bool   // the update's reaction counts await a flush already
}

// interaction loads what a follower's reaction or vote needs: the channel
// (visible, and followed or administered by accountID) and the live update.
func interaction(ctx context.Context, tx *Tx, accountID, channelID, updateID string) (*interactionRow, error) {
	if accountID == "" {
		return nil, errNoActor
	}
	var r chanRow
	var listed int64
	var role sql.NullString
	var muted sql.NullInt64
	var upk, seq, created, expires, multiple, voters, dirty sql.NullInt64
	var uid, text, question, reaction sql.NullString
	var edited sql.NullInt64
	err := tx.QueryRowContext(ctx, interactionSelect, accountID, channelID, updateID, nanos(tx.now)).Scan(
		&r.pk, &r.ch.ID, &listed, &r.ch.Reactions, &role, &muted,
		&upk, &uid, &seq, &text, &created, &edited, &expires, &question, &multiple, &voters, &dirty, &reaction)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil {
		return nil, err
	}
	r.ch.Listed, r.rel = listed != 0, relation(role, muted)
	if !r.rel.CanSee(r.ch.Listed) {
		return nil, errChannelNotFound
	}
	if err := r.rel.Interact(); err != nil {
		return nil, err
	}
	if !upk.Valid {
		return nil, errUpdateNotFound
	}
	u := &herald.Update{ID: uid.String, ChannelID: r.ch.ID, Seq: seq.Int64, Text: text.String,
		CreatedAt: fromNanos(created.Int64), EditedAt: nullTime(edited), ExpiresAt: fromNanos(expires.Int64)}
	if question.Valid {
		u.Poll = &herald.Poll{Question: question.String, Multiple: multiple.Int64 != 0, Voters: voters.Int64, Options: []herald.PollOption{}}
	}
	return &interactionRow{ch: &r, upd: updRow{pk: upk.Int64, u: u}, reaction: reaction.String, dirty: dirty.Int64 != 0}, nil
}

// addCount adds delta to an emoji's count. Rows at zero stay (reads skip
// them) so a follower flipping back and forth rewrites one row; they go
// with the update.
func addCount(ctx context.Context, tx *Tx, updatePK int64, emoji string, delta int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO reaction_counts (update_pk, emoji, count) VALUES (?1, ?2, ?3)
		ON CONFLICT (update_pk, emoji) DO UPDATE SET count = count + ?3`, updatePK, emoji, delta)
	return err
}

// markReactionsDirty flags the update for the next FlushCounts, writing
// the row only when the flag is not already set.
func markReactionsDirty(ctx context.Context, tx *Tx, it *interactionRow) error {
	if it.dirty {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE updates SET reactions_dirty = 1 WHERE pk = ?`, it.upd.pk)
	return err
}

// SetReaction sets the account's one reaction to an update.
func (db *DB) SetReaction(ctx context.Context, accountID, channelID, updateID, e string) (*herald.Update, error) {
	// Canonical forms only: "❤" and "❤️" count as one.
	emoji, err := emoji.Normalize(e)
	if err != nil {
		return nil, err
	}
	var out *herald.Update
	err = db.write(ctx, func(tx *Tx) error {
		it, err := interaction(ctx, tx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
		if err := storeutil.AllowReaction(it.ch.ch.Reactions, emoji); err != nil {
			return err
		}
		pk := it.upd.pk
		if it.reaction != emoji {
			if it.reaction != "" {
				if err := addCount(ctx, tx, pk, it.reaction, -1); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reactions (update_pk, account_id, emoji) VALUES (?1, ?2, ?3)
				ON CONFLICT (update_pk, account_id) DO UPDATE SET emoji = ?3`, pk, accountID, emoji); err != nil {
				return err
			}
			if err := addCount(ctx, tx, pk, emoji, 1); err != nil {
				return err
			}
			if err := markReactionsDirty(ctx, tx, it); err != nil {
				return err
			}
		}
		if err := hydrateUpdates(ctx, tx, []updRow{it.upd}, accountID); err != nil {
			return err
		}
		out = it.upd.u
		return nil
	})
	return out, err
}

// RemoveReaction removes the account's reaction (idempotent).
func (db *DB) RemoveReaction(ctx context.Context, accountID, channelID, updateID string) (*herald.Update, error) {
	var out *herald.Update
	err := db.write(ctx, func(tx *Tx) error {
		it, err := interaction(ctx, tx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
		if it.reaction != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE update_pk = ? AND account_id = ?`, it.upd.pk, accountID); err != nil {
				return err
			}
			if err := addCount(ctx, tx, it.upd.pk, it.reaction, -1); err != nil {
				return err
			}
			if err := markReactionsDirty(ctx, tx, it); err != nil {
				return err
			}
		}
		if err := hydrateUpdates(ctx, tx, []updRow{it.upd}, accountID); err != nil {
			return err
		}
		out = it.upd.u
		return nil
	})
	return out, err
}

// currentVotes returns the account's chosen options, sorted.
func currentVotes(ctx context.Context, tx *Tx, updatePK int64, accountID string) ([]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT option_idx FROM votes WHERE update_pk = ? AND account_id = ? ORDER BY option_idx`, updatePK, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// setVotes replaces the account's votes with options (nil retracts),
// keeping every option's votes and the poll's voters exact.
func setVotes(ctx context.Context, tx *Tx, updatePK int64, accountID string, options []int) error {
	old, err := currentVotes(ctx, tx, updatePK, accountID)
	if err != nil {
		return err
	}
	options = slices.Clone(options)
	slices.Sort(options)
	if slices.Equal(old, options) {
		return nil
	}
	for _, i := range old {
		if !slices.Contains(options, i) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM votes WHERE update_pk = ? AND account_id = ? AND option_idx = ?`, updatePK, accountID, i); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE poll_options SET votes = votes - 1 WHERE update_pk = ? AND idx = ?`, updatePK, i); err != nil {
				return err
			}
		}
	}
	for _, i := range options {
		if !slices.Contains(old, i) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO votes (update_pk, account_id, option_idx) VALUES (?, ?, ?)`, updatePK, accountID, i); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE poll_options SET votes = votes + 1 WHERE update_pk = ? AND idx = ?`, updatePK, i); err != nil {
				return err
			}
		}
	}
	var voters int64
	switch {
	case len(old) == 0:
		voters = 1
	case len(options) == 0:
		voters = -1
	}
	_, err = tx.ExecContext(ctx, `UPDATE updates SET poll_voters = poll_voters + ?, poll_dirty = 1 WHERE pk = ?`, voters, updatePK)
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
	var out *herald.Update
	err := db.write(ctx, func(tx *Tx) error {
		it, err := interaction(ctx, tx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
		r, ur := it.ch, it.upd
		if ur.u.Poll == nil {
			return errNoPoll
		}
		if !retract {
			if err := hydrateUpdates(ctx, tx, []updRow{ur}, ""); err != nil {
				return err
			}
			if err := ur.u.Poll.ValidateVote(options); err != nil {
				return err
			}
		}
		if err := setVotes(ctx, tx, ur.pk, accountID, options); err != nil {
			return err
		}
		// Re-read: the voters counter lives on the update row.
		ur, err = liveUpdate(ctx, tx, tx.now, r.pk, updateID)
		if err != nil {
			return err
		}
		if err := hydrateUpdates(ctx, tx, []updRow{ur}, accountID); err != nil {
			return err
		}
		out = ur.u
		return nil
	})
	return out, err
}

// FlushCounts appends one update.reactions and/or update.poll event per
// update whose counts changed since the last flush, clears the flags in the
// same transaction, and publishes the events after COMMIT.
func (db *DB) FlushCounts(ctx context.Context) (int, error) {
	n := 0
	err := db.write(ctx, func(tx *Tx) error {
		n = 0
		type dirty struct {
			row             updRow
			reactions, poll bool
		}
		rows, err := tx.QueryContext(ctx, `SELECT u.pk, u.id, c.id, u.seq, u.text, u.created_at, u.edited_at, u.expires_at,
			u.poll_question, u.poll_multiple, u.poll_voters, u.reactions_dirty, u.poll_dirty
			FROM updates u JOIN channels c ON c.pk = u.channel_pk
			WHERE (u.reactions_dirty = 1 OR u.poll_dirty = 1) AND u.expires_at > ? ORDER BY u.pk`, nanos(tx.now))
		if err != nil {
			return err
		}
		var list []dirty
		for rows.Next() {
			var d dirty
			u := &herald.Update{}
			var created, expires, multiple, voters int64
			var edited sql.NullInt64
			var question sql.NullString
			if err := rows.Scan(&d.row.pk, &u.ID, &u.ChannelID, &u.Seq, &u.Text, &created, &edited, &expires, &question, &multiple, &voters, &d.reactions, &d.poll); err != nil {
				rows.Close()
				return err
			}
			if question.Valid {
				u.Poll = &herald.Poll{Question: question.String, Multiple: multiple != 0, Voters: voters, Options: []herald.PollOption{}}
			}
			d.row.u = u
			list = append(list, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		upds := make([]updRow, len(list))
		for i, d := range list {
			upds[i] = d.row
		}
		if err := hydrateUpdates(ctx, tx, upds, ""); err != nil {
			return err
		}
		for _, d := range list {
			u := d.row.u
			if d.reactions {
				if err := tx.appendEvent(ctx, herald.Event{Stream: u.ChannelID, Type: herald.EventUpdateReactions, ChannelID: u.ChannelID, UpdateID: u.ID, Counts: storeutil.CountsOf(u, herald.EventUpdateReactions)}); err != nil {
					return err
				}
				n++
			}
			if d.poll && u.Poll != nil {
				if err := tx.appendEvent(ctx, herald.Event{Stream: u.ChannelID, Type: herald.EventUpdatePoll, ChannelID: u.ChannelID, UpdateID: u.ID, Counts: storeutil.CountsOf(u, herald.EventUpdatePoll)}); err != nil {
					return err
				}
				n++
			}
		}
		// Expired updates' flags are cleared too: nobody can see them any more.
		_, err = tx.ExecContext(ctx, `UPDATE updates SET reactions_dirty = 0, poll_dirty = 0 WHERE reactions_dirty = 1 OR poll_dirty = 1`)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
