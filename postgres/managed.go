package postgres

import (
	"context"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// ListManagedChannels returns the channels accountID owns or administers,
// most recently active first, as their admin sees them.
func (db *DB) ListManagedChannels(ctx context.Context, accountID string) ([]*herald.Channel, error) {
	// channelFrom's left join on channel_admins matches only the account's
	// own row, so a non-null one means the account manages the channel.
	rows, err := db.pool.Query(ctx, `SELECT `+channelCols+` FROM `+channelFrom+`
		WHERE adm.account_id IS NOT NULL ORDER BY lua DESC NULLS LAST, adm.added_at DESC, c.pk DESC`, accountID, db.now())
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*herald.Channel, error) {
		cr, err := scanChannel(r)
		if err != nil {
			return nil, err
		}
		return cr.view(), nil
	})
	if out == nil && err == nil {
		out = []*herald.Channel{}
	}
	return out, err
}
