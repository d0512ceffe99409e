package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/webhook"
)

// hookReceiver is a webhook receiver: it verifies each delivery with the
// secret, then records it in arrival order.
type hookReceiver struct {
	srv   *httptest.Server
	delay time.Duration

	mu      sync.Mutex
	secrets []string // a delivery signed with any of them is accepted (one per webhook)
	ids     []string // webhook-id of each verified delivery, in arrival order
	seqs    []int64
	texts   []string
	bad     int
}

func newHookReceiver(t *testing.T, delay time.Duration) *hookReceiver {
	rc := &hookReceiver{delay: delay}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(rc.delay) // a slow receiver, so that a kill lands mid-stream
		rc.mu.Lock()
		defer rc.mu.Unlock()
		ok := false
		for _, s := range rc.secrets {
			ok = ok || webhook.Verify(s, r.Header, body, time.Now()) == nil
		}
		if !ok {
			rc.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
		rc.seqs = append(rc.seqs, p.Data.Seq)
		text := ""
		if p.Data.Update != nil {
			text = p.Data.Update.Text
		}
		rc.texts = append(rc.texts, text)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *hookReceiver) addSecret(s string) {
	rc.mu.Lock()
	rc.secrets = append(rc.secrets, s)
	rc.mu.Unlock()
}

func (rc *hookReceiver) count() int { rc.mu.Lock(); defer rc.mu.Unlock(); return len(rc.ids) }

// distinct returns how many different deliveries arrived, failing the test
// if seqs ever went back other than by repeating the last delivery (a
// redelivery after a crash) or if any failed verification.
func (rc *hookReceiver) check(t *testing.T) (distinct, dups int) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.bad > 0 {
		t.Fatalf("%d deliveries failed verification", rc.bad)
	}
	seen := map[string]bool{}
	last := int64(0)
	for i, id := range rc.ids {
		if seen[id] {
			dups++
			if rc.seqs[i] > last {
				t.Fatalf("delivery %s seen before but after seq %d", id, last)
			}
			continue
		}
		seen[id] = true
		if rc.seqs[i] <= last {
			t.Fatalf("seq %d arrived after %d: out of order", rc.seqs[i], last)
		}
		last = rc.seqs[i]
	}
	return len(seen), dups
}

// webhookFlags let a server binary post to rc (its certificate in a file).
func webhookFlags(t *testing.T, rc *hookReceiver) []string {
	t.Helper()
	pemFile := filepath.Join(t.TempDir(), "hook-ca.pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--webhook-allow-hosts", "127.0.0.1", "--webhook-ca-roots", pemFile, "--rate-limit-exempt", "127.0.0.0/8"}
}

