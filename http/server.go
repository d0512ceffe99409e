// Package http is Herald's HTTP API: JSON under /api/v1, problem+json
// errors, bearer or cookie authentication, rate limits and security headers.
// It holds interfaces only (herald.Store, StreamServer); cmd/herald wires the
// implementations.
package http

import (
	"bufio"
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/outbound"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/realtime"
)

// StreamServer serves real-time event streams. The realtime package
// implements it; this package hands it requests it has authenticated and
// checked (events.go), and answers its refusals.
type StreamServer interface {
	Serve(w http.ResponseWriter, r *http.Request, req realtime.StreamRequest) error
}

// SessionSignals ends sessions on every node: their open streams close and
// every node's HTTP layer forgets them (realtime.Server implements it).
type SessionSignals interface {
	EndSessions(ctx context.Context, e realtime.SessionsEnded) error
	OnSessionsEnded(f func(realtime.SessionsEnded))
}

// DefaultSessionTTL is how long a login session lives.
const DefaultSessionTTL = 90 * 24 * time.Hour

// Config is what a Server is built from. Only Store is required.
type Config struct {
	Store   herald.Store
	Streams StreamServer
	Logger  *slog.Logger
	Clock   herald.Clock
	// Hasher hashes passwords; nil means password.DefaultParams.
	Hasher *password.Hasher
	// PublicURL is the URL users reach the server at; an https URL makes
	// session cookies Secure and its origin trusted for cookie requests.
	PublicURL string
	// AllowedOrigins are other origins whose pages may make cookie requests
	// (and open WebSockets) besides the server's own.
	AllowedOrigins []string
	SessionTTL     time.Duration
	// SessionCacheTTL is how long an authenticated token is remembered
	// without asking the store again (default 5s; negative disables). A
	// logout evicts it on this node at once.
	SessionCacheTTL time.Duration
	// RateLimits are off where zero; herald serve starts from DefaultRateLimits.
	RateLimits RateLimits
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// RateLimitExempt are client networks never rate limited.
	RateLimitExempt []netip.Prefix
	// Web serves the web app at "/" for every non-API path, if set.
	Web http.Handler
	// MetricsToken, if set, is required as a bearer token on /metrics.
	MetricsToken string
	// MetricsElsewhere hides /metrics here (it is served on another
	// listener through MetricsHandler).
	MetricsElsewhere bool
	// PageCacheBytes, if positive, caches encoded update pages per viewer
	// up to this many bytes. Only for a single node whose store no other
	// process writes (see pageCache).
	PageCacheBytes int64
	// AppShell is the web app's index.html, which public pages fill in
	// (public.go); nil renders them in a plain shell.
	AppShell []byte
	// Media configures uploads and /media (off without Media.Blobs).
	Media MediaConfig
	// Push configures the Web Push routes; the zero value turns them off.
	Push PushConfig
	// Views counts view reports (POST /api/v1/views); nil answers 503.
	Views ViewRecorder
	// Webhooks says which webhook URLs may be registered (the same policy
	// the delivery worker applies); the zero value admits public hosts only.
	Webhooks outbound.Policy
}

// ViewRecorder counts accounts' views of updates they may read, keeping no
// record of who viewed what (package insights).
type ViewRecorder interface {
	Record(accountID string, targets []herald.ViewTarget, lang string)
}

// Server is Herald's HTTP handler.
type Server struct {
	Store herald.Store
	// Streams serves /api/v1/events and /api/v1/ws; nil answers 503. It may
	// be set after NewServer, before serving.
	Streams StreamServer

	logger     *slog.Logger
	clock      herald.Clock
	hasher     *password.Hasher
	sessionTTL time.Duration
	secure     bool   // cookies get the Secure flag regardless of the request
	publicURL  string // cfg.PublicURL without a trailing slash, "" if unset
	origins    []string
	cop        *http.CrossOriginProtection
	limits     *limiters
	sessions   *sessionCache
	keys       *keyCache
	pages      *pageCache // nil: off
	qr         *qrCache
	proxies    []netip.Prefix
	exempt     []netip.Prefix
	web        http.Handler
	media      MediaConfig
	bg         sync.WaitGroup // background media processing
	metricsTok string
	metricsOff bool
	push       PushConfig
	views      ViewRecorder
	webhooks   outbound.Policy

	public       *publicCache
	pageTemplate *template.Template
	notFoundOnce sync.Once
	notFound     *publicEntry

	mux      *http.ServeMux
	patterns []string // every API pattern registered by routes(), for the OpenAPI test
	ready    atomic.Bool
}

