package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/sqlite"
)

// runBenchFanout measures real-time fan-out: N followers of one channel hold
// SSE or WebSocket streams to a server running in a child process (its
// memory is measured alone, and each process stays under the open-files
// limit); the bench posts updates through the API and times each delivery.
//
// Followers are created with the store's own methods before the server
// starts (accounts, sessions with API-format tokens, follows): the same rows
// signing up through the API makes, without 10,000 argon2 hashes.
func runBenchFanout(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald-bench fanout", flag.ContinueOnError)
	followers := fs.Int("followers", 10000, "followers holding a stream")
	transport := fs.String("transport", "ws", "ws or sse")
	updates := fs.Int("updates", 1, "updates posted back to back")
	textLen := fs.Int("text", 200, "update text length in bytes")
	dialers := fs.Int("dialers", 32, "concurrent stream openings")
	settle := fs.Duration("settle", 3*time.Second, "idle time before reading the server's memory")
	timeout := fs.Duration("timeout", 120*time.Second, "give up waiting for deliveries after this")
	loops := fs.Int("readers", 2, "epoll loops reading the streams")
	poll := fs.Duration("poll", time.Millisecond, "readers poll their streams this often instead of sleeping in epoll_wait, standing in for clients on other machines (0: sleep in epoll_wait, so that every delivery wakes a reader on the shared cores)")
	interval := fs.Duration("interval", 0, "pause between posts (each poster), e.g. to time single updates one after another")
	posters := fs.Int("posters", 1, "concurrent posting clients (updates are still posted back to back)")
	profile := fs.String("cpuprofile", "", "write the server's CPU profile of the posting and delivery phase to this file, the load generator's to this file + .gen (1 kHz sampling)")
	asServer := fs.String("as-server", "", "internal: run herald serve with the arguments after --, CPU-profiling into this file between SIGUSR1 and SIGUSR2")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *profile != "" && profileStart == nil {
		return errors.New("--cpuprofile: a server child's profile is started by signals this system lacks")
	}
	if *asServer != "" {
		return serveProfiled(ctx, *asServer, fs.Args())
	}
	if *transport != "ws" && *transport != "sse" {
		return fmt.Errorf("--transport: want ws or sse")
	}
	dir, err := os.MkdirTemp("", "herald-fanout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Printf("fanout: %d %s followers, %d update(s) of %d bytes, GOMAXPROCS=%d\n", *followers, *transport, *updates, *textLen, runtime.GOMAXPROCS(0))
	t0 := time.Now()
	admin, channelID, tokens, err := seedFanout(ctx, filepath.Join(dir, "herald.db"), *followers)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("seeded %d followers in %s\n", *followers, time.Since(t0).Round(time.Millisecond))
	// Write the seeded database out now: the kernel's writeback of it would
	// otherwise run during the measurement, on the same two cores.
	syncDisks()

	srv, err := startChild(ctx, dir, *profile)
	if err != nil {
		return err
	}
	defer srv.stop()
	time.Sleep(*settle)
	rssBefore, err := vmRSS(srv.pid)
	if err != nil {
		return err
	}

	// Open every stream and wait for its first message (the cursor): it is
	// then subscribed and live.
	t0 = time.Now()
	conns := make([]*follower, len(tokens))
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, *dialers)
	for range *dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(tokens) {
					return
				}
				c, err := dialFollower(ctx, srv.url, *transport, tokens[i], i)
				if err != nil {
					errc <- fmt.Errorf("stream %d: %w", i, err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	fmt.Printf("opened %d streams in %s\n", len(conns), time.Since(t0).Round(time.Millisecond))
	time.Sleep(*settle)
	rssAfter, err := vmRSS(srv.pid)
	if err != nil {
		return err
	}
	perConn := float64(rssAfter-rssBefore) / float64(len(conns))
	fmt.Printf("server RSS: %.1f MiB before, %.1f MiB with %d idle streams: %.1f KiB per stream\n",
		float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20), len(conns), perConn/1024)

	// A few epoll loops record when each update reaches each follower; the
	// update's index is at the start of its text.
	ac := client.New(srv.url, admin)
	n := *updates
	recv := make([]int64, len(conns)*n) // unix nanos; 0 = not received
	var dup, bad, got atomic.Int64
	done := make(chan struct{})
	stop := make(chan struct{})
	wait, err := readFollowers(conns, *loops, *poll, func(i int, data []byte, now int64) {
		if !bytes.Contains(data, []byte(`"type":"update.created"`)) {
			return
		}
		j := updateIndex(data)
		if j < 0 || j >= n {
			bad.Add(1)
			return
		}
		if recv[i*n+j] != 0 {
			dup.Add(1)
			return
		}
		recv[i*n+j] = now
		if got.Add(1) == int64(len(conns)*n) {
			close(done)
		}
	}, stop)
	if err != nil {
		return err
	}

	// The admin's client has the channel open before posting, as a person
	// or a feed bot would: its connection to the server is made and the
	// server has served it once, so the first post isn't timed with a TCP
	// handshake and the server's first request on its database pool.
	if _, err := ac.ListUpdates(ctx, channelID, client.ListOptions{}); err != nil {
		return fmt.Errorf("warm-up read: %w", err)
	}
	runtime.GC() // the set-up's garbage is not collected during the measurement
	ev0, wr0 := scrapeWrites(srv.url)
	cpu0, _ := cpuTime(srv.pid)
	self0, _ := cpuTime(os.Getpid())
	sys0, selfSys0 := sysTime(srv.pid), sysTime(os.Getpid())
	// Each text starts with its index ("#000042 "), which tells the
	// readers which update an event is (posters run concurrently).
	filler := strings.Repeat("Storm warning. ", *textLen/15+1)[:max(*textLen-8, 1)]
	sent := make([]int64, n)
	var nextPost atomic.Int64
	var pwg sync.WaitGroup
	perr := make(chan error, *posters)
	if *profile != "" {
		_ = srv.cmd.Process.Signal(profileStart)
		f, err := os.Create(*profile + ".gen")
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.SetCPUProfileRate(1000)
		_ = pprof.StartCPUProfile(f)
		time.Sleep(50 * time.Millisecond) // let the server start profiling
	}
	t0 = time.Now()
	for range *posters {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for {
				k := int(nextPost.Add(1)) - 1
				if k >= n {
					return
				}
				if *interval > 0 && k >= *posters {
					time.Sleep(*interval)
				}
				atomic.StoreInt64(&sent[k], time.Now().UnixNano())
				if _, err := ac.PostUpdate(ctx, channelID, fmt.Sprintf("#%06d %s", k, filler), nil); err != nil {
					perr <- fmt.Errorf("post %d: %w", k, err)
					return
				}
			}
		}()
	}
	pwg.Wait()
	close(perr)
	if err := <-perr; err != nil {
		return err
	}
	postDur := time.Since(t0)
	select {
	case <-done:
	case <-time.After(*timeout):
	}
	cpu1, _ := cpuTime(srv.pid)
	self1, _ := cpuTime(os.Getpid())
	sys1, selfSys1 := sysTime(srv.pid), sysTime(os.Getpid())
	if *profile != "" {
		_ = srv.cmd.Process.Signal(profileStop)
		pprof.StopCPUProfile()
	}
	close(stop)
	wait()

	var lats []time.Duration
	var first, last int64
	lost := 0
	for i := range conns {
		for k := range n {
			r := recv[i*n+k]
			if r == 0 {
				lost++
				continue
			}
			lats = append(lats, time.Duration(r-atomic.LoadInt64(&sent[k])))
			if first == 0 || r < first {
				first = r
			}
			if r > last {
				last = r
			}
		}
	}
	slices.Sort(lats)
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[min(len(lats)-1, int(p*float64(len(lats))))]
	}
	total := len(conns) * n
	span := time.Duration(last - slices.Min(sent))
	fmt.Printf("posted %d update(s) in %s\n", n, postDur.Round(time.Millisecond))
	fmt.Printf("deliveries: %d of %d (lost %d, duplicates %d, unexpected %d)\n", len(lats), total, lost, dup.Load(), bad.Load())
	fmt.Printf("latency (post sent -> event read): p50 %s  p99 %s  max %s\n", pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	if n > 1 && *interval > 0 {
		// Single updates one after another: each one's own p99 over its
		// followers, which is what "one update to N followers" asks.
		p99s := perUpdateP99(recv, sent, len(conns), n)
		fmt.Printf("per-update p99: min %s  median %s  max %s  (%d updates)\n",
			p99s[0].Round(10*time.Microsecond), p99s[len(p99s)/2].Round(10*time.Microsecond), p99s[len(p99s)-1].Round(10*time.Microsecond), len(p99s))
	}
	if span > 0 {
		fmt.Printf("throughput: %.0f deliveries/s (first post to last delivery: %s)\n", float64(len(lats))/span.Seconds(), span.Round(time.Millisecond))
	}
	if len(lats) > 0 {
		fmt.Printf("CPU per delivery: server %.1f us, load generator %.1f us (whole run: server %s, generator %s)\n",
			float64(cpu1-cpu0)/float64(len(lats))/1e3, float64(self1-self0)/float64(len(lats))/1e3, (cpu1 - cpu0).Round(time.Millisecond), (self1 - self0).Round(time.Millisecond))
		if cpu1 > cpu0 && self1 > self0 {
			fmt.Printf("CPU in the kernel: server %.0f %%, load generator %.0f %%\n",
				100*float64(sys1-sys0)/float64(cpu1-cpu0), 100*float64(selfSys1-selfSys0)/float64(self1-self0))
		}
	}
	if ev1, wr1 := scrapeWrites(srv.url); wr1 > wr0 {
		fmt.Printf("coalescing: %.1f events per socket write (%.0f writes)\n", (ev1-ev0)/(wr1-wr0), wr1-wr0)
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("machine load average (1, 5, 15 min): %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	if rss, err := vmRSS(srv.pid); err == nil {
		fmt.Printf("server RSS after the run: %.1f MiB\n", float64(rss)/(1<<20))
	}
	if lost > 0 || dup.Load() > 0 {
		return fmt.Errorf("%d deliveries lost, %d duplicated", lost, dup.Load())
	}
	return nil
}

// seedFanout creates the admin, the channel and the followers in a fresh
// SQLite store.
func seedFanout(ctx context.Context, path string, n int) (admin, channelID string, tokens []string, err error) {
	db, err := sqlite.Open(context.Background(), path, herald.StoreConfig{Clock: herald.SystemClock{}, Retention: herald.DefaultRetention})
	if err != nil {
		return "", "", nil, err
	}
	defer db.Close()
	return seedFollowers(ctx, db, "fan", n)
}

// seedFollowers creates, with the store's own methods, an admin, a channel
// and n followers of it, each with a session whose token (API format) it
// returns: the rows signing up and following through the API make, without
// n argon2 hashes. Account names start with prefix.
func seedFollowers(ctx context.Context, store herald.Store, prefix string, n int) (admin, channelID string, tokens []string, err error) {
	// No one logs in with these accounts: the hash only fills the column.
	const hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	newAccount := func(name string) (string, string, error) {
		a := &herald.Account{Username: name, DisplayName: name}
		if err := store.CreateAccount(ctx, a, hash); err != nil {
			return "", "", err
		}
		var b [32]byte
		_, _ = rand.Read(b[:])
		tok := base64.RawURLEncoding.EncodeToString(b[:])
		h := sha256.Sum256([]byte(tok))
		now := time.Now().UTC()
		err := store.CreateSession(ctx, &herald.Session{TokenHash: h[:], AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)})
		return a.ID, tok, err
	}
	adminID, admin, err := newAccount(prefix + "_admin")
	if err != nil {
		return "", "", nil, err
	}
	ch := &herald.Channel{Name: "Bench channel " + prefix, Category: "news", Listed: true}
	if err := store.CreateChannel(ctx, adminID, ch); err != nil {
		return "", "", nil, err
	}
	tokens = make([]string, n)
	err = parallel(ctx, n, 16, func(i int) error {
		id, tok, err := newAccount(fmt.Sprintf("%s%06d", prefix, i))
		if err == nil {
			_, err = store.Follow(ctx, id, ch.ID)
		}
		tokens[i] = tok
		return err
	})
	return admin, ch.ID, tokens, err
}

