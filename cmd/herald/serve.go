package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/sqlite"
)

func init() {
	commands["serve"] = serveCommand
	commandHelp["serve"] = "run the server"
}

// Extension points for other packages' wiring, each filled from init() in
// its own file of this command:
var (
	// serveFlagHooks register extra `herald serve` flags (e.g. --postgres, --nats).
	serveFlagHooks []func(fs *flag.FlagSet, m *Main)
	// serveHooks run after the store and HTTP server exist and before the
	// listener opens: the real-time hub plugs itself in here (m.Publisher.Set,
	// m.HTTP.Streams, m.OnShutdown).
	serveHooks []func(ctx context.Context, m *Main) error
	// webApp, if set, serves the web app at "/" (set by web wiring).
	webApp func() http.Handler
)

// Main is `herald serve`, split into ParseFlags, Run and Close so that tests
// can run the whole program in-process on port 0.
type Main struct {
	Addr            string
	DataDir         string
	Retention       time.Duration
	PublicURL       string
	AllowedOrigins  []string
	RateLimits      hhttp.RateLimits
	TrustedProxies  []netip.Prefix
	RateLimitExempt []netip.Prefix
	// PageCacheMB caches encoded update pages (per viewer); used only with
	// the embedded SQLite store, where this process makes every write.
	PageCacheMB     int
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration
	// PasswordParams defaults to OWASP's; tests use cheaper ones.
	PasswordParams password.Params
	// Clock defaults to the system clock.
	Clock herald.Clock
	// Stdout receives the "listening on" line; Stderr the logs.
	Stdout, Stderr io.Writer
	// OpenStore, if set (by a flag hook), replaces the SQLite store.
	OpenStore func(ctx context.Context, m *Main) (herald.Store, error)

	// Set by Run.
	Logger    *slog.Logger
	Store     herald.Store
	Publisher *LatePublisher
	HTTP      *hhttp.Server
	URL       string // http://host:port actually bound

	listener   net.Listener
	server     *http.Server
	onShutdown []func(ctx context.Context) error
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	serveErr   chan error
}

// NewMain returns a Main with the defaults, before flags.
func NewMain() *Main {
	return &Main{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./herald-data",
		Retention:       herald.DefaultRetention,
		RateLimits:      hhttp.DefaultRateLimits,
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: 10 * time.Second,
		PageCacheMB:     64,
		PasswordParams:  password.DefaultParams,
		Stdout:          os.Stdout,
		Stderr:          os.Stderr,
		Publisher:       &LatePublisher{},
		serveErr:        make(chan error, 1),
	}
}

// OnShutdown registers a function run when the server shuts down, before
// the store closes (e.g. closing real-time streams, which http.Server's
// Shutdown does not wait for).
func (m *Main) OnShutdown(f func(ctx context.Context) error) { m.onShutdown = append(m.onShutdown, f) }

