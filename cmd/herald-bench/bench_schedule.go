package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/client"
)

// benchSchedule schedules N updates for the same second on an in-process
// server and measures when the last one is published (its created_at, set
// by the store at publication) after that second.
func benchSchedule(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald-bench schedule", flag.ContinueOnError)
	n := fs.Int("updates", 1000, "updates scheduled for the same second")
	lead := fs.Duration("lead", 15*time.Second, "how far ahead they are scheduled (enough to schedule them all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url, dir, stop, err := startBenchServer(ctx, 64)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("server: in-process, SQLite in %s\n", dir)
	anon := client.New(url, "")
	s, err := anon.CreateAccount(ctx, "bench_scheduler", "bench password", "")
	if err != nil {
		return err
	}
	owner := anon.WithToken(s.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Bench schedule", Category: "news"})
	if err != nil {
		return err
	}
	at := time.Now().Add(*lead).Truncate(time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *n)
	sem := make(chan struct{}, 32)
	for i := range *n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, _, err := owner.Publish(ctx, ch.ID, client.Post{Text: fmt.Sprintf("scheduled %d", i), PublishAt: at})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("scheduled %d updates for %s in %s\n", *n, at.Format(time.TimeOnly), time.Since(start).Round(time.Millisecond))
	if time.Now().After(at) {
		return errors.New("scheduling took longer than --lead")
	}
	deadline := at.Add(30 * time.Second)
	for {
		us, err := owner.ListUpdates(ctx, ch.ID, client.ListOptions{Limit: 1})
		if err != nil {
			return err
		}
		if len(us) == 1 && us[0].Seq == int64(*n) {
			last := us[0].CreatedAt
			list, err := owner.ListScheduled(ctx, ch.ID)
			if err != nil {
				return err
			}
			fmt.Printf("all %d published; the last %s after their time (%d left scheduled)\n", *n, last.Sub(at).Round(time.Millisecond), len(list))
			if len(list) != 0 || !strings.HasPrefix(us[0].Text, "scheduled ") {
				return errors.New("unexpected state after publication")
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not all published 30 s after their time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
