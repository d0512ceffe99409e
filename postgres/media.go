package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
)

const mediaCols = `m.id, m.channel_id, coalesce(m.update_id, ''), m.alt, m.type, m.mime, m.size, m.width, m.height,
	m.duration, m.blurhash, m.name, m.state, m.variants, m.created_at,
	NOT coalesce((SELECT c.listed FROM channels c WHERE c.id = m.channel_id), true)`

// updateMediaCol is the last column of updateCols: an update's media as a
// JSON array in position order (NULL without media).
const updateMediaCol = `(SELECT json_agg(` + mediaObject + `
	ORDER BY m.position) FROM media m WHERE m.update_id = u.id AND m.position >= 0)`

// mediaObject is the media m as a mediaJSON.
const mediaObject = `json_build_object('id', m.id, 'channel_id', m.channel_id, 'alt', m.alt,
	'type', m.type, 'mime', m.mime, 'size', m.size, 'width', m.width, 'height', m.height, 'duration', m.duration,
	'blurhash', m.blurhash, 'name', m.name, 'state', m.state, 'variants', m.variants, 'created_at', m.created_at,
	'unlisted', NOT coalesce((SELECT c.listed FROM channels c WHERE c.id = m.channel_id), true))`

// mediaJSON is one element of updateMediaCol.
type mediaJSON struct {
	herald.Media
	Variants string `json:"variants"`
	Unlisted bool   `json:"unlisted"`
}

// decodeUpdateMedia turns updateMediaCol into media.
func decodeUpdateMedia(b []byte) ([]herald.Media, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var list []mediaJSON
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	out := make([]herald.Media, len(list))
	for i := range list {
		out[i] = list[i].media()
	}
	return out, nil
}

func (m *mediaJSON) media() herald.Media {
	out := m.Media
	out.Variants = storeutil.SplitVariants(m.Variants)
	out.Unlisted = m.Unlisted
	out.CreatedAt = out.CreatedAt.UTC()
	out.SetURLs()
	return out
}

// scanMedia reads mediaCols; it returns the update id ("" if unattached).
func scanMedia(row pgx.Row) (*herald.Media, string, error) {
	m := &herald.Media{}
	var update, variants string
	if err := row.Scan(&m.ID, &m.ChannelID, &update, &m.Alt, &m.Type, &m.MIME, &m.Size, &m.Width, &m.Height,
		&m.Duration, &m.Blurhash, &m.Name, &m.State, &variants, &m.CreatedAt, &m.Unlisted); err != nil {
		return nil, "", err
	}
	m.Variants, m.CreatedAt = storeutil.SplitVariants(variants), m.CreatedAt.UTC()
	m.SetURLs()
	return m, update, nil
}

// CreateMedia records an unattached upload (admins), within the quota. The
// quota is soft under concurrent uploads to one channel (they don't lock
// each other out).
func (db *DB) CreateMedia(ctx context.Context, actorID, channelID string, m *herald.Media, dailyQuota int64) error {
	return db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		if dailyQuota > 0 {
			var used int64
			if err := t.QueryRow(ctx, `SELECT coalesce(sum(size), 0) FROM media WHERE channel_id = $1 AND created_at > $2`,
				r.ch.ID, t.now.Add(-24*time.Hour)).Scan(&used); err != nil {
				return err
			}
			if used+m.Size > dailyQuota {
				return storeutil.ErrMediaQuota
			}
		}
		m.ChannelID, m.CreatedAt = r.ch.ID, t.now
		if m.State == "" {
			m.State = herald.MediaProcessing
		}
		m.Unlisted = !r.ch.Listed
		m.SetURLs()
		if m.Unlisted {
			m.SignURLs(db.mediaKey, t.now)
		}
		_, err = t.Exec(ctx, `INSERT INTO media (id, channel_id, type, mime, size, width, height, duration, blurhash, name, state, variants, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, m.ID, m.ChannelID, m.Type, m.MIME, m.Size, m.Width, m.Height,
			m.Duration, m.Blurhash, m.Name, m.State, storeutil.JoinVariants(m.Variants), m.CreatedAt)
		return err
	})
}

// MediaUsage returns the bytes uploaded to a channel since a time.
func (db *DB) MediaUsage(ctx context.Context, channelID string, since time.Time) (int64, error) {
	var used int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(size), 0) FROM media WHERE channel_id = $1 AND created_at > $2`,
		channelID, since).Scan(&used)
	return used, mapError(err)
}

