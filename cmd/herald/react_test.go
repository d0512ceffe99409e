package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
)

// startInProcess runs `herald serve` in this process on a temp data
// directory (cheap password hashing, log level warn), closed when t ends.
// exemptLoopback lifts the rate limits for loopback clients.
func startInProcess(t *testing.T, exemptLoopback bool) *serve.Server {
	t.Helper()
	cfg := serve.Defaults()
	cfg.Addr, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), slog.LevelWarn
	cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
	cfg.PasswordParams = password.TestParams
	if exemptLoopback {
		cfg.RateLimitExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	s, err := serve.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runCLI runs a herald command and returns what it printed; the
// environment is empty.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	a := &app{env: options.NoEnv, stdin: strings.NewReader(""), stdout: &out, stderr: io.Discard}
	err := a.run(context.Background(), args)
	return out.String(), err
}

func TestReactAndVoteCommands(t *testing.T) {
	ctx := context.Background()
	url := startInProcess(t, true).URL
	anon := client.New(url, "")
	owner, err := anon.CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	oc := anon.WithToken(owner.Token)
	ch, err := oc.CreateChannel(ctx, client.ChannelInput{Name: "Town", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := oc.PostUpdate(ctx, ch.ID, "Fair on Sunday", &client.PollInput{Question: "Coming?", Options: []string{"Yes", "No", "Maybe"}, Multiple: true})
	if err != nil {
		t.Fatal(err)
	}
	fol, err := anon.CreateAccount(ctx, "follower", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	fc := anon.WithToken(fol.Token)
	if _, err := fc.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	conn := []string{"--server", url, "--token", fol.Token, "--channel", ch.ID, "--update", u.ID}
	cmd := func(name string, rest ...string) []string {
		return append(append([]string{name}, conn...), rest...)
	}

	out, err := runCLI(t, cmd("react", "👍")...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "👍 1 (yours: 👍)" {
		t.Fatalf("react printed %q", out)
	}
	// "❤" is stored as "❤️" and replaces the earlier reaction.
	if out, err = runCLI(t, cmd("react", "❤")...); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "❤️ 1 (yours: ❤️)" {
		t.Fatalf("react printed %q", out)
	}
	got, err := oc.GetUpdate(ctx, ch.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Reactions) != 1 || got.Reactions["❤️"] != 1 {
		t.Fatalf("reactions after CLI: %v", got.Reactions)
	}

	if out, err = runCLI(t, cmd("vote", "0", "2")...); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Coming? (1 voters)", "* 0. Yes: 1", "  1. No: 0", "* 2. Maybe: 1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("vote printed %q, missing %q", out, want)
		}
	}
	if got, err = fc.GetUpdate(ctx, ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Viewer.Votes, []int{0, 2}) || got.Poll.Voters != 1 {
		t.Fatalf("after CLI vote: votes %v voters %d", got.Viewer.Votes, got.Poll.Voters)
	}

	// --json prints the update, as the API answered it.
	if out, err = runCLI(t, cmd("vote", "--json", "1")...); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"voters":1`) || !strings.Contains(out, `"id":"`+u.ID+`"`) {
		t.Fatalf("vote --json printed %q", out)
	}

	// Withdrawing.
	if out, err = runCLI(t, cmd("react", "--remove")...); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "no reactions" {
		t.Fatalf("react --remove printed %q", out)
	}
	if out, err = runCLI(t, cmd("vote", "--retract")...); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "(0 voters)") {
		t.Fatalf("vote --retract printed %q", out)
	}

	// Bad input: the server's problem, or a usage error before any request.
	_, err = runCLI(t, cmd("react", "abc")...)
	if client.KindOf(err) != "invalid-emoji" {
		t.Fatalf("react abc: %v", err)
	}
	_, err = runCLI(t, cmd("vote", "7")...)
	if client.KindOf(err) != "invalid-vote" {
		t.Fatalf("vote 7: %v", err)
	}
	for _, args := range [][]string{
		cmd("react"),
		cmd("react", "👍", "👍"),
		cmd("react", "--remove", "👍"),
		{"react", "--server", url, "--token", fol.Token, "👍"},
		cmd("vote"),
		cmd("vote", "first"),
		cmd("vote", "--retract", "1"),
		{"vote", "--server", url, "--channel", ch.ID, "--update", u.ID, "1"}, // no token
	} {
		if _, err := runCLI(t, args...); err == nil || client.KindOf(err) != "" {
			t.Fatalf("%v: err = %v, want a usage error", args, err)
		}
	}
}
