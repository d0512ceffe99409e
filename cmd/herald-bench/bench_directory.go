package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/fold"
	"github.com/heraldhq/herald/sqlite"
)

// benchDirectory measures directory queries on a seeded store (herald-bench seed
// directory), one at a time, through the store: the latency a request adds
// before JSON encoding.
func benchDirectory(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald-bench directory", flag.ContinueOnError)
	dataDir := fs.String("data", envOr("HERALD_DATA", "./herald-data"), "data directory of a seeded store")
	n := fs.Int("n", 2000, "queries per scenario")
	depth := fs.Int("depth", 50, "page N for the cursor scenarios")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	only := fs.String("only", "", "run only the scenarios whose name contains this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := filepath.Join(*dataDir, "herald.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: %w (run herald-bench seed directory first)", path, err)
	}
	db, err := sqlite.Open(context.Background(), path, herald.StoreConfig{})
	if err != nil {
		return err
	}
	defer db.Close()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rnd := rand.New(rand.NewPCG(7, 7))
	var total int
	if p, err := db.SearchDirectory(ctx, "", herald.DirectoryQuery{Limit: 1}); err != nil {
		return err
	} else if len(p.Channels) == 0 {
		return fmt.Errorf("%s has no listed channels", path)
	} else {
		total = int(p.Channels[0].FollowerCount)
	}
	fmt.Printf("store %s, GOMAXPROCS=%d, %d queries per scenario, one at a time (top channel has %d followers)\n",
		path, runtime.GOMAXPROCS(0), *n, total)

	words := benchWords()
	countries := []string{"FR", "US", "GB", "CA", "BE", "CH"}
	cat := func() string { return herald.Categories[rnd.IntN(len(herald.Categories))].ID }
	type scenario struct {
		name string
		q    func() herald.DirectoryQuery
	}
	// Cursors N pages deep, gathered before timing.
	deep := func(q herald.DirectoryQuery) (herald.DirectoryQuery, error) {
		for i := 1; i < *depth; i++ {
			p, err := db.SearchDirectory(ctx, "", q)
			if err != nil {
				return q, err
			}
			if p.NextCursor == "" {
				break
			}
			q.Cursor = p.NextCursor
		}
		return q, nil
	}
	var deepFiltered, deepSearch, deepActive []herald.DirectoryQuery
	for i := 0; i < 40; i++ {
		q, err := deep(herald.DirectoryQuery{Category: cat(), Country: countries[rnd.IntN(len(countries))], Sort: herald.SortPopular})
		if err != nil {
			return err
		}
		deepFiltered = append(deepFiltered, q)
		if q, err = deep(herald.DirectoryQuery{Text: words[rnd.IntN(len(words))]}); err != nil {
			return err
		}
		deepSearch = append(deepSearch, q)
		if q, err = deep(herald.DirectoryQuery{Sort: herald.SortActive, Category: cat()}); err != nil {
			return err
		}
		deepActive = append(deepActive, q)
	}
	// Cursors taken before 200 follows to channels the searches find: every
	// timed page then ranks those channels by their counts as of its walk.
	var churned []herald.DirectoryQuery
	var targets []string
	for i := 0; i < 40; i++ {
		q := herald.DirectoryQuery{Text: words[rnd.IntN(len(words))]}
		p, err := db.SearchDirectory(ctx, "", q)
		if err != nil {
			return err
		}
		for _, c := range p.Channels {
			targets = append(targets, c.ID)
		}
		if p.NextCursor != "" {
			q.Cursor = p.NextCursor
			churned = append(churned, q)
		}
	}
	if err := benchFollows(ctx, db, targets, 200, rnd); err != nil {
		return err
	}
	scenarios := []scenario{
		{"search, one word (relevance)", func() herald.DirectoryQuery { return herald.DirectoryQuery{Text: words[rnd.IntN(len(words))]} }},
		{"search, one word, page N+1", func() herald.DirectoryQuery { return deepSearch[rnd.IntN(len(deepSearch))] }},
		{"search, page 2 after 200 follows", func() herald.DirectoryQuery { return churned[rnd.IntN(len(churned))] }},
		{"search, word prefix (3 letters)", func() herald.DirectoryQuery {
			w := words[rnd.IntN(len(words))]
			return herald.DirectoryQuery{Text: w[:min(3, len(w))]}
		}},
		{"search, two words + country", func() herald.DirectoryQuery {
			return herald.DirectoryQuery{Text: words[rnd.IntN(len(words))] + " " + words[rnd.IntN(len(words))], Country: "FR"}
		}},
		{"search, one word, sort=new", func() herald.DirectoryQuery {
			return herald.DirectoryQuery{Text: words[rnd.IntN(len(words))], Sort: herald.SortNew}
		}},
		{"search, one word, sort=active", func() herald.DirectoryQuery {
			return herald.DirectoryQuery{Text: words[rnd.IntN(len(words))], Sort: herald.SortActive}
		}},
		{"category+country, popular, page 1", func() herald.DirectoryQuery {
			return herald.DirectoryQuery{Category: cat(), Country: countries[rnd.IntN(len(countries))], Sort: herald.SortPopular}
		}},
		{"category+country, popular, page N+1", func() herald.DirectoryQuery { return deepFiltered[rnd.IntN(len(deepFiltered))] }},
		{"no filter, popular, page 1", func() herald.DirectoryQuery { return herald.DirectoryQuery{} }},
		{"category, new, page 1", func() herald.DirectoryQuery { return herald.DirectoryQuery{Category: cat(), Sort: herald.SortNew} }},
		{"category, active, page 1", func() herald.DirectoryQuery { return herald.DirectoryQuery{Category: cat(), Sort: herald.SortActive} }},
		{"category, active, page N+1", func() herald.DirectoryQuery { return deepActive[rnd.IntN(len(deepActive))] }},
	}
	fmt.Printf("%-38s %9s %9s %9s %9s %9s\n", "scenario", "p50", "p90", "p99", "max", "cpu/query")
	for _, s := range scenarios {
		if !strings.Contains(s.name, *only) {
			continue
		}
		for i := 0; i < min(200, *n); i++ { // warm the caches
			if _, err := db.SearchDirectory(ctx, "", s.q()); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		lat := make([]time.Duration, 0, *n)
		cpu0 := processCPU()
		for i := 0; i < *n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			q := s.q()
			start := time.Now()
			if _, err := db.SearchDirectory(ctx, "", q); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			lat = append(lat, time.Since(start))
		}
		cpu := (processCPU() - cpu0) / time.Duration(*n)
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)].Round(10 * time.Microsecond) }
		fmt.Printf("%-38s %9s %9s %9s %9s %9s\n", s.name, pct(0.5), pct(0.9), pct(0.99), lat[len(lat)-1].Round(10*time.Microsecond), cpu.Round(10*time.Microsecond))
	}
	return nil
}

