package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/sqlite/sqlitetest"
)

// env is one Herald API server on a real SQLite store in a temp dir.
type env struct {
	t     testing.TB
	ts    *httptest.Server
	srv   *hhttp.Server
	db    *sqlite.DB
	clock *herald.FakeClock
	anon  *client.Client
	path  string // the database file
	dir   string // the store's data directory
	pub   *forwarder
}

// forwarder is the store's event publisher, forwarding to a stream server
// set after the store is open (withHub).
type forwarder struct {
	mu sync.Mutex
	to herald.EventPublisher
}

func (f *forwarder) Publish(ctx context.Context, evs []herald.Event) {
	f.mu.Lock()
	to := f.to
	f.mu.Unlock()
	if to != nil {
		to.Publish(ctx, evs)
	}
}

// newEnv starts a server; opts may adjust its config (rate limits are off
// unless a test turns them on).
func newEnv(t testing.TB, opts ...func(*hhttp.Config)) *env {
	t.Helper()
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.db")
	sqlitetest.Prepare(t, path)
	pub := &forwarder{}
	db, err := sqlite.Open(context.Background(), path, herald.StoreConfig{Clock: clock, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	cfg := hhttp.Config{
		Store:  db,
		Clock:  clock,
		Hasher: password.NewHasher(password.TestParams),
		// On in every test, as in herald serve on SQLite, so that each
		// test also checks that cached pages are never stale.
		PageCacheBytes: 8 << 20,
		Push:           testPush,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv := hhttp.NewServer(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		db.Close()
	})
	return &env{t: t, ts: ts, srv: srv, db: db, clock: clock, anon: client.New(ts.URL, ""), dir: dir, pub: pub, path: path}
}

// user is a signed-up account with its client.
type user struct {
	*client.Client
	account herald.Account
}

func (e *env) signup(name string) *user {
	e.t.Helper()
	s, err := e.anon.CreateAccount(context.Background(), name, "a long enough password", "")
	if err != nil {
		e.t.Fatalf("signup %s: %v", name, err)
	}
	return &user{Client: e.anon.WithToken(s.Token), account: s.Account}
}

func (e *env) channel(owner *user, name string) *herald.Channel {
	e.t.Helper()
	ch, err := owner.CreateChannel(context.Background(), client.ChannelInput{Name: name, Category: "weather", Country: "FR", Language: "fr"})
	if err != nil {
		e.t.Fatalf("create channel: %v", err)
	}
	return ch
}

func (e *env) post(admin *user, channelID, text string) *herald.Update {
	e.t.Helper()
	u, err := admin.PostUpdate(context.Background(), channelID, text, nil)
	if err != nil {
		e.t.Fatalf("post: %v", err)
	}
	return u
}

// response is a raw HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) problem(t *testing.T) hhttp.Problem {
	t.Helper()
	var p hhttp.Problem
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json (status %d, body %s)", ct, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	if p.Status != r.status || p.Title == "" || p.Detail == "" || !strings.HasPrefix(p.Type, hhttp.ProblemTypeBase) {
		t.Fatalf("malformed problem %+v for status %d", p, r.status)
	}
	return p
}

// do sends a raw request (body sent as is) with an optional token.
func (e *env) do(method, path, token string, body []byte, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantProblem asserts err is a *client.Problem with the status and kind.
func wantProblem(t *testing.T, err error, status int, kind string) {
	t.Helper()
	p, ok := err.(*client.Problem)
	if !ok {
		t.Fatalf("err = %v (%T), want problem %d %s", err, err, status, kind)
	}
	if p.Status != status || (kind != "" && p.Kind() != kind) {
		t.Fatalf("problem = %d %s (%s), want %d %s", p.Status, p.Kind(), p.Detail, status, kind)
	}
}

var ctx = context.Background()