// updateIndex reads the index the bench put at the start of an update's
// text ("#000042 ..."), or -1.
func updateIndex(data []byte) int {
	i := bytes.Index(data, []byte(`"text":"#`))
	if i < 0 || len(data) < i+15 {
		return -1
	}
	// Parsed by hand: strconv.Atoi(string(...)) allocates, once per
	// delivery, and the generator's collections would run during the
	// measurement.
	v := 0
	for _, d := range data[i+9 : i+15] {
		if d < '0' || d > '9' {
			return -1
		}
		v = v*10 + int(d-'0')
	}
	return v
}

type childServer struct {
	cmd *exec.Cmd
	pid int
	url string
}

// startChild runs `herald serve` on the seeded data directory, loopback
// exempt from rate and stream limits, and waits for its address.
func startChild(ctx context.Context, dir, profile string, extra ...string) (*childServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--rate-limit-exempt", "127.0.0.0/8", "--log-level", "warn"}, extra...)
	if profile != "" {
		args = append([]string{"fanout", "--as-server", profile, "--"}, args[1:]...)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childServer{cmd: cmd, pid: cmd.Process.Pid}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "herald listening on "); ok {
			c.url = u
			break
		}
	}
	if c.url == "" {
		c.stop()
		return nil, errors.New("server did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	fmt.Printf("server: pid %d at %s\n", c.pid, c.url)
	return c, nil
}

func (c *childServer) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// vmRSS reads a process's resident set size in bytes.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// cpuTime reads a process's user+system CPU time from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start after ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ = 100 on Linux
}

