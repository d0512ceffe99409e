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
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/realtime/stream"
	"github.com/jackc/pgx/v5/pgxpool"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

func init() {
	benchCommands["cluster"] = benchCluster
}

// benchCluster measures fan-out across nodes: it starts --nodes `herald
// serve --postgres --nats` processes on a fresh PostgreSQL schema and one
// NATS, spreads followers' streams over them round-robin, posts on node 1
// and measures when each follower receives each update. This process is
// the load generator (and runs the embedded NATS unless --nats is given).
func benchCluster(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald bench cluster", flag.ContinueOnError)
	nodes := fs.Int("nodes", 2, "server processes")
	followers := fs.Int("followers", 10000, "followers, each with one stream, spread over the nodes")
	transport := fs.String("transport", "ws", "ws or sse")
	rounds := fs.Int("updates", 20, "updates posted one at a time, each waited for (delivery latency)")
	burst := fs.Int("burst", 200, "updates then posted back to back (deliveries per second)")
	posters := fs.Int("posters", 4, "concurrent posters in the burst")
	pg := fs.String("postgres", envOr("HERALD_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL server; a fresh schema is created and dropped")
	nu := fs.String("nats", "", "NATS URL; empty runs an embedded NATS server in this process")
	asNode := fs.Bool("as-node", false, "internal: run one node (started by the benchmark itself)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *asNode {
		return benchClusterNode(ctx, *pg, *nu)
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
		p, err := startBenchNode(exe, pgURL, natsURL)
		if err != nil {
			return fmt.Errorf("node %d: %w", i+1, err)
		}
		procs = append(procs, p)
	}
	fmt.Printf("%d nodes %v, PostgreSQL schema %s, NATS %s, %d %s followers, GOMAXPROCS=%d\n",
		*nodes, nodeURLs(procs), schema, natsURL, *followers, *transport, runtime.GOMAXPROCS(0))

	// Accounts: the admin on node 1, followers round-robin.
	suffix := strings.ToLower(rand.Text()[:6])
	const pw = "bench password 1234"
	admin, err := client.New(procs[0].url, "").CreateAccount(ctx, "adm_"+suffix, pw, "")
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	ac := client.New(procs[0].url, admin.Token)
	ch, err := ac.CreateChannel(ctx, client.ChannelInput{Name: "Bench " + suffix, Category: "news"})
	if err != nil {
		return err
	}
	t0 := time.Now()
	tokens := make([]string, *followers)
	// One keep-alive pool for all of them: a client each would leave
	// thousands of idle sockets open beside the streams.
	hc := client.WithHTTPClient(&http.Client{Transport: client.NewTransport(), Timeout: time.Minute})
	anons := make([]*client.Client, len(procs))
	for i, p := range procs {
		anons[i] = client.New(p.url, "", hc)
	}
	if err := parallel(ctx, *followers, 32, func(i int) error {
		c := anons[i%len(procs)]
		s, err := c.CreateAccount(ctx, fmt.Sprintf("f%d_%s", i, suffix), pw, "")
		if err != nil {
			return err
		}
		tokens[i] = s.Token
		_, err = c.WithToken(s.Token).Follow(ctx, ch.ID)
		return err
	}); err != nil {
		return fmt.Errorf("followers: %w", err)
	}
	fmt.Printf("setup: %d accounts following in %s\n", *followers, time.Since(t0).Round(time.Millisecond))

	// Streams, and each node's memory before and after.
	rss0 := make([]int64, len(procs))
	for i, p := range procs {
		rss0[i] = p.rss()
	}
	nr := *rounds + *burst
	conns := make([]*benchConn, *followers)
	t0 = time.Now()
	if err := parallel(ctx, *followers, 64, func(i int) error {
		s, err := stream.Dial(ctx, procs[i%len(procs)].url, *transport, stream.Options{Token: tokens[i]})
		if err != nil {
			return err
		}
		_ = s.SetReadDeadline(time.Now().Add(30 * time.Second))
		if d, err := s.NextData(); err != nil || !bytes.Contains(d, []byte(`"cursor"`)) {
			s.Close()
			return fmt.Errorf("first message %q: %v", d, err)
		}
		_ = s.SetReadDeadline(time.Time{})
		conns[i] = &benchConn{s: s, node: i % len(procs), got: make([]int64, nr)}
		return nil
	}); err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.s.Close()
			}
		}
	}()
	fmt.Printf("streams: %d open in %s\n", *followers, time.Since(t0).Round(time.Millisecond))
	runtime.GC()
	time.Sleep(time.Second) // let the nodes settle before measuring memory
	for i, p := range procs {
		n := (*followers + len(procs) - 1 - i) / len(procs)
		d := p.rss() - rss0[i]
		fmt.Printf("node %d: %d streams, RSS +%.1f MiB = %.1f KiB per stream\n", i+1, n, float64(d)/(1<<20), float64(d)/1024/float64(max(n, 1)))
	}

	// Readers: the time each update reaches each follower.
	posted := make([]atomic.Int64, nr) // unix nanos when the POST was sent
	var delivered atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.read(posted, &delivered)
		}()
	}
	var postMu sync.Mutex
	var postLat []time.Duration // POST round trips (the 201 comes after the commit and the NATS flush)
	post := func(r int) error {
		t := time.Now()
		posted[r].Store(t.UnixNano())
		_, err := ac.PostUpdate(ctx, ch.ID, fmt.Sprintf("bench-r%06d-", r), nil)
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

	var natsIn, natsOut natsserver.Varz
	if ns != nil {
		v, _ := ns.Varz(nil)
		natsIn = *v
	}
	// Phase 1: one update at a time.
	for r := 0; r < *rounds; r++ {
		if err := post(r); err != nil {
			return err
		}
		if err := waitAll(int64((r+1)*(*followers)), 30*time.Second); err != nil {
			return fmt.Errorf("update %d: %w", r, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ns != nil {
		v, _ := ns.Varz(nil)
		natsOut = *v
	}
	lat := make([][]time.Duration, len(procs))
	for _, c := range conns {
		for r := 0; r < *rounds; r++ {
			lat[c.node] = append(lat[c.node], time.Duration(c.got[r]-posted[r].Load()))
		}
	}
	var all []time.Duration
	for i, l := range lat {
		all = append(all, l...)
		where := "remote, through NATS"
		if i == 0 {
			where = "local to the poster"
		}
		printLatency(fmt.Sprintf("node %d (%s)", i+1, where), l)
	}
	printLatency("all followers", all)
	printLatency("POST round trip (201)", slices.Clone(postLat))
	if ns != nil && *rounds > 0 {
		fmt.Printf("NATS per update: %.1f messages in, %.1f out, %.0f bytes in, %.0f out\n",
			float64(natsOut.InMsgs-natsIn.InMsgs)/float64(*rounds), float64(natsOut.OutMsgs-natsIn.OutMsgs)/float64(*rounds),
			float64(natsOut.InBytes-natsIn.InBytes)/float64(*rounds), float64(natsOut.OutBytes-natsIn.OutBytes)/float64(*rounds))
	}

	// Phase 2: updates back to back from several posters.
	if *burst > 0 {
		base := int64(*rounds * *followers)
		var next atomic.Int64
		next.Store(int64(*rounds))
		start := time.Now()
		if err := parallel(ctx, *posters, *posters, func(int) error {
			for {
				r := int(next.Add(1) - 1)
				if r >= nr {
					return nil
				}
				if err := post(r); err != nil {
					return err
				}
			}
		}); err != nil {
			return err
		}
		postDone := time.Since(start)
		want := base + int64(*burst)*int64(*followers)
		if err := waitAll(want, 120*time.Second); err != nil {
			return err
		}
		el := time.Since(start)
		fmt.Printf("burst: %d updates posted in %s (%.0f posts/s); %d deliveries in %s = %.0f deliveries/s\n",
			*burst, postDone.Round(time.Millisecond), float64(*burst)/postDone.Seconds(),
			want-base, el.Round(time.Millisecond), float64(want-base)/el.Seconds())
	}

	// Nothing lost, nothing twice.
	var lost, dup int64
	for _, c := range conns {
		for r := 0; r < nr; r++ {
			if c.got[r] == 0 {
				lost++
			}
		}
		dup += c.dup.Load()
	}
	fmt.Printf("lost %d, duplicated %d\n", lost, dup)
	for _, c := range conns {
		c.s.Close()
	}
	wg.Wait()
	if lost > 0 || dup > 0 {
		return errors.New("deliveries lost or duplicated")
	}
	return nil
}

// benchClusterNode is one node of the benchmark: `herald serve` on
// PostgreSQL and NATS, with cheap password hashing (thousands of accounts
// are created) and no rate limits on loopback.
func benchClusterNode(ctx context.Context, pg, nu string) error {
	dir, err := os.MkdirTemp("", "herald-bench-node-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	m := NewMain()
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", dir, "--postgres", pg, "--nats", nu,
		"--rate-limit-exempt", "127.0.0.0/8,::1", "--log-level", "warn"}); err != nil {
		return err
	}
	m.PasswordParams = password.TestParams
	if err := m.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return m.Close()
}

type benchNode struct {
	cmd *exec.Cmd
	url string
}

func startBenchNode(exe, pg, nu string) (*benchNode, error) {
	cmd := exec.Command(exe, "bench", "cluster", "--as-node", "--postgres", pg, "--nats", nu)
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

// rss returns the node's resident memory in bytes.
func (p *benchNode) rss() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func nodeURLs(ps []*benchNode) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.url)
	}
	return out
}

// benchConn is one follower's stream in the load generator.
type benchConn struct {
	s    *stream.Conn
	node int
	got  []int64 // per update: unix nanos received, 0 if not yet
	dup  atomic.Int64
}

var benchMarker = []byte(`"text":"bench-r`)

// read records the arrival of each benchmark update on the stream.
func (c *benchConn) read(posted []atomic.Int64, delivered *atomic.Int64) {
	for {
		d, err := c.s.NextData()
		if err != nil {
			return
		}
		i := bytes.Index(d, benchMarker)
		if i < 0 || !bytes.Contains(d[:i], []byte(`"update.created"`)) {
			continue
		}
		now := time.Now().UnixNano()
		j := i + len(benchMarker)
		if j+6 > len(d) {
			continue
		}
		r, err := strconv.Atoi(string(d[j : j+6]))
		if err != nil || r < 0 || r >= len(c.got) {
			continue
		}
		if c.got[r] != 0 {
			c.dup.Add(1)
			continue
		}
		c.got[r] = now
		delivered.Add(1)
	}
}

func printLatency(name string, l []time.Duration) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	q := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	fmt.Printf("%-40s deliveries %7d  p50 %8s  p99 %8s  max %8s\n", name, len(l),
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
