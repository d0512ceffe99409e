package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
)

// keys, post with a key (now and --at), schedule list/publish, revoke: end
// to end against a real server.
func TestKeysAndScheduleCommands(t *testing.T) {
	s := startInProcess(t, true)
	ctx := context.Background()
	sess, err := client.New(s.URL, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(s.URL, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Station", Category: "weather", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	conn := []string{"--server", s.URL, "--channel", ch.ID}
	// run runs a command: its words, then the connection flags, then the
	// command's flags and arguments (flags before arguments).
	run := func(token string, words int, args ...string) string {
		t.Helper()
		full := append(append(append([]string{}, args[:words]...), conn...), "--token", token)
		out, err := runCLI(t, append(full, args[words:]...)...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	out := run(sess.Token, 2, "keys", "create", "--name", "station", "--scope", "post")
	secret := strings.SplitN(out, "\n", 2)[0]
	if !strings.HasPrefix(secret, "hk_") {
		t.Fatalf("keys create printed %q", out)
	}
	id := strings.TrimSpace(run(secret, 1, "post", "Ciel clair"))
	if u, err := owner.GetUpdate(ctx, ch.ID, id); err != nil || u.Text != "Ciel clair" {
		t.Fatalf("posted %q: %v", id, err)
	}
	// Same --idempotency-key twice: one update.
	a := run(secret, 1, "post", "--idempotency-key", "cron-1", "Une fois")
	b := run(secret, 1, "post", "--idempotency-key", "cron-1", "Une fois")
	if a != b {
		t.Fatalf("retry posted again: %q %q", a, b)
	}
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out = run(secret, 1, "post", "--at", at, "Plus tard")
	sid := strings.Fields(out)[0]
	if !strings.Contains(out, "scheduled for") {
		t.Fatalf("post --at printed %q", out)
	}
	var list struct {
		Scheduled []struct{ ID, Text string } `json:"scheduled"`
	}
	if err := json.Unmarshal([]byte(run(secret, 2, "schedule", "list", "--json")), &list); err != nil || len(list.Scheduled) != 1 || list.Scheduled[0].ID != sid {
		t.Fatalf("schedule list --json: %+v %v", list, err)
	}
	pid := strings.TrimSpace(run(secret, 2, "schedule", "publish", sid))
	if u, err := owner.GetUpdate(ctx, ch.ID, pid); err != nil || u.Text != "Plus tard" {
		t.Fatalf("published %q: %v", pid, err)
	}
	out = run(sess.Token, 2, "keys", "list")
	if !strings.Contains(out, "station  [post]  last used ") || strings.Contains(out, "hk_") {
		t.Fatalf("keys list printed %q", out)
	}
	keyID := strings.Fields(out)[0]
	run(sess.Token, 2, "keys", "revoke", keyID)
	if _, err := runCLI(t, append(append([]string{"post", "--token", secret}, conn...), "x")...); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("post with a revoked key: %v", err)
	}
}

// --help prints to stdout and succeeds, for every client command and
// subcommand.
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"post", "--help"}, {"updates", "-h"}, {"keys", "--help"}, {"keys", "create", "--help"},
		{"schedule", "--help"}, {"schedule", "edit", "-h"}, {"channel", "--help"}, {"channel", "create", "--help"},
		{"react", "--help"}, {"login", "-h"}, {"follow", "--help"},
	} {
		out, err := runCLI(t, args...)
		if err != nil || len(strings.TrimSpace(out)) == 0 {
			t.Errorf("%v: err %v, stdout %q", args, err, out)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// herald listen prints live events and resumes across a server restart,
// without losing or repeating one.
func TestListenAcrossRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	start := func() *serve.Server {
		cfg, err := serve.Parse([]string{"--addr", addr, "--data", dir, "--log-level", "error", "--rate-limit-exempt", "127.0.0.0/8"}, options.NoEnv, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
		cfg.PasswordParams = password.TestParams
		s, err := serve.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	ctx := context.Background()
	sess, err := client.New(s.URL, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(s.URL, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Live", Category: "news", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		a := &app{env: options.NoEnv, stdin: strings.NewReader(""), stdout: &out, stderr: io.Discard}
		done <- a.run(lctx, []string{"listen", "--server", s.URL, "--token", sess.Token})
	}()
	waitFor := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(out.String(), what) < n {
			if time.Now().After(deadline) {
				t.Fatalf("no %q (x%d) in %q", what, n, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The first post may race the stream's start: post until one is heard.
	var before []string // every post's id: none may be printed twice
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "before restart") {
		u, err := owner.PostUpdate(ctx, ch.ID, "before restart", nil)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, u.ID)
		if time.Now().After(deadline) {
			t.Fatalf("nothing heard: %q", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Close()
	s = start()
	defer s.Close()
	a, err := owner.PostUpdate(ctx, ch.ID, "after \x1b[2J restart", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(`after \u001b[2J restart`, 1)
	b, err := owner.PostUpdate(ctx, ch.ID, "second after", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor("second after", 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("listen: %v", err)
	}
	got := out.String()
	for _, id := range before {
		if n := strings.Count(got, "update.created "+ch.ID+" "+id); n > 1 {
			t.Fatalf("%s printed %d times:\n%s", id, n, got)
		}
	}
	for _, id := range []string{a.ID, b.ID} {
		if n := strings.Count(got, "update.created "+ch.ID+" "+id); n != 1 {
			t.Fatalf("%s printed %d times:\n%s", id, n, got)
		}
	}
}
