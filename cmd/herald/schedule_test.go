package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
)

// startClocked runs `herald serve` in this process with a fake clock.
func startClocked(t *testing.T, clock herald.Clock, args ...string) *serve.Server {
	t.Helper()
	cfg, err := serve.Parse(append([]string{"--addr", "127.0.0.1:0", "--log-level", "error", "--rate-limit-exempt", "127.0.0.0/8"}, args...), options.NoEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stdout, cfg.Stderr, cfg.LogLevel = io.Discard, io.Discard, slog.LevelError
	cfg.PasswordParams = password.TestParams
	cfg.Clock = clock
	s, err := serve.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// schedule posts n updates for publishAt.
func schedule(t *testing.T, owner *client.Client, channelID string, n int, publishAt time.Time) {
	t.Helper()
	for i := 0; i < n; i++ {
		var out herald.ScheduledUpdate
		body := map[string]any{"text": "scheduled", "publish_at": publishAt.Format(time.RFC3339Nano)}
		if err := owner.Do(context.Background(), http.MethodPost, "/api/v1/channels/"+channelID+"/updates", body, &out); err != nil {
			t.Fatal(err)
		}
		if out.ID == "" || !out.PublishAt.Equal(publishAt) {
			t.Fatalf("scheduled = %+v", out)
		}
	}
}

// waitUpdates polls until the channel has want updates (failing past a
// generous deadline), then checks there are no more.
func waitUpdates(t *testing.T, c *client.Client, channelID string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		us, err := c.ListUpdates(context.Background(), channelID, client.ListOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(us) > want {
			t.Fatalf("%d updates, want %d", len(us), want)
		}
		if len(us) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d updates after 20 s, want %d", len(us), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The scheduler publishes on time by the server's clock, and a scheduled
// update outlives a restart.
func TestScheduledAcrossRestart(t *testing.T) {
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	s := startClocked(t, clock, "--data", dir)
	ctx := context.Background()
	sess, err := client.New(s.URL, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(s.URL, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Météo", Category: "weather", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	at := clock.Now().Add(time.Hour)
	schedule(t, owner, ch.ID, 3, at)
	s.Close()

	s = startClocked(t, clock, "--data", dir)
	t.Cleanup(func() { s.Close() })
	owner = client.New(s.URL, sess.Token)
	clock.Advance(59 * time.Minute)
	var list struct {
		Scheduled []herald.ScheduledUpdate `json:"scheduled"`
	}
	if err := owner.Do(ctx, "GET", "/api/v1/channels/"+ch.ID+"/scheduled", nil, &list); err != nil || len(list.Scheduled) != 3 {
		t.Fatalf("scheduled after restart: %d, %v", len(list.Scheduled), err)
	}
	if us, _ := owner.ListUpdates(ctx, ch.ID, client.ListOptions{}); len(us) != 0 {
		t.Fatalf("published early: %d", len(us))
	}
	clock.Advance(time.Minute)
	waitUpdates(t, owner, ch.ID, 3)
	us, _ := owner.ListUpdates(ctx, ch.ID, client.ListOptions{})
	if !us[0].CreatedAt.Equal(at) || !strings.Contains(us[0].Text, "scheduled") {
		t.Fatalf("published = %+v", us[0])
	}
}

// Two nodes on one PostgreSQL publish each scheduled update exactly once.
func TestScheduledTwoNodesOnce(t *testing.T) {
	pg := pgSchema(t)
	nu := embeddedNATS(t)
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var nodes []*serve.Server
	for i := 0; i < 2; i++ {
		n := startClocked(t, clock, "--data", t.TempDir(), "--postgres", pg, "--nats", nu)
		t.Cleanup(func() { n.Close() })
		nodes = append(nodes, n)
	}
	ctx := context.Background()
	sess, err := client.New(nodes[0].URL, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(nodes[0].URL, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Trafic", Category: "news", Country: "FR", Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	schedule(t, owner, ch.ID, n, clock.Now().Add(time.Minute))
	clock.Advance(time.Minute)
	waitUpdates(t, client.New(nodes[1].URL, sess.Token), ch.ID, n)
}
