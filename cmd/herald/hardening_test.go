package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/realtime/stream"
)

// startWith runs the server in-process with cfg changed by edit.
func startWith(t *testing.T, edit func(*serve.Config)) *serve.Server {
	t.Helper()
	cfg := serve.Defaults()
	cfg.Addr, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), slog.LevelError
	cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
	cfg.PasswordParams = password.TestParams
	edit(&cfg)
	s, err := serve.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// holdBody opens a connection that sends a request's headers announcing a
// body, and never sends the body.
func holdBody(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := "POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"user"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitClosed reads c until the server closes it, failing after limit.
func waitClosed(c net.Conn, limit time.Duration) error {
	c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("still open")
	}
	return nil // EOF or reset: closed
}

// Held connections: 300 sockets that announce a body and never send it
// don't stop the server answering others, and each is closed once the read
// timeout has passed.
func TestHeldConnections(t *testing.T) {
	const readTimeout = time.Second
	s := startWith(t, func(c *serve.Config) {
		c.ReadTimeout = readTimeout
		c.ReadHeaderTimeout = readTimeout
	})
	addr := strings.TrimPrefix(s.URL, "http://")
	held := make([]net.Conn, 300)
	for i := range held {
		held[i] = holdBody(t, addr)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.New(s.URL, "").Healthz(ctx); err != nil {
		t.Fatalf("healthz beside 300 held sockets: %v", err)
	}
	if _, err := client.New(s.URL, "").CreateAccount(ctx, "alice", "a long enough password", ""); err != nil {
		t.Fatalf("sign up beside 300 held sockets: %v", err)
	}
	t.Logf("answered in %s beside 300 held sockets", time.Since(start))

	// Each held socket is closed after the read timeout (generous bound:
	// -race on two shared cores).
	var wg sync.WaitGroup
	errs := make(chan error, len(held))
	for _, c := range held {
		wg.Go(func() {
			if err := waitClosed(c, 20*readTimeout); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if n := len(errs); n > 0 {
		t.Fatalf("%d of %d held sockets still open after %s", n, len(held), 20*readTimeout)
	}
}

// A client address gets at most --max-conns-per-addr connections at once;
// one more is closed unanswered, and a slot frees when a connection ends.
func TestConnectionsPerAddress(t *testing.T) {
	const limit = 5
	s := startWith(t, func(c *serve.Config) { c.MaxConnsPerAddr = limit })
	addr := strings.TrimPrefix(s.URL, "http://")
	var open []net.Conn
	for range limit {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	get := func() error {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	if err := get(); err == nil {
		t.Fatalf("connection %d from one address was served", limit+1)
	}
	// The idle ones were served as usual.
	if _, err := io.WriteString(open[0], "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(open[0]), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a connection within the limit: %v", err)
	}
	resp.Body.Close()
	// Its close (Connection: close) frees a slot: a new connection is
	// served once the server has noticed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := get()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot freed: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}

	// Exempt networks (here loopback) are not counted.
	s2 := startWith(t, func(c *serve.Config) {
		c.MaxConnsPerAddr = 1
		c.RateLimitExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	for range 3 {
		c, err := net.Dial("tcp", strings.TrimPrefix(s2.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if err := client.New(s2.URL, "").Healthz(context.Background()); err != nil {
		t.Fatalf("exempt address refused: %v", err)
	}
}

// Streams keep their own deadlines: an SSE or WebSocket stream still
// delivers after the read timeout that closes a held request has passed.
func TestStreamsOutliveReadTimeout(t *testing.T) {
	const readTimeout = 500 * time.Millisecond
	s := startWith(t, func(c *serve.Config) {
		c.ReadTimeout = readTimeout
		c.ReadHeaderTimeout = readTimeout
		c.IdleTimeout = readTimeout
	})
	ctx := context.Background()
	anon := client.New(s.URL, "")
	owner, err := anon.CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	fan, err := anon.CreateAccount(ctx, "fan", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := anon.WithToken(owner.Token).CreateChannel(ctx, client.ChannelInput{Name: "News", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.WithToken(fan.Token).Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(s.URL, "http://")
	for _, transport := range []string{"ws", "sse"} {
		st, err := stream.Dial(ctx, s.URL, transport, stream.Options{Token: fan.Token})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		st.SetReadDeadline(time.Now().Add(15 * time.Second))
		if e, err := st.Next(); err != nil || e.Type != stream.TypeCursor {
			t.Fatalf("%s: first message %+v %v", transport, e, err)
		}
		// A request started after the stream is closed by the read
		// timeout: by then the stream's request deadline has passed too.
		if err := waitClosed(holdBody(t, addr), 30*readTimeout); err != nil {
			t.Fatalf("held request: %v", err)
		}
		if transport == "ws" {
			// The server reads the client's frames: a ping is answered.
			if err := st.Ping(); err != nil {
				t.Fatal(err)
			}
		}
		text := "still here over " + transport
		if _, err := anon.WithToken(owner.Token).PostUpdate(ctx, ch.ID, text, nil); err != nil {
			t.Fatal(err)
		}
		for {
			e, err := st.Next()
			if err != nil {
				t.Fatalf("%s: stream ended after the read timeout: %v", transport, err)
			}
			if e.Update != nil && e.Update.Text == text {
				break
			}
		}
	}
}
