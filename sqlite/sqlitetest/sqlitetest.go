// Package sqlitetest gives tests a new, empty, migrated SQLite database
// quickly.
//
// Opening a new database runs every migration, which under the race
// detector takes about half a second (the SQLite engine is Go translated
// from C, and every memory access is instrumented). The suites open a few
// hundred databases. So the first call of a test process migrates one
// database, and every later one starts from a copy of its file: the same
// schema and settings, made by the same code, in a millisecond.
package sqlitetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	herald "github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sqlite"
)

var template struct {
	once sync.Once
	file []byte
	err  error
}

// Prepare writes a new, migrated database at path, as sqlite.Open would
// create it; sqlite.Open(path) then opens it. The databases a process
// prepares share their generated secrets (the media URL key and the keyed
// posts' id key), which no test tells apart.
func Prepare(tb testing.TB, path string) {
	tb.Helper()
	template.once.Do(func() { template.file, template.err = migrated() })
	if template.err != nil {
		tb.Fatalf("sqlitetest: migrating the template database: %v", template.err)
	}
	if err := os.WriteFile(path, template.file, 0o600); err != nil {
		tb.Fatalf("sqlitetest: %v", err)
	}
}

// Path prepares a database in a new directory of tb's and returns its
// path.
func Path(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "herald.db")
	Prepare(tb, path)
	return path
}

// migrated opens a new database, closes it (which checkpoints its WAL
// into the file) and returns the file.
func migrated() ([]byte, error) {
	dir, err := os.MkdirTemp("", "herald-sqlitetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "herald.db")
	db, err := sqlite.Open(context.Background(), path, herald.StoreConfig{})
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	// Everything must be in the main file: a WAL left beside it would be
	// lost by the copy.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, errors.New("the closed database left a non-empty WAL")
	}
	return os.ReadFile(path)
}
