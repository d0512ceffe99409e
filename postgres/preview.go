package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
)

// updatePreviewCol is the last column of updateCols: an update's ready
// link preview with its image as JSON (NULL without one).
const updatePreviewCol = `(SELECT json_build_object('url', lp.url, 'title', lp.title, 'description', lp.description,
	'site_name', lp.site_name, 'canonical_url', lp.canonical_url,
	'image', (SELECT ` + mediaObject + ` FROM media m WHERE m.id = lp.image_id AND m.state = 'ready'))
	FROM link_previews lp WHERE lp.update_id = u.id AND lp.state = 'ready')`

// previewJSON is updatePreviewCol.
type previewJSON struct {
	URL          string     `json:"url"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	SiteName     string     `json:"site_name"`
	CanonicalURL string     `json:"canonical_url"`
	Image        *mediaJSON `json:"image"`
}

func decodePreview(b []byte) (*herald.LinkPreview, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var j previewJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	p := &herald.LinkPreview{URL: j.URL, Title: j.Title, Description: j.Description, SiteName: j.SiteName, CanonicalURL: j.CanonicalURL}
	if j.Image != nil {
		m := j.Image.media()
		p.Image = &m
	}
	return p, nil
}

// queuePreview queues the link preview of a new update's text, if it has a URL.
func (t *tx) queuePreview(ctx context.Context, updateID, text string) error {
	url := herald.FirstURL(text)
	if url == "" {
		return nil
	}
	_, err := t.Exec(ctx, `INSERT INTO link_previews (update_id, url, state) VALUES ($1, $2, $3)`, updateID, url, herald.PreviewPending)
	return err
}

// editPreview follows an edit: the same URL keeps its preview (or its
// removal); another drops the old one, image included, and queues the new.
func (t *tx) editPreview(ctx context.Context, updateID, text string) error {
	url := herald.FirstURL(text)
	var old string
	err := t.QueryRow(ctx, `SELECT url FROM link_previews WHERE update_id = $1`, updateID).Scan(&old)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if old == url {
		return nil
	}
	if err := t.retirePreviewImage(ctx, updateID); err != nil {
		return err
	}
	if _, err := t.Exec(ctx, `DELETE FROM link_previews WHERE update_id = $1`, updateID); err != nil {
		return err
	}
	return t.queuePreview(ctx, updateID, text)
}

// retirePreviewImage makes an update's preview image erasable at the next run.
func (t *tx) retirePreviewImage(ctx context.Context, updateID string) error {
	_, err := t.Exec(ctx, `UPDATE media SET update_id = '' WHERE update_id = $1 AND position = $2`, updateID, storeutil.PreviewImagePosition)
	return err
}

// ClaimPreviews leases pending previews of live updates (SKIP LOCKED:
// nodes claiming at once take different ones).
func (db *DB) ClaimPreviews(ctx context.Context, limit int, lease time.Duration) ([]herald.PreviewJob, error) {
	var out []herald.PreviewJob
	err := db.inTx(ctx, func(t *tx) error {
		out = out[:0]
		// Claimed too often (each fetch cut short): given up.
		if _, err := t.Exec(ctx, `UPDATE link_previews SET state = $1 WHERE state = $2 AND lease_until <= $3 AND attempts >= $4`,
			herald.PreviewFailed, herald.PreviewPending, t.now, herald.PreviewMaxAttempts); err != nil {
			return err
		}
		rows, err := t.Query(ctx, `WITH claimed AS (
				SELECT lp.update_id FROM link_previews lp JOIN updates u ON u.id = lp.update_id
				WHERE lp.state = $1 AND lp.lease_until <= $2 AND u.expires_at > $2
				ORDER BY lp.lease_until, lp.update_id LIMIT $3 FOR UPDATE OF lp SKIP LOCKED)
			UPDATE link_previews lp SET lease_until = $4, attempts = lp.attempts + 1
			FROM claimed c, updates u WHERE lp.update_id = c.update_id AND u.id = lp.update_id
			RETURNING lp.update_id, u.channel_id, lp.url`, herald.PreviewPending, t.now, limit, t.now.Add(lease))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (herald.PreviewJob, error) {
			var j herald.PreviewJob
			err := r.Scan(&j.UpdateID, &j.ChannelID, &j.URL)
			return j, err
		})
		return err
	})
	return out, err
}

// CreatePreviewImage records a preview image, unattached.
func (db *DB) CreatePreviewImage(ctx context.Context, channelID string, m *herald.Media) error {
	return db.inTx(ctx, func(t *tx) error {
		m.ChannelID, m.CreatedAt = channelID, t.now
		m.SetURLs()
		_, err := t.Exec(ctx, `INSERT INTO media (id, channel_id, type, mime, size, width, height, duration, blurhash, name, state, variants, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, m.ID, m.ChannelID, m.Type, m.MIME, m.Size, m.Width, m.Height,
			m.Duration, m.Blurhash, m.Name, m.State, storeutil.JoinVariants(m.Variants), m.CreatedAt)
		return err
	})
}

