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

// hydrate fills payloads from current state (storeutil.Hydrate).
func (t *tx) hydrate(ctx context.Context, raw []herald.Event) ([]herald.Event, error) {
	updates := map[string]*herald.Update{}
	if ids := storeutil.UpdateIDs(raw); len(ids) > 0 {
		rows, err := t.Query(ctx, `SELECT `+updateCols+` FROM `+updateFrom+`
			WHERE u.id = ANY($2) AND u.expires_at > $3`, "", ids, t.now)
		if err != nil {
			return nil, err
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Update, error) { return t.db.signed(scanUpdate(r)) })
		if err != nil {
			return nil, err
		}
		for _, u := range list {
			updates[u.ID] = u.Public()
		}
	}
	return storeutil.Hydrate(raw, updates, func(id string) (*herald.Channel, error) {
		r, err := scanChannel(t.QueryRow(ctx, `SELECT `+channelCols+` FROM `+channelFrom+` WHERE c.id = $3`, "", t.now, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		t.db.signAvatar(&r.ch)
		return r.public(), nil
	})
}