// FinishMedia records the result of processing; if the media is already
// part of a live update, followers hear it as update.edited.
func (db *DB) FinishMedia(ctx context.Context, m *herald.Media) error {
	return db.inTx(ctx, func(t *tx) error {
		var update, channel string
		err := t.QueryRow(ctx, `UPDATE media SET type = $1, mime = $2, size = $3, width = $4, height = $5, duration = $6,
			blurhash = $7, state = $8, variants = $9 WHERE id = $10 RETURNING coalesce(update_id, ''), channel_id,
			NOT coalesce((SELECT c.listed FROM channels c WHERE c.id = media.channel_id), true)`, m.Type, m.MIME, m.Size, m.Width, m.Height, m.Duration,
			m.Blurhash, m.State, storeutil.JoinVariants(m.Variants), m.ID).Scan(&update, &channel, &m.Unlisted)
		if errors.Is(err, pgx.ErrNoRows) {
			return storeutil.ErrMediaNotFound
		} else if err != nil {
			return err
		}
		m.SetURLs()
		if m.Unlisted {
			m.SignURLs(db.mediaKey, t.now)
		}
		if update == "" {
			return nil
		}
		// The channel's key-share lock, as every write appending to its stream
		// (whoever may see it: an unlisted channel's followers hear it too).
		var locked int
		if err := t.QueryRow(ctx, `SELECT 1 FROM channels c WHERE c.id = $1`+lockKeyShare, channel).Scan(&locked); errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		u, err := loadUpdate(ctx, t, t.now, "", channel, update)
		if errors.Is(err, errUpdateNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		return t.appendEvent(ctx, herald.Event{Stream: channel, Type: herald.EventUpdateEdited, ChannelID: channel, UpdateID: u.ID, Update: u.Public()})
	})
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
	now := db.now()
	m, update, err := scanMedia(db.pool.QueryRow(ctx, `SELECT `+mediaCols+` FROM media m WHERE m.id = $1`, mediaID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storeutil.ErrMediaNotFound
	} else if err != nil {
		return nil, mapError(err)
	}
	var r *chanRow
	if signed {
		// No relation: an upload not yet attached stays its admins'.
		r = &chanRow{}
		err = db.pool.QueryRow(ctx, `SELECT pk, id, listed FROM channels WHERE id = $1`, m.ChannelID).Scan(&r.pk, &r.ch.ID, &r.ch.Listed)
		if errors.Is(err, pgx.ErrNoRows) {
			err = errChannelNotFound
		}
	} else {
		r, err = loadAccess(ctx, db.pool, viewerID, m.ChannelID, lockNone)
	}
	if errors.Is(err, errChannelNotFound) {
		return nil, storeutil.ErrMediaNotFound
	} else if err != nil {
		return nil, mapError(err)
	}
	if update == "" {
		var avatar int
		err := db.pool.QueryRow(ctx, `SELECT 1 FROM channels WHERE id = $1 AND avatar_id = $2`, r.ch.ID, m.ID).Scan(&avatar)
		if errors.Is(err, pgx.ErrNoRows) {
			// An upload not yet attached: its channel's admins only.
			if !r.rel.IsAdmin() || !now.Before(m.CreatedAt.Add(herald.UnattachedMaxAge)) {
				return nil, storeutil.ErrMediaNotFound
			}
		} else if err != nil {
			return nil, mapError(err)
		}
	} else {
		var live int
		err := db.pool.QueryRow(ctx, `SELECT 1 FROM updates WHERE id = $1 AND channel_id = $2 AND expires_at > $3`, update, r.ch.ID, now).Scan(&live)
		if errors.Is(err, pgx.ErrNoRows) && r.rel.IsAdmin() {
			// Waiting in a scheduled update: its channel's admins only.
			err = db.pool.QueryRow(ctx, `SELECT 1 FROM scheduled_updates WHERE id = $1 AND channel_id = $2`, update, r.ch.ID).Scan(&live)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, storeutil.ErrMediaNotFound
		} else if err != nil {
			return nil, mapError(err)
		}
	}
	return &herald.MediaAccess{Media: m, Listed: r.ch.Listed}, nil
}

// moveMedia hands the media of a scheduled update to the update publishing it.
func (t *tx) moveMedia(ctx context.Context, fromID, toID string) ([]herald.Media, error) {
	rows, err := t.Query(ctx, `UPDATE media AS m SET update_id = $2 WHERE m.update_id = $1 RETURNING `+mediaCols+`, m.position`, fromID, toID)
	if err != nil {
		return nil, err
	}
	type positioned struct {
		m   *herald.Media
		pos int
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (positioned, error) {
		var p positioned
		m := &herald.Media{}
		var update, variants string
		err := r.Scan(&m.ID, &m.ChannelID, &update, &m.Alt, &m.Type, &m.MIME, &m.Size, &m.Width, &m.Height,
			&m.Duration, &m.Blurhash, &m.Name, &m.State, &variants, &m.CreatedAt, &m.Unlisted, &p.pos)
		m.Variants, m.CreatedAt = storeutil.SplitVariants(variants), m.CreatedAt.UTC()
		m.SetURLs()
		p.m = m
		return p, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b positioned) int { return a.pos - b.pos })
	out := make([]herald.Media, len(list))
	for i, p := range list {
		out[i] = *p.m
	}
	t.db.signMedia(out)
	return out, nil
}

// scheduledMedia fills the media of scheduled updates.
func scheduledMedia(ctx context.Context, q querier, db *DB, list ...*herald.ScheduledUpdate) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*herald.ScheduledUpdate, len(list))
	ids := make([]string, 0, len(list))
	for _, s := range list {
		s.Media = nil
		byID[s.ID] = s
		ids = append(ids, s.ID)
	}
	rows, err := q.Query(ctx, `SELECT `+mediaCols+` FROM media m WHERE m.update_id = ANY($1) ORDER BY m.update_id, m.position`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		m, owner, err := scanMedia(rows)
		if err != nil {
			return err
		}
		if m.Unlisted {
			m.SignURLs(db.mediaKey, db.clock.Now())
		}
		if s := byID[owner]; s != nil {
			s.Media = append(s.Media, *m)
		}
	}
	return rows.Err()
}