// FinishPreview stores a fetched preview, or that there is none.
func (db *DB) FinishPreview(ctx context.Context, job herald.PreviewJob, p *herald.LinkPreview) error {
	return db.inTx(ctx, func(t *tx) error {
		var ok int
		err := t.QueryRow(ctx, `SELECT 1 FROM link_previews lp JOIN updates u ON u.id = lp.update_id
			WHERE lp.update_id = $1 AND u.channel_id = $2 AND u.expires_at > $3 AND lp.state = $4 AND lp.url = $5
			FOR UPDATE OF lp`, job.UpdateID, job.ChannelID, t.now, herald.PreviewPending, job.URL).Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			// Edited, removed or deleted meanwhile: the image goes.
			if p != nil && p.Image != nil {
				_, err := t.Exec(ctx, `UPDATE media SET update_id = '' WHERE id = $1 AND update_id IS NULL`, p.Image.ID)
				return err
			}
			return nil
		} else if err != nil {
			return err
		}
		if p == nil {
			_, err := t.Exec(ctx, `UPDATE link_previews SET state = $1 WHERE update_id = $2`, herald.PreviewFailed, job.UpdateID)
			return err
		}
		var imageID *string
		if p.Image != nil {
			tag, err := t.Exec(ctx, `UPDATE media SET update_id = $1, position = $2 WHERE id = $3 AND channel_id = $4 AND update_id IS NULL AND state = $5`,
				job.UpdateID, storeutil.PreviewImagePosition, p.Image.ID, job.ChannelID, herald.MediaReady)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				imageID = &p.Image.ID
			}
		}
		if _, err := t.Exec(ctx, `UPDATE link_previews SET state = $1, title = $2, description = $3, site_name = $4, canonical_url = $5, image_id = $6
			WHERE update_id = $7`, herald.PreviewReady, p.Title, p.Description, p.SiteName, p.CanonicalURL, imageID, job.UpdateID); err != nil {
			return err
		}
		_, err = t.previewEdited(ctx, job.ChannelID, job.UpdateID, "")
		return err
	})
}

// previewEdited appends update.edited for an update whose preview changed
// and returns it as actorID sees it.
func (t *tx) previewEdited(ctx context.Context, channelID, updateID, actorID string) (*herald.Update, error) {
	u, err := loadUpdate(ctx, t, t.now, actorID, channelID, updateID)
	if err != nil {
		return nil, err
	}
	return u, t.appendEvent(ctx, herald.Event{Stream: channelID, Type: herald.EventUpdateEdited, ChannelID: channelID, UpdateID: updateID, Update: u.Public()})
}

// RemovePreview removes an update's link preview (admins).
func (db *DB) RemovePreview(ctx context.Context, actorID, channelID, updateID string) (*herald.Update, error) {
	var out *herald.Update
	err := db.inTx(ctx, func(t *tx) error {
		r, err := t.adminAccess(ctx, actorID, channelID, lockKeyShare)
		if err != nil {
			return err
		}
		var live int
		if err := t.QueryRow(ctx, `SELECT 1 FROM updates WHERE id = $1 AND channel_id = $2 AND expires_at > $3`,
			updateID, r.ch.ID, t.now).Scan(&live); errors.Is(err, pgx.ErrNoRows) {
			return errUpdateNotFound
		} else if err != nil {
			return err
		}
		tag, err := t.Exec(ctx, `UPDATE link_previews SET state = $1, title = '', description = '', site_name = '', canonical_url = '', image_id = NULL
			WHERE update_id = $2 AND state != $1`, herald.PreviewRemoved, updateID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storeutil.ErrNoPreview
		}
		if err := t.retirePreviewImage(ctx, updateID); err != nil {
			return err
		}
		out, err = t.previewEdited(ctx, r.ch.ID, updateID, actorID)
		return err
	})
	return out, err
}
