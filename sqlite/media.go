package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
)

const mediaCols = `m.id, m.channel_id, m.update_id, m.alt, m.type, m.mime, m.size, m.width, m.height,
	m.duration, m.blurhash, m.name, m.state, m.variants, m.created_at,
	coalesce((SELECT NOT c.listed FROM channels c WHERE c.id = m.channel_id), 0)`

// scanMedia reads mediaCols; it returns the update id ("" if unattached).
func scanMedia(s scanner) (*herald.Media, string, error) {
	m := &herald.Media{}
	var update sql.NullString
	var variants string
	var created int64
	if err := s.Scan(&m.ID, &m.ChannelID, &update, &m.Alt, &m.Type, &m.MIME, &m.Size, &m.Width, &m.Height,
		&m.Duration, &m.Blurhash, &m.Name, &m.State, &variants, &created, &m.Unlisted); err != nil {
		return nil, "", err
	}
	m.Variants, m.CreatedAt = storeutil.SplitVariants(variants), fromNanos(created)
	m.SetURLs()
	return m, update.String, nil
}

func queryMedia(ctx context.Context, q queryer, query string, args ...any) ([]herald.Media, []string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var list []herald.Media
	var updates []string
	for rows.Next() {
		m, u, err := scanMedia(rows)
		if err != nil {
			return nil, nil, err
		}
		list, updates = append(list, *m), append(updates, u)
	}
	return list, updates, rows.Err()
}

// CreateMedia records an unattached upload (admins), within the quota.
func (db *DB) CreateMedia(ctx context.Context, actorID, channelID string, m *herald.Media, dailyQuota int64) error {
	return db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		if dailyQuota > 0 {
			var used int64
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(size), 0) FROM media WHERE channel_id = ? AND created_at > ?`,
				r.ch.ID, nanos(tx.now.Add(-24*time.Hour))).Scan(&used); err != nil {
				return err
			}
			if used+m.Size > dailyQuota {
				return storeutil.ErrMediaQuota
			}
		}
		m.ChannelID, m.CreatedAt = r.ch.ID, tx.now
		if m.State == "" {
			m.State = herald.MediaProcessing
		}
		m.Unlisted = !r.ch.Listed
		m.SetURLs()
		if m.Unlisted {
			m.SignURLs(tx.db.mediaKey, tx.now)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO media (id, channel_id, type, mime, size, width, height, duration, blurhash, name, state, variants, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, m.ChannelID, m.Type, m.MIME, m.Size, m.Width, m.Height,
			m.Duration, m.Blurhash, m.Name, m.State, storeutil.JoinVariants(m.Variants), nanos(m.CreatedAt))
		return err
	})
}

// MediaUsage returns the bytes uploaded to a channel since a time.
func (db *DB) MediaUsage(ctx context.Context, channelID string, since time.Time) (int64, error) {
	var used int64
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(sum(size), 0) FROM media WHERE channel_id = ? AND created_at > ?`,
		channelID, nanos(since)).Scan(&used)
	return used, err
}

// FinishMedia records the result of processing; if the media is already
// part of a live update, followers hear it as update.edited.
func (db *DB) FinishMedia(ctx context.Context, m *herald.Media) error {
	return db.write(ctx, func(tx *Tx) error {
		var update sql.NullString
		err := tx.QueryRowContext(ctx, `UPDATE media SET type = ?, mime = ?, size = ?, width = ?, height = ?, duration = ?,
			blurhash = ?, state = ?, variants = ? WHERE id = ? RETURNING update_id,
			coalesce((SELECT NOT c.listed FROM channels c WHERE c.id = media.channel_id), 0)`, m.Type, m.MIME, m.Size, m.Width, m.Height, m.Duration,
			m.Blurhash, m.State, storeutil.JoinVariants(m.Variants), m.ID).Scan(&update, &m.Unlisted)
		if errors.Is(err, sql.ErrNoRows) {
			return storeutil.ErrMediaNotFound
		} else if err != nil {
			return err
		}
		m.SetURLs()
		if m.Unlisted {
			m.SignURLs(tx.db.mediaKey, tx.now)
		}
		if !update.Valid {
			return nil
		}
		rows, err := queryUpdates(ctx, tx, updateSelect+`WHERE u.id = ? AND u.expires_at > ?`, update.String, nanos(tx.now))
		if err != nil || len(rows) == 0 {
			return err
		}
		if err := hydrateUpdates(ctx, tx, rows, ""); err != nil {
			return err
		}
		u := rows[0].u
		return tx.appendEvent(ctx, herald.Event{Stream: u.ChannelID, Type: herald.EventUpdateEdited, ChannelID: u.ChannelID, UpdateID: u.ID, Update: u.Public()})
	})
}

