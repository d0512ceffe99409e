package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/postgres"
	"github.com/heraldhq/herald/push/pushtest"
	"github.com/heraldhq/herald/sqlite"
)

// seedPushChannel creates in store an owner with a session (its token is
// returned), a channel, and n followers with one device each on ps, all
// encrypting to one key pair; it returns the devices' ids on ps.
func seedPushChannel(t *testing.T, store herald.Store, ps *pushtest.Server, n int) (token, channelID string, devices []string) {
	t.Helper()
	ctx := context.Background()
	const hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	owner := &herald.Account{Username: "owner", DisplayName: "Owner"}
	if err := store.CreateAccount(ctx, owner, hash); err != nil {
		t.Fatal(err)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(token))
	now := time.Now().UTC()
	if err := store.CreateSession(ctx, &herald.Session{TokenHash: h[:], AccountID: owner.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Channel{Name: "Durable alerts", Category: "news", Listed: true}
	if err := store.CreateChannel(ctx, owner.ID, ch); err != nil {
		t.Fatal(err)
	}
	sub := pushtest.NewSubscriber()
	devices = make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		endpoint := ps.SubscribeAs(sub)
		devices[i] = endpoint[strings.LastIndexByte(endpoint, '/')+1:]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			a := &herald.Account{Username: fmt.Sprintf("f%05d", i), DisplayName: "follower"}
			err := store.CreateAccount(ctx, a, hash)
			if err == nil {
				_, err = store.Follow(ctx, a.ID, ch.ID)
			}
			if err == nil {
				_, _, err = store.SavePushSubscription(ctx, a.ID, herald.PushSubscription{Endpoint: endpoint, P256DH: sub.P256dh(), Auth: sub.Auth})
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return token, ch.ID, devices
}

// pushFlags lets a server binary post to ps (its certificate in a file).
func pushFlags(t *testing.T, ps *pushtest.Server, concurrency int) []string {
	t.Helper()
	pemFile := filepath.Join(t.TempDir(), "push-ca.pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ps.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--push-allow-hosts", "127.0.0.1", "--push-ca-roots", pemFile, "--push-concurrency", fmt.Sprint(concurrency),
		"--rate-limit-exempt", "127.0.0.0/8"}
}

// perDevice counts the decrypted pushes of each update per device.
func perDevice(t *testing.T, ps *pushtest.Server) map[[2]string]int {
	t.Helper()
	out := map[[2]string]int{}
	for _, r := range ps.Received() {
		var p pushPayload
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			t.Fatalf("payload %q: %v", r.Payload, err)
		}
		out[[2]string{r.ID, p.Update.ID}]++
	}
	return out
}

// metricSum reads a counter-like sample from a node's /metrics.
func metricSum(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sum := 0.0
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			sum += f
		}
	}
	return sum
}

// A server killed with SIGKILL in the middle of a push job to 2,000 devices
// resumes it after a restart (once the dead node's lease ends): every
// device gets the update (at least once).
func TestPushJobSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const n = 800 // two pages of 500
	ps := pushtest.NewServer(nil)
	t.Cleanup(ps.Close)
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "herald.db"), herald.StoreConfig{Clock: herald.SystemClock{}, Retention: herald.DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	token, channelID, devices := seedPushChannel(t, db, ps, n)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// One push at a time, so the kill lands mid-job.
	p := startServer(t, dir, append(pushFlags(t, ps, 1), "--push-lease", "2s")...)
	u, err := client.New(p.url, token).PostUpdate(context.Background(), channelID, "Evacuate the lower town", nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "120 pushes", func() bool { return ps.Accepted() >= 120 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	before := ps.Accepted()
	if before >= n {
		t.Fatalf("the job finished (%d pushes) before the kill: the test proves nothing", before)
	}

	// The dead process's hold on the job (--push-lease) must end first.
	p2 := startServer(t, dir, append(pushFlags(t, ps, 64), "--push-lease", "2s")...)
	eventually(t, "every device", func() bool { r, _ := ps.Tally(); return r == n })
	eventually(t, "the job's end", func() bool { return metricSum(t, p2.url, "herald_push_job_lag_seconds_count") == 1 })
	got := perDevice(t, ps)
	for _, d := range devices {
		if got[[2]string{d, u.ID}] == 0 {
			t.Fatalf("device %s got nothing", d)
		}
	}
	_, dups := ps.Tally()
	t.Logf("%d pushes before the kill, %d after; %d devices got the update twice (at-least-once)", before, ps.Accepted()-before, dups)
	if dups > 500 { // at most the page in flight when killed is sent again
		t.Fatalf("%d duplicates: more than one page was sent again", dups)
	}
	if f := ps.Failures(); len(f) > 0 {
		t.Fatalf("refused: %q", f[:min(len(f), 5)])
	}
}

// Two nodes on PostgreSQL + NATS: each post's job is walked by one node
// (FOR UPDATE SKIP LOCKED claims), so each device gets exactly one push
// per post, whichever node it was posted on.
func TestPushTwoNodesExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pg := pgSchema(t)
	nu := embeddedNATS(t)
	const n, posts = 300, 4
	ps := pushtest.NewServer(nil)
	t.Cleanup(ps.Close)
	db, err := postgres.Open(context.Background(), pg, herald.StoreConfig{Clock: herald.SystemClock{}, Retention: herald.DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	token, channelID, devices := seedPushChannel(t, db, ps, n)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	flags := append([]string{"--postgres", pg, "--nats", nu}, pushFlags(t, ps, 32)...)
	a := startServer(t, t.TempDir(), flags...)
	b := startServer(t, t.TempDir(), flags...)
	var ids []string
	for i := range posts {
		node := a
		if i%2 == 1 {
			node = b
		}
		u, err := client.New(node.url, token).PostUpdate(context.Background(), channelID, fmt.Sprintf("post %d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	eventually(t, "every job's end", func() bool {
		return metricSum(t, a.url, "herald_push_job_lag_seconds_count")+metricSum(t, b.url, "herald_push_job_lag_seconds_count") == posts
	})
	got := perDevice(t, ps)
	for _, d := range devices {
		for _, id := range ids {
			if c := got[[2]string{d, id}]; c != 1 {
				t.Fatalf("device %s got update %s %d times, want exactly once", d, id, c)
			}
		}
	}
	if len(ps.Received()) != n*posts {
		t.Fatalf("%d pushes, want %d", len(ps.Received()), n*posts)
	}
	t.Logf("jobs finished: node a %v, node b %v", metricSum(t, a.url, "herald_push_job_lag_seconds_count"), metricSum(t, b.url, "herald_push_job_lag_seconds_count"))
	if f := ps.Failures(); len(f) > 0 {
		t.Fatalf("refused: %q", f[:min(len(f), 5)])
	}
}
