package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// benchCluster measures fan-out across nodes: it starts --nodes `herald
// serve --postgres --nats` processes on a fresh PostgreSQL schema and one
// NATS, spreads followers' streams over them round-robin, posts on node 1
// and measures when each follower receives each update. This process is
// the load generator (and runs the embedded NATS unless --nats is given).
func benchCluster(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald-bench cluster", flag.ContinueOnError)
	nodes := fs.Int("nodes", 2, "server processes")
	followers := fs.Int("followers", 10000, "followers, each with one stream, spread over the nodes")
	transport := fs.String("transport", "ws", "ws or sse")
	rounds := fs.Int("updates", 20, "updates posted one at a time, each waited for (delivery latency)")
	burst := fs.Int("burst", 200, "updates then posted back to back (deliveries per second)")
	posters := fs.Int("posters", 4, "concurrent posters in the burst")
	textLen := fs.Int("text", 200, "update text length in bytes")
	settle := fs.Duration("settle", 3*time.Second, "idle time before reading the nodes' memory")
	poll := fs.Duration("poll", time.Millisecond, "readers poll their streams this often instead of sleeping in epoll_wait (as in herald-bench fanout; 0: sleep in epoll_wait)")
	pg := fs.String("postgres", envOr("HERALD_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL server; a fresh schema is created and dropped")
	nu := fs.String("nats", "", "NATS URL; empty runs an embedded NATS server in this process")
	asNode := fs.Bool("as-node", false, "internal: run one node (started by the benchmark itself)")
	profile := fs.String("cpuprofile", "", "write each node's CPU profile of the back-to-back phase to this path + .nodeN")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *profile != "" && profileStart == nil {
		return errors.New("--cpuprofile: a server child's profile is started by signals this system lacks")
	}
	if *asNode {
		return benchClusterNode(ctx, *pg, *nu, *profile)
	}
	if *transport != "ws" && *transport != "sse" {
		return fmt.Errorf("--transport %q: want ws or sse", *transport)
	}

	// A fresh schema, dropped at the end.
	pool, err := pgxpool.New(ctx, *pg)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer pool.Close()
	schema := "herald_bench_" + strings.ToLower(rand.Text()[:10])
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return err
	}
	defer pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	u, err := url.Parse(*pg)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	pgURL := u.String()

	var ns *natsserver.Server
	natsURL := *nu
	if natsURL == "" {
		ns, err = natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
		if err != nil {
			return err
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			return errors.New("embedded NATS did not start")
		}
		defer ns.Shutdown()
		natsURL = "nats://" + ns.Addr().String()
	}

	// Start the nodes (one at a time: the first applies the migrations).
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var procs []*benchNode
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i := 0; i < *nodes; i++ {
		prof := ""
		if *profile != "" {
			prof = fmt.Sprintf("%s.node%d", *profile, i+1)
		}
		p, err := startBenchNode(exe, pgURL, natsURL, prof)
		if err != nil {
			return fmt.Errorf("node %d: %w", i+1, err)
		}
		procs = append(procs, p)
	}
	fmt.Printf("%d nodes %v, PostgreSQL schema %s, NATS %s, %d %s followers, GOMAXPROCS=%d\n",
		*nodes, nodeURLs(procs), schema, natsURL, *followers, *transport, runtime.GOMAXPROCS(0))

	// Accounts, sessions and follows straight into the store (10,000 argon2
	// hashes through the API would take minutes); the nodes read them.
	t0 := time.Now()
	admin, channelID, tokens, err := seedCluster(ctx, pgURL, *followers)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("seeded %d followers in %s\n", *followers, time.Since(t0).Round(time.Millisecond))
	syncDisks() // the seed's writeback must not run during the measurement
	ac := client.New(procs[0].url, admin)

	// Streams round-robin over the nodes, and each node's memory before and after.
	time.Sleep(*settle)
	rss0 := make([]int64, len(procs))
	for i, p := range procs {
		rss0[i], _ = vmRSS(p.cmd.Process.Pid)
	}
	conns := make([]*follower, *followers)
	t0 = time.Now()
	if err := parallel(ctx, *followers, 32, func(i int) error {
		c, err := dialFollower(ctx, procs[i%len(procs)].url, *transport, tokens[i], i)
		if err != nil {
			return fmt.Errorf("stream %d: %w", i, err)
		}
		conns[i] = c
		return nil
	}); err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.close()
			}
		}
	}()
	fmt.Printf("opened %d streams in %s\n", *followers, time.Since(t0).Round(time.Millisecond))
	time.Sleep(*settle)
	for i, p := range procs {
		n := (*followers + len(procs) - 1 - i) / len(procs)
		r, _ := vmRSS(p.cmd.Process.Pid)
		fmt.Printf("node %d: %d idle streams, RSS +%.1f MiB = %.1f KiB per stream\n", i+1, n, float64(r-rss0[i])/(1<<20), float64(r-rss0[i])/1024/float64(max(n, 1)))
	}

	// Two epoll loops record when each update reaches each follower; the
	// update's index starts its text.
	nr := *rounds + *burst
	recv := make([]int64, *followers*nr) // unix nanos; 0 = not received
	var dup, delivered atomic.Int64
	stop := make(chan struct{})
	wait, err := readFollowers(conns, 2, *poll, func(i int, data []byte, now int64) {
		if !bytes.Contains(data, []byte(`"type":"update.created"`)) {
			return
		}
		k := updateIndex(data)
		if k < 0 || k >= nr {
			return
		}
		if recv[i*nr+k] != 0 {
			dup.Add(1)
			return
		}
		recv[i*nr+k] = now
		delivered.Add(1)
	}, stop)
	if err != nil {
		return err
	}
	defer func() { close(stop); wait() }()

	// As in herald-bench fanout: the admin's client has the channel open
	// before posting.
	if _, err := ac.ListUpdates(ctx, channelID, client.ListOptions{}); err != nil {
		return fmt.Errorf("warm-up read: %w", err)
	}
	filler := strings.Repeat("Storm warning. ", *textLen/15+1)[:max(*textLen-8, 1)]
	sent := make([]atomic.Int64, nr)
	var postMu sync.Mutex
	var postLat []time.Duration // POST round trips: the 201 follows the commit and the NATS acknowledgement
	post := func(k int) error {
		t := time.Now()
		sent[k].Store(t.UnixNano())
		_, err := ac.PostUpdate(ctx, channelID, fmt.Sprintf("#%06d %s", k, filler), nil)
		postMu.Lock()
		postLat = append(postLat, time.Since(t))
		postMu.Unlock()
		return err
	}
	waitAll := func(want int64, limit time.Duration) error {
		deadline := time.Now().Add(limit)
		for delivered.Load() < want {
			if time.Now().After(deadline) {
				return fmt.Errorf("only %d of %d deliveries after %s", delivered.Load(), want, limit)
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	}
	cpu := func() (nodes, self time.Duration) {
		for _, p := range procs {
			c, _ := cpuTime(p.cmd.Process.Pid)
			nodes += c
		}
		self, _ = cpuTime(os.Getpid())
		return nodes, self
	}
	latencies := func(from, to int) [][]time.Duration {
		lat := make([][]time.Duration, len(procs))
		for i := range conns {
			for k := from; k < to; k++ {
				if r := recv[i*nr+k]; r != 0 {
					lat[i%len(procs)] = append(lat[i%len(procs)], time.Duration(r-sent[k].Load()))
				}
			}
		}
		return lat
	}
	report := func(lat [][]time.Duration) {
		var all []time.Duration
		for i, l := range lat {
			all = append(all, l...)
			where := "remote: through NATS"
			if i == 0 {
				where = "local to the poster"
			}
			printLatency(fmt.Sprintf("  node %d (%s)", i+1, where), l)
		}
		printLatency("  all followers", all)
	}

	var v0 *natsserver.Varz
	if ns != nil {
		v0, _ = ns.Varz(nil)
	}
	// Phase 1: one update at a time, each waited for.
	if *rounds > 0 {
		n0, s0 := cpu()
		for k := 0; k < *rounds; k++ {
			if err := post(k); err != nil {
				return err
			}
			if err := waitAll(int64((k+1)*(*followers)), 60*time.Second); err != nil {
				return fmt.Errorf("update %d: %w", k, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		n1, s1 := cpu()
		d := float64(*rounds * *followers)
		fmt.Printf("one update at a time (%d updates of %d bytes to %d followers each), latency post sent -> event read:\n", *rounds, *textLen, *followers)
		report(latencies(0, *rounds))
		printLatency("  POST round trip (201)", slices.Clone(postLat))
		fmt.Printf("  CPU per delivery: nodes %.1f us, load generator %.1f us\n", float64(n1-n0)/d/1e3, float64(s1-s0)/d/1e3)
		if ns != nil {
			v1, _ := ns.Varz(nil)
			fmt.Printf("  NATS per update: %.1f messages in, %.1f out, %.0f bytes in, %.0f out\n",
				float64(v1.InMsgs-v0.InMsgs)/float64(*rounds), float64(v1.OutMsgs-v0.OutMsgs)/float64(*rounds),
				float64(v1.InBytes-v0.InBytes)/float64(*rounds), float64(v1.OutBytes-v0.OutBytes)/float64(*rounds))
		}
	}

	// Phase 2: updates back to back from several posters.
	if *burst > 0 {
		signal := func(sig os.Signal) {
			if *profile != "" {
				for _, p := range procs {
					_ = p.cmd.Process.Signal(sig)
				}
			}
		}
		signal(profileStart)
		base := delivered.Load()
		n0, s0 := cpu()
		var next atomic.Int64
		next.Store(int64(*rounds))
		start := time.Now()
		if err := parallel(ctx, *posters, *posters, func(int) error {
			for {
				k := int(next.Add(1) - 1)
				if k >= nr {
					return nil
				}
				if err := post(k); err != nil {
					return err
				}
			}
		}); err != nil {
			return err
		}
		postDone := time.Since(start)
		want := int64(nr) * int64(*followers)
		if err := waitAll(want, 120*time.Second); err != nil {
			return err
		}
		el := time.Since(start)
		signal(profileStop)
		n1, s1 := cpu()
		d := float64(want - base)
		fmt.Printf("back to back: %d updates posted in %s (%.0f posts/s) by %d posters; %d deliveries in %s = %.0f deliveries/s\n",
			*burst, postDone.Round(time.Millisecond), float64(*burst)/postDone.Seconds(), *posters,
			want-base, el.Round(time.Millisecond), d/el.Seconds())
		report(latencies(*rounds, nr))
		fmt.Printf("  CPU per delivery: nodes %.1f us, load generator %.1f us\n", float64(n1-n0)/d/1e3, float64(s1-s0)/d/1e3)
	}

	// Nothing lost, nothing twice.
	var lost int64
	for _, r := range recv {
		if r == 0 {
			lost++
		}
	}
	fmt.Printf("lost %d, duplicated %d\n", lost, dup.Load())
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("machine load average (1, 5, 15 min): %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	if lost > 0 || dup.Load() > 0 {
		return errors.New("deliveries lost or duplicated")
	}
	return nil
}

// seedCluster creates the admin, the channel, the followers, their sessions
// and follows in the PostgreSQL store, as the API would.
func seedCluster(ctx context.Context, url string, n int) (admin, channelID string, tokens []string, err error) {
	db, err := postgres.Open(ctx, url, herald.StoreConfig{})
	if err != nil {
		return "", "", nil, err
	}
	defer db.Close()
	return seedFollowers(ctx, db, "cl", n)
}

// benchClusterNode is one node of the benchmark: `herald serve` on
// PostgreSQL and NATS, with cheap password hashing (thousands of accounts
// are created) and no rate limits on loopback.
func benchClusterNode(ctx context.Context, pg, nu, profile string) error {
	dir, err := os.MkdirTemp("", "herald-bench-node-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := serve.Parse([]string{"--addr", "127.0.0.1:0", "--data", dir, "--postgres", pg, "--nats", nu,
		"--rate-limit-exempt", "127.0.0.0/8,::1", "--log-level", "warn"}, options.NoEnv, os.Stderr)
	if err != nil {
		return err
	}
	cfg.PasswordParams = password.TestParams
	if profile != "" {
		// SIGUSR1 starts the profile, SIGUSR2 writes it.
		sig := make(chan os.Signal, 2)
		signal.Notify(sig, profileStart, profileStop)
		go func() {
			var f *os.File
			for s := range sig {
				if s == profileStart && f == nil {
					if f, _ = os.Create(profile); f != nil {
						_ = pprof.StartCPUProfile(f)
					}
				} else if s == profileStop && f != nil {
					pprof.StopCPUProfile()
					f.Close()
					f = nil
				}
			}
		}()
	}
	return serve.Run(ctx, cfg)
}

type benchNode struct {
	cmd *exec.Cmd
	url string
}

func startBenchNode(exe, pg, nu, profile string) (*benchNode, error) {
	cmd := exec.Command(exe, "cluster", "--as-node", "--postgres", pg, "--nats", nu, "--cpuprofile", profile)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &benchNode{cmd: cmd}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "herald listening on "); ok {
				line <- u
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case p.url = <-line:
		return p, nil
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, errors.New("did not start")
	}
}

func (p *benchNode) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func nodeURLs(ps []*benchNode) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.url)
	}
	return out
}

func printLatency(name string, l []time.Duration) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	q := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	fmt.Printf("%-40s n %7d  p50 %8s  p99 %8s  max %8s\n", name, len(l),
		q(0.5).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond), l[len(l)-1].Round(100*time.Microsecond))
}

// parallel runs f(0..n-1) on at most k goroutines; the first error stops it.
func parallel(ctx context.Context, n, k int, f func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range min(n, k) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
