package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
)

// TestServeFetchesLinkPreviews: herald serve's own loop fetches a posted
// link's card (allowed to reach the loopback test site by
// --preview-allow-hosts) within seconds of the post, which answered at once.
func TestServeFetchesLinkPreviews(t *testing.T) {
	ctx := context.Background()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><title>Market day</title><meta name="description" content="Saturday, 8-13h."></head></html>`)
	}))
	defer site.Close()
	cfg := serve.Defaults()
	cfg.Addr, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), slog.LevelWarn
	cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
	cfg.PasswordParams = password.TestParams
	cfg.PreviewAllowHosts = []string{"127.0.0.1"}
	if !cfg.LinkPreviews {
		t.Fatal("link previews are off by default")
	}
	s, err := serve.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	anon := client.New(s.URL, "")
	owner, err := anon.CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	oc := anon.WithToken(owner.Token)
	ch, err := oc.CreateChannel(ctx, client.ChannelInput{Name: "Town", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := oc.PostUpdate(ctx, ch.ID, "Market: "+site.URL+"/market", nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := anon.GetUpdate(ctx, ch.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p := got.LinkPreview; p != nil {
			if p.Title != "Market day" || p.Description != "Saturday, 8-13h." || !strings.HasSuffix(p.URL, "/market") {
				t.Fatalf("preview = %+v", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no preview 20 s after posting")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
