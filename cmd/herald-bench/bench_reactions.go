package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/client"
)

// benchReactions measures reaction changes on one hot update through the
// whole HTTP stack: N followers each change their reaction in a closed loop.
// Every request is allowed to finish (no deadline cancels one midway), so
// each follower's last acknowledged reaction is known and the final counts
// are checked exactly. It then compares reading that update with its counts
// against a plain first-page feed read.
func benchReactions(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald-bench reactions", flag.ContinueOnError)
	followers := fs.Int("followers", 100, "concurrent followers reacting")
	readers := fs.Int("readers", 50, "concurrent clients in the read phases")
	duration := fs.Duration("duration", 10*time.Second, "duration of each phase")
	server := fs.String("server", "", "target this server instead of starting one in-process")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the reaction phase to this file")
	pageCache := fs.Int("page-cache-mb", 64, "page cache of the in-process server (0: every feed read goes to the store, like every single-update read)")
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
		fmt.Printf("server: in-process, SQLite in %s\n", dir)
	}
	fmt.Printf("target %s, %d followers, %d readers, %s per phase, GOMAXPROCS=%d\n", base, *followers, *readers, *duration, runtime.GOMAXPROCS(0))

	// Setup: a channel, a hot update, a feed of 20 plain updates in a second
	// channel, and the followers.
	anon := client.New(base, "")
	suffix := strings.ToLower(rand.Text()[:8])
	pw := "bench password " + suffix
	admin, err := anon.CreateAccount(ctx, "bench_admin_"+suffix, pw, "")
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	ac := anon.WithToken(admin.Token)
	ch, err := ac.CreateChannel(ctx, client.ChannelInput{Name: "Hot " + suffix, Category: "news"})
	if err != nil {
		return err
	}
	plain, err := ac.CreateChannel(ctx, client.ChannelInput{Name: "Plain " + suffix, Category: "news"})
	if err != nil {
		return err
	}
	text := strings.Repeat("Storm warning. ", 14)[:200]
	var hot string
	for range 20 {
		u, err := ac.PostUpdate(ctx, ch.ID, text, nil)
		if err != nil {
			return err
		}
		hot = u.ID
		if _, err := ac.PostUpdate(ctx, plain.ID, text, nil); err != nil {
			return err
		}
	}
	fcs := make([]*client.Client, *followers)
	for i := range fcs {
		s, err := anon.CreateAccount(ctx, fmt.Sprintf("bench_f%d_%s", i, suffix), pw, "")
		if err != nil {
			return fmt.Errorf("create follower: %w", err)
		}
		fcs[i] = anon.WithToken(s.Token)
		if _, err := fcs[i].Follow(ctx, ch.ID); err != nil {
			return err
		}
		if _, err := fcs[i].Follow(ctx, plain.ID); err != nil {
			return err
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
	}

	// Phase 1: reaction changes. Each follower cycles through the pool
	// (every 8th step withdraws), so every request changes its reaction.
	pool := []string{"👍", "❤️", "😂", "😮", "😢", "🙏", "🎉"}
	last := make([]string, len(fcs))
	var stop atomic.Bool
	var ops, errs atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	lat := make([][]time.Duration, len(fcs))
	cpu0 := processCPU()
	start := time.Now()
	for i, c := range fcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := i; !stop.Load(); k++ {
				t := time.Now()
				var err error
				e := ""
				if k%8 == 7 {
					_, err = c.Unreact(ctx, ch.ID, hot)
				} else {
					e = pool[k%8%len(pool)]
					_, err = c.React(ctx, ch.ID, hot, e)
				}
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					// The outcome of a failed request is unknown: stop this
					// follower's checks from relying on it.
					last[i] = "?"
					return
				}
				last[i] = e
				ops.Add(1)
				lat[i] = append(lat[i], time.Since(t))
			}
		}()
	}
	select {
	case <-time.After(*duration):
	case <-ctx.Done():
	}
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	res := phaseResult{ops: ops.Load(), errors: errs.Load(), elapsed: elapsed, cpu: processCPU() - cpu0, firstErr: firstErr}
	for _, l := range lat {
		res.latencies = append(res.latencies, l...)
	}
	res.print("reaction change")
	if res.ops > 0 && res.cpu > 0 {
		// On a shared machine other work steals cores; CPU per change
		// tells what this machine would sustain with its cores to itself.
		fmt.Printf("  at that CPU cost, %d idle cores sustain about %.0f changes/s\n",
			runtime.NumCPU(), float64(runtime.NumCPU())*float64(res.ops)*float64(time.Second)/float64(res.cpu))
	}

	want := map[string]int64{}
	for _, e := range last {
		if e == "?" {
			return fmt.Errorf("reaction requests failed: %v", firstErr)
		}
		if e != "" {
			want[e]++
		}
	}
	u, err := ac.GetUpdate(ctx, ch.ID, hot)
	if err != nil {
		return err
	}
	if !maps.Equal(u.Reactions, want) {
		return fmt.Errorf("final counts %v, want %v", u.Reactions, want)
	}
	fmt.Printf("final counts exact: %v\n", u.Reactions)

	// Phase 2: reading the hot update with its counts, then the feed.
	reader := fcs[0]
	one := runPhase(ctx, *readers, *duration, func(ctx context.Context) error {
		u, err := reader.GetUpdate(ctx, ch.ID, hot)
		if err == nil && len(u.Reactions) == 0 {
			err = errors.New("hot update has no counts")
		}
		return err
	})
	one.print("read update w/ counts")
	feed := runPhase(ctx, *readers, *duration, func(ctx context.Context) error {
		us, err := reader.ListUpdates(ctx, ch.ID, client.ListOptions{Limit: 20})
		if err == nil && len(us) != 20 {
			err = fmt.Errorf("first page has %d updates, want 20", len(us))
		}
		return err
	})
	feed.print("feed page w/ counts")
	flat := runPhase(ctx, *readers, *duration, func(ctx context.Context) error {
		us, err := reader.ListUpdates(ctx, plain.ID, client.ListOptions{Limit: 20})
		if err == nil && len(us) != 20 {
			err = fmt.Errorf("first page has %d updates, want 20", len(us))
		}
		return err
	})
	flat.print("feed page, no reactions")
	if one.errors > 0 || feed.errors > 0 || flat.errors > 0 {
		return errors.New("some reads failed")
	}
	return nil
}
