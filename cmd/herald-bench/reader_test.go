package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
)

// The benchmark readers against a real server: every follower's stream
// delivers each update once, through this platform's reader (epoll loops on
// Linux) and through realtime/stream's, on both transports.
func TestFollowerReaders(t *testing.T) {
	ctx := context.Background()
	cfg := serve.Defaults()
	cfg.Addr, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), slog.LevelError
	cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
	cfg.PasswordParams = password.TestParams
	cfg.RateLimitExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	s, err := serve.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	anon := client.New(s.URL, "")
	owner, err := anon.CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := anon.WithToken(owner.Token).CreateChannel(ctx, client.ChannelInput{Name: "News", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	var tokens []string
	for i := range n {
		a, err := anon.CreateAccount(ctx, fmt.Sprintf("fan%d", i), "a long enough password", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := anon.WithToken(a.Token).Follow(ctx, ch.ID); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, a.Token)
	}
	type reader struct {
		dial func(transport, token string, i int) (closer, error)
		read func(fs []closer, onEvent func(int, []byte, int64), stop <-chan struct{}) (func(), error)
	}
	readers := map[string]reader{
		"platform": {
			dial: func(tr, tok string, i int) (closer, error) { return dialFollower(ctx, s.URL, tr, tok, i) },
			read: func(fs []closer, on func(int, []byte, int64), stop <-chan struct{}) (func(), error) {
				var ss []*follower
				for _, f := range fs {
					ss = append(ss, f.(*follower))
				}
				return readFollowers(ss, 2, time.Millisecond, on, stop)
			},
		},
		"stream": {
			dial: func(tr, tok string, i int) (closer, error) { return dialStreamFollower(ctx, s.URL, tr, tok, i) },
			read: func(fs []closer, on func(int, []byte, int64), stop <-chan struct{}) (func(), error) {
				var ss []*streamFollower
				for _, f := range fs {
					ss = append(ss, f.(*streamFollower))
				}
				return readStreamFollowers(ss, on, stop)
			},
		},
	}
	k := 0
	for name, r := range readers {
		for _, transport := range []string{"ws", "sse"} {
			var fs []closer
			for i, tok := range tokens {
				f, err := r.dial(transport, tok, i)
				if err != nil {
					t.Fatalf("%s %s: dial: %v", name, transport, err)
				}
				fs = append(fs, f)
			}
			var mu sync.Mutex
			got := map[int]int{}
			all := make(chan struct{})
			text := fmt.Sprintf("#%06d update %d", k, k)
			stop := make(chan struct{})
			wait, err := r.read(fs, func(i int, data []byte, _ int64) {
				if !bytes.Contains(data, []byte(text)) {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if got[i]++; len(got) == n && got[i] == 1 {
					close(all)
				}
			}, stop)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := anon.WithToken(owner.Token).PostUpdate(ctx, ch.ID, text, nil); err != nil {
				t.Fatal(err)
			}
			select {
			case <-all:
			case <-time.After(20 * time.Second):
				t.Fatalf("%s %s: deliveries %v", name, transport, got)
			}
			close(stop)
			wait()
			for _, f := range fs {
				f.close()
			}
			mu.Lock()
			for i, c := range got {
				if c != 1 {
					t.Errorf("%s %s: follower %d got the update %d times", name, transport, i, c)
				}
			}
			mu.Unlock()
			k++
		}
	}
}

type closer interface{ close() }
