package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/push/pushtest"
	"github.com/heraldhq/herald/sqlite"
)

// benchPush measures Web Push delivery: N followers of one channel, each
// with one device, seeded in the store; a push service (pushtest: checks
// every request's VAPID token, decrypts a sample, counts all) runs in a
// child process; the server in another. One update is posted and timed
// until the push service has accepted a push for every device; then the
// bench waits a little more and reports devices missed and duplicates.
func benchPush(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	devices := fs.Int("devices", 100_000, "subscribed devices (one per follower)")
	decryptEvery := fs.Int("decrypt-every", 100, "the push service decrypts one message in this many (all are counted)")
	concurrency := fs.Int("concurrency", 128, "the server's --push-concurrency")
	content := fs.String("content", "preview", "the server's --push-content")
	settle := fs.Duration("settle", 3*time.Second, "how long to wait after the last device for duplicates")
	profile := fs.String("cpuprofile", "", "write the server's CPU profile of the delivery to this file")
	rprofile := fs.String("receiver-cpuprofile", "", "write the push service's CPU profile (its whole run) to this file")
	http1 := fs.Bool("http1", false, "the push service speaks HTTP/1.1 only (default: HTTP/2, as the big push services)")
	receiver := fs.String("as-receiver", "", "internal: run the push service, writing its endpoints and certificate under this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *receiver != "" {
		if *rprofile != "" {
			f, err := os.Create(*rprofile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		return runPushReceiver(ctx, *receiver, *devices, *decryptEvery, *http1)
	}
	if *profile != "" && profileStart == nil {
		return errors.New("--cpuprofile: a server child's profile is started by signals this system lacks")
	}
	dir, err := os.MkdirTemp("", "herald-push-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	proto := "HTTP/2"
	if *http1 {
		proto = "HTTP/1.1"
	}
	fmt.Printf("push: %d devices, --push-concurrency %d, --push-content %s, push service over %s decrypting 1 in %d, GOMAXPROCS=%d\n",
		*devices, *concurrency, *content, proto, *decryptEvery, runtime.GOMAXPROCS(0))

	// 1. The push service, in its own process.
	t0 := time.Now()
	rcv, err := startReceiver(ctx, dir, *devices, *decryptEvery, *http1, *rprofile)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	defer rcv.stop()
	fmt.Printf("receiver: pid %d, %d endpoints in %s\n", rcv.pid, *devices, time.Since(t0).Round(time.Millisecond))

	// 2. The store: followers with one device each.
	t0 = time.Now()
	token, channelID, err := seedPush(ctx, filepath.Join(dir, "herald.db"), rcv)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("seeded %d followers with a device in %s\n", *devices, time.Since(t0).Round(time.Millisecond))
	syncDisks()

	// 3. The server.
	srv, err := startChild(ctx, dir, *profile, "--push-allow-hosts", "127.0.0.1", "--push-ca-roots", filepath.Join(dir, "receiver.pem"),
		"--push-concurrency", strconv.Itoa(*concurrency), "--push-content", *content)
	if err != nil {
		return err
	}
	defer srv.stop()
	ac := client.New(srv.url, token)
	if _, err := ac.ListUpdates(ctx, channelID, client.ListOptions{}); err != nil {
		return fmt.Errorf("warm-up read: %w", err)
	}
	cpu0, _ := cpuTime(srv.pid)
	rcpu0, _ := cpuTime(rcv.pid)
	if *profile != "" {
		_ = srv.cmd.Process.Signal(profileStart)
		time.Sleep(50 * time.Millisecond) // let the server start profiling
	}
	text := "Storm warning: " + strings.Repeat("strong winds and heavy rain tonight, stay indoors. ", 5)
	start := time.Now()
	if _, err := ac.PostUpdate(ctx, channelID, text, nil); err != nil {
		return fmt.Errorf("post: %w", err)
	}
	posted := time.Since(start)
	var peakRSS int64
	var st pushStats
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if st, err = rcv.stats(); err != nil {
			return err
		}
		if rss, err := vmRSS(srv.pid); err == nil && rss > peakRSS {
			peakRSS = rss
		}
		if st.Reached >= *devices || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if *profile != "" {
		_ = srv.cmd.Process.Signal(profileStop)
	}
	cpu1, _ := cpuTime(srv.pid)
	rcpu1, _ := cpuTime(rcv.pid)
	time.Sleep(*settle) // duplicates would arrive now
	if st, err = rcv.stats(); err != nil {
		return err
	}
	n := float64(*devices)
	fmt.Printf("posted in %s; last device reached %s after the post: %.0f pushes/s\n",
		posted.Round(time.Microsecond), elapsed.Round(time.Millisecond), n/elapsed.Seconds())
	fmt.Printf("server CPU %s (%.1f µs per push), push service CPU %s (%.1f µs per push), server peak RSS %d MiB\n",
		(cpu1 - cpu0).Round(time.Millisecond), float64((cpu1-cpu0).Microseconds())/n,
		(rcpu1 - rcpu0).Round(time.Millisecond), float64((rcpu1-rcpu0).Microseconds())/n, peakRSS>>20)
	fmt.Printf("accepted %d, devices reached %d, missing %d, duplicates %d, decrypted %d (wrong text %d), refused requests %d\n",
		st.Accepted, st.Reached, *devices-st.Reached, st.Duplicates, st.Decrypted, st.WrongText, st.Failures)
	if *profile != "" {
		fmt.Printf("server CPU profile: %s (go tool pprof -top %s)\n", *profile, *profile)
	}
	// A preview is the posted text's start, cut with an ellipsis; minimal
	// carries no text.
	if *content == "minimal" && st.Text != "" || *content != "minimal" && (!strings.HasPrefix(text, strings.TrimSuffix(st.Text, "…")) || len(st.Text) < 100) {
		fmt.Printf("the sampled payloads carry %q, not the posted text's start\n", st.Text)
		st.WrongText = max(st.WrongText, 1)
	}
	if st.Reached != *devices || st.Duplicates != 0 || st.Failures != 0 || st.WrongText != 0 || st.Decrypted == 0 {
		return errors.New("deliveries lost, duplicated or refused")
	}
	return nil
}

// pushStats is what the receiver reports.
type pushStats struct {
	Accepted   int64  `json:"accepted"`
	Reached    int    `json:"reached"`
	Duplicates int    `json:"duplicates"`
	Decrypted  int    `json:"decrypted"`
	WrongText  int    `json:"wrong_text"`
	Failures   int    `json:"failures"`
	Text       string `json:"text"` // the sampled payloads' text (all equal)
}

type receiverProc struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	pid       int
	statsURL  string
	endpoints []string
	p256dh    []byte
	auth      []byte
}

func startReceiver(ctx context.Context, dir string, n, decryptEvery int, http1 bool, profile string) (*receiverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "push", "--as-receiver", dir, "--devices", strconv.Itoa(n), "--decrypt-every", strconv.Itoa(decryptEvery), "--http1="+strconv.FormatBool(http1), "--receiver-cpuprofile", profile)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // closed when we exit: the receiver then stops
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &receiverProc{cmd: cmd, pid: cmd.Process.Pid, stdin: stdin}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "receiver" {
			r.statsURL = f[1]
			r.p256dh, _ = base64.RawURLEncoding.DecodeString(f[2])
			r.auth, _ = base64.RawURLEncoding.DecodeString(f[3])
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if r.statsURL == "" {
		r.stop()
		return nil, errors.New("the receiver did not start")
	}
	b, err := os.ReadFile(filepath.Join(dir, "endpoints"))
	if err != nil {
		r.stop()
		return nil, err
	}
	r.endpoints = strings.Fields(string(b))
	if len(r.endpoints) != n {
		r.stop()
		return nil, fmt.Errorf("the receiver wrote %d endpoints, want %d", len(r.endpoints), n)
	}
	return r, nil
}

func (r *receiverProc) stats() (pushStats, error) {
	var st pushStats
	resp, err := http.Get(r.statsURL)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// stop closes the receiver's stdin (it then writes its profile, if any,
// and exits), and kills it if it has not within 5 s.
func (r *receiverProc) stop() {
	_ = r.stdin.Close()
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
}

// runPushReceiver is the push service process: n endpoints sharing one key
// pair, written to dir/endpoints, its certificate to dir/receiver.pem; a
// plain HTTP stats URL, the key pair on the "receiver" line. It stops when
// its stdin closes (the bench exited).
func runPushReceiver(ctx context.Context, dir string, n, decryptEvery int, http1 bool) error {
	start := pushtest.NewServer
	if http1 {
		start = pushtest.NewHTTP1Server
	}
	ps := start(nil)
	defer ps.Close()
	ps.DecryptEvery = int64(decryptEvery)
	sub := pushtest.NewSubscriber()
	var eps bytes.Buffer
	for range n {
		eps.WriteString(ps.SubscribeAs(sub))
		eps.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "endpoints"), eps.Bytes(), 0o600); err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ps.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "receiver.pem"), certPEM, 0o600); err != nil {
		return err
	}
	// The sampled payloads are checked once each, as a poll finds them
	// (a poll costs what arrived since the last, not a walk of everything).
	var (
		checkMu              sync.Mutex
		checked              int // how many of ps.Received() are checked
		decrypted, wrongText int
		text                 string // the first payload's text; all must match it
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	stats := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached, dups := ps.Tally()
		st := pushStats{Accepted: ps.Accepted(), Reached: reached, Duplicates: dups, Failures: len(ps.Failures())}
		checkMu.Lock()
		recs := ps.ReceivedFrom(checked)
		checked += len(recs)
		for _, rec := range recs {
			var p struct {
				Update struct {
					Text string `json:"text"`
				} `json:"update"`
			}
			if json.Unmarshal(rec.Payload, &p) != nil {
				wrongText++
				continue
			}
			decrypted++
			if decrypted == 1 {
				text = p.Update.Text
			}
			if p.Update.Text != text {
				wrongText++
			}
		}
		st.Decrypted, st.WrongText, st.Text = decrypted, wrongText, text
		checkMu.Unlock()
		_ = json.NewEncoder(w).Encode(st)
	})}
	go func() { _ = stats.Serve(ln) }()
	defer stats.Close()
	fmt.Printf("receiver http://%s/stats %s %s\n", ln.Addr(), base64.RawURLEncoding.EncodeToString(sub.P256dh()), base64.RawURLEncoding.EncodeToString(sub.Auth))
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-ctx.Done():
	case <-done:
	}
	return nil
}

