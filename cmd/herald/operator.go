package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/postgres"
	"github.com/heraldhq/herald/sqlite"
)

func init() {
	commands["operator"] = operatorCommand
	commandHelp["operator"] = "operator tasks on the server's store: herald operator verify [--off] CHANNEL_ID"
}

// operatorCommand runs tasks that belong to whoever runs the server, not
// to any account: they work on the store directly (the embedded database
// in --data, or PostgreSQL with --postgres) and have no API route.
func operatorCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(os.Stderr, "Usage: herald operator verify [--data DIR | --postgres URL] [--off] CHANNEL_ID")
		return errors.New("name the task: verify")
	}
	fs := flag.NewFlagSet("herald operator verify", flag.ContinueOnError)
	dataDir := fs.String("data", envOr("HERALD_DATA", "./herald-data"), "data directory of a single-node server (HERALD_DATA)")
	pg := fs.String("postgres", envOr("HERALD_POSTGRES", ""), "PostgreSQL URL of a scale-out deployment (HERALD_POSTGRES)")
	off := fs.Bool("off", false, "clear the flag instead of setting it")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("name one channel id")
	}
	store, closeStore, err := openOperatorStore(ctx, *dataDir, *pg)
	if err != nil {
		return err
	}
	defer closeStore()
	ch, err := store.SetVerified(ctx, fs.Arg(0), !*off)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return fmt.Errorf("no channel %q in this store", fs.Arg(0))
	} else if err != nil {
		return err
	}
	state := "verified"
	if !ch.Verified {
		state = "not verified"
	}
	fmt.Fprintf(stdout, "%s (%s) is %s\n", ch.Name, ch.ID, state)
	return nil
}

// openOperatorStore opens the store a server runs on, refusing to create an
// empty database where none is.
func openOperatorStore(ctx context.Context, dataDir, pgURL string) (herald.Store, func(), error) {
	if pgURL != "" {
		db, err := postgres.Open(ctx, pgURL, herald.StoreConfig{})
		if err != nil {
			return nil, nil, err
		}
		return db, func() { _ = db.Close() }, nil
	}
	path := filepath.Join(dataDir, "herald.db")
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("no database at %s (--data names the server's data directory): %w", path, err)
	}
	db, err := sqlite.Open(context.Background(), path, herald.StoreConfig{})
	if err != nil {
		return nil, nil, err
	}
	return db, func() { _ = db.Close() }, nil
}
