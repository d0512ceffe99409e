package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// TestDirectoryPlans checks that no directory query without text scans the
// channels table or sorts it: each walks an index in rank order and stops
// after a page. (Text queries rank their FTS matches, never all channels.)
func TestDirectoryPlans(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "herald.db"), herald.StoreConfig{Clock: &herald.FakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := &herald.Account{Username: "planner", DisplayName: "P"}
	if err := db.CreateAccount(ctx, a, "x"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		ch := &herald.Channel{Name: fmt.Sprintf("Météo %d", i), Category: "weather", Country: "FR", Language: "fr", Listed: true}
		if err := db.CreateChannel(ctx, a.ID, ch); err != nil {
			t.Fatal(err)
		}
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

	for _, sort := range []string{herald.SortPopular, herald.SortActive, herald.SortNew} {
		for _, f := range []herald.DirectoryQuery{{}, {Category: "weather"}, {Country: "FR"}, {Language: "fr"}, {Category: "weather", Country: "FR"}} {
			f.Sort, f.Limit = sort, 2
			queries = queries[:0]
			p, err := db.SearchDirectory(ctx, "", f)
			if err != nil {
				t.Fatal(err)
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
