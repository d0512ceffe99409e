package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/heraldhq/herald/fold"
)

// settingFoldVersion records which fold.Version built the directory index.
const settingFoldVersion = "fold_version"

// reindexOnFoldChange rebuilds the directory index when folding has changed
// since it was built. The index is contentless: a row is deleted by folding
// the old text again, so words folded by another version could never be
// deleted, and a renamed or deleted channel's old words would stay on disk.
func (db *DB) reindexOnFoldChange(ctx context.Context) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var stored string
	err = tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingFoldVersion).Scan(&stored)
	current := strconv.Itoa(fold.Version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// A database new to this check: its index may come from any version.
	case err != nil:
		return err
	case stored == current:
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO directory_fts (directory_fts) VALUES ('delete-all')`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO directory_fts (rowid, name, handle, description)
		SELECT herald_fts_rowid(follower_count, pk), herald_fold(name), herald_fold(coalesce(handle, '')), herald_fold(description)
		FROM channels WHERE listed`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, settingFoldVersion, current); err != nil {
		return err
	}
	return tx.Commit()
}
