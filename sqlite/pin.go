package sqlite

import (
	"context"
	"time"

	"github.com/heraldhq/herald"
)

// errTooManyPinned refuses a pin past herald.MaxPinned.
var errTooManyPinned = herald.KindErrorf(herald.ECONFLICT, "too-many-pinned", "A channel pins at most %d updates: unpin one first.", herald.MaxPinned)

// SetPinned pins or unpins a live update (admins); see herald.UpdateStore.
func (db *DB) SetPinned(ctx context.Context, actorID, channelID, updateID string, pinned bool) (*herald.Update, error) {
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
		if ur.u.Pinned != pinned {
			var at any // NULL unpins
			if pinned {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM updates WHERE channel_pk = ? AND pinned_at IS NOT NULL AND expires_at > ?`,
					r.pk, nanos(tx.now)).Scan(&n); err != nil {
					return err
				}
				if n >= herald.MaxPinned {
					return errTooManyPinned
				}
				at = nanos(tx.now)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE updates SET pinned_at = ? WHERE pk = ?`, at, ur.pk); err != nil {
				return err
			}
		}
		list, err := readUpdates(ctx, tx, actorID, `WHERE u.pk = ?2`, ur.pk)
		if err != nil {
			return err
		}
		out = list[0]
		if ur.u.Pinned == pinned {
			return nil // unchanged: no event
		}
		return tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdatePinned, ChannelID: r.ch.ID, UpdateID: out.ID, Update: out.Public()})
	})
	return out, err
}

// ListPinned returns a channel's live pinned updates, most recently pinned first.
func (db *DB) ListPinned(ctx context.Context, viewerID, channelID string) ([]*herald.Update, error) {
	var out []*herald.Update
	err := db.view(ctx, func(q queryer, now time.Time) error {
		r, err := loadAccess(ctx, q, viewerID, channelID)
		if err != nil {
			return err
		}
		out, err = readUpdates(ctx, q, viewerID, `WHERE u.channel_pk = ?2 AND u.pinned_at IS NOT NULL AND u.expires_at > ?3 ORDER BY u.pinned_at DESC, u.seq DESC LIMIT ?4`,
			r.pk, nanos(now), herald.MaxPinned)
		return err
	})
	return out, err
}
