package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/postgres"
	"github.com/jackc/pgx/v5"
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
	// A unique application_name finds this pool's server processes.
	db := mustOpen(b, freshSchema(b)+"&application_name=herald_bench_"+strconv.Itoa(os.Getpid()), herald.StoreConfig{})
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
	cpu := startCPU(w.db)
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
	cpu.report(b, b.N)
}

// BenchmarkCreateUpdateOneChannel posts from parallel publishers to one
// channel: the per-channel sequence makes them queue.
func BenchmarkCreateUpdateOneChannel(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	b.SetParallelism(benchParallelism)
	cpu := startCPU(w.db)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.db.CreateUpdate(ctx, w.owner.ID, w.ch.ID, &herald.Update{Text: "Bouchon sur l'A7"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	cpu.report(b, b.N)
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
	cpu := startCPU(w.db)
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
	cpu.report(b, b.N)
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
	cpu := startCPU(w.db)
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
	cpu.report(b, b.N)
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

// cpuMeter measures the CPU time this process and its PostgreSQL backends
// spend during a benchmark: on a shared machine that is the figure that
// stays meaningful (ops/s on two idle cores is at most 2 s / CPU per op).
// The backends are found by the pool's application_name and read from
// /proc, so they are counted only when PostgreSQL runs on this machine.
type cpuMeter struct {
	db       *postgres.DB
	self     time.Duration
	backends map[string]time.Duration
}

func startCPU(db *postgres.DB) cpuMeter {
	return cpuMeter{db: db, self: processCPU(), backends: backendCPU(db)}
}

// report adds a "cpu-µs/op" metric for n operations.
func (m cpuMeter) report(b *testing.B, n int) {
	if n == 0 {
		return
	}
	used := processCPU() - m.self
	for pid, t := range backendCPU(m.db) {
		used += t - m.backends[pid]
	}
	b.ReportMetric(float64(used.Microseconds())/float64(n), "cpu-µs/op")
}

// backendCPU returns the CPU time of each server process serving this
// store's pool (same application_name), by pid.
func backendCPU(db *postgres.DB) map[string]time.Duration {
	out := map[string]time.Duration{}
	rows, err := db.Pool().Query(context.Background(), `SELECT pid::text FROM pg_stat_activity
		WHERE application_name = current_setting('application_name')`)
	if err != nil {
		return out
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return out
	}
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 > len(s) {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(u+st) * (time.Second / 100) // USER_HZ is 100 on Linux
	}
	return out
}
