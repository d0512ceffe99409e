package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// FindChannelByHandle returns a live channel by its handle (see herald.ChannelStore).
func (db *DB) FindChannelByHandle(ctx context.Context, viewerID, handle string) (*herald.Channel, error) {
	var out *herald.Channel
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM channels WHERE handle = ?`, strings.ToLower(handle)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errChannelNotFound
		} else if err != nil {
			return err
		}
		r, err := loadChannel(ctx, tx, now, viewerID, id)
		if err != nil {
			return err
		}
		out = r.view()
		return nil
	})
	return out, err
}
