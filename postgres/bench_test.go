package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/postgres"
)

// Benchmarks run against the server at HERALD_POSTGRES_URL in a fresh
// schema each, with the system clock:
//
//	go test -run '^$' -bench . -benchtime 5s ./postgres/

// benchParallelism x GOMAXPROCS goroutines call the store at once: 16 on
// two cores, the pool's default size, like a node serving many clients.
const benchParallelism = 8

// benchWorld is an owner with a listed channel.
type benchWorld struct {
	db    *postgres.DB
	owner *herald.Account
	ch    *herald.Channel
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	db := mustOpen(b, freshSchema(b), herald.StoreConfig{})
	w := &benchWorld{db: db, owner: &herald.Account{Username: "owner"}}
	ctx := context.Background()
	if err := db.CreateAccount(ctx, w.owner, "x"); err != nil {
		b.Fatal(err)
	}
	w.ch = w.channel(b, "Bench")
	return w
}

func (w *benchWorld) channel(b *testing.B, name string) *herald.Channel {
	ch := &herald.Channel{Name: name, Category: "news", Listed: true}
	if err := w.db.CreateChannel(context.Background(), w.owner.ID, ch); err != nil {
		b.Fatal(err)
	}
	return ch
}

func (w *benchWorld) followers(b *testing.B, n int) []string {
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		a := &herald.Account{Username: fmt.Sprintf("f%05d", i)}
		if err := w.db.CreateAccount(ctx, a, "x"); err != nil {
			b.Fatal(err)
		}
		if _, err := w.db.Follow(ctx, a.ID, w.ch.ID); err != nil {
			b.Fatal(err)
		}
		ids[i] = a.ID
	}
	return ids
}

// BenchmarkCreateUpdate posts updates from parallel publishers, each to its
// own channel (posts to one channel are serialized by its stream head).
func BenchmarkCreateUpdate(b *testing.B) {
	w := newBenchWorld(b)
	var next atomic.Int64
	ctx := context.Background()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		b.StopTimer()
		ch := w.channel(b, fmt.Sprintf("Publisher %d", next.Add(1)))
		b.StartTimer()
		for pb.Next() {
			if err := w.db.CreateUpdate(ctx, w.owner.ID, ch.ID, &herald.Update{Text: "Ciel clair, 14 °C"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateUpdateOneChannel posts from parallel publishers to one
// channel: the per-channel sequence makes them queue.
func BenchmarkCreateUpdateOneChannel(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.db.CreateUpdate(ctx, w.owner.ID, w.ch.ID, &herald.Update{Text: "Bouchon sur l'A7"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListUpdates reads a channel's first page (20 updates with
// reactions and a poll) as a follower, in parallel.
func BenchmarkListUpdates(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	ids := w.followers(b, 20)
	for i := 0; i < 50; i++ {
		u := &herald.Update{Text: fmt.Sprintf("Update %d with some text of a realistic length for a bulletin.", i)}
		if i%5 == 0 {
			u.Poll = &herald.Poll{Question: "Tomorrow?", Options: []herald.PollOption{{Text: "Sun"}, {Text: "Rain"}}}
		}
		if err := w.db.CreateUpdate(ctx, w.owner.ID, w.ch.ID, u); err != nil {
			b.Fatal(err)
		}
		for j, id := range ids[:5] {
			if _, err := w.db.SetReaction(ctx, id, w.ch.ID, u.ID, []string{"👍", "❤️"}[j%2]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			list, err := w.db.ListUpdates(ctx, ids[0], w.ch.ID, 0, 20)
			if err != nil {
				b.Fatal(err)
			}
			if len(list) != 20 {
				b.Fatalf("got %d updates", len(list))
			}
		}
	})
}

// BenchmarkSetReaction has 100 followers change their reaction to one hot
// update in parallel, then checks that the counts are exact.
func BenchmarkSetReaction(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	ids := w.followers(b, 100)
	u := &herald.Update{Text: "Hot"}
	if err := w.db.CreateUpdate(ctx, w.owner.ID, w.ch.ID, u); err != nil {
		b.Fatal(err)
	}
	emojis := []string{"👍", "❤️", "😂", "😮"}
	var next atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			id := ids[i%int64(len(ids))]
			if _, err := w.db.SetReaction(ctx, id, w.ch.ID, u.ID, emojis[(i/int64(len(ids)))%4]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	got, err := w.db.FindUpdate(ctx, w.owner.ID, w.ch.ID, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, n := range got.Reactions {
		total += n
	}
	if want := min(int64(len(ids)), next.Load()); total != want {
		b.Fatalf("reaction counts sum to %d, want %d", total, want)
	}
}
