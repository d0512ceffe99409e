package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/storetest"
)

func openDirectory(t *testing.T) storetest.DirHarness {
	clock := &herald.FakeClock{}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return storetest.DirHarness{Store: db, Clock: clock}
}

func TestDirectory(t *testing.T) { storetest.RunDirectory(t, openDirectory) }
