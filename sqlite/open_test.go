package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
)

// TestSyncCommits checks that StoreConfig.SyncCommits reaches every
// connection that writes: synchronous=FULL (2) with it, NORMAL (1) without.
func TestSyncCommits(t *testing.T) {
	for _, tc := range []struct {
		sync bool
		want int
	}{{false, 1}, {true, 2}} {
		db, err := Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{SyncCommits: tc.sync})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := db.w.QueryRow(`PRAGMA synchronous`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("SyncCommits=%v: writer synchronous = %d, want %d", tc.sync, got, tc.want)
		}
		// The write path still works (and commits) with either setting.
		a := &herald.Account{Username: "someone", DisplayName: "S"}
		if err := db.CreateAccount(context.Background(), a, "x"); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenRefusesDevelopmentSchema checks that a database written by a
// development build (before the migrations were squashed: its tracking
// table was "migrations") is refused with a clear error, not half-migrated.
func TestOpenRefusesDevelopmentSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
		INSERT INTO migrations VALUES ('migrations/001_init.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := Open(t.Context(), path, herald.StoreConfig{})
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a development-build database")
	}
	if !errors.Is(err, storeutil.ErrDevelopmentSchema) {
		t.Fatalf("Open = %v, want ErrDevelopmentSchema", err)
	}
}

// TestMigrationsRecorded checks the tracking table both stores share.
func TestMigrationsRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	for range 2 { // the second Open finds everything applied
		db, err := Open(t.Context(), path, herald.StoreConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		rows, err := db.r.Query(`SELECT name FROM schema_migrations ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		rows.Close()
		// Every migration file, by name, in order.
		files, _ := filepath.Glob("migrations/*.sql")
		for i := range files {
			files[i] = filepath.Base(files[i])
		}
		if len(files) < 2 || !slices.Equal(names, files) {
			t.Fatalf("schema_migrations = %q, want %q", names, files)
		}
		db.Close()
	}
}

// TestFollowHistoryPlans checks that erasing follow history reads only the
// small partial indexes on account-stream events, never the whole log: the
// statements are those of DeleteChannel and eraseUnfollows.
func TestFollowHistoryPlans(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for stmt, index := range map[string]string{
		`DELETE FROM events WHERE channel_id = 'x' AND substr(stream, 1, 1) = '@'`:                                  "events_personal",
		`SELECT stream, seq, channel_id FROM events WHERE type = 'channel.unfollowed' AND created_at <= 5 LIMIT 10`: "events_unfollowed",
	} {
		rows, err := db.r.Query(`EXPLAIN QUERY PLAN ` + stmt)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) != 1 || !strings.Contains(plan[0], "USING INDEX "+index) && !strings.Contains(plan[0], "USING COVERING INDEX "+index) {
			t.Errorf("%s\nplan %q, want a search of %s", stmt, plan, index)
		}
	}
}
