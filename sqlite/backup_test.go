package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sqlite"
)

// A backup taken while posts keep coming is a whole, consistent database
// that the server opens as it is; content erased before it started is not
// in its bytes; an existing file is never overwritten.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "herald.db")
	db := openAt(t, src, herald.StoreConfig{})
	f := newFixture(t, db)
	ctx := context.Background()

	gone := marker(t, "deleted-before-backup")
	u := &herald.Update{Text: gone}
	must(t, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u))
	must(t, db.DeleteUpdate(ctx, f.owner.ID, f.ch.ID, u.ID))
	for i := 0; i < 50; i++ {
		must(t, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, &herald.Update{Text: fmt.Sprint("before ", i)}))
	}

	// Posts go on during the backup.
	var posted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, &herald.Update{Text: fmt.Sprint("during ", i)}); err != nil {
				t.Error(err)
				return
			}
			posted.Add(1)
		}
	}()
	out := filepath.Join(t.TempDir(), "backup.db")
	err := sqlite.Backup(ctx, src, out)
	close(stop)
	wg.Wait()
	must(t, err)

	b, err := os.ReadFile(out)
	must(t, err)
	if len(b) == 0 {
		t.Fatal("empty backup")
	}
	if got := filesContaining(t, filepath.Dir(out), gone); len(got) != 0 {
		t.Fatalf("erased text in the backup: %v", got)
	}

	copyDB := openAt(t, out, herald.StoreConfig{})
	ch, err := copyDB.FindChannel(ctx, f.owner.ID, f.ch.ID)
	must(t, err)
	if ch.Name != f.ch.Name || ch.FollowerCount != 1 {
		t.Fatalf("channel in the backup: %+v", ch)
	}
	list, err := copyDB.ListUpdates(ctx, f.owner.ID, f.ch.ID, 0, herald.MaxUpdatesLimit)
	must(t, err)
	// Every update before the backup is there, and the snapshot is whole:
	// sequence numbers run without a gap from the newest it holds down.
	if len(list) < 50 {
		t.Fatalf("backup holds %d updates, want at least the 50 posted before it", len(list))
	}
	for i := 1; i < len(list); i++ {
		if list[i].Seq != list[i-1].Seq-1 {
			t.Fatalf("gap in the backup's sequence: %d after %d", list[i].Seq, list[i-1].Seq)
		}
	}
	t.Logf("%d updates posted during the backup; the backup's newest is seq %d", posted.Load(), list[0].Seq)

	if err := sqlite.Backup(ctx, src, out); err == nil {
		t.Fatal("a second backup overwrote the first")
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatalf("first backup gone: %v", err)
	}
	if err := sqlite.Backup(ctx, filepath.Join(dir, "missing.db"), filepath.Join(t.TempDir(), "x.db")); err == nil {
		t.Fatal("backup of a missing database succeeded")
	}
}
