package postgres

import (
	"context"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// errTooManyPinned refuses a pin past herald.MaxPinned.
var errTooManyPinned = herald.KindErrorf(herald.ECONFLICT, "too-many-pinned", "A channel pins at most %d updates: unpin one first.", herald.MaxPinned)

// SetPinned pins or unpins a live update (admins); see herald.UpdateStore.
func (db *DB) SetPinned(ctx context.Context, actorID, channelID, updateID string, pinned bool) (*herald.Update, error) {
	var u *herald.Update
	err := db.inTx(ctx, func(t *tx) error {
		// The channel row locked: two pins at once can't both pass the count.
		r, err := t.adminAccess(ctx, actorID, channelID, lockNoKeyUpd)
		if err != nil {
			return err
		}
		old, err := loadUpdate(ctx, t, t.now, actorID, r.ch.ID, updateID)
		if err != nil {
			return err
		}
		if old.Pinned == pinned {
			u = old
			return nil // unchanged: no event
		}
		if pinned {
			var n int
			if err := t.QueryRow(ctx, `SELECT count(*) FROM updates WHERE channel_id = $1 AND pinned_at IS NOT NULL AND expires_at > $2`,
				r.ch.ID, t.now).Scan(&n); err != nil {
				return err
			}
			if n >= herald.MaxPinned {
				return errTooManyPinned
			}
			_, err = t.Exec(ctx, `UPDATE updates SET pinned_at = $2 WHERE id = $1`, updateID, t.now)
		} else {
			_, err = t.Exec(ctx, `UPDATE updates SET pinned_at = NULL WHERE id = $1`, updateID)
		}
		if err != nil {
			return err
		}
		if u, err = loadUpdate(ctx, t, t.now, actorID, r.ch.ID, updateID); err != nil {
			return err
		}
		return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdatePinned, ChannelID: r.ch.ID, UpdateID: updateID, Update: u.Public()})
	})
	return u, err
}

// ListPinned returns a channel's live pinned updates, most recently pinned first.
func (db *DB) ListPinned(ctx context.Context, viewerID, channelID string) ([]*herald.Update, error) {
	list := []*herald.Update{}
	err := db.readChannel(ctx, viewerID, channelID, func(rows pgx.Rows) (err error) {
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Update, error) { return db.signed(scanUpdate(r)) })
		return err
	}, `SELECT `+updateCols+` FROM `+updateFrom+` WHERE u.channel_id = $2 AND u.pinned_at IS NOT NULL AND u.expires_at > $3
		ORDER BY u.pinned_at DESC, u.seq DESC LIMIT $4`, viewerID, channelID, db.now(), herald.MaxPinned)
	return list, err
}
