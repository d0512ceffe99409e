package http_test

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/realtime"
)

// fakeStreams records the stream requests the HTTP edge hands on, and
// answers with refuse if set (as the stream server refuses before the
// upgrade), else with a line naming the transport and account.
type fakeStreams struct {
	mu     sync.Mutex
	last   realtime.StreamRequest
	n      int
	refuse error
}

func (f *fakeStreams) Serve(w http.ResponseWriter, r *http.Request, req realtime.StreamRequest) error {
	f.mu.Lock()
	f.last, f.n = req, f.n+1
	refuse := f.refuse
	f.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	tr := "sse"
	if req.Transport == realtime.TransportWebSocket {
		tr = "ws"
	}
	_, _ = w.Write([]byte(tr + " " + req.Account))
	return nil
}

// wsHandshake are the headers of a valid WebSocket upgrade request.
var wsHandshake = []string{"Connection", "keep-alive, Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}

func withStreams(t *testing.T, opts ...func(*hhttp.Config)) (*env, *fakeStreams) {
	e := newEnv(t, opts...)
	fs := &fakeStreams{}
	e.srv.Streams = fs
	return e, fs
}

// The cursor is parsed here, from ?since= or (SSE) Last-Event-ID; a bad one
// is a 400 problem and never reaches the stream server.
func TestStreamCursor(t *testing.T) {
	e, fs := withStreams(t)
	alice := e.signup("alice")
	if r := e.do("GET", "/api/v1/events?since=ch1:4,@x:2", alice.Token(), nil); r.status != 200 || fs.last.Cursor.String() != (herald.Cursor{"ch1": 4, "@x": 2}).String() {
		t.Fatalf("since: %d %s, cursor %v", r.status, r.body, fs.last.Cursor)
	}
	if r := e.do("GET", "/api/v1/events", alice.Token(), nil, "Last-Event-ID", "ch1:9"); r.status != 200 || fs.last.Cursor["ch1"] != 9 {
		t.Fatalf("Last-Event-ID: %d, cursor %v", r.status, fs.last.Cursor)
	}
	// ?since= wins; WebSocket clients have no Last-Event-ID.
	if e.do("GET", "/api/v1/events?since=ch1:1", alice.Token(), nil, "Last-Event-ID", "ch1:9"); fs.last.Cursor["ch1"] != 1 {
		t.Fatalf("since and Last-Event-ID: cursor %v", fs.last.Cursor)
	}
	if e.do("GET", "/api/v1/ws", alice.Token(), nil, append([]string{"Last-Event-ID", "ch1:9"}, wsHandshake...)...); len(fs.last.Cursor) != 0 {
		t.Fatalf("ws took Last-Event-ID: cursor %v", fs.last.Cursor)
	}
	n := fs.n
	for _, c := range []struct{ path, hdr string }{
		{"/api/v1/events?since=bad%20stream!:1", ""},
		{"/api/v1/events?since=ch1:-1", ""},
		{"/api/v1/events", "nope"},
		{"/api/v1/ws?since=ch1", ""},
	} {
		hdr := []string{}
		if c.hdr != "" {
			hdr = append(hdr, "Last-Event-ID", c.hdr)
		}
		if strings.HasPrefix(c.path, "/api/v1/ws") {
			hdr = append(hdr, wsHandshake...)
		}
		r := e.do("GET", c.path, alice.Token(), nil, hdr...)
		if r.status != 400 || r.problem(t).Type != hhttp.ProblemTypeBase+"invalid-cursor" {
			t.Fatalf("%s %q: %d %s", c.path, c.hdr, r.status, r.body)
		}
	}
	if fs.n != n {
		t.Fatal("a bad cursor reached the stream server")
	}
}

// A bad upgrade request gets a problem+json here, before any hijacking.
func TestWebSocketRefusals(t *testing.T) {
	e, fs := withStreams(t)
	alice := e.signup("alice")
	cases := []struct {
		name   string
		header []string
		status int
		kind   string
	}{
		{"not an upgrade", nil, 400, "websocket-handshake"},
		{"old version", []string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "8", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, 426, "websocket-version"},
		{"bad key", []string{"Connection", "keep-alive, Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "short"}, 400, "websocket-handshake"},
	}
	for _, c := range cases {
		r := e.do("GET", "/api/v1/ws", alice.Token(), nil, c.header...)
		if r.status != c.status || r.header.Get("Content-Type") != "application/problem+json" || r.problem(t).Type != hhttp.ProblemTypeBase+c.kind {
			t.Fatalf("%s: %d %s %s", c.name, r.status, r.header.Get("Content-Type"), r.body)
		}
		if c.status == 426 && r.header.Get("Sec-WebSocket-Version") != "13" {
			t.Fatalf("426 without Sec-WebSocket-Version: %v", r.header)
		}
	}
	if fs.n != 0 {
		t.Fatal("a refused handshake reached the stream server")
	}
}

// Browser pages may open WebSockets from the server's own origin and the
// allowed ones (origins or host patterns) only.
func TestStreamOriginCheck(t *testing.T) {
	e, _ := withStreams(t, func(c *hhttp.Config) {
		c.PublicURL = "https://herald.example"
		c.AllowedOrigins = []string{"https://app.example.org", "*.trusted.example"}
	})
	alice := e.signup("alice")
	for origin, ok := range map[string]bool{
		"":                                    true,
		e.ts.URL:                              true,
		"https://herald.example":              true,
		"https://app.example.org":             true,
		"https://x.trusted.example":           true,
		"https://evil.example":                false,
		"https://herald.example.evil.example": false,
		"null":                                false,
	} {
		hdr := append([]string(nil), wsHandshake...)
		if origin != "" {
			hdr = append(hdr, "Origin", origin)
		}
		r := e.do("GET", "/api/v1/ws", alice.Token(), nil, hdr...)
		if ok && r.status != 200 || !ok && (r.status != 403 || r.problem(t).Type != hhttp.ProblemTypeBase+"origin-not-allowed") {
			t.Fatalf("origin %q: %d %s", origin, r.status, r.body)
		}
	}
}

// The stream server's refusals (limits, shutdown) are problems with
// Retry-After; an exempt network's requests carry no address to count.
func TestStreamRefusalsAndExemptAddress(t *testing.T) {
	e, fs := withStreams(t, func(c *hhttp.Config) { c.RateLimitExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	alice := e.signup("alice")
	if r := e.do("GET", "/api/v1/events", alice.Token(), nil); r.status != 200 || fs.last.Addr != "" || fs.last.Account != alice.account.ID {
		t.Fatalf("exempt: %d, request %+v", r.status, fs.last)
	}
	fs.refuse = herald.KindErrorf(herald.ERATELIMIT, "too-many-streams", "Too many open streams for this account; close one first.")
	r := e.do("GET", "/api/v1/events", alice.Token(), nil)
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.problem(t).Type != hhttp.ProblemTypeBase+"too-many-streams" {
		t.Fatalf("refused: %d %v %s", r.status, r.header, r.body)
	}
	fs.refuse = herald.KindErrorf(herald.EUNAVAILABLE, "shutting-down", "The server is shutting down; reconnect shortly.")
	if r := e.do("GET", "/api/v1/events", alice.Token(), nil); r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("shutting down: %d %v", r.status, r.header)
	}
}
