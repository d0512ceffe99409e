package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// updateSelect reads updates with their channel's id.
const updateSelect = `SELECT u.pk, u.id, c.id, u.seq, u.text, u.created_at, u.edited_at, u.expires_at,
	u.poll_question, u.poll_multiple, u.poll_voters, coalesce(u.signature, ''), coalesce(u.key_id, ''), u.pinned_at IS NOT NULL
FROM updates u JOIN channels c ON c.pk = u.channel_pk `

// updRow is an update with its internal key.
type updRow struct {
	pk int64
	u  *herald.Update
}

func scanUpdate(s scanner) (updRow, error) {
	u := &herald.Update{}
	var pk, created, expires, multiple, voters int64
	var edited sql.NullInt64
	var question sql.NullString
	if err := s.Scan(&pk, &u.ID, &u.ChannelID, &u.Seq, &u.Text, &created, &edited, &expires, &question, &multiple, &voters, &u.Signature, &u.KeyID, &u.Pinned); err != nil {
		return updRow{}, err
	}
	u.CreatedAt, u.ExpiresAt, u.EditedAt = fromNanos(created), fromNanos(expires), nullTime(edited)
	if question.Valid {
		u.Poll = &herald.Poll{Question: question.String, Multiple: multiple != 0, Voters: voters, Options: []herald.PollOption{}}
	}
	return updRow{pk: pk, u: u}, nil
}

