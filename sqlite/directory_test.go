package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// TestDirectoryPlans checks that no directory query without text scans the
// channels table or sorts it: each walks an index in rank order and stops
// after a page. (Text queries rank their FTS matches, never all channels.)
func TestDirectoryPlans(t *testing.T) {
	ctx := context.Background()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{Clock: &herald.FakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := &herald.Account{Username: "planner", DisplayName: "P"}
	if err := db.CreateAccount(ctx, a, "x"); err != nil {
		t.Fatal(err)
	}
	var chans []*herald.Channel
	for i := 0; i < 30; i++ {
		ch := &herald.Channel{Name: fmt.Sprintf("Météo %d", i), Category: "weather", Country: "FR", Language: "fr", Listed: true}
		if err := db.CreateChannel(ctx, a.ID, ch); err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
		if err := db.CreateUpdate(ctx, a.ID, ch.ID, &herald.Update{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	type traced struct {
		query string
		args  []any
	}
	var queries []traced
	traceDirectory = func(q string, args []any) { queries = append(queries, traced{q, args}) }
	defer func() { traceDirectory = nil }()

	for _, sort := range []string{herald.SortPopular, herald.SortActive, herald.SortNew, herald.SortRelevance} {
		for _, f := range []herald.DirectoryQuery{{}, {Category: "weather"}, {Country: "FR"}, {Language: "fr"}, {Category: "weather", Country: "FR"},
			{Text: "meteo"}, {Text: "meteo", Category: "weather", Country: "FR"}} {
			f.Sort, f.Limit = sort, 2
			queries = queries[:0]
			p, err := db.SearchDirectory(ctx, "", f)
			if err != nil {
				t.Fatal(err)
			}
			// Keys change under the walk: page 2 reads the changed channels too.
			if _, err := db.w.Exec(`UPDATE channels SET follower_count = follower_count + 1 WHERE pk IN (2, 5, 9)`); err != nil {
				t.Fatal(err)
			}
			for _, ch := range chans[:3] {
				if err := db.CreateUpdate(ctx, a.ID, ch.ID, &herald.Update{Text: "again"}); err != nil {
					t.Fatal(err)
				}
			}
			f.Cursor = p.NextCursor
			if _, err := db.SearchDirectory(ctx, "", f); err != nil {
				t.Fatal(err)
			}
			if len(queries) == 0 {
				t.Fatalf("%+v: no ranking query traced", f)
			}
			for _, q := range queries {
				plan := explain(t, db, q.query, q.args)
				if strings.Contains(q.query, "c.pk IN (SELECT value FROM json_each") &&
					!strings.Contains(plan, "SEARCH c USING INTEGER PRIMARY KEY") {
					t.Errorf("%+v: pk-list query does not read by pk:\n%s\n%s", f, q.query, plan)
				}
				if strings.Contains(q.query, "directory_fts") {
					continue // text queries are checked below
				}
				if strings.Contains(plan, "SCAN c\n") || strings.Contains(plan, "SCAN c ") && !strings.Contains(plan, "USING") ||
					strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%+v: plan scans or sorts channels:\n%s\n%s", f, q.query, plan)
				}
			}
		}
	}
}

func explain(t *testing.T, db *DB, query string, args []any) string {
	rows, err := db.r.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, query)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

// TestDirectoryTextPlans checks that relevance and popular searches read
// matches in FTS rowid order (no sort of all matches), with channels joined
// per match row.
func TestDirectoryTextPlans(t *testing.T) {
	ctx := context.Background()
	db := openPlanDB(t, 10)
	var queries []string
	traceDirectory = func(q string, _ []any) { queries = append(queries, q) }
	defer func() { traceDirectory = nil }()
	for _, q := range []herald.DirectoryQuery{
		{Text: "meteo", Limit: 2}, {Text: "met", Sort: herald.SortPopular, Limit: 2},
		{Text: "meteo 1", Category: "weather", Country: "FR", Limit: 2},
	} {
		queries = queries[:0]
		p, err := db.SearchDirectory(ctx, "", q)
		if err != nil {
			t.Fatal(err)
		}
		q.Cursor = p.NextCursor
		if _, err := db.SearchDirectory(ctx, "", q); err != nil {
			t.Fatal(err)
		}
		for _, query := range queries {
			args := []any{`"meteo"*`, int64(1) << 40, "weather", "FR", "fr"}
			n := strings.Count(query, "?")
			plan := explain(t, db, query, args[:n])
			if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "VIRTUAL TABLE") ||
				!strings.Contains(plan, "SEARCH c USING INTEGER PRIMARY KEY") {
				t.Errorf("%+v: plan sorts or scans:\n%s\n%s", q, query, plan)
			}
		}
	}
}

// TestDirectoryBuckets checks the order inside a follower bucket, where FTS
// rowid order (pk) and follower order disagree.
func TestDirectoryBuckets(t *testing.T) {
	for f := int64(0); f < 1<<20; f++ {
		if followerBucket(f+1) < followerBucket(f) {
			t.Fatalf("bucket(%d) < bucket(%d)", f+1, f)
		}
	}
	if followerBucket(65) != followerBucket(70) || followerBucket(63) == followerBucket(64) || followerBucket(1<<62) > 1<<20 {
		t.Fatalf("bucket widths: 65:%d 70:%d 63:%d 64:%d", followerBucket(65), followerBucket(70), followerBucket(63), followerBucket(64))
	}
	ctx := context.Background()
	db := openPlanDB(t, 6)
	// Older channels get more followers: inside a bucket pk order is wrong.
	for pk, f := range map[int64]int64{1: 71, 2: 70, 3: 66, 4: 65, 5: 200, 6: 3} {
		if _, err := db.w.Exec(`UPDATE channels SET follower_count = ? WHERE pk = ?`, f, pk); err != nil {
			t.Fatal(err)
		}
	}
	want := []int64{200, 71, 70, 66, 65, 3}
	for _, limit := range []int{1, 2, 3, 6} {
		for _, sort := range []string{herald.SortRelevance, herald.SortPopular} {
			var got []int64
			q := herald.DirectoryQuery{Text: "meteo", Sort: sort, Limit: limit}
			for {
				p, err := db.SearchDirectory(ctx, "", q)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range p.Channels {
					got = append(got, c.FollowerCount)
				}
				if p.NextCursor == "" {
					break
				}
				q.Cursor = p.NextCursor
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("limit %d, sort %s: followers %v, want %v", limit, sort, got, want)
			}
		}
	}
}

// openPlanDB opens a store with n listed weather channels "Météo 0".. in FR.
func openPlanDB(t *testing.T, n int) *DB {
	ctx := context.Background()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{Clock: &herald.FakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := &herald.Account{Username: "planner", DisplayName: "P"}
	if err := db.CreateAccount(ctx, a, "x"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		ch := &herald.Channel{Name: fmt.Sprintf("Météo %d", i), Category: "weather", Country: "FR", Language: "fr", Listed: true}
		if err := db.CreateChannel(ctx, a.ID, ch); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// BenchmarkFollowDirectoryCost measures what the directory's triggers add
// to a follow+unfollow pair: as shipped, and without each follower trigger
// (the FTS row move, the sort-key change log). Below 64 followers every
// count change moves the channel's FTS row; above, one in ~9% growth.
func BenchmarkFollowDirectoryCost(b *testing.B) {
	for _, drop := range []string{"", "directory_fts_update", "directory_followers_change"} {
		name := "shipped"
		if drop != "" {
			name = "without_" + drop
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(context.Background(), filepath.Join(b.TempDir(), "herald.db"), herald.StoreConfig{Clock: &herald.FakeClock{}})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if drop != "" {
				if _, err := db.w.Exec(`DROP TRIGGER ` + drop); err != nil {
					b.Fatal(err)
				}
			}
			owner := &herald.Account{Username: "owner", DisplayName: "O"}
			fan := &herald.Account{Username: "fan", DisplayName: "F"}
			for _, a := range []*herald.Account{owner, fan} {
				if err := db.CreateAccount(ctx, a, "x"); err != nil {
					b.Fatal(err)
				}
			}
			ch := &herald.Channel{Name: "Trafic Île-de-France", Description: strings.Repeat("Bouchons et travaux en temps réel. ", 20), Category: "traffic", Listed: true}
			if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := db.Follow(ctx, fan.ID, ch.ID); err != nil {
					b.Fatal(err)
				}
				if err := db.Unfollow(ctx, fan.ID, ch.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDirectoryErasesText checks that a deleted channel's and a renamed
// channel's old words leave the search index and the files, like the
// channel row itself (issue 2: deleting a channel erases it).
func TestDirectoryErasesText(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(context.Background(), filepath.Join(dir, "herald.db"), herald.StoreConfig{Clock: &herald.FakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owner := &herald.Account{Username: "owner", DisplayName: "O"}
	if err := db.CreateAccount(ctx, owner, "x"); err != nil {
		t.Fatal(err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	gone, renamed, kept := "zqgone"+hex.EncodeToString(rnd[:]), "zqold"+hex.EncodeToString(rnd[:]), "zqkept"+hex.EncodeToString(rnd[:])
	doomed := &herald.Channel{Name: "Radio " + gone, Description: "Le " + gone + " du jour", Category: "music", Listed: true}
	moving := &herald.Channel{Name: "Radio " + renamed, Category: "music", Listed: true}
	stays := &herald.Channel{Name: "Radio " + kept, Category: "music", Listed: true}
	for _, ch := range []*herald.Channel{doomed, moving, stays} {
		if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
			t.Fatal(err)
		}
	}
	inIndex := func(term string) bool {
		var n int
		if err := db.r.QueryRow(`SELECT count(*) FROM directory_vocab WHERE term = ?`, term).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	inFiles := func(s string) bool {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(s)) {
				return true
			}
		}
		return false
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, term := range []string{gone, renamed, kept} {
		if !inIndex(term) || !inFiles(term) {
			t.Fatalf("control: %q not indexed or not in the files", term)
		}
	}
	if err := db.DeleteChannel(ctx, owner.ID, doomed.ID); err != nil {
		t.Fatal(err)
	}
	name := "Radio Nouvelle"
	if _, err := db.UpdateChannel(ctx, owner.ID, moving.ID, herald.ChannelPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, term := range []string{gone, renamed} {
		if inIndex(term) {
			t.Errorf("%q still in the search index", term)
		}
		if inFiles(term) {
			t.Errorf("%q still readable in the data directory", term)
		}
	}
	if !inIndex(kept) || !inFiles(kept) {
		t.Fatal("a live channel's words vanished too: the checks prove nothing")
	}
}

// TestDirectoryErasesTextAfterFollows is the search-index erasure promise
// whatever happened to a channel before: channels followed and unfollowed
// while small (each follow moves their index row to another follower
// bucket), then renamed, unlisted or deleted, leave none of their old
// name, handle or description words in any file of the data directory, nor
// in a backup, once the store's own checkpointer ran (well within the 60 s
// promised). No explicit Checkpoint call: the store must do it by itself.
func TestDirectoryErasesTextAfterFollows(t *testing.T) {
	for _, follows := range []int{1, 2, 12} {
		t.Run(fmt.Sprint(follows, "follows"), func(t *testing.T) { testDirectoryErasesTextAfterFollows(t, follows) })
	}
}

func testDirectoryErasesTextAfterFollows(t *testing.T, follows int) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	db, err := Open(context.Background(), filepath.Join(dir, "herald.db"), herald.StoreConfig{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	account := func(name string) *herald.Account {
		a := &herald.Account{Username: name, DisplayName: name}
		if err := db.CreateAccount(ctx, a, "x"); err != nil {
			t.Fatal(err)
		}
		return a
	}
	owner := account("owner")
	var fans []*herald.Account
	for i := range follows {
		fans = append(fans, account(fmt.Sprintf("fan%02d", i)))
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	word := func(what string) string { return "zq" + what + hex.EncodeToString(rnd[:]) }
	renamedName, renamedHandle, renamedDesc := word("rnname"), word("rnhandle"), word("rndesc")
	deletedName, deletedHandle, deletedDesc := word("dlname"), word("dlhandle"), word("dldesc")
	unlistedName := word("ulname")
	kept := word("kept")
	renamed := &herald.Channel{Name: "Radio " + renamedName, Handle: renamedHandle, Description: "Le " + renamedDesc, Category: "music", Listed: true}
	deleted := &herald.Channel{Name: "Radio " + deletedName, Handle: deletedHandle, Description: "Le " + deletedDesc, Category: "music", Listed: true}
	unlisted := &herald.Channel{Name: "Radio " + unlistedName, Category: "music", Listed: true}
	stays := &herald.Channel{Name: "Radio " + kept, Category: "music", Listed: true}
	all := []*herald.Channel{renamed, deleted, unlisted, stays}
	for _, ch := range all {
		if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
			t.Fatal(err)
		}
	}
	// Small channels move between follower buckets on every follow and
	// unfollow; interleave them so segments pile up and merge.
	for i, fan := range fans {
		for _, ch := range all {
			if _, err := db.Follow(ctx, fan.ID, ch.ID); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 2 {
			for _, ch := range all {
				if err := db.Unfollow(ctx, fans[i-1].ID, ch.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	gone := []string{renamedName, renamedHandle, renamedDesc, deletedName, deletedHandle, deletedDesc, unlistedName}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range append(gone, kept) {
		if !dirContains(t, dir, w) {
			t.Fatalf("control: %q not in the files", w)
		}
	}

	newName, newHandle, newDesc := "Radio Nouvelle", "nouvelle", "Autre chose"
	if _, err := db.UpdateChannel(ctx, owner.ID, renamed.ID, herald.ChannelPatch{Name: &newName, Handle: &newHandle, Description: &newDesc}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteChannel(ctx, owner.ID, deleted.ID); err != nil {
		t.Fatal(err)
	}
	no := false
	if _, err := db.UpdateChannel(ctx, owner.ID, unlisted.ID, herald.ChannelPatch{Listed: &no}); err != nil {
		t.Fatal(err)
	}
	// The unlisted channel still exists: its row keeps its name (it is not
	// erased, only out of the index). The index must not.
	gone = gone[:len(gone)-1]
	var n int
	if err := db.r.QueryRow(`SELECT count(*) FROM directory_vocab WHERE term = ?`, unlistedName).Scan(&n); err != nil || n != 0 {
		t.Errorf("unlisted channel's name still in the index (%d terms, %v)", n, err)
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		var left []string
		for _, w := range gone {
			if dirContains(t, dir, w) {
				left = append(left, w)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("60 s after the erasures, still in the data directory: %q", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := Backup(ctx, filepath.Join(dir, "herald.db"), backup); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range gone {
		if bytes.Contains(b, []byte(w)) {
			t.Errorf("%q in the backup", w)
		}
	}
	if !bytes.Contains(b, []byte(kept)) || !dirContains(t, dir, kept) {
		t.Fatal("a live channel's words vanished too: the scans prove nothing")
	}
	page, err := db.SearchDirectory(ctx, "", herald.DirectoryQuery{Text: "nouvelle"})
	if err != nil || len(page.Channels) != 1 || page.Channels[0].ID != renamed.ID {
		t.Fatalf("renamed channel not found by its new name: %v, %v", page, err)
	}
}

// dirContains reports whether any file of dir holds s.
func dirContains(t *testing.T, dir, s string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}
