package sqlite

import (
	"context"
	"time"

	"github.com/heraldhq/herald"
)

// ListManagedChannels returns the channels accountID owns or administers,
// most recently active first, as their admin sees them.
func (db *DB) ListManagedChannels(ctx context.Context, accountID string) ([]*herald.Channel, error) {
	var out []*herald.Channel
	err := db.view(ctx, func(tx queryer, now time.Time) error {
		// channelSelect's left join on admins matches only the account's own
		// row, so a non-null one means the account manages the channel.
		rows, err := tx.QueryContext(ctx, channelSelect+`WHERE a.account_id IS NOT NULL ORDER BY lua IS NULL, lua DESC, a.added_at DESC, c.pk DESC`, nanos(now), accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = []*herald.Channel{}
		for rows.Next() {
			r, err := scanChannel(rows)
			if err != nil {
				return err
			}
			out = append(out, r.view())
		}
		return rows.Err()
	})
	return out, err
}
