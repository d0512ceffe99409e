package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/sqlite"
)

// backupCommand writes a consistent copy of the embedded SQLite database,
// safe to run beside a live server (for PostgreSQL, use pg_dump), and, if
// asked, a copy of the files of the media live in that copy.
func backupCommand(ctx context.Context, a *app, args []string) error {
	var dataDir, mediaDir, mediaOut string
	table := []options.Option{
		{Flag: "data", Env: "HERALD_DATA", Default: "./herald-data", Help: "data directory of the server", Set: options.String(&dataDir)},
		{Flag: "media-dir", Env: "HERALD_MEDIA_DIR", Help: "the server's media directory; empty: <data>/media", Set: options.String(&mediaDir)},
		{Flag: "media", Help: "also copy the files of the media live in the backup to this new directory", Set: options.String(&mediaOut)},
	}
	rest, err := options.Parse("herald backup", table, args, a.env, a.stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fmt.Fprintln(a.stderr, "Usage: herald backup [--data DIR] [--media OUTDIR] FILE\n\nWrites a consistent copy of DIR/herald.db to FILE (which must not exist) while the\nserver keeps running. The copy holds only live data: what was erased before it started is not in it.\nWith --media, the files of the media live in the copy go to OUTDIR (which must not exist), and no others.")
		return errors.New("name the backup file")
	}
	src := filepath.Join(dataDir, "herald.db")
	dst := rest[0]
	if mediaOut != "" {
		if _, err := os.Lstat(mediaOut); err == nil {
			return fmt.Errorf("backup: %s already exists", mediaOut)
		}
	}
	start := time.Now()
	if err := sqlite.Backup(ctx, src, dst); err != nil {
		return err
	}
	st, err := os.Stat(dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "backup of %s written to %s (%d bytes) in %s\n", src, dst, st.Size(), time.Since(start).Round(time.Millisecond))
	if mediaOut == "" {
		return nil
	}
	if mediaDir == "" {
		mediaDir = filepath.Join(dataDir, "media")
	}
	start = time.Now()
	c, err := backupMedia(ctx, dst, mediaDir, mediaOut)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "media of %d live uploads copied to %s (%d files, %d bytes) in %s\n", c.media, mediaOut, c.files, c.bytes, time.Since(start).Round(time.Millisecond))
	if c.missing > 0 {
		fmt.Fprintf(a.stdout, "%d files erased since the database copy were skipped\n", c.missing)
	}
	return nil
}

// mediaCopy counts what backupMedia copied.
type mediaCopy struct {
	media, files, missing int
	bytes                 int64
}

// backupMedia copies the files of the media live in the backup db to out,
// a new directory laid out like the media directory. A file erased since
// the database copy is skipped and counted.
func backupMedia(ctx context.Context, db, mediaDir, out string) (mediaCopy, error) {
	var c mediaCopy
	live, err := sqlite.LiveMedia(ctx, db, time.Now())
	if err != nil {
		return c, err
	}
	if err := os.Mkdir(out, 0o700); err != nil {
		return c, fmt.Errorf("backup: %w", err)
	}
	for _, m := range live {
		for _, v := range m.Variants {
			key := herald.BlobKey(m.ID, v)
			n, err := copyFile(filepath.Join(mediaDir, filepath.FromSlash(key)), filepath.Join(out, filepath.FromSlash(key)))
			if errors.Is(err, fs.ErrNotExist) {
				c.missing++
				continue
			}
			if err != nil {
				return c, fmt.Errorf("backup: media %s: %w", key, err)
			}
			c.files++
			c.bytes += n
		}
		c.media++
	}
	return c, nil
}

// copyFile copies src to a new file dst (its directory made), synced.
func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return 0, err
	}
	outF, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(outF, in)
	if err == nil {
		err = outF.Sync()
	}
	if cerr := outF.Close(); err == nil {
		err = cerr
	}
	return n, err
}