// ParseFlags reads `herald serve` flags, each defaulting to its HERALD_*
// environment variable.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("herald serve", flag.ContinueOnError)
	fs.StringVar(&m.Addr, "addr", envOr("HERALD_ADDR", m.Addr), "listen address (HERALD_ADDR)")
	fs.StringVar(&m.DataDir, "data", envOr("HERALD_DATA", m.DataDir), "data directory holding the database (HERALD_DATA)")
	retention := fs.String("retention", envOr("HERALD_RETENTION", m.Retention.String()), "how long updates live (HERALD_RETENTION)")
	fs.StringVar(&m.PublicURL, "public-url", envOr("HERALD_PUBLIC_URL", m.PublicURL), "URL users reach the server at; https makes cookies Secure (HERALD_PUBLIC_URL)")
	origins := fs.String("allowed-origins", envOr("HERALD_ALLOWED_ORIGINS", ""), "other origins allowed to make cookie requests and open WebSockets, comma-separated (HERALD_ALLOWED_ORIGINS)")
	signup := fs.String("rate-limit-signup", envOr("HERALD_RATE_LIMIT_SIGNUP", m.RateLimits.Signup.String()), "account creations per client address, N/DURATION or off (HERALD_RATE_LIMIT_SIGNUP)")
	login := fs.String("rate-limit-login", envOr("HERALD_RATE_LIMIT_LOGIN", m.RateLimits.Login.String()), "login attempts per client address and per username (HERALD_RATE_LIMIT_LOGIN)")
	post := fs.String("rate-limit-post", envOr("HERALD_RATE_LIMIT_POST", m.RateLimits.Post.String()), "updates posted per client address and per account (HERALD_RATE_LIMIT_POST)")
	exempt := fs.String("rate-limit-exempt", envOr("HERALD_RATE_LIMIT_EXEMPT", ""), "client networks never rate limited, CIDR[,CIDR...] (HERALD_RATE_LIMIT_EXEMPT)")
	proxies := fs.String("trusted-proxy", envOr("HERALD_TRUSTED_PROXY", ""), "proxies whose X-Forwarded-For is believed, CIDR[,CIDR...] (HERALD_TRUSTED_PROXY)")
	pageCache := fs.String("page-cache-mb", envOr("HERALD_PAGE_CACHE_MB", strconv.Itoa(m.PageCacheMB)), "MiB of encoded update pages kept for repeated reads, 0 disables; single node on SQLite only (HERALD_PAGE_CACHE_MB)")
	fs.StringVar(&m.LogLevel, "log-level", envOr("HERALD_LOG_LEVEL", m.LogLevel), "debug, info, warn or error (HERALD_LOG_LEVEL)")
	fs.StringVar(&m.LogFormat, "log-format", envOr("HERALD_LOG_FORMAT", m.LogFormat), "text or json (HERALD_LOG_FORMAT)")
	for _, h := range serveFlagHooks {
		h(fs, m)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	var err error
	if m.Retention, err = time.ParseDuration(*retention); err != nil || m.Retention <= 0 {
		return fmt.Errorf("--retention %q: want a positive duration such as 720h", *retention)
	}
	if m.PageCacheMB, err = strconv.Atoi(*pageCache); err != nil || m.PageCacheMB < 0 {
		return fmt.Errorf("--page-cache-mb %q: want a number of MiB, 0 to disable", *pageCache)
	}
	m.AllowedOrigins = splitList(*origins)
	for _, l := range []struct {
		flag string
		val  string
		dst  *hhttp.Limit
	}{{"rate-limit-signup", *signup, &m.RateLimits.Signup}, {"rate-limit-login", *login, &m.RateLimits.Login}, {"rate-limit-post", *post, &m.RateLimits.Post}} {
		if *l.dst, err = hhttp.ParseLimit(l.val); err != nil {
			return fmt.Errorf("--%s: %w", l.flag, err)
		}
	}
	if m.RateLimitExempt, err = parsePrefixes(*exempt); err != nil {
		return fmt.Errorf("--rate-limit-exempt: %w", err)
	}
	if m.TrustedProxies, err = parsePrefixes(*proxies); err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	if _, err := parseLevel(m.LogLevel); err != nil {
		return err
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefixes parses "CIDR[,CIDR...]"; a bare address means just it.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range splitList(s) {
		if !strings.Contains(p, "/") {
			a, err := netip.ParseAddr(p)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", p)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", p)
		}
		out = append(out, pf.Masked())
	}
	return out, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// Run opens the store, starts the background loops and starts serving. It
// returns once the listener is open; Close stops everything.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	level, err := parseLevel(m.LogLevel)
	if err != nil {
		return err
	}
	opts := &slog.HandlerOptions{Level: level}
	if m.LogFormat == "json" {
		m.Logger = slog.New(slog.NewJSONHandler(m.Stderr, opts))
	} else {
		m.Logger = slog.New(slog.NewTextHandler(m.Stderr, opts))
	}
	if m.Clock == nil {
		m.Clock = herald.SystemClock{}
	}

	if m.OpenStore != nil {
		m.Store, err = m.OpenStore(ctx, m)
	} else {
		m.Store, err = m.openSQLite()
	}
	if err != nil {
		return err
	}

	// The page cache is exact only if every write goes through this
	// process: true of the embedded store, not of a shared database.
	var pageCache int64
	if _, single := m.Store.(*sqlite.DB); single && m.PageCacheMB > 0 {
		pageCache = int64(m.PageCacheMB) << 20
	}
	var web http.Handler
	if webApp != nil {
		web = webApp()
	}
	m.HTTP = hhttp.NewServer(hhttp.Config{
		Store:           m.Store,
		Logger:          m.Logger,
		Clock:           m.Clock,
		Hasher:          password.NewHasher(m.PasswordParams),
		PublicURL:       m.PublicURL,
		AllowedOrigins:  m.AllowedOrigins,
		RateLimits:      m.RateLimits,
		TrustedProxies:  m.TrustedProxies,
		RateLimitExempt: m.RateLimitExempt,
		Web:             web,
		PageCacheBytes:  pageCache,
	})
	for _, h := range serveHooks {
		if err := h(ctx, m); err != nil {
			return err
		}
	}

	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.startLoops(bg)

	m.listener, err = net.Listen("tcp", m.Addr)
	if err != nil {
		return err
	}
	m.URL = "http://" + m.listener.Addr().String()
	m.server = &http.Server{
		Handler:           m.HTTP,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	go func() { m.serveErr <- m.server.Serve(m.listener) }()
	m.Logger.Info("herald listening", "url", m.URL, "data", m.DataDir, "retention", m.Retention.String())
	// Tests and scripts read the bound address from this line.
	fmt.Fprintf(m.Stdout, "herald listening on %s\n", m.URL)
	return nil
}

func (m *Main) openSQLite() (herald.Store, error) {
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return sqlite.Open(context.Background(), filepath.Join(m.DataDir, "herald.db"), herald.StoreConfig{
		Clock:     m.Clock,
		Retention: m.Retention,
		Publisher: m.Publisher,
	})
}

// startLoops runs the store's periodic work: pruning expired updates (the
// store also refuses expired ones on read, so a minute's delay is only
// about erasure), flushing coalesced counts, checkpointing the WAL.
func (m *Main) startLoops(ctx context.Context) {
	every := func(name string, d time.Duration, f func(context.Context) error) {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := f(ctx); err != nil && ctx.Err() == nil {
						m.Logger.Error("background task failed", "task", name, "err", err)
					}
				}
			}
		}()
	}
	every("prune", time.Minute, func(ctx context.Context) error {
		n, err := m.Store.PruneExpired(ctx)
		if n > 0 {
			m.Logger.Info("pruned expired updates", "count", n)
		}
		return err
	})
	every("flush-counts", time.Second, func(ctx context.Context) error {
		_, err := m.Store.FlushCounts(ctx)
		return err
	})
	if cp, ok := m.Store.(interface{ Checkpoint(context.Context) error }); ok {
		every("checkpoint", time.Minute, cp.Checkpoint)
	}
}

