package sqlite

import (
	"context"
	"time"

	"github.com/heraldhq/herald"
)

// pruneBatch bounds one pruning transaction so writers never wait long.
const pruneBatch = 1000

// PruneExpired erases expired updates with their reactions, votes and
// events, events older than the retention (raising each stream's floor), and
// expired sessions. The erased rows are zeroed (secure_delete) and a WAL
// checkpoint follows shortly, so the text leaves every file.
func (db *DB) PruneExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := db.write(ctx, func(tx *Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT pk, id FROM updates WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`, nanos(tx.now), pruneBatch)
			if err != nil {
				return err
			}
			var pks []int64
			var ids []string
			for rows.Next() {
				var pk int64
				var id string
				if err := rows.Scan(&pk, &id); err != nil {
					rows.Close()
					return err
				}
				pks, ids = append(pks, pk), append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			n = len(pks)
			return eraseUpdates(ctx, tx, pks, ids)
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	err := db.write(ctx, func(tx *Tx) error {
		cutoff := nanos(tx.now.Add(-db.cfg.Retention))
		// The floor records what is gone, so a resume from below it resyncs.
		if _, err := tx.ExecContext(ctx, `UPDATE stream_heads SET floor_seq = max(floor_seq, old.m)
			FROM (SELECT stream, max(seq) AS m FROM events WHERE created_at <= ? GROUP BY stream) AS old
			WHERE stream_heads.stream = old.stream`, cutoff); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE created_at <= ?`, cutoff); err != nil {
			return err
		}
		if err := eraseUnfollows(ctx, tx, tx.now.Add(-herald.UnfollowTrail)); err != nil {
			return err
		}
		if err := pruneInsights(ctx, tx); err != nil {
			return err
		}
		return pruneSessions(ctx, tx, tx.now)
	})
	if err != nil {
		return total, err
	}
	db.noteErased()
	return total, nil
}

// eraseUnfollows erases the channel.unfollowed events logged before cutoff
// with the channel.followed events of the same channel before them, and
// raises each account stream's floor past them (see herald.UnfollowTrail).
func eraseUnfollows(ctx context.Context, tx *Tx, cutoff time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT stream, seq, channel_id FROM events
		WHERE type = 'channel.unfollowed' AND created_at <= ? LIMIT ?`, nanos(cutoff), pruneBatch)
	if err != nil {
		return err
	}
	type unfollow struct {
		stream, channelID string
		seq               int64
	}
	var list []unfollow
	for rows.Next() {
		var u unfollow
		if err := rows.Scan(&u.stream, &u.seq, &u.channelID); err != nil {
			rows.Close()
			return err
		}
		list = append(list, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, u := range list {
		if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE stream = ? AND seq <= ? AND channel_id = ?
			AND type IN ('channel.followed', 'channel.unfollowed')`, u.stream, u.seq, u.channelID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stream_heads SET floor_seq = max(floor_seq, ?) WHERE stream = ?`, u.seq, u.stream); err != nil {
			return err
		}
	}
	return nil
}