// cmpErr returns err if set, else fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// FindMedia returns a live media viewerID may read.
func (db *DB) FindMedia(ctx context.Context, viewerID, mediaID string) (*herald.MediaAccess, error) {
	return db.findMedia(ctx, viewerID, mediaID, false)
}

// FindSignedMedia returns a live media whoever asks (its URL was signed).
func (db *DB) FindSignedMedia(ctx context.Context, mediaID string) (*herald.MediaAccess, error) {
	return db.findMedia(ctx, "", mediaID, true)
}

func (db *DB) findMedia(ctx context.Context, viewerID, mediaID string, signed bool) (*herald.MediaAccess, error) {
	var out *herald.MediaAccess
	err := db.view(ctx, func(q queryer, now time.Time) error {
		m, update, err := scanMedia(q.QueryRowContext(ctx, `SELECT `+mediaCols+` FROM media m WHERE m.id = ?`, mediaID))
		if errors.Is(err, sql.ErrNoRows) {
			return storeutil.ErrMediaNotFound
		} else if err != nil {
			return err
		}
		var r *chanRow
		if signed {
			// No relation: an upload not yet attached stays its admins'.
			r = &chanRow{}
			var listed int64
			err = q.QueryRowContext(ctx, `SELECT pk, id, listed FROM channels WHERE id = ?`, m.ChannelID).Scan(&r.pk, &r.ch.ID, &listed)
			if errors.Is(err, sql.ErrNoRows) {
				err = errChannelNotFound
			}
			r.ch.Listed = listed != 0
		} else {
			r, err = loadAccess(ctx, q, viewerID, m.ChannelID)
		}
		if errors.Is(err, errChannelNotFound) {
			return storeutil.ErrMediaNotFound
		} else if err != nil {
			return err
		}
		if update == "" {
			var avatar int
			err := q.QueryRowContext(ctx, `SELECT 1 FROM channels WHERE pk = ? AND avatar_id = ?`, r.pk, m.ID).Scan(&avatar)
			if errors.Is(err, sql.ErrNoRows) {
				// An upload not yet attached: its channel's admins only.
				if !r.rel.IsAdmin() || !now.Before(m.CreatedAt.Add(herald.UnattachedMaxAge)) {
					return storeutil.ErrMediaNotFound
				}
			} else if err != nil {
				return err
			}
		} else {
			var live int
			err := q.QueryRowContext(ctx, `SELECT 1 FROM updates WHERE id = ? AND channel_pk = ? AND expires_at > ?`, update, r.pk, nanos(now)).Scan(&live)
			if errors.Is(err, sql.ErrNoRows) && r.rel.IsAdmin() {
				// Waiting in a scheduled update: its channel's admins only.
				err = q.QueryRowContext(ctx, `SELECT 1 FROM scheduled_updates WHERE id = ? AND channel_pk = ?`, update, r.pk).Scan(&live)
			}
			if errors.Is(err, sql.ErrNoRows) {
				return storeutil.ErrMediaNotFound
			} else if err != nil {
				return err
			}
		}
		out = &herald.MediaAccess{Media: m, Listed: r.ch.Listed}
		return nil
	})
	return out, err
}

// attachMedia attaches unattached uploads of a channel to a new update, in
// order, with their alt texts.
func attachMedia(ctx context.Context, tx *Tx, channelID, updateID string, refs []herald.MediaRef) ([]herald.Media, error) {
	var out []herald.Media
	for i, ref := range refs {
		m, _, err := scanMedia(tx.QueryRowContext(ctx, `UPDATE media SET update_id = ?, position = ?, alt = ?
			WHERE id = ? AND channel_id = ? AND update_id IS NULL AND state != ? AND created_at > ?
			RETURNING `+strings.ReplaceAll(mediaCols, "m.", ""), updateID, i, ref.Alt, ref.ID, channelID, herald.MediaFailed, nanos(tx.now.Add(-herald.UnattachedMaxAge))))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, storeutil.ErrMediaNotAttachable(ref.ID)
		} else if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	signMedia(tx, out)
	return out, nil
}