// Wait blocks until the server stops serving on its own (listener failure).
func (m *Main) Wait() <-chan error { return m.serveErr }

// Close shuts down gracefully: /healthz turns 503, in-flight requests
// finish (up to ShutdownTimeout), streams close, loops stop, the store closes.
func (m *Main) Close() error {
	var errs []error
	if m.HTTP != nil {
		m.HTTP.SetReady(false)
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
	defer cancel()
	if m.server != nil {
		// Shutdown starts the hooks in goroutines and does not wait for
		// them; they must finish before the store closes.
		var hooks sync.WaitGroup
		for _, f := range m.onShutdown {
			hooks.Add(1)
			m.server.RegisterOnShutdown(func() {
				defer hooks.Done()
				if err := f(ctx); err != nil {
					m.Logger.Warn("shutdown hook failed", "err", err)
				}
			})
		}
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			_ = m.server.Close()
		}
		hooks.Wait()
		m.server = nil
	} else {
		for _, f := range m.onShutdown {
			if err := f(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	m.onShutdown = nil
	if m.cancel != nil {
		m.cancel()
		m.wg.Wait()
		m.cancel = nil
	}
	if m.Store != nil {
		if err := m.Store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		m.Store = nil
	}
	return errors.Join(errs...)
}

func serveCommand(ctx context.Context, args []string) error {
	m := NewMain()
	if err := m.ParseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down")
	case err := <-m.Wait():
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = m.Close()
			return err
		}
	}
	if err := m.Close(); err != nil {
		return err
	}
	m.Logger.Info("stopped")
	return nil
}
