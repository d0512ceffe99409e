package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/web"
)

// discard is a ResponseWriter that keeps nothing, so the benchmark
// measures the server, not a recorder's copies.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkPublicPage measures the server's own work for a cached public
// channel page and its feeds (20 updates): routing, security headers, the
// cache lookup and the conditional-request checks, without a network.
// herald-bench openweb measures them over HTTP with 50 clients.
func BenchmarkPublicPage(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	owner := &herald.Account{Username: "owner", DisplayName: "Owner"}
	if err := db.CreateAccount(ctx, owner, "hash"); err != nil {
		b.Fatal(err)
	}
	ch := &herald.Channel{Name: "Bench", Handle: "benchpage", Category: "news", Listed: true, Language: "en"}
	if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
		b.Fatal(err)
	}
	for range 20 {
		if err := db.CreateUpdate(ctx, owner.ID, ch.ID, &herald.Update{Text: strings.Repeat("Storm warning. ", 14)}); err != nil {
			b.Fatal(err)
		}
	}
	srv := hhttp.NewServer(hhttp.Config{Store: db, Web: web.Handler(), AppShell: web.Index(), PublicURL: "https://herald.example"})
	for _, path := range []string{"/@benchpage", "/@benchpage/feed.atom", "/@benchpage/feed.json"} {
		b.Run(strings.TrimPrefix(path, "/@benchpage/"), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest("GET", path, nil)
				for pb.Next() {
					w := &discard{h: http.Header{}}
					srv.ServeHTTP(w, req)
					if w.h.Get("ETag") == "" {
						b.Fatal("no ETag: not a 200")
					}
				}
			})
		})
	}
}
