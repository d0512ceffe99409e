package e2e

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/insights"
	"github.com/heraldhq/herald/media"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/sqlite/sqlitetest"
	"github.com/heraldhq/herald/web"
)

// latePublisher lets the store be opened before the real-time hub that
// reads from it exists.
type latePublisher struct {
	p atomic.Pointer[herald.EventPublisher]
}

func (l *latePublisher) Set(p herald.EventPublisher) { l.p.Store(&p) }
func (l *latePublisher) Publish(ctx context.Context, events []herald.Event) {
	if p := l.p.Load(); p != nil && *p != nil {
		(*p).Publish(ctx, events)
	}
}

// server is the whole Herald server in-process: SQLite store in a temp dir,
// the HTTP API, real-time streams and the web app, on 127.0.0.1:0.
type server struct {
	URL   string
	store herald.Store
	blobs herald.BlobStore // media files (link preview images are stored there too)

	http *http.Server

	mu        sync.Mutex
	streams   map[net.Conn]bool
	sinceSeen []string // the ?since= of every stream request, in order
}

// cutStreams closes the connection of every event stream, as a network
// drop would (the hub takes stream connections over, so cancelling a
// request's context would not reach them).
func (s *server) cutStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.streams {
		_ = c.Close()
		delete(s.streams, c)
	}
}

type connKey struct{}

// track wraps the API so a test can cut event streams and see how clients
// come back.
func (s *server) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/events" {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			s.streams[c] = true
		}
		s.sinceSeen = append(s.sinceSeen, r.URL.Query().Get("since"))
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// testVAPIDKey returns a fresh P-256 public key as a server publishes it.
func testVAPIDKey(t *testing.T) string {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())
}

// stop closes the listener and every connection: from then on the server
// is out of reach, as when a phone loses the network.
func (s *server) stop() { _ = s.http.Close() }

func (s *server) since() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sinceSeen...)
}

func startServer(t *testing.T) *server {
	t.Helper()
	pub := &latePublisher{}
	store, err := sqlite.Open(context.Background(), sqlitetest.Path(t), herald.StoreConfig{
		Clock:     herald.SystemClock{},
		Retention: herald.DefaultRetention,
		Publisher: pub,
		// One viewer is enough to show views here (herald serve: 50).
		InsightsThreshold: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := media.NewDir(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := insights.NewKeyring(bytes.Repeat([]byte{7}, insights.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	views := insights.NewCounter(store, keys, herald.SystemClock{})
	api := hhttp.NewServer(hhttp.Config{
		Media:  hhttp.MediaConfig{Blobs: blobs, TempDir: t.TempDir()},
		Views:  views,
		Store:  store,
		Clock:  herald.SystemClock{},
		Hasher: password.NewHasher(password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}),
		// Several browsers sign up from loopback within seconds.
		RateLimitExempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Web:             web.Handler(),
		AppShell:        web.Index(),
		// A VAPID key, so the web app can subscribe; nothing is sent.
		Push: hhttp.PushConfig{PublicKey: testVAPIDKey(t)},
	})
	ctx, cancel := context.WithCancel(context.Background())
	closeStreams := attachStreams(t, ctx, api, store, pub)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{store: store, blobs: blobs, streams: map[net.Conn]bool{}}
	srv := &http.Server{
		Handler:           s.track(api),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
	}
	s.http = srv
	go func() { _ = srv.Serve(ln) }()
	// Coalesced reaction, poll and view counts are flushed about once a
	// second, as `herald serve` does (views every 10 s there).
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_, _ = store.FlushCounts(ctx)
				_ = views.Flush(ctx)
				_, _ = store.FlushViews(ctx)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		closeStreams()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		_ = store.Close()
	})
	s.URL = "http://" + ln.Addr().String()
	return s
}

// apiClient seeds data through the JSON API with a bearer token, the way a
// publishing bot would.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *apiClient) do(method, path string, body, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+"/api/v1"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

func signUp(t *testing.T, base, username string) *apiClient {
	c := &apiClient{t: t, base: base}
	var r struct {
		Token string `json:"token"`
	}
	c.do("POST", "/accounts", map[string]any{"username": username, "password": "correct horse battery", "display_name": username}, &r)
	c.token = r.Token
	return c
}

type seedChannel struct {
	Name, Description, Category, Country, Language string
	Followers                                      int
	Posts                                          []string
}

// seed fills the directory with a few realistic channels so that searches
// and screenshots have something to show.
func seed(t *testing.T, s *server) map[string]string {
	pub := signUp(t, s.URL, "publisher")
	ids := map[string]string{}
	chans := []seedChannel{
		{"Météo Lyon", "Prévisions heure par heure pour Lyon et sa métropole, alertes orages et canicule.", "weather", "FR", "fr", 3,
			[]string{"☀️ Grand soleil cet après-midi, 27 °C à Bellecour.", "Orages possibles ce soir après 21 h : rentrez les terrasses !"}},
		{"Trafic Île-de-France", "L'état du périphérique, des autoroutes et des transports en temps réel.", "traffic", "FR", "fr", 2, []string{"Bouchon de 6 km sur l'A86 à hauteur de Créteil."}},
		{"Seasonal Kitchen", "One recipe a day with what the market has this week.", "cooking", "GB", "en", 2, []string{"Tonight: roasted squash soup with sage butter."}},
		{"City Marathon", "Race news, road closures and results of the city marathon.", "sports", "US", "en", 1, nil},
		{"Open Science Weekly", "The week's most interesting papers, explained in plain words.", "science", "", "en", 1, nil},
		{"Berlin Tech Meetups", "Talks, meetups and job fairs in Berlin's tech scene.", "technology", "DE", "en", 0, nil},
	}
	for i, sc := range chans {
		var ch herald.Channel
		pub.do("POST", "/channels", map[string]any{"name": sc.Name, "description": sc.Description, "category": sc.Category,
			"country": sc.Country, "language": sc.Language}, &ch)
		ids[sc.Name] = ch.ID
		for _, p := range sc.Posts {
			pub.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": p}, nil)
		}
		for j := 0; j < sc.Followers; j++ {
			f := signUp(t, s.URL, fmt.Sprintf("reader%d_%d", i, j))
			f.do("PUT", "/channels/"+ch.ID+"/follow", nil, nil)
		}
	}
	return ids
}

// status sends a request and returns only its status.
func (c *apiClient) status(method, path string) int { return c.statusBody(method, path, nil) }

// statusBody sends a request with a JSON body and returns only its status.
func (c *apiClient) statusBody(method, path string, body any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+"/api/v1"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
