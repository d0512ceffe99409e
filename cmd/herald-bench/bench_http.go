package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
)

// benchHTTP measures posting and first-page reads through the whole HTTP
// stack with the Go client: N concurrent clients, each in a closed loop;
// the admin posts, N distinct followers read.
func benchHTTP(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald-bench http", flag.ContinueOnError)
	clients := fs.Int("clients", 50, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "duration of each phase")
	server := fs.String("server", "", "target this server instead of starting one in-process (its rate limits must exempt this machine)")
	textLen := fs.Int("text", 200, "update text length in bytes")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured phases to this file")
	readOnly := fs.Bool("read-only", false, "skip the posting phase: post 20 updates, then measure reads")
	postOnly := fs.Bool("post-only", false, "skip the reading phase (a CPU profile then holds posting alone)")
	pageCache := fs.Int("page-cache-mb", 64, "page cache of the in-process server (0: every read goes to the store)")
	withKey := fs.Bool("key", false, "post with a channel API key and a fresh Idempotency-Key per post, as programs do (else the admin's session token)")
	viewClients := fs.Int("view-clients", 0, "clients reporting views (batches of 100 updates, from the followers' accounts) during both phases")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *readOnly && *postOnly {
		return errors.New("--read-only and --post-only leave nothing to measure")
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
	pw := "bench password " + suffix
	admin, err := anon.CreateAccount(ctx, "bench_admin_"+suffix, pw, "")
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	ac := anon.WithToken(admin.Token)
	ch, err := ac.CreateChannel(ctx, client.ChannelInput{Name: "Bench " + suffix, Category: "news"})
	if err != nil {
		return fmt.Errorf("create channel: %w", err)
	}
	// One follower per client, as 50 people reading the channel would be.
	followers := make([]*client.Client, *clients)
	for i := range followers {
		f, err := anon.CreateAccount(ctx, fmt.Sprintf("bench_f%d_%s", i, suffix), pw, "")
		if err != nil {
			return fmt.Errorf("create follower: %w", err)
		}
		followers[i] = anon.WithToken(f.Token)
		if _, err := followers[i].Follow(ctx, ch.ID); err != nil {
			return err
		}
	}
	text := strings.Repeat("Storm warning. ", *textLen/15+1)[:*textLen]

	if *readOnly {
		for range 20 {
			if _, err := ac.PostUpdate(ctx, ch.ID, text, nil); err != nil {
				return err
			}
		}
	}
	var viewIDs []string
	if *viewClients > 0 {
		for range herald.MaxViewBatch {
			u, err := ac.PostUpdate(ctx, ch.ID, text, nil)
			if err != nil {
				return err
			}
			viewIDs = append(viewIDs, u.ID)
		}
	}
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

	var views atomic.Int64
	viewsCtx, stopViews := context.WithCancel(ctx)
	var viewers sync.WaitGroup
	viewStart := time.Now()
	for w := range *viewClients {
		viewers.Go(func() {
			for i := w; viewsCtx.Err() == nil; i += *viewClients {
				if err := followers[i%len(followers)].ReportViews(viewsCtx, viewIDs, "fr"); err == nil {
					views.Add(int64(len(viewIDs)))
				}
			}
		})
	}
	defer func() {
		stopViews()
		viewers.Wait()
		if *viewClients > 0 {
			fmt.Printf("view reports           %9.0f views/s absorbed (%d clients, batches of %d)\n",
				float64(views.Load())/time.Since(viewStart).Seconds(), *viewClients, len(viewIDs))
		}
	}()

	var post phaseResult
	if !*readOnly {
		postOp := func(ctx context.Context) error {
			_, err := ac.PostUpdate(ctx, ch.ID, text, nil)
			return err
		}
		name := "post update (201)"
		if *withKey {
			key, err := ac.CreateKey(ctx, ch.ID, "bench", herald.ScopePost)
			if err != nil {
				return fmt.Errorf("create key: %w", err)
			}
			kc := anon.WithToken(key.Secret)
			postOp = func(ctx context.Context) error {
				_, _, err := kc.Publish(ctx, ch.ID, client.Post{Text: text})
				return err
			}
			name = "post update with an API key and an Idempotency-Key (201)"
		}
		post = runPhase(ctx, *clients, *duration, postOp)
		post.print(name)
	}
	if *postOnly {
		if post.errors > 0 {
			return errors.New("some requests failed")
		}
		return nil
	}
	read := runWorkers(ctx, *clients, *duration, func(ctx context.Context, worker int) error {
		us, err := followers[worker].ListUpdates(ctx, ch.ID, client.ListOptions{Limit: 20})
		if err == nil && len(us) != 20 {
			err = fmt.Errorf("first page has %d updates, want 20", len(us))
		}
		return err
	})
	read.print("read first page (20)")
	if post.errors > 0 || read.errors > 0 {
		return errors.New("some requests failed")
	}
	return nil
}

type phaseResult struct {
	ops, errors int64
	elapsed     time.Duration
	cpu         time.Duration // process CPU (user+system) during the phase
	latencies   []time.Duration
	firstErr    error
}

func (r phaseResult) print(name string) {
	slices.Sort(r.latencies)
	q := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	fmt.Printf("%-22s %9.0f req/s  (%d ok, %d errors in %s)  latency p50 %s p99 %s max %s\n",
		name, float64(r.ops)/r.elapsed.Seconds(), r.ops, r.errors, r.elapsed.Round(time.Millisecond),
		q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), q(1).Round(10*time.Microsecond))
	if r.ops > 0 && r.cpu > 0 {
		fmt.Printf("  process CPU %s per request (server and load generator together)\n",
			(r.cpu / time.Duration(r.ops)).Round(time.Microsecond))
	}
	if r.firstErr != nil {
		fmt.Printf("  first error: %v\n", r.firstErr)
	}
}

// runPhase runs op in a closed loop on n goroutines for d.
func runPhase(ctx context.Context, n int, d time.Duration, op func(context.Context) error) phaseResult {
	return runWorkers(ctx, n, d, func(ctx context.Context, _ int) error { return op(ctx) })
}

// runWorkers is runPhase telling op which of the n workers calls it.
func runWorkers(ctx context.Context, n int, d time.Duration, op func(ctx context.Context, worker int) error) phaseResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var ops, errs atomic.Int64
	var mu sync.Mutex
	var res phaseResult
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	for worker := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t := time.Now()
				err := op(ctx, worker)
				if ctx.Err() != nil {
					break // cut off by the deadline: neither success nor failure
				}
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if res.firstErr == nil {
						res.firstErr = err
					}
					mu.Unlock()
					continue
				}
				ops.Add(1)
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.cpu = processCPU() - cpu0
	res.ops, res.errors = ops.Load(), errs.Load()
	return res
}

// startBenchServer runs an in-process server on SQLite in a temporary
// directory, with cheap password hashing and loopback exempt from rate
// limits, for the benchmarks that don't target --server.
func startBenchServer(ctx context.Context, pageCacheMB int) (url, dir string, stop func(), err error) {
	dir, err = os.MkdirTemp("", "herald-bench-")
	if err != nil {
		return "", "", nil, err
	}
	cfg := serve.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.LogLevel = slog.LevelWarn
	cfg.Stdout = io.Discard
	cfg.PasswordParams = password.TestParams
	cfg.PageCacheMB = pageCacheMB
	cfg.RateLimitExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	m, err := serve.Start(ctx, cfg)
	if err != nil {
		os.RemoveAll(dir)
		return "", "", nil, err
	}
	return m.URL, dir, func() { m.Close(); os.RemoveAll(dir) }, nil
}
