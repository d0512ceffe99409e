package postgres

import (
	"context"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// pruneBatch bounds how many expired updates one PruneExpired transaction erases.
const pruneBatch = 1000

// PruneExpired erases expired updates with everything attached, and events
// older than the retention. Like FlushCounts, one node at a time does it, in
// transactions, so a node dying mid-way loses nothing and leaves the rest
// for the next run.
func (db *DB) PruneExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := db.inTx(ctx, func(t *tx) error {
			n = 0
			var got bool
			if err := t.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('herald.prune.' || current_schema()))`).Scan(&got); err != nil || !got {
				return err
			}
			// Counter headers first, in id order: the lock order of
			// DeleteUpdate and FlushCounts.
			rows, err := t.Query(ctx, `SELECT uc.update_id FROM update_counts uc JOIN updates u ON u.id = uc.update_id
				WHERE u.expires_at <= $1 ORDER BY uc.update_id LIMIT $2 FOR UPDATE OF uc`, t.now, pruneBatch)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				if err := t.eraseUpdates(ctx, ids); err != nil {
					return err
				}
				n = len(ids)
			}
			if n < pruneBatch {
				// Old events: raise each stream's floor to the newest one
				// dropped, so resuming from before it resyncs.
				if _, err := t.Exec(ctx, `WITH d AS (DELETE FROM events WHERE created_at <= $1 RETURNING stream, seq)
					INSERT INTO stream_floors (stream, floor) SELECT stream, max(seq) FROM d GROUP BY stream ORDER BY stream
					ON CONFLICT (stream) DO UPDATE SET floor = greatest(stream_floors.floor, excluded.floor)`,
					t.now.Add(-t.db.retention)); err != nil {
					return err
				}
				if _, err := t.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, t.now); err != nil {
					return err
				}
				// Follow history: unfollows older than the trail go with
				// the follows before them, and the account stream's floor
				// rises past them (see herald.UnfollowTrail).
				if _, err := t.Exec(ctx, `WITH u AS (
						SELECT stream, seq, channel_id FROM events
						WHERE type = 'channel.unfollowed' AND created_at <= $1 ORDER BY created_at LIMIT $2),
					d AS (DELETE FROM events e USING u
						WHERE e.stream = u.stream AND e.seq <= u.seq AND e.channel_id = u.channel_id
						AND e.type IN ('channel.followed', 'channel.unfollowed'))
					INSERT INTO stream_floors (stream, floor) SELECT stream, max(seq) FROM u GROUP BY stream ORDER BY stream
					ON CONFLICT (stream) DO UPDATE SET floor = greatest(stream_floors.floor, excluded.floor)`,
					t.now.Add(-herald.UnfollowTrail), pruneBatch); err != nil {
					return err
				}
				// Directory bookkeeping: activity windows that ended, and
				// change-log entries beyond what walks may still read.
				if _, err := t.Exec(ctx, `DELETE FROM directory_activity WHERE day < $1`, dayOf(t.now)-1); err != nil {
					return err
				}
				if err := t.pruneInsights(ctx); err != nil {
					return err
				}
				if _, err := t.Exec(ctx, `DELETE FROM directory_changes WHERE id <= (SELECT max(id) FROM directory_changes) - $1`, keepChanges); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