// moveMedia hands the media of a scheduled update to the update publishing it.
func moveMedia(ctx context.Context, tx *Tx, fromID, toID string) ([]herald.Media, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE media SET update_id = ? WHERE update_id = ?`, toID, fromID); err != nil {
		return nil, err
	}
	list, _, err := queryMedia(ctx, tx, `SELECT `+mediaCols+` FROM media m WHERE m.update_id = ? ORDER BY m.position`, toID)
	signMedia(tx, list)
	return list, err
}

// hydrateMedia fills the media of updates.
func hydrateMedia(ctx context.Context, q queryer, updates []*herald.Update) error {
	if len(updates) == 0 {
		return nil
	}
	byID := make(map[string]*herald.Update, len(updates))
	ids := make([]string, 0, len(updates))
	for _, u := range updates {
		u.Media = nil
		byID[u.ID] = u
		ids = append(ids, u.ID)
	}
	list, updateIDs, err := queryMedia(ctx, q, `SELECT `+mediaCols+` FROM media m
		WHERE m.update_id IN (SELECT value FROM json_each(?)) AND m.position >= 0 ORDER BY m.update_id, m.position`, jsonList(ids))
	if err != nil {
		return err
	}
	signMedia(q, list)
	storeutil.GroupMedia(byID, list, updateIDs)
	return hydratePreviews(ctx, q, updates, byID)
}

// SetMediaAlt replaces alt texts of an update's media (admins).
func (db *DB) SetMediaAlt(ctx context.Context, actorID, channelID, updateID string, refs []herald.MediaRef) (*herald.Update, error) {
	if err := herald.NormalizeMediaRefs(refs); err != nil {
		return nil, err
	}
	var out *herald.Update
	err := db.write(ctx, func(tx *Tx) error {
		r, err := adminAccess(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		ur, err := liveUpdate(ctx, tx, tx.now, r.pk, updateID)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			res, err := tx.ExecContext(ctx, `UPDATE media SET alt = ? WHERE id = ? AND update_id = ? AND position >= 0`, ref.Alt, ref.ID, ur.u.ID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return cmpErr(err, storeutil.ErrMediaNotOfUpdate(ref.ID))
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE updates SET edited_at = ? WHERE pk = ?`, nanos(tx.now), ur.pk); err != nil {
			return err
		}
		edited := tx.now
		ur.u.EditedAt = &edited
		if err := hydrateUpdates(ctx, tx, []updRow{ur}, actorID); err != nil {
			return err
		}
		out = ur.u
		return tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateEdited, ChannelID: r.ch.ID, UpdateID: ur.u.ID, Update: ur.u.Public()})
	})
	return out, err
}

// SetChannelAvatar sets or removes a channel's avatar (admins).
func (db *DB) SetChannelAvatar(ctx context.Context, actorID, channelID, mediaID string) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.write(ctx, func(tx *Tx) error {
		r, err := adminChannel(ctx, tx, actorID, channelID)
		if err != nil {
			return err
		}
		if mediaID != "" {
			var ok int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM media WHERE id = ? AND channel_id = ? AND update_id IS NULL AND type = ? AND state = ?
				AND created_at > ?`, mediaID, r.ch.ID, herald.MediaImage, herald.MediaReady, nanos(tx.now.Add(-herald.UnattachedMaxAge))).Scan(&ok)
			if errors.Is(err, sql.ErrNoRows) {
				return storeutil.ErrMediaNotAttachable(mediaID)
			} else if err != nil {
				return err
			}
		}
		// The old avatar is retired: erasable at the next run.
		if _, err := tx.ExecContext(ctx, `UPDATE media SET update_id = '' WHERE id = (SELECT avatar_id FROM channels WHERE pk = ?) AND id != ?`, r.pk, mediaID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET avatar_id = ? WHERE pk = ?`, nullString(mediaID), r.pk); err != nil {
			return err
		}
		r.ch.AvatarURL = herald.AvatarURL(mediaID)
		signAvatar(tx, &r.ch)
		out = r.view()
		return tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelUpdated, ChannelID: r.ch.ID, Channel: r.public()})
	})
	return out, err
}

// mediaErasable is true of a media m whose files must go (?1: the oldest
// creation time an unattached upload may have; ?2: now): of a deleted
// channel, unattached for too long (and not an avatar), or of a deleted or
// expired update (a scheduled update's media wait for its publication).
const mediaErasable = `(NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = m.channel_id)
	OR (m.update_id IS NULL AND m.created_at <= ?1 AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.avatar_id = m.id))
	OR (m.update_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM updates u WHERE u.id = m.update_id AND u.expires_at > ?2)
		AND NOT EXISTS (SELECT 1 FROM scheduled_updates s WHERE s.id = m.update_id)))`

// ErasableMedia returns media whose files must go.
func (db *DB) ErasableMedia(ctx context.Context, limit int) ([]*herald.Media, error) {
	var out []*herald.Media
	err := db.view(ctx, func(q queryer, now time.Time) error {
		list, _, err := queryMedia(ctx, q, `SELECT `+mediaCols+` FROM media m
			WHERE `+mediaErasable+` LIMIT ?3`, nanos(now.Add(-herald.UnattachedMaxAge)), nanos(now), limit)
		for i := range list {
			out = append(out, &list[i])
		}
		return err
	})
	return out, err
}

// ForgetMedia removes media records whose files are gone.
func (db *DB) ForgetMedia(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM media WHERE id IN (SELECT value FROM json_each(?))`, jsonList(ids))
		return err
	})
}
