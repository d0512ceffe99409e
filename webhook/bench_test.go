package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/outbound"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/webhook"
)

// BenchmarkDeliveries delivers b.N events to a local https receiver through
// the whole path: claim, read the log, sign, POST, advance the cursor and
// log (SQLite). 8 webhooks on one channel (each in order, 8 at once). It
// reports deliveries/s and the process's CPU (user+sys, receiver and TLS
// included) per delivery:
//
//	go test -run '^$' -bench Deliveries -benchtime 20000x ./webhook
func BenchmarkDeliveries(b *testing.B) {
	const hooks = 8
	ctx := context.Background()
	var received atomic.Int64
	rc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	owner := &herald.Account{Username: "owner", DisplayName: "Owner"}
	if err := db.CreateAccount(ctx, owner, "hash"); err != nil {
		b.Fatal(err)
	}
	ch := &herald.Channel{Name: "Bench", Category: "news", Listed: true}
	if err := db.CreateChannel(ctx, owner.ID, ch); err != nil {
		b.Fatal(err)
	}
	for range hooks {
		_, key := webhook.NewSecret()
		if err := db.CreateWebhook(ctx, owner.ID, ch.ID, &herald.Webhook{URL: rc.URL + "/hook", Events: []string{herald.EventUpdateCreated}}, key); err != nil {
			b.Fatal(err)
		}
	}
	posts := (b.N + hooks - 1) / hooks
	for i := range posts {
		if err := db.CreateUpdate(ctx, owner.ID, ch.ID, &herald.Update{Text: "Bench update " + string(rune('a'+i%26))}); err != nil {
			b.Fatal(err)
		}
	}
	want := int64(posts * hooks)
	roots := rc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	w := webhook.New(webhook.Config{Store: db, Policy: outbound.Policy{AllowedHosts: []string{"127.0.0.1"}, RootCAs: roots}, Workers: hooks})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	before := processCPU()
	b.ResetTimer()
	start := time.Now()
	go func() { w.Run(runCtx); close(done) }()
	for received.Load() < want {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := processCPU() - before
	cancel()
	<-done
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(want), "cpu-µs/delivery")
}
