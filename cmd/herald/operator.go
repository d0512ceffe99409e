package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/postgres"
	"github.com/heraldhq/herald/sqlite"
)

// operatorCommand runs tasks that belong to whoever runs the server, not
// to any account: they work on the store directly (the embedded database
// in --data, or PostgreSQL with --postgres) and have no API route.
func operatorCommand(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "grant" && args[0] != "revoke") {
		fmt.Fprintln(a.stderr, "Usage: herald operator verify [--data DIR | --postgres URL] [--off] CHANNEL_ID")
		fmt.Fprintln(a.stderr, "       herald operator grant|revoke [--data DIR | --postgres URL] USERNAME")
		if wantsHelp(args) {
			return flag.ErrHelp // the usage above was asked for
		}
		return errors.New("name the task: verify, grant or revoke")
	}
	task := args[0]
	var dataDir, pg string
	var off bool
	table := []options.Option{
		{Flag: "data", Env: "HERALD_DATA", Default: "./herald-data", Help: "data directory of a single-node server", Set: options.String(&dataDir)},
		{Flag: "postgres", Env: "HERALD_POSTGRES", Help: "PostgreSQL URL of a scale-out deployment", Set: options.String(&pg)},
	}
	if task == "verify" {
		table = append(table, options.Option{Flag: "off", Bool: true, Help: "clear the flag instead of setting it", Set: options.Bool(&off)})
	}
	rest, err := options.Parse("herald operator "+task, table, args[1:], a.env, a.stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		if task == "verify" {
			return errors.New("name one channel id")
		}
		return errors.New("name one username")
	}
	store, closeStore, err := openOperatorStore(ctx, dataDir, pg)
	if err != nil {
		return err
	}
	defer closeStore()
	if task != "verify" {
		// Operators act through the API (/api/v1/admin/...) and the web
		// app's console; only this command, on the server's store, makes one.
		acc, err := store.SetOperator(ctx, rest[0], task == "grant")
		if herald.ErrorCode(err) == herald.ENOTFOUND {
			return fmt.Errorf("no account %q in this store", rest[0])
		} else if err != nil {
			return err
		}
		state := "is an operator"
		if task == "revoke" {
			state = "is not an operator"
		}
		fmt.Fprintf(a.stdout, "%s %s\n", acc.Username, state)
		return nil
	}
	id := rest[0]
	ch, err := store.SetVerified(ctx, id, !off)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return fmt.Errorf("no channel %q in this store", id)
	} else if err != nil {
		return err
	}
	state := "verified"
	if !ch.Verified {
		state = "not verified"
	}
	fmt.Fprintf(a.stdout, "%s (%s) is %s\n", ch.Name, ch.ID, state)
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
