package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
)

// queuePreview queues the link preview of a new update's text, if it has a URL.
func (tx *Tx) queuePreview(ctx context.Context, updatePK int64, text string) error {
	url := herald.FirstURL(text)
	if url == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO link_previews (update_pk, url, state) VALUES (?, ?, ?)`, updatePK, url, herald.PreviewPending)
	return err
}

// editPreview follows an edit: the same URL keeps its preview (or its
// removal); another drops the old one, image included, and queues the new.
func (tx *Tx) editPreview(ctx context.Context, updatePK int64, updateID, text string) error {
	url := herald.FirstURL(text)
	var old string
	err := tx.QueryRowContext(ctx, `SELECT url FROM link_previews WHERE update_pk = ?`, updatePK).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if old == url {
		return nil
	}
	if err := retirePreviewImage(ctx, tx, updateID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM link_previews WHERE update_pk = ?`, updatePK); err != nil {
		return err
	}
	return tx.queuePreview(ctx, updatePK, text)
}

// retirePreviewImage makes an update's preview image erasable at the next run.
func retirePreviewImage(ctx context.Context, tx *Tx, updateID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE media SET update_id = '' WHERE update_id = ? AND position = ?`, updateID, storeutil.PreviewImagePosition)
	return err
}

// hydratePreviews fills the ready link previews of updates with their
// images, in one query. The states are literals, not parameters: a
// parameter compared with the column of a partial index makes SQLite
// prepare the statement again at every run.
func hydratePreviews(ctx context.Context, q queryer, updates []*herald.Update, byID map[string]*herald.Update) error {
	ids := storeutil.PreviewCandidates(updates)
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT u.id, lp.url, lp.title, lp.description, lp.site_name, lp.canonical_url,
			coalesce(m.id, ''), coalesce(m.channel_id, ''), coalesce(m.mime, ''), coalesce(m.size, 0), coalesce(m.width, 0),
			coalesce(m.height, 0), coalesce(m.blurhash, ''), coalesce(m.variants, ''), coalesce(m.created_at, 0),
			coalesce((SELECT NOT c.listed FROM channels c WHERE c.pk = u.channel_pk), 0)
		FROM link_previews lp JOIN updates u ON u.pk = lp.update_pk
		LEFT JOIN media m ON m.id = lp.image_id AND m.state = '`+herald.MediaReady+`'
		WHERE u.id IN (SELECT value FROM json_each(?)) AND lp.state = '`+herald.PreviewReady+`'`, jsonList(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	db := dbOf(q)
	var now time.Time
	if db != nil {
		now = db.cfg.Clock.Now()
	}
	for rows.Next() {
		var id, variants string
		var created int64
		p, m := &herald.LinkPreview{}, &herald.Media{Type: herald.MediaImage, State: herald.MediaReady}
		if err := rows.Scan(&id, &p.URL, &p.Title, &p.Description, &p.SiteName, &p.CanonicalURL,
			&m.ID, &m.ChannelID, &m.MIME, &m.Size, &m.Width, &m.Height, &m.Blurhash, &variants, &created, &m.Unlisted); err != nil {
			return err
		}
		if m.ID != "" {
			m.Variants, m.CreatedAt = storeutil.SplitVariants(variants), fromNanos(created)
			m.SetURLs()
			// An unlisted channel's image is served only by a signed URL.
			if m.Unlisted && db != nil {
				m.SignURLs(db.mediaKey, now)
			}
			p.Image = m
		}
		byID[id].LinkPreview = p
	}
	return rows.Err()
}

// ClaimPreviews leases pending previews of live updates.
func (db *DB) ClaimPreviews(ctx context.Context, limit int, lease time.Duration) ([]herald.PreviewJob, error) {
	var out []herald.PreviewJob
	err := db.write(ctx, func(tx *Tx) error {
		now := nanos(tx.now)
		// Claimed too often (each fetch cut short): given up.
		if _, err := tx.ExecContext(ctx, `UPDATE link_previews SET state = '`+herald.PreviewFailed+`'
			WHERE state = '`+herald.PreviewPending+`' AND lease_until <= ? AND attempts >= ?`, now, herald.PreviewMaxAttempts); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT lp.update_pk, u.id, c.id, lp.url FROM link_previews lp
			JOIN updates u ON u.pk = lp.update_pk JOIN channels c ON c.pk = u.channel_pk
			WHERE lp.state = '`+herald.PreviewPending+`' AND lp.lease_until <= ? AND u.expires_at > ? ORDER BY lp.lease_until, lp.update_pk LIMIT ?`,
			now, now, limit)
		if err != nil {
			return err
		}
		var pks []int64
		for rows.Next() {
			var pk int64
			var j herald.PreviewJob
			if err := rows.Scan(&pk, &j.UpdateID, &j.ChannelID, &j.URL); err != nil {
				rows.Close()
				return err
			}
			pks, out = append(pks, pk), append(out, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE link_previews SET lease_until = ?, attempts = attempts + 1
			WHERE update_pk IN (SELECT value FROM json_each(?))`, nanos(tx.now.Add(lease)), jsonList(pks))
		return err
	})
	return out, err
}

