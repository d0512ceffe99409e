package sqlite

import (
	"context"

	"github.com/heraldhq/herald"
)

// SeedChannel is one channel for SeedChannels: the channel's fields as
// stored (validated by the caller), and how many updates it posted in the
// last 7 days, for sort=active.
type SeedChannel struct {
	Channel         herald.Channel
	UpdatesThisWeek int
}

// SeedChannels bulk-inserts channels owned by ownerID in one transaction,
// for benchmarks and demos (herald seed directory). It writes follower
// counts and creation times as given, without follow rows or events, and
// sets each channel's ID and InviteCode. The directory's triggers index
// every channel as usual.
func (db *DB) SeedChannels(ctx context.Context, ownerID string, chans []SeedChannel) error {
	return db.write(ctx, func(tx *Tx) error {
		// A big page cache keeps the FTS and index b-trees of a big batch in
		// memory until commit (this connection keeps it afterwards too).
		if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
			return err
		}
		insChannel, err := tx.PrepareContext(ctx, `INSERT INTO channels (id, handle, name, description, category, country,
			language, listed, verified, reactions, invite_code, follower_count, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insChannel.Close()
		insAdmin, err := tx.PrepareContext(ctx, `INSERT INTO admins (channel_pk, account_id, role, added_at) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insAdmin.Close()
		insActivity, err := tx.PrepareContext(ctx, `INSERT INTO directory_activity (channel_pk, day, n) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insActivity.Close()
		today := tx.now.UnixNano() / nanosPerDay
		for i := range chans {
			c := &chans[i].Channel
			c.ID, c.InviteCode = herald.NewID(), herald.NewInviteCode()
			if c.Reactions == "" {
				c.Reactions = herald.ReactionsAny
			}
			res, err := insChannel.ExecContext(ctx, c.ID, nullString(c.Handle), c.Name, c.Description, c.Category, c.Country,
				c.Language, boolInt(c.Listed), boolInt(c.Verified), c.Reactions, c.InviteCode, c.FollowerCount, nanos(c.CreatedAt))
			if err != nil {
				return err
			}
			pk, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if _, err := insAdmin.ExecContext(ctx, pk, ownerID, herald.RoleOwner, nanos(c.CreatedAt)); err != nil {
				return err
			}
			if n := chans[i].UpdatesThisWeek; n > 0 {
				if _, err := insActivity.ExecContext(ctx, pk, today, n); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// OptimizeDirectory merges the search index into one segment, which makes
// searches faster after a bulk load (FTS5 merges incrementally otherwise).
func (db *DB) OptimizeDirectory(ctx context.Context) error {
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO directory_fts (directory_fts) VALUES ('optimize')`)
		return err
	})
}