// NewServer builds a Server and registers its routes.
func NewServer(cfg Config) *Server {
	s := &Server{
		Store:      cfg.Store,
		Streams:    cfg.Streams,
		logger:     cfg.Logger,
		clock:      cfg.Clock,
		hasher:     cfg.Hasher,
		sessionTTL: cfg.SessionTTL,
		proxies:    cfg.TrustedProxies,
		exempt:     cfg.RateLimitExempt,
		web:        cfg.Web,
		media:      cfg.Media,
		metricsTok: cfg.MetricsToken,
		metricsOff: cfg.MetricsElsewhere,
		push:       cfg.Push,
		views:      cfg.Views,
		webhooks:   cfg.Webhooks,
		mux:        http.NewServeMux(),
		cop:        http.NewCrossOriginProtection(),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = herald.SystemClock{}
	}
	if s.hasher == nil {
		s.hasher = password.NewHasher(password.DefaultParams)
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = DefaultSessionTTL
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		s.secure = u.Scheme == "https"
		s.publicURL = strings.TrimRight(cfg.PublicURL, "/")
		s.origins = append(s.origins, u.Scheme+"://"+u.Host)
	}
	for _, o := range cfg.AllowedOrigins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			s.origins = append(s.origins, o)
		}
	}
	for _, o := range s.origins {
		if err := s.cop.AddTrustedOrigin(o); err != nil {
			s.logger.Warn("ignoring invalid allowed origin", "origin", o, "err", err)
		}
	}
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errCrossOrigin)
	}))
	s.media.withDefaults()
	s.limits = newLimiters(cfg.RateLimits.withDefaults())
	if cfg.SessionCacheTTL == 0 {
		cfg.SessionCacheTTL = 5 * time.Second
	}
	s.sessions = newSessionCache(cfg.SessionCacheTTL, 100_000)
	s.keys = newKeyCache(time.Minute, 10_000)
	if sig, ok := cfg.Streams.(SessionSignals); ok {
		sig.OnSessionsEnded(s.sessions.evictEnded)
	}
	s.qr = newQRCache(qrCacheBytes)
	if cfg.PageCacheBytes > 0 {
		s.pages = newPageCache(cfg.PageCacheBytes)
	}
	s.public = &publicCache{entries: map[string]*publicEntry{}, versions: map[string]uint64{}}
	s.routes()
	s.pageTemplate = parseShell(cfg.AppShell)
	s.publicRoutes()
	// Catch-alls, outside routes() because they are not API routes: unknown
	// API paths get a problem, everything else goes to the web app.
	s.mux.HandleFunc("/api/", s.apiNotFound)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.servePublicAt(w, r) {
			return
		}
		if s.web != nil {
			s.web.ServeHTTP(w, r)
			return
		}
		s.writeError(w, r, herald.KindErrorf(herald.ENOTFOUND, "not-found", "Not found."))
	})
	s.ready.Store(true)
	return s
}

// Patterns returns the API route patterns registered by routes().
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// PageCacheEnabled reports whether update pages are cached.
func (s *Server) PageCacheEnabled() bool { return s.pages != nil }

// SetReady sets what /healthz answers: 200 when ready, 503 otherwise (set
// false while shutting down so load balancers stop sending traffic).
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// AllowedOrigins returns the origins trusted besides the request's own host.
func (s *Server) AllowedOrigins() []string { return append([]string(nil), s.origins...) }

// handlerFunc is the shape of every API handler: errors are returned, and
// writeError turns them into problem responses in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers an API route and remembers its pattern.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// Any write may change pages: invalidate the channel it names
			// (every channel if none) before the answer goes out, and again
			// after, whatever happened.
			bump := func() {
				if s.pages != nil {
					s.pages.bump(r.PathValue("id"))
				}
				s.public.bump(r.PathValue("id"))
			}
			bw := &bumpWriter{ResponseWriter: w, bump: bump}
			defer bump()
			w = bw
		}
		if isWrite(r) {
			if err := s.rateLimit(s.clientAddr(r), s.limits.writeAddr, nil, ""); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := s.resolveHandle(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}))
}

// handleNoPages registers a non-GET route that changes no cached page
// itself (view reports: counts reach pages through events and the cache's
// one-minute bound), so it does not invalidate the page cache.
func (s *Server) handleNoPages(pattern string, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}))
}

// handleHTTP registers a plain http.Handler as an API route (metrics).
func (s *Server) handleHTTP(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, h)
}

// ServeHTTP adds security headers, logging and metrics around the mux.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	rw := &responseWriter{ResponseWriter: w, status: http.StatusOK}

	defer func() {
		// A bug must cost one request a 500, not the connection a reset.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.LogAttrs(r.Context(), slog.LevelError, "panic", slog.String("route", r.Pattern),
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if !rw.wroteHeader {
				s.writeError(rw, r, errors.New("panic"))
			}
		}
	}()
	s.mux.ServeHTTP(rw, r) // sets r.Pattern

	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	d := time.Since(start)
	observeRequest(route, rw.status, d)
	// Only the pattern is logged, never the path: paths carry ids, and
	// query strings may carry access tokens.
	if s.logger.Enabled(r.Context(), slog.LevelInfo) {
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", rw.status), slog.Duration("duration", d))
	}
}

// contentSecurityPolicy allows only same-origin resources and no inline
// scripts; data: images let the web app show generated QR codes.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// apiNotFound answers API paths no route matches: 405 with Allow when the
// path exists for other methods, 404 otherwise. (The "/api/" catch-all
// matches every method, so the mux never answers 405 on its own.)
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, p := s.mux.Handler(probe); p != "" && p != "/api/" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD")
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "This route does not accept "+r.Method+".")
		return
	}
	s.writeError(w, r, herald.KindErrorf(herald.ENOTFOUND, "route-not-found", "No such API route."))
}

// responseWriter records the status for logs and metrics. It passes
// Flush and Hijack through, which the SSE and WebSocket handlers need.
type responseWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *responseWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// ReadFrom passes io.ReaderFrom through, so files are sent with
// sendfile(2) (media).
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	w.wroteHeader = true
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher.
func (w *responseWriter) Flush() {
	w.wroteHeader = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker for WebSocket upgrades.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusSwitchingProtocols, true
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
