package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
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
