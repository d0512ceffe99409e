package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald"
)

// Backup writes a consistent copy of the database at src to dst while the
// server keeps running: SQLite's VACUUM INTO reads one snapshot (a read
// transaction, which WAL lets writers go on around) and writes a new,
// compact file holding only live rows, so content erased before the backup
// started is not in it. The copy is written beside dst, checked, synced and
// then renamed into place: dst is either absent or a whole backup. dst must
// not exist.
func Backup(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("backup: %s already exists", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.partial")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmpPath)

	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("mode", "ro")
	db, err := sql.Open("sqlite", "file:"+src+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmpPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := checkCopy(ctx, tmpPath); err != nil {
		return err
	}
	if err := syncFile(tmpPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmpPath, dst); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return syncFile(filepath.Dir(dst)) // the rename itself
}

// checkCopy opens the new file on its own and runs SQLite's integrity check.
func checkCopy(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("backup check: %w", err)
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("backup check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("backup check: %s", res)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// LiveMedia returns the media of the database file at path (a backup) that
// are live at now: those the erase loop would not remove. A backup of the
// media directory copies their files and no others.
func LiveMedia(ctx context.Context, path string, now time.Time) ([]herald.Media, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	list, _, err := queryMedia(ctx, db, `SELECT `+mediaCols+` FROM media m WHERE NOT `+mediaErasable+` AND m.state = ?3`,
		nanos(now.Add(-herald.UnattachedMaxAge)), nanos(now), herald.MediaReady)
	if err != nil {
		return nil, fmt.Errorf("backup: media: %w", err)
	}
	return list, nil
}