// The CLI end to end: add (the secret printed once verifies deliveries),
// list, log, delete.
func TestWebhooksCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	rc := newHookReceiver(t, 0)
	p := startServer(t, t.TempDir(), webhookFlags(t, rc)...)
	ctx := context.Background()
	sess, err := client.New(p.url, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(p.url, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Station", Category: "weather"})
	if err != nil {
		t.Fatal(err)
	}
	out := p.cli(t, sess.Token, "", "webhooks", "add", "--channel", ch.ID, "--url", rc.srv.URL+"/hook", "--event", "update.created")
	secret := strings.SplitN(out, "\n", 2)[0]
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("webhooks add printed %q", out)
	}
	rc.addSecret(secret)
	hooks, err := owner.ListWebhooks(ctx, ch.ID)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("ListWebhooks = %v, %v", hooks, err)
	}
	id := hooks[0].ID
	if _, err := owner.PostUpdate(ctx, ch.ID, "Ciel clair", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delivery", func() bool { return rc.count() == 1 })
	if n, _ := rc.check(t); n != 1 || rc.texts[0] != "Ciel clair" {
		t.Fatalf("received %v", rc.texts)
	}
	out = p.cli(t, sess.Token, "", "webhooks", "list", "--channel", ch.ID)
	if !strings.Contains(out, id) || !strings.Contains(out, "[update.created]") || !strings.Contains(out, "enabled") || strings.Contains(out, "whsec_") {
		t.Fatalf("webhooks list printed %q", out)
	}
	eventually(t, "the log entry", func() bool {
		return strings.Contains(p.cli(t, sess.Token, "", "webhooks", "log", "--channel", ch.ID, id), "update.created")
	})
	out = p.cli(t, sess.Token, "", "webhooks", "log", "--channel", ch.ID, "--json", id)
	var log struct {
		Deliveries []herald.WebhookDelivery `json:"deliveries"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || len(log.Deliveries) != 1 || log.Deliveries[0].Status != 204 {
		t.Fatalf("webhooks log --json printed %q (%v)", out, err)
	}
	p.cli(t, sess.Token, "", "webhooks", "delete", "--channel", ch.ID, id)
	if hooks, err := owner.ListWebhooks(ctx, ch.ID); err != nil || len(hooks) != 0 {
		t.Fatalf("after delete: %v, %v", hooks, err)
	}
	for _, args := range [][]string{{"webhooks", "--help"}, {"webhooks", "add", "--help"}} {
		if out := p.cli(t, "", "", args...); !strings.Contains(out, "webhooks") {
			t.Fatalf("%v printed %q", args, out)
		}
	}
}

// postAll posts n updates, round robin over nodes, and returns their ids.
func postAll(t *testing.T, token, channelID string, n int, nodes ...*proc) []string {
	t.Helper()
	var ids []string
	for i := range n {
		u, err := client.New(nodes[i%len(nodes)].url, token).PostUpdate(context.Background(), channelID, fmt.Sprintf("update %d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

// A server killed with SIGKILL while delivering resumes after a restart:
// every event is delivered, in order; at most the delivery in flight at
// the kill arrives twice (same webhook-id, for the receiver to drop).
func TestWebhookSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const n = 40
	rc := newHookReceiver(t, 20*time.Millisecond)
	dir := t.TempDir()
	// Short holds, so the restarted node takes the webhook over soon.
	leases := []string{"--webhook-timeout", "2s", "--webhook-lease", "3s"}
	p := startServer(t, dir, append(webhookFlags(t, rc), leases...)...)
	ctx := context.Background()
	sess, err := client.New(p.url, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(p.url, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Alerts", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := owner.CreateWebhook(ctx, ch.ID, rc.srv.URL+"/hook", herald.EventUpdateCreated)
	if err != nil {
		t.Fatal(err)
	}
	rc.addSecret(hook.Secret)
	postAll(t, sess.Token, ch.ID, n, p)
	eventually(t, "5 deliveries", func() bool { return rc.count() >= 5 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	before := rc.count()
	if before >= n {
		t.Fatalf("all %d delivered before the kill: the test proves nothing", before)
	}
	startServer(t, dir, append(webhookFlags(t, rc), leases...)...)
	// The dead process's lease (--webhook-lease) must end first.
	deadline := time.Now().Add(90 * time.Second)
	for {
		if d, _ := rc.check(t); d == n {
			break
		}
		if time.Now().After(deadline) {
			d, _ := rc.check(t)
			t.Fatalf("%d of %d delivered", d, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, dups := rc.check(t)
	t.Logf("%d deliveries before the kill, %d duplicates after the restart", before, dups)
	if dups > 1 {
		t.Fatalf("%d duplicates: more than the delivery in flight was sent again", dups)
	}
}

// Two nodes on PostgreSQL + NATS, posts on both: each event is delivered
// exactly once, in order (one node holds the webhook at a time).
func TestWebhookTwoNodesExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pg := pgSchema(t)
	nu := embeddedNATS(t)
	const n = 30
	rc := newHookReceiver(t, 0)
	flags := append([]string{"--postgres", pg, "--nats", nu}, webhookFlags(t, rc)...)
	a := startServer(t, t.TempDir(), flags...)
	b := startServer(t, t.TempDir(), flags...)
	ctx := context.Background()
	sess, err := client.New(a.url, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(a.url, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Alerts", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	// Two webhooks to the same receiver: both nodes have work at once.
	for range 2 {
		hook, err := owner.CreateWebhook(ctx, ch.ID, rc.srv.URL+"/hook", herald.EventUpdateCreated)
		if err != nil {
			t.Fatal(err)
		}
		rc.addSecret(hook.Secret)
	}
	postAll(t, sess.Token, ch.ID, n, a, b)
	eventually(t, "every delivery", func() bool { return rc.count() >= 2*n })
	rc.mu.Lock()
	perHook := map[string][]int64{}
	seen := map[string]int{}
	for i, id := range rc.ids {
		seen[id]++
		hookID := strings.Split(strings.TrimPrefix(id, "msg_"), "_")[0]
		perHook[hookID] = append(perHook[hookID], rc.seqs[i])
	}
	bad := rc.bad
	rc.mu.Unlock()
	if bad > 0 {
		t.Fatalf("%d deliveries failed verification", bad)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("%s delivered %d times, want exactly once", id, c)
		}
	}
	if len(seen) != 2*n || len(perHook) != 2 {
		t.Fatalf("%d deliveries over %d webhooks, want %d over 2", len(seen), len(perHook), 2*n)
	}
	for hookID, seqs := range perHook {
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Fatalf("webhook %s: seq %d after %d", hookID, seqs[i], seqs[i-1])
			}
		}
	}
}
