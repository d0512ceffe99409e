package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

func TestInsightsAndViewsCommands(t *testing.T) {
	s := startInProcess(t, true)
	ctx := context.Background()
	sess, err := client.New(s.URL, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := client.New(s.URL, sess.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Harbour", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := owner.PostUpdate(ctx, ch.ID, "Ferry cancelled", nil)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := client.New(s.URL, "").CreateAccount(ctx, "reader", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(s.URL, reader.Token).Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "views", "--server", s.URL, "--token", reader.Token, u.ID)
	if err != nil || strings.TrimSpace(out) != "reported 1" {
		t.Fatalf("views: %q %v", out, err)
	}
	out, err = runCLI(t, "insights", "--server", s.URL, "--token", sess.Token, "--channel", ch.ID)
	if err != nil || !strings.Contains(out, "followers 1, net follows over 30 days +1") || !strings.Contains(out, "hidden") {
		t.Fatalf("insights: %q %v", out, err)
	}
	out, err = runCLI(t, "insights", "--server", s.URL, "--token", sess.Token, "--channel", ch.ID, "--json")
	var in herald.ChannelInsights
	if err != nil || json.Unmarshal([]byte(out), &in) != nil || in.Followers != 1 || len(in.Updates) != 1 || in.Updates[0].Views != nil {
		t.Fatalf("insights --json: %q %v", out, err)
	}
	// A follower is no admin: the server says no.
	if _, err := runCLI(t, "insights", "--server", s.URL, "--token", reader.Token, "--channel", ch.ID); err == nil {
		t.Fatal("a follower read insights")
	}
	if _, err := runCLI(t, "views", "--server", s.URL, "--token", reader.Token); err == nil {
		t.Fatal("views without ids")
	}
}