// benchFollows makes n follows of random target channels by bench accounts
// (created once, without usable passwords), flipping existing follows off.
func benchFollows(ctx context.Context, db *sqlite.DB, targets []string, n int, rnd *rand.Rand) error {
	var fans []string
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("bench_fan_%d", i)
		a, _, err := db.FindAccountByUsername(ctx, name)
		if herald.ErrorCode(err) == herald.ENOTFOUND {
			a = &herald.Account{Username: name, DisplayName: name}
			err = db.CreateAccount(ctx, a, "!")
		}
		if err != nil {
			return err
		}
		fans = append(fans, a.ID)
	}
	for i := 0; i < n; i++ {
		fan, ch := fans[rnd.IntN(len(fans))], targets[rnd.IntN(len(targets))]
		c, err := db.Follow(ctx, fan, ch)
		if err != nil {
			return err
		}
		if c.FollowerCount%2 == 0 { // keep counts moving both ways
			if err := db.Unfollow(ctx, fan, ch); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchWords are the words people search for: the seed's topics and
// places, folded, one word each.
func benchWords() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		for _, w := range fold.Tokens(s) {
			if len(w) >= 3 && !seen[w] && !strings.Contains("les des pour the and", w) {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	for _, t := range topics {
		for _, ws := range t {
			for _, w := range ws {
				add(w)
			}
		}
	}
	for _, p := range frPlaces {
		add(p)
	}
	for _, ps := range [][]place{otherFr, enPlaces, others} {
		for _, p := range ps {
			add(p.name)
		}
	}
	slices.Sort(out)
	return out
}
