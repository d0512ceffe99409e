package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald/sqlite"
)

func init() {
	commands["backup"] = backupCommand
	commandHelp["backup"] = "copy the embedded database while the server runs: herald backup [--data DIR] FILE"
}

// backupCommand writes a consistent copy of the embedded SQLite database,
// safe to run beside a live server (for PostgreSQL, use pg_dump).
func backupCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald backup", flag.ContinueOnError)
	dataDir := fs.String("data", envOr("HERALD_DATA", "./herald-data"), "data directory of the server (HERALD_DATA)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: herald backup [--data DIR] FILE\n\nWrites a consistent copy of DIR/herald.db to FILE (which must not exist) while the\nserver keeps running. The copy holds only live data: what was erased before it started is not in it.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("name the backup file")
	}
	src := filepath.Join(*dataDir, "herald.db")
	dst := fs.Arg(0)
	start := time.Now()
	if err := sqlite.Backup(ctx, src, dst); err != nil {
		return err
	}
	st, err := os.Stat(dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes) in %s\n", src, dst, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}
