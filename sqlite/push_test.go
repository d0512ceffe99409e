package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// seedPushTargets creates a channel with followers accounts following it
// (every tenth muted), each with one device, and as many other accounts
// with a device who don't follow it. Rows are written with SQL directly:
// the store's API would take minutes at 100,000 followers.
func seedPushTargets(tb testing.TB, db *DB, followers int) string {
	tb.Helper()
	ctx := context.Background()
	owner := &herald.Account{Username: "owner", DisplayName: "Owner"}
	if err := db.CreateAccount(ctx, owner, "hash"); err != nil {
		tb.Fatal(err)
	}
	ch := &herald.Channel{Name: "Big", Description: "Many followers", Category: "news", Listed: true}
	if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
		tb.Fatal(err)
	}
	for _, stmt := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 * 2)
		 INSERT INTO accounts (id, username, display_name, password_hash, created_at)
		 SELECT lower(hex(randomblob(13))), 'u' || i, 'U', 'h', 0 FROM n`,
		`INSERT INTO follows (channel_pk, account_id, muted, created_at)
		 SELECT (SELECT pk FROM channels WHERE id = ?2), id, CAST(substr(username, 2) AS INTEGER) % 10 = 0, 0
		 FROM accounts WHERE username LIKE 'u%' AND CAST(substr(username, 2) AS INTEGER) <= ?1`,
		`INSERT INTO push_subscriptions (id, account_id, endpoint, p256dh, auth, created_at, updated_at)
		 SELECT lower(hex(randomblob(13))), id, 'https://push.example.net/send/' || username, x'04' || zeroblob(64), zeroblob(16), 0, 0
		 FROM accounts WHERE username LIKE 'u%'`,
		`ANALYZE`,
	} {
		if _, err := db.w.ExecContext(ctx, stmt, followers, ch.ID); err != nil {
			tb.Fatalf("seed: %v\n%s", err, stmt)
		}
	}
	return ch.ID
}

// TestPushTargetsPlan checks that a page of PushTargets searches the
// channel's follows by primary key from the cursor and each follower's
// devices by primary key: no scan of follows, accounts or subscriptions.
func TestPushTargetsPlan(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedPushTargets(t, db, 2000)
	rows, err := db.r.Query(`EXPLAIN QUERY PLAN `+pushTargetsQuery, "c", "a", "b", 101)
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
	joined := strings.Join(plan, "\n")
	t.Logf("plan:\n%s", joined)
	for _, want := range []string{
		"SEARCH f USING PRIMARY KEY (channel_pk=? AND account_id>?)",
		"SEARCH s USING PRIMARY KEY (account_id=?",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("plan lacks %q:\n%s", want, joined)
		}
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN") || strings.Contains(line, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("plan scans or sorts everything: %q\n%s", line, joined)
		}
	}
}

// TestPushTargetsWalk walks a channel whose followers number some
// thousands, and checks every unmuted follower's device comes exactly once.
func TestPushTargetsWalk(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const followers = 5000
	ch := seedPushTargets(t, db, followers)
	seen := map[string]bool{}
	after := ""
	for {
		page, next, err := db.PushTargets(t.Context(), ch, after, 333)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			if seen[p.ID] {
				t.Fatalf("device %s twice", p.ID)
			}
			seen[p.ID] = true
		}
		if next == "" {
			break
		}
		after = next
	}
	if want := followers - followers/10; len(seen) != want {
		t.Fatalf("walk saw %d devices, want %d", len(seen), want)
	}
}

// BenchmarkPushTargets walks the devices of a channel's 100,000 followers
// (90,000 unmuted, beside 100,000 subscribed accounts who don't follow it)
// in pages of 1,000: one op is one full walk; ns/page is one page's time.
func BenchmarkPushTargets(b *testing.B) {
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ch := seedPushTargets(b, db, 100_000)
	ctx := context.Background()
	pages := 0
	start := time.Now()
	for b.Loop() {
		after, n := "", 0
		for {
			page, next, err := db.PushTargets(ctx, ch, after, 1000)
			if err != nil {
				b.Fatal(err)
			}
			pages++
			n += len(page)
			if next == "" {
				break
			}
			after = next
		}
		if n != 90_000 {
			b.Fatalf("walk saw %d devices, want 90000", n)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(pages), "ns/page")
}

// TestPushSubscriptionsDieWithAccount: Herald has no account deletion yet;
// when it comes, deleting the account row takes its devices with it.
func TestPushSubscriptionsDieWithAccount(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := &herald.Account{Username: "alice", DisplayName: "Alice"}
	if err := db.CreateAccount(t.Context(), a, "hash"); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, herald.PushP256DHLen)
	p[0] = 4
	if _, _, err := db.SavePushSubscription(t.Context(), a.ID, herald.PushSubscription{Endpoint: "https://push.example.net/a", P256DH: p, Auth: make([]byte, 16)}); err != nil {
		t.Fatal(err)
	}
	if err := db.write(t.Context(), func(tx *Tx) error {
		_, err := tx.ExecContext(t.Context(), `DELETE FROM accounts WHERE id = ?`, a.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRow(`SELECT count(*) FROM push_subscriptions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d subscriptions left after the account's deletion (%v)", n, err)
	}
}