// seedPush creates, with the store's own methods, an admin with a session,
// a channel, and one follower per endpoint with that device subscribed.
func seedPush(ctx context.Context, path string, r *receiverProc) (token, channelID string, err error) {
	db, err := sqlite.Open(ctx, path, herald.StoreConfig{Clock: herald.SystemClock{}, Retention: herald.DefaultRetention})
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	const hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	admin := &herald.Account{Username: "push_admin", DisplayName: "Admin"}
	if err := db.CreateAccount(ctx, admin, hash); err != nil {
		return "", "", err
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(token))
	now := time.Now().UTC()
	if err := db.CreateSession(ctx, &herald.Session{TokenHash: h[:], AccountID: admin.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		return "", "", err
	}
	ch := &herald.Channel{Name: "Bench alerts", Category: "news", Listed: true}
	if err := db.CreateChannel(ctx, admin.ID, ch); err != nil {
		return "", "", err
	}
	err = parallel(ctx, len(r.endpoints), 32, func(i int) error {
		a := &herald.Account{Username: fmt.Sprintf("push%06d", i), DisplayName: "follower"}
		if err := db.CreateAccount(ctx, a, hash); err != nil {
			return err
		}
		if _, err := db.Follow(ctx, a.ID, ch.ID); err != nil {
			return err
		}
		_, _, err := db.SavePushSubscription(ctx, a.ID, herald.PushSubscription{Endpoint: r.endpoints[i], P256DH: r.p256dh, Auth: r.auth})
		return err
	})
	return token, ch.ID, err
}
