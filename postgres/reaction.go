package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/emoji"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
)

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
	if err := r.rel.Interact(); err != nil {
		return nil, nil, err
	}
	lu, err := t.lockLiveUpdate(ctx, r.ch.ID, updateID)
	if err != nil {
		return nil, nil, err
	}
	return r, lu, nil
}

// SetReaction sets the account's one reaction to an update.
func (db *DB) SetReaction(ctx context.Context, accountID, channelID, updateID, e string) (*herald.Update, error) {
	// Canonical forms only: "❤" and "❤️" count as one.
	emoji, err := emoji.Normalize(e)
	if err != nil {
		return nil, err
	}
	var u *herald.Update
	err = db.inTx(ctx, func(t *tx) error {
		r, _, err := t.interaction(ctx, accountID, channelID, updateID)
		if err != nil {
			return err
		}
		if err := storeutil.AllowReaction(r.ch.Reactions, emoji); err != nil {
			return err
		}
		// One statement under the header lock (taken by interaction): swap
		// the reaction, move the counts, mark them dirty, and read the
		// update back with its new counts. The lock is held for this round
		// trip and the commit only.
		var newCounts map[string]int64
		u, err = t.db.signed(scanUpdate(t.QueryRow(ctx, `WITH
			prev AS (SELECT emoji FROM reactions WHERE update_id = $2 AND account_id = $1),
			chg AS (SELECT (SELECT emoji FROM prev) IS DISTINCT FROM $3::text AS yes),
			up AS (INSERT INTO reactions (update_id, account_id, emoji) SELECT $2, $1, $3 FROM chg WHERE yes
				ON CONFLICT (update_id, account_id) DO UPDATE SET emoji = excluded.emoji),
			cnt AS (UPDATE update_counts SET reactions = add_reaction(add_reaction(reactions, (SELECT emoji FROM prev), -1), $3, 1),
				reactions_dirty = true WHERE update_id = $2 AND (SELECT yes FROM chg) RETURNING reactions)
			SELECT (SELECT reactions FROM cnt), `+updateCols+` FROM `+updateFrom+` WHERE u.id = $2`,
			accountID, updateID, emoji), &newCounts))
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
		u, err = t.db.signed(scanUpdate(t.QueryRow(ctx, `WITH
			del AS (DELETE FROM reactions WHERE update_id = $2 AND account_id = $1 RETURNING emoji),
			cnt AS (UPDATE update_counts SET reactions = add_reaction(reactions, (SELECT emoji FROM del), -1),
				reactions_dirty = true WHERE update_id = $2 AND EXISTS (SELECT 1 FROM del) RETURNING reactions)
			SELECT (SELECT reactions FROM cnt), `+updateCols+` FROM `+updateFrom+` WHERE u.id = $2`,
			accountID, updateID), &newCounts))
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

// flushBatch bounds how many dirty updates one FlushCounts transaction takes.
const flushBatch = 500

// FlushCounts appends one update.reactions / update.poll event per update
// whose counts changed since the last flush. Several nodes may call it at
// once: a transaction-scoped advisory lock lets one of them do the work and
// the others return 0 at once; a node that dies mid-flush rolls back and
// leaves the dirty flags for the next flush.
func (db *DB) FlushCounts(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more := 0, false
		err := db.inTx(ctx, func(t *tx) error {
			n, more = 0, false
			var got bool
			if err := t.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('herald.flush.' || current_schema()))`).Scan(&got); err != nil || !got {
				return err
			}
			// SKIP LOCKED: an update whose counts are being changed right
			// now is left dirty for the next flush instead of waited for.
			// The counts read are the locked rows' current ones.
			rows, err := t.Query(ctx, `SELECT uc.update_id, u.channel_id, uc.reactions_dirty, uc.poll_dirty,
					u.expires_at > $1, u.poll_question IS NOT NULL, uc.reactions, uc.votes, uc.voters
				FROM update_counts uc JOIN updates u ON u.id = uc.update_id
				WHERE uc.reactions_dirty OR uc.poll_dirty
				ORDER BY u.created_at, u.channel_id, u.seq LIMIT $2 FOR UPDATE OF uc SKIP LOCKED`, t.now, flushBatch)
			if err != nil {
				return err
			}
			type dirty struct {
				updateID, channelID           string
				reactions, poll, live, isPoll bool
				counts                        map[string]int64
				votes                         []int64
				voters                        int64
			}
			list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dirty, error) {
				var d dirty
				err := r.Scan(&d.updateID, &d.channelID, &d.reactions, &d.poll, &d.live, &d.isPoll, &d.counts, &d.votes, &d.voters)
				return d, err
			})
			if err != nil || len(list) == 0 {
				return err
			}
			more = len(list) == flushBatch
			ids := make([]string, len(list))
			for i, d := range list {
				ids[i] = d.updateID
			}
			// Expired updates' flags are cleared too: nobody can see them.
			if _, err := t.Exec(ctx, `UPDATE update_counts SET reactions_dirty = false, poll_dirty = false
				WHERE update_id = ANY($1)`, ids); err != nil {
				return err
			}
			// Stream heads are locked in no particular order: only one
			// flusher runs at a time (the advisory lock) and every other
			// writer locks at most one stream head, after the counter header.
			var events []herald.Event
			for _, d := range list {
				if !d.live {
					continue
				}
				if d.reactions {
					c := d.counts
					if c == nil {
						c = map[string]int64{}
					}
					events = append(events, herald.Event{Stream: d.channelID, Type: herald.EventUpdateReactions,
						ChannelID: d.channelID, UpdateID: d.updateID, Counts: &herald.Counts{Reactions: c}})
				}
				if d.poll && d.isPoll {
					votes, voters := d.votes, d.voters
					if votes == nil {
						votes = []int64{}
					}
					events = append(events, herald.Event{Stream: d.channelID, Type: herald.EventUpdatePoll,
						ChannelID: d.channelID, UpdateID: d.updateID, Counts: &herald.Counts{Votes: votes, Voters: &voters}})
				}
			}
			n = len(events)
			if n == 0 {
				return nil
			}
			return t.appendEvents(ctx, events)
		})
		if err != nil {
			return total, err
		}
		total += n
		if !more {
			return total, nil
		}
	}
}