// attachMedia attaches unattached uploads of a channel to a new update, in
// order, with their alt texts.
func (t *tx) attachMedia(ctx context.Context, channelID, updateID string, refs []herald.MediaRef) ([]herald.Media, error) {
	var out []herald.Media
	for i, ref := range refs {
		m, _, err := scanMedia(t.QueryRow(ctx, `UPDATE media AS m SET update_id = $1, position = $2, alt = $3
			WHERE m.id = $4 AND m.channel_id = $5 AND m.update_id IS NULL AND m.state != $6 AND m.created_at > $7
			RETURNING `+mediaCols, updateID, i, ref.Alt, ref.ID, channelID, herald.MediaFailed, t.now.Add(-herald.UnattachedMaxAge)))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, storeutil.ErrMediaNotAttachable(ref.ID)
		} else if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	t.db.signMedia(out)
	return out, nil
}

// SetMediaAlt replaces alt texts of an update's media (admins).
func (db *DB) SetMediaAlt(ctx context.Context, actorID, channelID, updateID string, refs []herald.MediaRef) (*herald.Update, error) {
	if err := herald.NormalizeMediaRefs(refs); err != nil {
		return nil, err
	}
	var u *herald.Update
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		tag, err := t.Exec(ctx, `UPDATE updates SET edited_at = $3 WHERE id = $1 AND channel_id = $2 AND expires_at > $3`, updateID, r.ch.ID, t.now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errUpdateNotFound
		}
		for _, ref := range refs {
			tag, err := t.Exec(ctx, `UPDATE media SET alt = $1 WHERE id = $2 AND update_id = $3 AND position >= 0`, ref.Alt, ref.ID, updateID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return storeutil.ErrMediaNotOfUpdate(ref.ID)
			}
		}
		if u, err = loadUpdate(ctx, t, t.now, actorID, r.ch.ID, updateID); err != nil {
			return err
		}
		return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateEdited, ChannelID: r.ch.ID,
			UpdateID: updateID, Update: u.Public()})
	})
	return u, err
}

// SetChannelAvatar sets or removes a channel's avatar (admins).
func (db *DB) SetChannelAvatar(ctx context.Context, actorID, channelID, mediaID string) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.adminChannel(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		if mediaID != "" {
			var ok int
			err := t.QueryRow(ctx, `SELECT 1 FROM media WHERE id = $1 AND channel_id = $2 AND update_id IS NULL AND type = $3 AND state = $4
				AND created_at > $5`, mediaID, r.ch.ID, herald.MediaImage, herald.MediaReady, t.now.Add(-herald.UnattachedMaxAge)).Scan(&ok)
			if errors.Is(err, pgx.ErrNoRows) {
				return storeutil.ErrMediaNotAttachable(mediaID)
			} else if err != nil {
				return err
			}
		}
		// The old avatar is retired: erasable at the next run.
		if _, err := t.Exec(ctx, `UPDATE media SET update_id = '' WHERE id = (SELECT avatar_id FROM channels WHERE id = $1) AND id != $2`, r.ch.ID, mediaID); err != nil {
			return err
		}
		var avatar *string
		if mediaID != "" {
			avatar = &mediaID
		}
		if _, err := t.Exec(ctx, `UPDATE channels SET avatar_id = $1 WHERE id = $2`, avatar, r.ch.ID); err != nil {
			return err
		}
		r.ch.AvatarURL = herald.AvatarURL(mediaID)
		db.signAvatar(&r.ch)
		out = r.view()
		return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelUpdated, ChannelID: r.ch.ID, Channel: r.public()})
	})
	return out, err
}

// ErasableMedia returns media whose files must go.
func (db *DB) ErasableMedia(ctx context.Context, limit int) ([]*herald.Media, error) {
	now := db.now()
	rows, err := db.pool.Query(ctx, `SELECT `+mediaCols+` FROM media m
		WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = m.channel_id)
		OR (m.update_id IS NULL AND m.created_at <= $1 AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.avatar_id = m.id))
		OR (m.update_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM updates u WHERE u.id = m.update_id AND u.expires_at > $2)
			AND NOT EXISTS (SELECT 1 FROM scheduled_updates s WHERE s.id = m.update_id))
		LIMIT $3`, now.Add(-herald.UnattachedMaxAge), now, limit)
	if err != nil {
		return nil, mapError(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Media, error) {
		m, _, err := scanMedia(r)
		return m, err
	})
	return list, mapError(err)
}

// ForgetMedia removes media records whose files are gone.
func (db *DB) ForgetMedia(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `DELETE FROM media WHERE id = ANY($1)`, ids)
	return mapError(err)
}
