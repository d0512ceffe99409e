package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5"
)

// FindChannelByHandle returns a live channel by its handle (see herald.ChannelStore).
func (db *DB) FindChannelByHandle(ctx context.Context, viewerID, handle string) (*herald.Channel, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT id FROM channels WHERE handle = $1`, strings.ToLower(handle)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mapError(errChannelNotFound)
	} else if err != nil {
		return nil, mapError(err)
	}
	return db.FindChannel(ctx, viewerID, id)
}
