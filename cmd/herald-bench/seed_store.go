package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sqlite" // migrates the file, and registers the SQL functions its triggers call
)

// seedChannel is one channel to bulk-load: its fields as stored (valid, as
// the API would have made them), and how many updates it posted in the last
// 7 days, for sort=active.
type seedChannel struct {
	Channel         herald.Channel
	UpdatesThisWeek int
}

// bulkDB writes seeded channels straight into a single node's database
// file, far faster than the API (no events, no follow rows). The schema is
// the sqlite package's: the file is opened with sqlite.Open first, which
// migrates it, and the directory's triggers index every inserted channel
// as they do any other (TestSeededChannels checks that the store then reads
// the channels as its own).
type bulkDB struct{ db *sql.DB }

// openSeeded opens dataDir's database for bulk loading, creating and
// migrating it if needed, and returns the account that owns seeded
// channels (created once, with no usable password).
func openSeeded(ctx context.Context, dataDir string) (b *bulkDB, ownerID string, err error) {
	path := filepath.Join(dataDir, "herald.db")
	store, err := sqlite.Open(ctx, path, herald.StoreConfig{})
	if err != nil {
		return nil, "", err
	}
	ownerID, err = seedOwner(ctx, store)
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, "", err
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, "", err
	}
	db.SetMaxOpenConns(1)
	return &bulkDB{db: db}, ownerID, nil
}

// seedOwner returns the account that owns seeded channels, creating it once.
func seedOwner(ctx context.Context, db *sqlite.DB) (string, error) {
	a, _, err := db.FindAccountByUsername(ctx, "seed_owner")
	if err == nil {
		return a.ID, nil
	} else if herald.ErrorCode(err) != herald.ENOTFOUND {
		return "", err
	}
	a = &herald.Account{Username: "seed_owner", DisplayName: "Seed owner"}
	if err := db.CreateAccount(ctx, a, "!"); err != nil {
		return "", err
	}
	return a.ID, nil
}

func (b *bulkDB) close() error { return b.db.Close() }

// seedChannels inserts chans, owned by ownerID, in one transaction, with
// their follower counts and creation times as given, and sets each
// channel's ID and InviteCode.
func (b *bulkDB) seedChannels(ctx context.Context, ownerID string, chans []seedChannel) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// A big page cache keeps the FTS and index b-trees of a big batch in
	// memory until commit.
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
	today := time.Now().UnixNano() / int64(24*time.Hour)
	for i := range chans {
		c := &chans[i].Channel
		c.ID, c.InviteCode = randomID(16), randomID(10)
		if c.Reactions == "" {
			c.Reactions = herald.ReactionsAny
		}
		var handle any
		if c.Handle != "" {
			handle = c.Handle
		}
		res, err := insChannel.ExecContext(ctx, c.ID, handle, c.Name, c.Description, c.Category, c.Country,
			c.Language, boolInt(c.Listed), boolInt(c.Verified), c.Reactions, c.InviteCode, c.FollowerCount, c.CreatedAt.UnixNano())
		if err != nil {
			return fmt.Errorf("channel %q: %w", c.Name, err)
		}
		pk, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := insAdmin.ExecContext(ctx, pk, ownerID, herald.RoleOwner, c.CreatedAt.UnixNano()); err != nil {
			return err
		}
		if n := chans[i].UpdatesThisWeek; n > 0 {
			if _, err := insActivity.ExecContext(ctx, pk, today, n); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// optimize merges the search index into one segment, which makes searches
// faster after a bulk load (FTS5 merges incrementally otherwise).
func (b *bulkDB) optimize(ctx context.Context) error {
	_, err := b.db.ExecContext(ctx, `INSERT INTO directory_fts (directory_fts) VALUES ('optimize')`)
	return err
}

// checkpoint moves the write-ahead log into the database file.
func (b *bulkDB) checkpoint(ctx context.Context) error {
	_, err := b.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomID is n random bytes in the stores' ID alphabet (16 bytes: an ID,
// 10: an invite code).
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return idEncoding.EncodeToString(b)
}