// CreatePreviewImage records a preview image, unattached.
func (db *DB) CreatePreviewImage(ctx context.Context, channelID string, m *herald.Media) error {
	return db.write(ctx, func(tx *Tx) error {
		m.ChannelID, m.CreatedAt = channelID, tx.now
		m.SetURLs()
		_, err := tx.ExecContext(ctx, `INSERT INTO media (id, channel_id, type, mime, size, width, height, duration, blurhash, name, state, variants, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, m.ChannelID, m.Type, m.MIME, m.Size, m.Width, m.Height,
			m.Duration, m.Blurhash, m.Name, m.State, storeutil.JoinVariants(m.Variants), nanos(m.CreatedAt))
		return err
	})
}

// FinishPreview stores a fetched preview, or that there is none.
func (db *DB) FinishPreview(ctx context.Context, job herald.PreviewJob, p *herald.LinkPreview) error {
	return db.write(ctx, func(tx *Tx) error {
		var pk, channelPK int64
		err := tx.QueryRowContext(ctx, `SELECT lp.update_pk, u.channel_pk FROM link_previews lp
			JOIN updates u ON u.pk = lp.update_pk JOIN channels c ON c.pk = u.channel_pk
			WHERE u.id = ? AND c.id = ? AND u.expires_at > ? AND lp.state = ? AND lp.url = ?`,
			job.UpdateID, job.ChannelID, nanos(tx.now), herald.PreviewPending, job.URL).Scan(&pk, &channelPK)
		if errors.Is(err, sql.ErrNoRows) {
			// Edited, removed or deleted meanwhile: the image goes.
			if p != nil && p.Image != nil {
				_, err := tx.ExecContext(ctx, `UPDATE media SET update_id = '' WHERE id = ? AND update_id IS NULL`, p.Image.ID)
				return err
			}
			return nil
		} else if err != nil {
			return err
		}
		if p == nil {
			_, err := tx.ExecContext(ctx, `UPDATE link_previews SET state = ? WHERE update_pk = ?`, herald.PreviewFailed, pk)
			return err
		}
		var imageID any
		if p.Image != nil {
			res, err := tx.ExecContext(ctx, `UPDATE media SET update_id = ?, position = ? WHERE id = ? AND channel_id = ? AND update_id IS NULL AND state = ?`,
				job.UpdateID, storeutil.PreviewImagePosition, p.Image.ID, job.ChannelID, herald.MediaReady)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				imageID = p.Image.ID
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE link_previews SET state = ?, title = ?, description = ?, site_name = ?, canonical_url = ?, image_id = ?
			WHERE update_pk = ?`, herald.PreviewReady, p.Title, p.Description, p.SiteName, p.CanonicalURL, imageID, pk); err != nil {
			return err
		}
		return tx.previewEdited(ctx, channelPK, job.UpdateID, "", nil)
	})
}

// previewEdited appends update.edited for an update whose preview changed,
// and returns it as actorID sees it in *out when out is set.
func (tx *Tx) previewEdited(ctx context.Context, channelPK int64, updateID, actorID string, out **herald.Update) error {
	ur, err := liveUpdate(ctx, tx, tx.now, channelPK, updateID)
	if err != nil {
		return err
	}
	if err := hydrateUpdates(ctx, tx, []updRow{ur}, actorID); err != nil {
		return err
	}
	if out != nil {
		*out = ur.u
	}
	return tx.appendEvent(ctx, herald.Event{Stream: ur.u.ChannelID, Type: herald.EventUpdateEdited, ChannelID: ur.u.ChannelID, UpdateID: ur.u.ID, Update: ur.u.Public()})
}

// RemovePreview removes an update's link preview (admins).
func (db *DB) RemovePreview(ctx context.Context, actorID, channelID, updateID string) (*herald.Update, error) {
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
		res, err := tx.ExecContext(ctx, `UPDATE link_previews SET state = ?, title = '', description = '', site_name = '', canonical_url = '', image_id = NULL
			WHERE update_pk = ? AND state != ?`, herald.PreviewRemoved, ur.pk, herald.PreviewRemoved)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmpErr(err, storeutil.ErrNoPreview)
		}
		if err := retirePreviewImage(ctx, tx, ur.u.ID); err != nil {
			return err
		}
		return tx.previewEdited(ctx, r.pk, ur.u.ID, actorID, &out)
	})
	return out, err
}
