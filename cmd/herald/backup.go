package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/sqlite"
)

// backupCommand writes a consistent copy of the embedded SQLite database,
// safe to run beside a live server (for PostgreSQL, use pg_dump).
func backupCommand(ctx context.Context, a *app, args []string) error {
	var dataDir string
	table := []options.Option{
		{Flag: "data", Env: "HERALD_DATA", Default: "./herald-data", Help: "data directory of the server", Set: options.String(&dataDir)},
	}
	rest, err := options.Parse("herald backup", table, args, a.env, a.stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fmt.Fprintln(a.stderr, "Usage: herald backup [--data DIR] FILE\n\nWrites a consistent copy of DIR/herald.db to FILE (which must not exist) while the\nserver keeps running. The copy holds only live data: what was erased before it started is not in it.")
		return errors.New("name the backup file")
	}
	src := filepath.Join(dataDir, "herald.db")
	dst := rest[0]
	start := time.Now()
	if err := sqlite.Backup(ctx, src, dst); err != nil {
		return err
	}
	st, err := os.Stat(dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "backup of %s written to %s (%d bytes) in %s\n", src, dst, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}
