package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
)

// After an account's erasure no row of any table names it: its id and
// username are searched for in the text of every row of the schema.
func TestEraseAccountLeavesNoRow(t *testing.T) {
	admin(t)
	db := mustOpen(t, freshSchema(t), herald.StoreConfig{})
	ctx := context.Background()
	mk := func(name string) *herald.Account {
		a := &herald.Account{Username: name, DisplayName: "Display of " + name}
		if err := db.CreateAccount(ctx, a, "hash"); err != nil {
			t.Fatal(err)
		}
		return a
	}
	gone, owner := mk("erasable_ernest"), mk("owner_otto")
	ch := &herald.Channel{Name: "Otto's", Category: "news", Listed: true}
	if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Follow(ctx, gone.ID, ch.ID); err != nil {
		t.Fatal(err)
	}
	u := &herald.Update{Text: "hello"}
	if err := db.CreateUpdate(ctx, owner.ID, ch.ID, u); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetReaction(ctx, gone.ID, ch.ID, u.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, &herald.Session{TokenHash: []byte("0123456789abcdef0123456789abcdef"), AccountID: gone.ID}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateReport(ctx, gone.ID, &herald.Report{ChannelID: ch.ID, Reason: "spam"}); err != nil {
		t.Fatal(err)
	}
	mine := &herald.Channel{Name: "Ernest's own", Category: "news", Listed: true}
	if err := db.CreateChannel(ctx, gone.ID, mine); err != nil {
		t.Fatal(err)
	}
	rowsNaming := func(s string) []string {
		t.Helper()
		rows, err := db.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			tables = append(tables, n)
		}
		rows.Close()
		var out []string
		for _, tb := range tables {
			var n int
			if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM `+tb+` x WHERE x::text LIKE '%' || $1 || '%'`, s).Scan(&n); err != nil {
				t.Fatalf("%s: %v", tb, err)
			}
			if n > 0 {
				out = append(out, tb)
			}
		}
		return out
	}
	if got := rowsNaming(gone.ID); len(got) < 4 {
		t.Fatalf("before the erasure the account is in only %v: the check proves nothing", got)
	}
	if err := storeutil.EraseAccount(ctx, db, gone.ID, []string{mine.ID}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{gone.ID, gone.Username, "Ernest's own"} {
		if got := rowsNaming(s); len(got) > 0 {
			t.Errorf("after the erasure %q is still in %s", s, strings.Join(got, ", "))
		}
	}
}
