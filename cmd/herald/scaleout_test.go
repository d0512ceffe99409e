package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/cmd/internal/options"
	"github.com/heraldhq/herald/cmd/internal/serve"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/realtime/stream"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Either switch alone is refused before anything starts, with a message
// that says what is missing; flags and environment alike.
func TestScaleoutNeedsBoth(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  options.Env
		want string
	}{
		{args: []string{"--postgres", "postgres://db.example/herald"}, want: "--postgres needs --nats"},
		{args: []string{"--nats", "nats://bus.example:4222"}, want: "--nats needs --postgres"},
		{env: env("HERALD_POSTGRES", "postgres://db.example/herald"), want: "--postgres needs --nats"},
		{env: env("HERALD_NATS", "nats://bus.example:4222"), want: "--nats needs --postgres"},
		{args: []string{"--postgres", "postgres://db.example/herald", "--nats", "nats://bus.example:4222", "--nats-head-check", "soon"}, want: "--nats-head-check"},
	} {
		_, err := serve.Parse(append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, tc.args...), tc.env, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to say %q", tc.args, err, tc.want)
		}
	}
}

// pgSchema gives a test its own schema on the test PostgreSQL.
func pgSchema(t *testing.T) string { return pgtest.FreshSchema(t, "herald_serve_") }

// embeddedNATS runs a NATS server in the test process.
func embeddedNATS(t *testing.T) string {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS did not start")
	}
	t.Cleanup(s.Shutdown)
	return "nats://127.0.0.1:" + strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
}

// Two `herald serve --postgres --nats` processes: a post on one reaches a
// follower streaming from the other; a node killed with kill -9 right after
// acknowledging a post has lost nothing (the post is stored and delivered);
// the killed node restarts and rejoins; a follower whose node is killed
// resumes on the other from its cursor with nothing lost and nothing twice;
// the background count flush runs on the cluster.
func TestScaleoutKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pg := pgSchema(t)
	nu := embeddedNATS(t)
	flags := []string{"--postgres", pg, "--nats", nu, "--rate-limit-exempt", "127.0.0.0/8"}
	a := startServer(t, t.TempDir(), flags...)
	b := startServer(t, t.TempDir(), flags...)
	ctx := context.Background()

	as, err := client.New(a.url, "").CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := client.New(b.url, "").CreateAccount(ctx, "follower", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := client.New(a.url, as.Token).CreateChannel(ctx, client.ChannelInput{Name: "Durable", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(b.url, fs.Token).Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	s := openStream(t, b.url, fs.Token, nil)
	postOn := func(base, text string) *herald.Update {
		t.Helper()
		u, err := client.New(base, as.Token).PostUpdate(ctx, ch.ID, text, nil)
		if err != nil {
			t.Fatalf("post %q on %s: %v", text, base, err)
		}
		return u
	}
	expect := func(s *stream.Conn, want ...string) {
		t.Helper()
		s.SetReadDeadline(time.Now().Add(15 * time.Second))
		var got []string
		for len(got) < len(want) {
			e, err := s.Next()
			if err != nil {
				t.Fatalf("got %q, then %v; want %q", got, err, want)
			}
			if e.Type == stream.TypeCursor {
				continue
			}
			g := e.Type
			if e.Update != nil {
				g += ":" + e.Update.Text
			}
			if e.Counts != nil {
				g += fmt.Sprintf(":%v", e.Counts.Reactions)
			}
			got = append(got, g)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	u1 := postOn(a.url, "one")
	expect(s, "update.created:one")
	// The bus's state and the node's refills are on /metrics.
	resp, err := http.Get(b.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"herald_nats_connected 1", "herald_nats_streams 2", "herald_realtime_refills_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// kill -9 node A right after it acknowledged a post.
	postOn(a.url, "two")
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	expect(s, "update.created:two")
	us, err := client.New(b.url, fs.Token).ListUpdates(ctx, ch.ID, client.ListOptions{})
	if err != nil || len(us) != 2 || us[0].Text != "two" {
		t.Fatalf("after kill -9 node B lists %d updates (%v)", len(us), err)
	}

	// A restarts and rejoins: its posts reach B's follower again.
	a = startServer(t, t.TempDir(), flags...)
	postOn(a.url, "three")
	expect(s, "update.created:three")

	// A reaction on B is counted, and the count flushed by the nodes'
	// background loop reaches the stream once.
	if _, err := client.New(b.url, fs.Token).React(ctx, ch.ID, u1.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	expect(s, "update.reactions:map[👍:1]")

	// kill -9 node B under its follower, post while they are away, resume on A.
	cur := s.Cursor()
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-b.done
	s.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		e, err := s.Next()
		if err != nil {
			break
		}
		if e.Type != stream.TypeCursor {
			t.Fatalf("event after the last one: %+v", e.Event)
		}
	}
	postOn(a.url, "four")
	s2 := openStream(t, a.url, fs.Token, cur)
	postOn(a.url, "five")
	expect(s2, "update.created:four", "update.created:five")
	postOn(a.url, "six")
	expect(s2, "update.created:six")
}

func openStream(t *testing.T, base, token string, since herald.Cursor) *stream.Conn {
	t.Helper()
	s, err := stream.Dial(context.Background(), base, "ws", stream.Options{Token: token, Since: since})
	if err != nil {
		t.Fatalf("stream on %s: %v", base, err)
	}
	t.Cleanup(func() { s.Close() })
	s.SetReadDeadline(time.Now().Add(15 * time.Second))
	if e, err := s.Next(); err != nil || e.Type != stream.TypeCursor {
		t.Fatalf("first message: %+v, %v", e, err)
	}
	return s
}
