package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/storetest"
)

// openDB opens a fresh store in a temp directory, closed when tb ends.
func openDB(tb testing.TB, cfg herald.StoreConfig) *sqlite.DB {
	tb.Helper()
	return openAt(tb, filepath.Join(tb.TempDir(), "herald.db"), cfg)
}

func openAt(tb testing.TB, path string, cfg herald.StoreConfig) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(path, cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, cfg herald.StoreConfig) herald.Store { return openDB(t, cfg) })
}