func queryUpdates(ctx context.Context, q queryer, query string, args ...any) ([]updRow, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []updRow
	for rows.Next() {
		r, err := scanUpdate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// liveUpdate returns one live update of a channel, without counts.
func liveUpdate(ctx context.Context, q queryer, now time.Time, channelPK int64, updateID string) (updRow, error) {
	r, err := scanUpdate(q.QueryRowContext(ctx, updateSelect+`WHERE u.id = ? AND u.channel_pk = ? AND u.expires_at > ?`, updateID, channelPK, nanos(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return updRow{}, errUpdateNotFound
	}
	return r, err
}

// updatesByID returns the live updates among ids, hydrated without a viewer.
func updatesByID(ctx context.Context, q queryer, now time.Time, ids []string) (map[string]*herald.Update, error) {
	out := make(map[string]*herald.Update, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := queryUpdates(ctx, q, updateSelect+`WHERE u.expires_at > ? AND u.id IN (SELECT value FROM json_each(?))`, nanos(now), jsonList(ids))
	if err != nil {
		return nil, err
	}
	if err := hydrateUpdates(ctx, q, rows, ""); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.u.ID] = r.u.Public()
	}
	return out, nil
}

// hydrateUpdates fills counts, poll options and viewerID's own reaction and
// votes, reading the counts tables only: reactions are never scanned. Each
// query pairs the public counts with the viewer's own rows (UNION ALL), so a
// page costs one query, or two with polls.
func hydrateUpdates(ctx context.Context, q queryer, list []updRow, viewerID string) error {
	if len(list) == 0 {
		return nil
	}
	byPK := make(map[int64]*herald.Update, len(list))
	pks := make([]int64, 0, len(list))
	hasPoll := false
	for _, r := range list {
		byPK[r.pk] = r.u
		r.u.Reactions = map[string]int64{}
		r.u.Viewer = herald.UpdateViewer{Votes: []int{}}
		pks = append(pks, r.pk)
		hasPoll = hasPoll || r.u.Poll != nil
	}
	// One statement text whatever the page size, so it stays prepared;
	// "+account_id" keeps the planner on the (update_pk, account_id) key
	// instead of scanning everything this viewer ever reacted to.
	ids := jsonList(pks)
	rows, err := q.QueryContext(ctx, `SELECT 0, update_pk, emoji, count FROM reaction_counts
		WHERE count > 0 AND update_pk IN (SELECT value FROM json_each(?1))
		UNION ALL
		SELECT 1, update_pk, emoji, 0 FROM reactions
		WHERE +account_id = ?2 AND update_pk IN (SELECT value FROM json_each(?1))
		UNION ALL
		SELECT 2, update_pk, '', shown FROM update_views
		WHERE shown IS NOT NULL AND update_pk IN (SELECT value FROM json_each(?1))`, ids, viewerID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var mine int
		var pk, n int64
		var emoji string
		if err := rows.Scan(&mine, &pk, &emoji, &n); err != nil {
			rows.Close()
			return err
		}
		switch u := byPK[pk]; mine {
		case 0:
			u.Reactions[emoji] = n
		case 1:
			u.Viewer.Reaction = &emoji
		default:
			u.Views = &n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	us := make([]*herald.Update, len(list))
	for i, r := range list {
		us[i] = r.u
	}
	if err := hydrateMedia(ctx, q, us); err != nil || !hasPoll {
		return err
	}
	return hydratePolls(ctx, q, byPK, ids, viewerID)
}

// hydratePolls fills poll options and viewerID's votes of the updates in
// byPK (ids is their pks as a JSON list).
func hydratePolls(ctx context.Context, q queryer, byPK map[int64]*herald.Update, ids, viewerID string) error {
	rows, err := q.QueryContext(ctx, `SELECT 0, update_pk, idx, text, votes FROM poll_options
		WHERE update_pk IN (SELECT value FROM json_each(?1))
		UNION ALL
		SELECT 1, update_pk, option_idx, '', 0 FROM votes
		WHERE +account_id = ?2 AND update_pk IN (SELECT value FROM json_each(?1))
		ORDER BY 1, 2, 3`, ids, viewerID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var mine, idx int
		var pk, votes int64
		var text string
		if err := rows.Scan(&mine, &pk, &idx, &text, &votes); err != nil {
			return err
		}
		u := byPK[pk]
		if u.Poll == nil {
			continue
		}
		if mine == 0 {
			u.Poll.Options = append(u.Poll.Options, herald.PollOption{Text: text, Votes: votes})
		} else {
			u.Viewer.Votes = append(u.Viewer.Votes, idx)
		}
	}
	return rows.Err()
}

// readSelect reads updates hydrated with their reaction counts and the
// viewer's reaction (?1 = viewer id) in one query; polls need hydratePolls.
// Counts come as "emoji US count RS ...": emoji never contain those controls.
const readSelect = `SELECT u.pk, u.id, c.id, u.seq, u.text, u.created_at, u.edited_at, u.expires_at,
	u.poll_question, u.poll_multiple, u.poll_voters, coalesce(u.signature, ''), coalesce(u.key_id, ''), u.pinned_at IS NOT NULL,
	(SELECT group_concat(rc.emoji || char(31) || rc.count, char(30)) FROM reaction_counts rc WHERE rc.update_pk = u.pk AND rc.count > 0),
	(SELECT r.emoji FROM reactions r WHERE r.update_pk = u.pk AND r.account_id = ?1),
	(SELECT v.shown FROM update_views v WHERE v.update_pk = u.pk)
FROM updates u JOIN channels c ON c.pk = u.channel_pk `

// readUpdates runs readSelect + where and returns hydrated updates.
func readUpdates(ctx context.Context, q queryer, viewerID, where string, args ...any) ([]*herald.Update, error) {
	rows, err := q.QueryContext(ctx, readSelect+where, append([]any{viewerID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*herald.Update{}
	var polls map[int64]*herald.Update
	var pollPKs []int64
	for rows.Next() {
		u := &herald.Update{Reactions: map[string]int64{}, Viewer: herald.UpdateViewer{Votes: []int{}}}
		var pk, created, expires, multiple, voters int64
		var edited sql.NullInt64
		var question, counts, mine sql.NullString
		var views sql.NullInt64
		if err := rows.Scan(&pk, &u.ID, &u.ChannelID, &u.Seq, &u.Text, &created, &edited, &expires, &question, &multiple, &voters, &u.Signature, &u.KeyID, &u.Pinned, &counts, &mine, &views); err != nil {
			return nil, err
		}
		if views.Valid {
			u.Views = &views.Int64
		}
		u.CreatedAt, u.ExpiresAt, u.EditedAt = fromNanos(created), fromNanos(expires), nullTime(edited)
		if question.Valid {
			u.Poll = &herald.Poll{Question: question.String, Multiple: multiple != 0, Voters: voters, Options: []herald.PollOption{}}
			if polls == nil {
				polls = map[int64]*herald.Update{}
			}
			polls[pk] = u
			pollPKs = append(pollPKs, pk)
		}
		for _, kv := range strings.Split(counts.String, "\x1e") {
			if emoji, n, ok := strings.Cut(kv, "\x1f"); ok {
				if v, err := strconv.ParseInt(n, 10, 64); err == nil {
					u.Reactions[emoji] = v
				}
			}
		}
		if mine.Valid {
			e := mine.String
			u.Viewer.Reaction = &e
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(pollPKs) > 0 {
		if err := hydratePolls(ctx, q, polls, jsonList(pollPKs), viewerID); err != nil {
			return nil, err
		}
	}
	if err := hydrateMedia(ctx, q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateUpdate posts an update (admins only) and appends update.created.
func (db *DB) CreateUpdate(ctx context.Context, actorID, channelID string, u *herald.Update) error {
	text, refs, err := herald.NormalizeUpdateContent(u.Text, u.Media)
	if err != nil {
		return err
	}
	if u.Poll != nil && len(refs) > 0 {
		return herald.ErrPollWithMedia
	}
	if u.Poll != nil {
		if err := u.Poll.Normalize(); err != nil {
			return err
		}
	}
	return db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		_, err = tx.insertUpdate(ctx, r, u, text, refs, "", herald.IdempotentWriteOf(ctx))
		return err
	})
}

// insertUpdate posts a validated update (text normalized) on the channel
// r and appends update.created: the one path of a post, immediate or
// scheduled, with retention counted from now.
// insertUpdate posts u with the uploads refs, or with the media of the
// scheduled update fromScheduled when set. Under an Idempotency-Key (w not
// nil) it is a keyed post: see keyedRetry. It returns the update's row.
func (tx *Tx) insertUpdate(ctx context.Context, r *chanRow, u *herald.Update, text string, refs []herald.MediaRef, fromScheduled string, w *herald.IdempotentWrite) (int64, error) {
	// One statement takes the next seq, refuses a suspended channel (which
	// posts nothing, scheduled updates included) and reads the signing key;
	// for a keyed post, it also tells whether its key was seen before.
	var seq int64
	var keyID sql.NullString
	var seed []byte
	var id string
	var fingerprint []byte
	var keepIndexed bool // the answer goes to idempotency_keys (keyedRetry)
	var err error
	if w == nil {
		err = tx.QueryRowContext(ctx, `UPDATE channels SET last_seq = last_seq + 1, last_update_at = ?1 WHERE pk = ?2 AND suspended_at IS NULL
			RETURNING last_seq, (SELECT id FROM signing_keys WHERE channel_pk = ?2 AND retired_at IS NULL),
				(SELECT private_key FROM signing_keys WHERE channel_pk = ?2 AND retired_at IS NULL)`,
			nanos(tx.now), r.pk).Scan(&seq, &keyID, &seed)
	} else {
		id, fingerprint = tx.db.keyedPostID(w.Principal, w.Key), w.Fingerprint
		var seen bool
		err = tx.QueryRowContext(ctx, `UPDATE channels SET last_seq = last_seq + 1, last_update_at = ?1 WHERE pk = ?2 AND suspended_at IS NULL
			RETURNING last_seq, (SELECT id FROM signing_keys WHERE channel_pk = ?2 AND retired_at IS NULL),
				(SELECT private_key FROM signing_keys WHERE channel_pk = ?2 AND retired_at IS NULL),
				EXISTS (SELECT 1 FROM updates WHERE id = ?3) OR EXISTS (SELECT 1 FROM idempotency_keys WHERE principal = ?4 AND key = ?5)
					OR EXISTS (SELECT 1 FROM keyed_post_tombstones WHERE id = ?3)`,
			nanos(tx.now), r.pk, id, w.Principal, w.Key).Scan(&seq, &keyID, &seed, &seen)
		if seen || errors.Is(err, sql.ErrNoRows) {
			// A retry (or a suspended channel, which still replays what
			// it answered): the whole lookup decides. Replaying returns an
			// error, so the request's savepoint undoes the seq taken.
			if id, keepIndexed, err = tx.keyedRetry(ctx, w, id, u, err); err != nil {
				return 0, err
			}
			if keepIndexed {
				fingerprint = nil
			}
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, herald.ErrChannelSuspended // the channel row was read in this transaction
	} else if err != nil {
		return 0, err
	}
	if id == "" {
		id = herald.NewID()
	}
	expires := tx.now.Add(tx.db.cfg.Retention)
	var question any
	var multiple int64
	if u.Poll != nil {
		question, multiple = u.Poll.Question, boolInt(u.Poll.Multiple)
		for i := range u.Poll.Options {
			u.Poll.Options[i].Votes = 0
		}
	}
	// Media rows name the update by id, so they can be attached before the
	// row exists: the update (attachments included) is signed first and
	// inserted once, signature included.
	if fromScheduled != "" {
		u.Media, err = moveMedia(ctx, tx, fromScheduled, id)
	} else {
		u.Media, err = attachMedia(ctx, tx, r.ch.ID, id, refs)
	}
	if err != nil {
		return 0, err
	}
	u.ID, u.ChannelID, u.Seq, u.Text = id, r.ch.ID, seq, text
	u.CreatedAt, u.ExpiresAt, u.EditedAt = tx.now, expires, nil
	if err := signWith(ctx, tx, r.pk, u, keyID, seed); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO updates (id, channel_pk, seq, text, created_at, expires_at, poll_question, poll_multiple, signature, key_id, idempotency_fingerprint)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, r.pk, seq, text, nanos(tx.now), nanos(expires), question, multiple, u.Signature, u.KeyID, fingerprint)
	if err != nil {
		return 0, err
	}
	pk, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if u.Poll != nil {
		for i, o := range u.Poll.Options {
			if _, err := tx.ExecContext(ctx, `INSERT INTO poll_options (update_pk, idx, text, votes) VALUES (?, ?, ?, 0)`, pk, i, o.Text); err != nil {
				return 0, err
			}
		}
	}
	if err := insertPushJob(ctx, tx, pk, false); err != nil {
		return 0, err
	}
	if err := tx.queuePreview(ctx, pk, text); err != nil {
		return 0, err
	}
	u.Reactions = map[string]int64{}
	u.Viewer = herald.UpdateViewer{Votes: []int{}}
	if err := tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateCreated, ChannelID: r.ch.ID, UpdateID: id, Update: u.Public()}); err != nil {
		return 0, err
	}
	if keepIndexed {
		return pk, keepAnswer(ctx, tx, w)
	}
	return pk, nil
}

// FindUpdate returns a live update with counts and the viewer's own interactions.
func (db *DB) FindUpdate(ctx context.Context, viewerID, channelID, updateID string) (*herald.Update, error) {
	var out *herald.Update
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		r, err := loadAccess(ctx, tx, viewerID, channelID)
		if err != nil {
			return err
		}
		list, err := readUpdates(ctx, tx, viewerID, `WHERE u.id = ?2 AND u.channel_pk = ?3 AND u.expires_at > ?4`, updateID, r.pk, nanos(now))
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errUpdateNotFound
		}
		out = list[0]
		return nil
	})
	return out, err
}

// ListUpdates returns live updates newest first.
func (db *DB) ListUpdates(ctx context.Context, viewerID, channelID string, before int64, limit int) ([]*herald.Update, error) {
	if limit <= 0 {
		limit = herald.DefaultUpdatesLimit
	}
	var out []*herald.Update
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		r, err := loadAccess(ctx, tx, viewerID, channelID)
		if err != nil {
			return err
		}
		if before <= 0 {
			before = 1<<63 - 1
		}
		out, err = readUpdates(ctx, tx, viewerID, `WHERE u.channel_pk = ?2 AND u.seq < ?3 AND u.expires_at > ?4 ORDER BY u.seq DESC LIMIT ?5`,
			r.pk, before, nanos(now), limit)
		return err
	})
	return out, err
}

// EditUpdate replaces the text of a live update (admins) and appends update.edited.
func (db *DB) EditUpdate(ctx context.Context, actorID, channelID, updateID, text string) (*herald.Update, error) {
	text, err := herald.NormalizeEditText(text)
	if err != nil {
		return nil, err
	}
	var out *herald.Update
	err = db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		ur, err := liveUpdate(ctx, tx, tx.now, r.pk, updateID)
		if err != nil {
			return err
		}
		if err := queueEditPush(ctx, tx, ur.pk, ur.u.CreatedAt); err != nil {
			return err
		}
		if err := tx.editPreview(ctx, ur.pk, ur.u.ID, text); err != nil {
			return err
		}
		edited := tx.now
		ur.u.Text, ur.u.EditedAt = text, &edited
		// Options are signed: read them before signing.
		if err := hydrateUpdates(ctx, tx, []updRow{ur}, actorID); err != nil {
			return err
		}
		if text == "" && len(ur.u.Media) == 0 {
			return herald.ErrEmptyText
		}
		if err := signUpdate(ctx, tx, r.pk, ur.u); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE updates SET text = ?, edited_at = ?, signature = ?, key_id = ? WHERE pk = ?`,
			text, nanos(tx.now), ur.u.Signature, ur.u.KeyID, ur.pk); err != nil {
			return err
		}
		out = ur.u
		return tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateEdited, ChannelID: r.ch.ID, UpdateID: ur.u.ID, Update: ur.u.Public()})
	})
	return out, err
}

// DeleteUpdate erases a live update with its reactions, votes and past
// events (admins), and appends update.deleted.
func (db *DB) DeleteUpdate(ctx context.Context, actorID, channelID, updateID string) error {
	err := db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		ur, err := liveUpdate(ctx, tx, tx.now, r.pk, updateID)
		if err != nil {
			return err
		}
		if err := eraseUpdates(ctx, tx, []int64{ur.pk}, []string{ur.u.ID}); err != nil {
			return err
		}
		return tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateDeleted, ChannelID: r.ch.ID, UpdateID: ur.u.ID})
	})
	if err == nil {
		db.noteErased()
	}
	return err
}

// eraseUpdates deletes updates (cascading to options, reactions, counts and
// votes) and the events that refer to them.
func eraseUpdates(ctx context.Context, tx *Tx, pks []int64, ids []string) error {
	if len(pks) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE update_id IN (SELECT value FROM json_each(?))`, jsonList(ids)); err != nil {
		return err
	}
	if err := eraseAnswers(ctx, tx, ids); err != nil {
		return err
	}
	// A keyed post's id is derived from its key: remember it is spent.
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO keyed_post_tombstones (id, created_at)
		SELECT id, created_at FROM updates WHERE pk IN (SELECT value FROM json_each(?)) AND idempotency_fingerprint IS NOT NULL`, jsonList(pks)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM updates WHERE pk IN (SELECT value FROM json_each(?))`, jsonList(pks))
	return err
}
