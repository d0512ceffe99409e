package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/postgres"
)

// TestPushTargetsPlan seeds a channel with 100,000 followers (every tenth
// muted) with a device each, beside 100,000 subscribed accounts who don't
// follow it, and checks that a PushTargets page, first or from a cursor,
// reads the channel's unmuted follows through follows_push_targets from
// the cursor on and each follower's devices through
// push_subscriptions_account: no scan of follows or subscriptions, no sort
// of every target.
func TestPushTargetsPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 followers")
	}
	ctx := context.Background()
	db := mustOpen(t, freshSchema(t), herald.StoreConfig{})
	ch := seedPushTargets(t, db, 100_000)

	// A cursor in the middle of the walk.
	page, next, err := db.PushTargets(ctx, ch.ID, "", 1000)
	if err != nil || len(page) != 1000 || next == "" {
		t.Fatalf("first page: %d targets, next %q, %v", len(page), next, err)
	}
	acct, sub, _ := herald.ParsePushCursor(next)
	for _, cursor := range [][2]string{{"", ""}, {acct, sub}} {
		rows, err := db.Pool().Query(ctx, `EXPLAIN `+postgres.PushTargetsQuery, ch.ID, cursor[0], cursor[1], 1001)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		joined := strings.Join(plan, "\n")
		t.Logf("plan from %q:\n%s", cursor[0], joined)
		for _, want := range []string{"follows_push_targets", "push_subscriptions_account", "Limit"} {
			if !strings.Contains(joined, want) {
				t.Errorf("plan lacks %s:\n%s", want, joined)
			}
		}
		// The devices' side starts at the cursor too (a merge join bounded
		// below) or is probed per follower (a nested loop): never read from
		// the first subscription on every page.
		for i, line := range plan {
			if strings.Contains(line, "using push_subscriptions_account") {
				if i+1 >= len(plan) || !strings.Contains(plan[i+1], "Index Cond") ||
					!strings.Contains(plan[i+1], ">= '"+cursor[0]+"'") && !strings.Contains(plan[i+1], "= f.account_id") {
					t.Errorf("push_subscriptions_account is read without a bound:\n%s", joined)
				}
			}
		}
		for _, bad := range []string{"Seq Scan", "Bitmap Heap Scan on follows", "Hash Join", "  Sort  "} {
			if strings.Contains(joined, bad) {
				t.Errorf("plan has %q:\n%s", bad, joined)
			}
		}
	}
}

// TestPushSubscriptionsDieWithAccount: Herald has no account deletion yet;
// when it comes, deleting the account row takes its devices with it.
func TestPushSubscriptionsDieWithAccount(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, freshSchema(t), herald.StoreConfig{})
	a := &herald.Account{Username: "alice", DisplayName: "Alice"}
	if err := db.CreateAccount(ctx, a, "hash"); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, herald.PushP256DHLen)
	p[0] = 4
	if _, _, err := db.SavePushSubscription(ctx, a.ID, herald.PushSubscription{Endpoint: "https://push.example.net/a", P256DH: p, Auth: make([]byte, 16)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `DELETE FROM accounts WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM push_subscriptions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d subscriptions left after the account's deletion (%v)", n, err)
	}
}

// seedPushTargets creates a channel with followers accounts following it
// (every tenth muted), each with one device, beside as many subscribed
// accounts who don't follow it, with SQL directly; returns the channel.
func seedPushTargets(tb testing.TB, db *postgres.DB, followers int) *herald.Channel {
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
		`INSERT INTO accounts (id, username, display_name, password_hash, created_at)
		 SELECT md5(random()::text), 'u' || i, 'U', 'h', now() FROM generate_series(1, $1 * 2) i WHERE $2::text IS NOT NULL`,
		`INSERT INTO follows (account_id, channel_id, muted, followed_at)
		 SELECT id, $2, substr(username, 2)::int % 10 = 0, now()
		 FROM accounts WHERE username LIKE 'u%' AND substr(username, 2)::int <= $1`,
		`INSERT INTO push_subscriptions (id, account_id, endpoint, p256dh, auth, created_at, updated_at)
		 SELECT md5(random()::text), id, 'https://push.example.net/send/' || username, '\x04'::bytea || decode(repeat('00', 64), 'hex'), decode(repeat('00', 16), 'hex'), now(), now()
		 FROM accounts WHERE username LIKE 'u%' AND $1::int > 0 AND $2::text IS NOT NULL`,
	} {
		if _, err := db.Pool().Exec(ctx, stmt, followers, ch.ID); err != nil {
			tb.Fatalf("seed: %v\n%s", err, stmt)
		}
	}
	if _, err := db.Pool().Exec(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}

	return ch
}

// BenchmarkPushTargets walks the devices of a channel's 100,000 followers
// (90,000 unmuted) in pages of 1,000: one op is one full walk.
func BenchmarkPushTargets(b *testing.B) {
	db := mustOpen(b, freshSchema(b), herald.StoreConfig{})
	ch := seedPushTargets(b, db, 100_000)
	ctx := context.Background()
	pages := 0
	start := time.Now()
	for b.Loop() {
		after, n := "", 0
		for {
			page, next, err := db.PushTargets(ctx, ch.ID, after, 1000)
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
