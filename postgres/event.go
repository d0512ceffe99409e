package postgres

import (
	"context"
	"errors"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
)

// appendEvent appends e to its stream's log. Bumping the stream head
// row-locks it until commit, so events of one stream commit in seq order.
// e carries its hydrated payload for the publisher; only ids are stored.
func (t *tx) appendEvent(ctx context.Context, e herald.Event) error {
	return t.appendEvents(ctx, []herald.Event{e})
}

// appendEventSQL bumps the stream head and logs the event in one statement.
const appendEventSQL = `WITH head AS (INSERT INTO stream_heads (stream, seq) VALUES ($1, 1)
		ON CONFLICT (stream) DO UPDATE SET seq = stream_heads.seq + 1 RETURNING seq)
	INSERT INTO events (stream, seq, type, channel_id, update_id, created_at, channel_seq)
	SELECT $1, seq, $2, $3, $4, $5, $6 FROM head RETURNING seq`

// appendEvents appends several events in one round trip (a pipelined batch).
func (t *tx) appendEvents(ctx context.Context, events []herald.Event) error {
	b := &pgx.Batch{}
	for i := range events {
		e := &events[i]
		e.CreatedAt = t.now
		var updateID *string
		if e.UpdateID != "" {
			updateID = &e.UpdateID
		}
		b.Queue(appendEventSQL, e.Stream, e.Type, e.ChannelID, updateID, e.CreatedAt, e.ChannelSeq).QueryRow(func(row pgx.Row) error {
			return row.Scan(&e.Seq)
		})
	}
	if err := t.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	t.events = append(t.events, events...)
	return nil
}

// StreamHeads returns the last seq of each known stream.
func (db *DB) StreamHeads(ctx context.Context, streams []string) (map[string]int64, error) {
	heads := make(map[string]int64, len(streams))
	if len(streams) == 0 {
		return heads, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT stream, seq FROM stream_heads WHERE stream = ANY($1)`, streams)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var seq int64
		if err := rows.Scan(&s, &seq); err != nil {
			return nil, err
		}
		heads[s] = seq
	}
	return heads, rows.Err()
}

// maxEventsLimit bounds one EventsAfter page.
const maxEventsLimit = 1000

// EventsAfter returns the events of stream after seq `after`, hydrated from
// current state. ok is false when the stream is unknown or the history after
// `after` is incomplete (pruned below, or ahead of the head).
func (db *DB) EventsAfter(ctx context.Context, stream string, after int64, limit int) ([]herald.Event, bool, error) {
	if limit <= 0 || limit > maxEventsLimit {
		limit = maxEventsLimit
	}
	var events []herald.Event
	ok := false
	err := db.read(ctx, func(t *tx) error {
		var head, floor int64
		err := t.QueryRow(ctx, `SELECT h.seq, coalesce(f.floor, 0) FROM stream_heads h
			LEFT JOIN stream_floors f ON f.stream = h.stream WHERE h.stream = $1`, stream).Scan(&head, &floor)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if after < floor || after > head {
			return nil
		}
		ok = true
		// Hydration drops the events of updates that expired since; read on
		// so that a page is short only at the end of the stream.
		cursor := after
		for len(events) < limit {
			want := limit - len(events)
			rows, err := t.Query(ctx, `SELECT seq, type, channel_id, coalesce(update_id, ''), created_at, channel_seq
				FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3`, stream, cursor, want)
			if err != nil {
				return err
			}
			raw, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (herald.Event, error) {
				e := herald.Event{Stream: stream}
				err := r.Scan(&e.Seq, &e.Type, &e.ChannelID, &e.UpdateID, &e.CreatedAt, &e.ChannelSeq)
				e.CreatedAt = e.CreatedAt.UTC()
				return e, err
			})
			if err != nil {
				return err
			}
			if len(raw) == 0 {
				break
			}
			cursor = raw[len(raw)-1].Seq
			hydrated, err := t.hydrate(ctx, raw)
			if err != nil {
				return err
			}
			events = append(events, hydrated...)
			if len(raw) < want {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if events == nil {
		events = []herald.Event{}
	}
	return events, ok, nil
}

// hydrate fills payloads from current state and drops the events of
// updates that are gone (deleted or expired) and channel.updated events of
// deleted channels.
func (t *tx) hydrate(ctx context.Context, raw []herald.Event) ([]herald.Event, error) {
	var ids []string
	seen := map[string]bool{}
	for _, e := range raw {
		if storeutil.NeedsUpdate(e.Type) && !seen[e.UpdateID] {
			seen[e.UpdateID] = true
			ids = append(ids, e.UpdateID)
		}
	}
	updates := map[string]*herald.Update{}
	if len(ids) > 0 {
		rows, err := t.Query(ctx, `SELECT `+updateCols+` FROM `+updateFrom+`
			WHERE u.id = ANY($2) AND u.expires_at > $3`, "", ids, t.now)
		if err != nil {
			return nil, err
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Update, error) { return scanUpdate(r) })
		if err != nil {
			return nil, err
		}
		for _, u := range list {
			u.Viewer = herald.UpdateViewer{}
			updates[u.ID] = u
		}
	}
	channels := map[string]*herald.Channel{}
	out := make([]herald.Event, 0, len(raw))
	for _, e := range raw {
		switch e.Type {
		case herald.EventUpdateCreated, herald.EventUpdateEdited:
			u := updates[e.UpdateID]
			if u == nil {
				continue
			}
			e.Update = u
		case herald.EventUpdateReactions, herald.EventUpdatePoll:
			u := updates[e.UpdateID]
			if u == nil {
				continue
			}
			e.Counts = storeutil.CountsOf(u, e.Type)
		case herald.EventChannelUpdated, herald.EventChannelFollowed, herald.EventChannelUnfollowed,
			herald.EventChannelAdminAdded, herald.EventChannelAdminRemoved:
			c, ok := channels[e.ChannelID]
			if !ok {
				r, err := scanChannel(t.QueryRow(ctx, `SELECT `+channelCols+` FROM `+channelFrom+` WHERE c.id = $3`,
					"", t.now, e.ChannelID))
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return nil, err
				}
				if r != nil {
					c = r.public()
				}
				channels[e.ChannelID] = c
			}
			if c == nil && e.Type == herald.EventChannelUpdated {
				continue
			}
			e.Channel = c
		}
		out = append(out, e)
	}
	return out, nil
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
