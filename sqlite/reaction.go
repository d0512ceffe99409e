package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/heraldhq/herald"
)

// interaction loads what a follower's reaction or vote needs: the channel
// (visible, and followed or administered by accountID) and the live update.
func interaction(ctx context.Context, tx *Tx, accountID, channelID, updateID string) (*chanRow, updRow, error) {
	if accountID == "" {
		return nil, updRow{}, errNoActor
	}
	r, err := loadAccess(ctx, tx, accountID, channelID)
	if err != nil {
		return nil, updRow{}, err
	}
	if !r.following() && !r.isAdmin() {
		return nil, updRow{}, herald.KindErrorf(herald.EFORBIDDEN, "not-follower", "Follow the channel to react or vote.")
	}
	ur, err := liveUpdate(ctx, tx, tx.now, r.pk, updateID)
	if err != nil {
		return nil, updRow{}, err
	}
	return r, ur, nil
}

// addCount adds delta to an emoji's count, dropping rows that reach zero.
func addCount(ctx context.Context, tx *Tx, updatePK int64, emoji string, delta int64) error {
	if delta > 0 {
		_, err := tx.ExecContext(ctx, `INSERT INTO reaction_counts (update_pk, emoji, count) VALUES (?, ?, ?)
			ON CONFLICT (update_pk, emoji) DO UPDATE SET count = count + excluded.count`, updatePK, emoji, delta)
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reaction_counts SET count = count + ? WHERE update_pk = ? AND emoji = ?`, delta, updatePK, emoji); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM reaction_counts WHERE update_pk = ? AND emoji = ? AND count <= 0`, updatePK, emoji)
	return err
}

// currentReaction returns the account's reaction to an update, or "".
func currentReaction(ctx context.Context, tx *Tx, updatePK int64, accountID string) (string, error) {
	var emoji string
	err := tx.QueryRowContext(ctx, `SELECT emoji FROM reactions WHERE update_pk = ? AND account_id = ?`, updatePK, accountID).Scan(&emoji)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return emoji, err
}

// SetReaction sets the account's one reaction to an update.
func (db *DB) SetReaction(ctx context.Context, accountID, channelID, updateID, emoji string) (*herald.Update, error) {
	if emoji == "" {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-emoji", "Reaction must be one emoji.")
	}
	var out *herald.Update
	err := db.write(ctx, func(tx *Tx) error {
		r, ur, err := interaction(ctx, tx, accountID, channelID, updateID)
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
		old, err := currentReaction(ctx, tx, ur.pk, accountID)
		if err != nil {
			return err
		}
		if old != emoji {
			if old != "" {
				if err := addCount(ctx, tx, ur.pk, old, -1); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reactions (update_pk, account_id, emoji) VALUES (?, ?, ?)
				ON CONFLICT (update_pk, account_id) DO UPDATE SET emoji = excluded.emoji`, ur.pk, accountID, emoji); err != nil {
				return err
			}
			if err := addCount(ctx, tx, ur.pk, emoji, 1); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE updates SET reactions_dirty = 1 WHERE pk = ?`, ur.pk); err != nil {
				return err
			}
		}
		if err := hydrateUpdates(ctx, tx, []updRow{ur}, accountID); err != nil {
			return err
		}
		out = ur.u
		return nil
	})
	return out, err
}

// RemoveReaction removes the account's reaction (idempotent).
func (db *DB) RemoveReaction(ctx context.Context, accountID, channelID, updateID string) (*herald.Update, error) {
	var out *herald.Update
	err := db.write(ctx, func(tx *Tx) error {
		_, ur, err := interaction(ctx, tx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
		old, err := currentReaction(ctx, tx, ur.pk, accountID)
		if err != nil {
			return err
		}
		if old != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE update_pk = ? AND account_id = ?`, ur.pk, accountID); err != nil {
				return err
			}
			if err := addCount(ctx, tx, ur.pk, old, -1); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE updates SET reactions_dirty = 1 WHERE pk = ?`, ur.pk); err != nil {
				return err
			}
		}
		if err := hydrateUpdates(ctx, tx, []updRow{ur}, accountID); err != nil {
			return err
		}
		out = ur.u
		return nil
	})
	return out, err
}

var errNoPoll = herald.KindErrorf(herald.ENOTFOUND, "poll-not-found", "This update has no poll.")

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
		r, ur, err := interaction(ctx, tx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
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
				if err := tx.appendEvent(ctx, herald.Event{Stream: u.ChannelID, Type: herald.EventUpdateReactions, ChannelID: u.ChannelID, UpdateID: u.ID, Counts: countsOf(u, herald.EventUpdateReactions)}); err != nil {
					return err
				}
				n++
			}
			if d.poll && u.Poll != nil {
				if err := tx.appendEvent(ctx, herald.Event{Stream: u.ChannelID, Type: herald.EventUpdatePoll, ChannelID: u.ChannelID, UpdateID: u.ID, Counts: countsOf(u, herald.EventUpdatePoll)}); err != nil {
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
