package sqlite

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/fold"
)

// An index built by another folding is rebuilt when the store opens: its
// words could never be deleted (rows are deleted by folding the old text
// again), so a rename would leave the old name on disk.
func TestReindexOnFoldChange(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := Open(ctx, path, herald.StoreConfig{Clock: &herald.FakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	owner := &herald.Account{Username: "owner", DisplayName: "O"}
	if err := db.CreateAccount(ctx, owner, "x"); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Channel{Name: "Radio zqfresh", Category: "music", Listed: true}
	if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	var version string
	if err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingFoldVersion).Scan(&version); err != nil || version != strconv.Itoa(fold.Version) {
		t.Fatalf("fold version recorded = %q, %v; want %d", version, err, fold.Version)
	}
	// What an older folding would have indexed: other words for the same row.
	for _, q := range []string{
		`INSERT INTO directory_fts (directory_fts) VALUES ('delete-all')`,
		`INSERT INTO directory_fts (rowid, name, handle, description)
			SELECT herald_fts_rowid(follower_count, pk), 'radio zqstale', '', '' FROM channels`,
		`UPDATE settings SET value = '1' WHERE name = 'fold_version'`,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	db, err = Open(ctx, path, herald.StoreConfig{Clock: &herald.FakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inIndex := func(term string) bool {
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM directory_vocab WHERE term = ?`, term).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	if inIndex("zqstale") || !inIndex("zqfresh") {
		t.Fatalf("after reopening: stale word indexed %v, current word indexed %v", inIndex("zqstale"), inIndex("zqfresh"))
	}
	if err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingFoldVersion).Scan(&version); err != nil || version != strconv.Itoa(fold.Version) {
		t.Fatalf("fold version after the rebuild = %q, %v", version, err)
	}
	// The rebuilt rows delete like any other: a rename leaves no old word.
	name := "Radio zqrenamed"
	if _, err := db.UpdateChannel(ctx, owner.ID, ch.ID, herald.ChannelPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if inIndex("zqfresh") || !inIndex("zqrenamed") {
		t.Fatalf("after a rename: old word indexed %v, new word indexed %v", inIndex("zqfresh"), inIndex("zqrenamed"))
	}
}