// sysTime is the system (kernel) part of a process's CPU time, 0 if unknown.
func sysTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(st) * time.Second / 100
}

// scrapeWrites reads the server's delivered-events and writes counters.
func scrapeWrites(base string) (events, writes float64) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "herald_realtime_events_delivered_total":
			events = v
		case "herald_realtime_writes_total":
			writes = v
		}
	}
	return events, writes
}

// serveProfiled runs `herald serve` with args and CPU-profiles it between
// SIGUSR1 and SIGUSR2 (sent by the bench around the phase it measures), at
// 1 kHz: a single fan-out costs the server only about 0.1 s of CPU.
func serveProfiled(ctx context.Context, path string, args []string) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, profileStart, profileStop)
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var f *os.File
		for {
			select {
			case <-pctx.Done():
				if f != nil {
					pprof.StopCPUProfile()
					f.Close()
				}
				return
			case sig := <-sigs:
				switch {
				case sig == profileStart && f == nil:
					var err error
					if f, err = os.Create(path); err != nil {
						fmt.Fprintln(os.Stderr, "cpuprofile:", err)
						continue
					}
					// Set before StartCPUProfile, which then keeps it (and
					// warns that it can't set its own 100 Hz).
					runtime.SetCPUProfileRate(1000)
					_ = pprof.StartCPUProfile(f)
				case sig == profileStop && f != nil:
					pprof.StopCPUProfile()
					f.Close()
					f = nil
				}
			}
		}
	}()
	err := serveCommand(ctx, args)
	cancel()
	<-done
	return err
}

// perUpdateP99 returns, sorted, the p99 latency of each update over the
// followers that received it (recv[i*n+k] is follower i's arrival of update
// k, 0 if lost).
func perUpdateP99(recv, sent []int64, followers, n int) []time.Duration {
	var out, firsts []time.Duration
	lats := make([]time.Duration, 0, followers)
	for k := range n {
		lats = lats[:0]
		for i := range followers {
			if r := recv[i*n+k]; r != 0 {
				lats = append(lats, time.Duration(r-atomic.LoadInt64(&sent[k])))
			}
		}
		if len(lats) == 0 {
			continue
		}
		slices.Sort(lats)
		out = append(out, lats[min(len(lats)-1, int(0.99*float64(len(lats))))])
		firsts = append(firsts, lats[0])
	}
	fmt.Printf("per-update p99 in posting order: %v\n", out)
	fmt.Printf("per-update first delivery: %v\n", firsts)
	slices.Sort(out)
	return out
}
