package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
)

// maxEventsLimit bounds one EventsAfter page.
const maxEventsLimit = 1000

// appendEvent gives ev the next seq of its stream, stores it (without any
// payload) and queues it, payload included, for publication after COMMIT.
func (tx *Tx) appendEvent(ctx context.Context, ev herald.Event) error {
	var seq int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO stream_heads (stream, last_seq, floor_seq) VALUES (?, 1, 0)
		ON CONFLICT (stream) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`, ev.Stream).Scan(&seq); err != nil {
		return err
	}
	ev.Seq, ev.CreatedAt = seq, tx.now
	var channelSeq sql.NullInt64
	if ev.ChannelSeq != nil {
		channelSeq = sql.NullInt64{Int64: *ev.ChannelSeq, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (stream, seq, type, channel_id, update_id, created_at, channel_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ev.Stream, seq, ev.Type, ev.ChannelID, nullString(ev.UpdateID), nanos(tx.now), channelSeq); err != nil {
		return err
	}
	tx.events = append(tx.events, ev)
	return nil
}

// StreamHeads returns the last seq of each known stream.
func (db *DB) StreamHeads(ctx context.Context, streams []string) (map[string]int64, error) {
	out := make(map[string]int64, len(streams))
	if len(streams) == 0 {
		return out, nil
	}
	err := db.view(ctx, func(tx queryer, _ time.Time) error {
		rows, err := tx.QueryContext(ctx, `SELECT stream, last_seq FROM stream_heads WHERE stream IN (SELECT value FROM json_each(?))`, jsonList(streams))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			var seq int64
			if err := rows.Scan(&s, &seq); err != nil {
				return err
			}
			out[s] = seq
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		var missing []string
		for _, s := range streams {
			if _, ok := out[s]; !ok {
				missing = append(missing, s)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		// A channel written without a head row (bulk seeding) has an
		// empty log, not an unknown one.
		ids, err := tx.QueryContext(ctx, `SELECT id FROM channels WHERE id IN (SELECT value FROM json_each(?))`, jsonList(missing))
		if err != nil {
			return err
		}
		defer ids.Close()
		for ids.Next() {
			var id string
			if err := ids.Scan(&id); err != nil {
				return err
			}
			out[id] = 0
		}
		return ids.Err()
	})
	return out, err
}

// EventsAfter returns the events of stream after seq `after`, hydrated from
// current state. ok is false when the stream is unknown or the history after
// `after` is incomplete (pruned below, or ahead of the head).
func (db *DB) EventsAfter(ctx context.Context, stream string, after int64, limit int) ([]herald.Event, bool, error) {
	if limit <= 0 || limit > maxEventsLimit {
		limit = maxEventsLimit
	}
	var out []herald.Event
	ok := false
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		var last, floor int64
		err := tx.QueryRowContext(ctx, `SELECT last_seq, floor_seq FROM stream_heads WHERE stream = ?`, stream).Scan(&last, &floor)
		if errors.Is(err, sql.ErrNoRows) {
			// A channel without a head row (bulk seeding) has an empty log.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM channels WHERE id = ?`, stream).Scan(&n); err != nil || n == 0 {
				return err
			}
		} else if err != nil {
			return err
		}
		if after < floor || after > last {
			return nil
		}
		ok = true
		// Hydration drops the events of updates that expired since; read on
		// so that a page is short only at the end of the stream.
		cursor := after
		for len(out) < limit {
			want := limit - len(out)
			rows, err := tx.QueryContext(ctx, `SELECT seq, type, channel_id, coalesce(update_id, ''), created_at, channel_seq FROM events
				WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?`, stream, cursor, want)
			if err != nil {
				return err
			}
			var evs []herald.Event
			for rows.Next() {
				ev := herald.Event{Stream: stream}
				var created int64
				var channelSeq sql.NullInt64
				if err := rows.Scan(&ev.Seq, &ev.Type, &ev.ChannelID, &ev.UpdateID, &created, &channelSeq); err != nil {
					rows.Close()
					return err
				}
				ev.CreatedAt = fromNanos(created)
				if channelSeq.Valid {
					ev.ChannelSeq = &channelSeq.Int64
				}
				evs = append(evs, ev)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(evs) == 0 {
				break
			}
			cursor = evs[len(evs)-1].Seq
			hydrated, err := hydrateEvents(ctx, tx, now, evs)
			if err != nil {
				return err
			}
			out = append(out, hydrated...)
			if len(evs) < want {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, ok, nil
}

// hydrateEvents fills payloads from current state (storeutil.Hydrate).
func hydrateEvents(ctx context.Context, q queryer, now time.Time, evs []herald.Event) ([]herald.Event, error) {
	updates, err := updatesByID(ctx, q, now, storeutil.UpdateIDs(evs))
	if err != nil {
		return nil, err
	}
	return storeutil.Hydrate(evs, updates, func(id string) (*herald.Channel, error) {
		r, err := scanChannel(q.QueryRowContext(ctx, channelSelect+`WHERE c.id = ?3`, nanos(now), "", id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		signAvatar(q, &r.ch)
		return r.public(), nil
	})
}
