package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
)

// benchOpenWeb measures the public pages a shared link hits: a listed
// channel's page (/@handle, 20 updates) and its Atom and JSON feeds, read
// anonymously by N clients in closed loops over kept-alive connections.
func benchOpenWeb(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald-bench openweb", flag.ContinueOnError)
	clients := fs.Int("clients", 50, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "duration of each phase")
	server := fs.String("server", "", "target this server instead of starting one in-process")
	pageCache := fs.Int("page-cache-mb", 64, "page cache of the in-process server (its versions invalidate public pages at once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := *server
	if base == "" {
		url, dir, stop, err := startBenchServer(ctx, *pageCache)
		if err != nil {
			return err
		}
		defer stop()
		base = url
		fmt.Printf("server: in-process, SQLite in %s, page cache %d MiB\n", dir, *pageCache)
	}
	fmt.Printf("target %s, %d clients, %s per phase, GOMAXPROCS=%d\n", base, *clients, *duration, runtime.GOMAXPROCS(0))

	anon := client.New(base, "")
	suffix := strings.ToLower(rand.Text()[:8])
	admin, err := anon.CreateAccount(ctx, "bench_web_"+suffix, "bench password "+suffix, "")
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	ac := anon.WithToken(admin.Token)
	handle := "web" + suffix
	ch, err := ac.CreateChannel(ctx, client.ChannelInput{Name: "Bench " + suffix, Handle: handle, Category: "news", Language: "en",
		Description: "A channel read by everyone who follows a shared link."})
	if err != nil {
		return fmt.Errorf("create channel: %w", err)
	}
	text := strings.Repeat("Storm warning. ", 14)[:200]
	for range 20 {
		if _, err := ac.PostUpdate(ctx, ch.ID, text, nil); err != nil {
			return err
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients}, Timeout: 30 * time.Second}
	get := func(path, want string) func(context.Context) error {
		return func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
			if err != nil {
				return err
			}
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
				return fmt.Errorf("GET %s: %d, %d bytes", path, resp.StatusCode, len(b))
			}
			return nil
		}
	}
	var failed bool
	for _, p := range []struct{ name, path, want string }{
		{"channel page (20)", "/@" + handle, text},
		{"Atom feed (20)", "/@" + handle + "/feed.atom", "<entry>"},
		{"JSON Feed (20)", "/@" + handle + "/feed.json", `"items"`},
	} {
		r := runPhase(ctx, *clients, *duration, get(p.path, p.want))
		r.print(p.name)
		failed = failed || r.errors > 0
	}
	if failed {
		return errors.New("some requests failed")
	}
	return nil
}
