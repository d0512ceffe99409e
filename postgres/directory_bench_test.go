package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/postgres"
	"github.com/jackc/pgx/v5"
)

// BenchmarkDirectory seeds HERALD_BENCH_CHANNELS listed channels (default
// 100,000) and measures directory queries through the store, reporting p99
// besides the mean. The Trigram* sub-benchmarks run the same word search
// with pg_trgm instead of full-text matching, for comparison only:
//
//	HERALD_BENCH_CHANNELS=100000 go test -run '^$' -bench Directory -benchtime 2000x ./postgres/
func BenchmarkDirectory(b *testing.B) {
	n := 100_000
	if s := os.Getenv("HERALD_BENCH_CHANNELS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	url := freshSchema(b)
	db := mustOpen(b, url, herald.StoreConfig{})
	ctx := context.Background()
	start := time.Now()
	seedDirectory(b, db, n)
	b.Logf("seeded %d channels in %s", n, time.Since(start).Round(time.Millisecond))

	words := []string{"meteo", "cuisine", "lyon", "trafic", "rugby", "bordeaux", "news", "london", "recettes", "marseille"}
	prefixes := []string{"met", "cuis", "lyo", "traf", "rug", "bord", "new", "lond", "rece", "mars"}
	run := func(name string, q func(i int) herald.DirectoryQuery) {
		b.Run(name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := db.SearchDirectory(ctx, "", q(i)); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportP99(b, lat)
		})
	}
	run("Word", func(i int) herald.DirectoryQuery { return herald.DirectoryQuery{Text: words[i%len(words)]} })
	run("Prefix", func(i int) herald.DirectoryQuery { return herald.DirectoryQuery{Text: prefixes[i%len(prefixes)]} })
	run("TwoWords", func(i int) herald.DirectoryQuery {
		return herald.DirectoryQuery{Text: words[i%len(words)] + " " + prefixes[(i+3)%len(prefixes)]}
	})
	// A word found in every description and in no name: the name and
	// handle tiers must not walk the whole table to learn that.
	run("DescriptionWord", func(i int) herald.DirectoryQuery { return herald.DirectoryQuery{Text: "chaque"} })
	run("CategoryCountryPopular", func(i int) herald.DirectoryQuery {
		cats := []string{"weather", "news", "cooking", "traffic", "sports"}
		return herald.DirectoryQuery{Category: cats[i%len(cats)], Country: "FR", Sort: herald.SortPopular}
	})
	run("New", func(i int) herald.DirectoryQuery { return herald.DirectoryQuery{Sort: herald.SortNew} })
	// Page N+1: follow cursors 10 pages deep, timing each page.
	b.Run("NextPages", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		q := herald.DirectoryQuery{Category: "weather", Sort: herald.SortPopular}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%10 == 0 {
				q.Cursor = ""
			}
			t0 := time.Now()
			page, err := db.SearchDirectory(ctx, "", q)
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
			q.Cursor = page.NextCursor
		}
		reportP99(b, lat)
	})

	// The same one-word search, relevance-ranked, written by hand twice:
	// full-text on the tsvector column (what the store runs) and pg_trgm
	// LIKE on the folded text, each with its GIN index.
	if _, err := db.Pool().Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`); err != nil {
		b.Logf("pg_trgm unavailable, trigram comparison skipped: %v", err)
		return
	}
	t0 := time.Now()
	for _, q := range []string{
		`ALTER TABLE channel_search ADD COLUMN folded text`,
		`UPDATE channel_search SET folded = ' ' || array_to_string(tsvector_to_array(words), ' ') || ' '`,
		`CREATE INDEX channels_trgm ON channel_search USING gin (folded public.gin_trgm_ops)`,
		`VACUUM ANALYZE channel_search`,
	} {
		if _, err := db.Pool().Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("trigram column and index built in %s", time.Since(t0).Round(time.Millisecond))
	raw := func(name, query string, arg func(w string) string) {
		b.Run(name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				rows, err := db.Pool().Query(ctx, query, arg(prefixes[i%len(prefixes)]))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportP99(b, lat)
		})
	}
	raw("RawFullTextPrefix", `SELECT c.pk FROM channel_search s JOIN channels c ON c.pk = s.pk
		WHERE c.listed AND s.words @@ $1::tsquery ORDER BY c.follower_count DESC, c.pk DESC LIMIT 21`,
		func(w string) string { return "'" + w + "':*" })
	raw("RawTrigramPrefix", `SELECT c.pk FROM channel_search s JOIN channels c ON c.pk = s.pk
		WHERE c.listed AND s.folded LIKE $1 ORDER BY c.follower_count DESC, c.pk DESC LIMIT 21`,
		func(w string) string { return "% " + w + "%" })
	var ftsSize, trgmSize string
	if err := db.Pool().QueryRow(ctx, `SELECT pg_size_pretty(pg_relation_size('directory_search_name') +
			pg_relation_size('directory_search_name_handle') + pg_relation_size('directory_search_words')),
		pg_size_pretty(pg_relation_size('channels_trgm'))`).Scan(&ftsSize, &trgmSize); err == nil {
		b.Logf("index sizes: full-text GIN (three) %s, trigram GIN %s", ftsSize, trgmSize)
	}
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}

// seedDirectory bulk-loads n listed channels with French and English names,
// Zipf-like follower counts and spread categories and countries: COPY into
// a staging table, then one INSERT that casts the Go-built search vectors.
func seedDirectory(b *testing.B, db *postgres.DB, n int) {
	ctx := context.Background()
	owner := &herald.Account{Username: "seed_owner"}
	if err := db.CreateAccount(ctx, owner, "!"); err != nil {
		b.Fatal(err)
	}
	topics := map[string][]string{
		"weather": {"Météo", "Prévisions", "Alertes météo", "Weather", "Forecast", "Storm Watch"},
		"news":    {"Actualités", "Le Journal de", "La Gazette de", "News", "Daily", "Headlines"},
		"cooking": {"Cuisine", "Recettes", "Pâtisserie", "Cooking", "Recipes", "Street Food"},
		"traffic": {"Trafic", "Circulation", "Info route", "Traffic", "Commute", "Transit"},
		"sports":  {"Rugby", "Cyclisme", "Pétanque", "Sports", "Football", "Match Day"},
		"music":   {"Concerts", "Musique", "Jazz", "Music", "Live Gigs", "Playlists"},
	}
	cats := []string{"weather", "news", "cooking", "traffic", "sports", "music"}
	places := []struct{ name, country, lang string }{
		{"Paris", "FR", "fr"}, {"Lyon", "FR", "fr"}, {"Marseille", "FR", "fr"}, {"Bordeaux", "FR", "fr"},
		{"Île-de-France", "FR", "fr"}, {"Saint-Étienne", "FR", "fr"}, {"Nîmes", "FR", "fr"}, {"Genève", "CH", "fr"},
		{"Québec", "CA", "fr"}, {"London", "GB", "en"}, {"Manchester", "GB", "en"}, {"Boston", "US", "en"},
		{"Sydney", "AU", "en"}, {"Dublin", "IE", "en"}, {"München", "DE", "de"}, {"São Paulo", "BR", "pt-BR"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	// A temp table lives in one connection: do it all on one.
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE seed (id text, name text, description text,
		category text, country text, language text, followers bigint, invite text,
		name_v text, name_handle_v text, words_v text)`); err != nil {
		b.Fatal(err)
	}
	rows := make([][]any, 0, n)
	for i := 0; i < n; i++ {
		cat := cats[r.IntN(len(cats))]
		p := places[r.IntN(len(places))]
		t := topics[cat][r.IntN(len(topics[cat]))]
		ch := &herald.Channel{Name: fmt.Sprintf("%s %s %d", t, p.name, i), Category: cat, Country: p.country, Language: p.lang,
			Description: fmt.Sprintf("%s : %s, chaque jour. Everything about %s.", t, p.name, strings.ToLower(cat))}
		followers := int64(1e6 / (1 + r.Float64()*float64(n)))
		rows = append(rows, append([]any{fmt.Sprintf("seed%09d", i), ch.Name, ch.Description, ch.Category, ch.Country,
			ch.Language, followers, fmt.Sprintf("inv%09d", i)}, postgres.SearchVectors(ch)...))
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"seed"},
		[]string{"id", "name", "description", "category", "country", "language", "followers", "invite",
			"name_v", "name_handle_v", "words_v"},
		pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO channels (id, name, description, category, country, language, listed, reactions,
			follower_count, invite_code, created_at)
		 SELECT id, name, description, category, country, language, true, 'any', followers, invite, now()
		 FROM seed ORDER BY id`,
		`INSERT INTO channel_search (pk, name, name_handle, words)
		 SELECT c.pk, s.name_v::tsvector, s.name_handle_v::tsvector, s.words_v::tsvector FROM seed s JOIN channels c ON c.id = s.id`,
		`INSERT INTO channel_admins (channel_id, account_id, role, added_at) SELECT id, '` + owner.ID + `', 'owner', now() FROM seed`,
		`INSERT INTO update_heads (channel_id, seq) SELECT id, 0 FROM seed`,
		`INSERT INTO stream_heads (stream, seq) SELECT id, 0 FROM seed`,
		`DROP TABLE seed`,
		// What autovacuum would do soon after a bulk load: merge the GIN
		// index's pending list and gather statistics.
		`VACUUM ANALYZE`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}
