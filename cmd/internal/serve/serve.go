package serve

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/insights"
	"github.com/heraldhq/herald/internal/outbound"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/heraldhq/herald/media"
	hnats "github.com/heraldhq/herald/nats"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/postgres"
	"github.com/heraldhq/herald/preview"
	"github.com/heraldhq/herald/push"
	"github.com/heraldhq/herald/push/dispatch"
	"github.com/heraldhq/herald/realtime"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/web"
	"github.com/heraldhq/herald/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// Server is a running `herald serve`.
type Server struct {
	Config Config
	Logger *slog.Logger
	Store  herald.Store
	HTTP   *hhttp.Server
	// Blobs holds the media files.
	Blobs herald.BlobStore
	// URL is where the server listens: http(s)://host:port, as bound.
	URL string
	// ChallengeURL is where ACME HTTP-01 challenges are answered, as bound
	// (--acme-http-addr), or "".
	ChallengeURL string
	// MetricsURL is where /metrics is served when --metrics-addr is set.
	MetricsURL string

	sqlite   *sqlite.DB // the embedded store, nil on PostgreSQL
	bus      *hnats.Bus // nil on a single node
	hub      *realtime.Server
	push     *dispatch.Dispatcher
	webhooks *webhook.Worker
	views    *insights.Counter
	httpSrv  *http.Server
	acmeSrv  *http.Server // HTTP-01 challenges, if asked for
	metrics  *http.Server // --metrics-addr, if asked for
	cancel   context.CancelFunc
	loops    sync.WaitGroup
	serveErr chan error
}

// Run is `herald serve`: it starts the server and serves until ctx ends
// (SIGINT, SIGTERM) or a listener fails, then shuts down gracefully.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		s.Logger.Info("shutting down")
	case err := <-s.Wait():
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = s.Close()
			return err
		}
	}
	if err := s.Close(); err != nil {
		return err
	}
	s.Logger.Info("stopped")
	return nil
}

// Start builds the server in order (store, bus, hub, HTTP) and starts
// serving. It returns once the listener is open; Close stops everything.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	s := &Server{Config: cfg, serveErr: make(chan error, 2)}
	defer func() {
		if err != nil {
			_ = s.Close() // what was built so far
		}
	}()
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		s.Logger = slog.New(slog.NewJSONHandler(cfg.Stderr, opts))
	} else {
		s.Logger = slog.New(slog.NewTextHandler(cfg.Stderr, opts))
	}
	clock := cfg.Clock
	if clock == nil {
		clock = herald.SystemClock{}
	}

	// 1. The store. It publishes events to the hub, which needs the store
	// to exist first: it gets a forwarder the hub is plugged into below.
	publisher := &latePublisher{}
	storeCfg := herald.StoreConfig{Clock: clock, Retention: cfg.Retention, Publisher: publisher, SyncCommits: cfg.SyncCommits,
		InsightsThreshold: cfg.InsightsThreshold}
	if cfg.Postgres == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		s.sqlite, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "herald.db"), storeCfg)
		if err != nil {
			return nil, err
		}
		s.Store = s.sqlite
	} else {
		db, err := postgres.Open(ctx, cfg.Postgres, storeCfg)
		if err != nil {
			return nil, err
		}
		s.Store = db
		s.Logger.Info("store: postgresql", "nats", "on")
	}

	// 2. The bus between nodes: NATS when scaled out, else the hub's own.
	var bus realtime.Bus
	headCheck := time.Duration(-1) // the in-process bus loses nothing
	if cfg.NATS != "" {
		if headCheck = cfg.NATSHeadCheck; headCheck == 0 {
			headCheck = -1 // realtime.Config's "never"
		}
		host, _ := os.Hostname()
		s.bus, err = hnats.Open(hnats.Config{
			URL:    cfg.NATS,
			Name:   fmt.Sprintf("herald %s pid %d", host, os.Getpid()),
			Logger: s.Logger,
		})
		if err != nil {
			return nil, err
		}
		registerReplacing(s.bus.Collectors()...)
		bus = s.bus
	}

	// 3. The real-time hub: the store publishes to it, it serves streams.
	exempt := slices.Concat(cfg.RateLimitExempt, cfg.TrustedProxies)
	// The HTTP layer checks origins and exempts networks from the
	// per-address stream limit (http.Config below).
	s.hub = realtime.New(realtime.Config{
		Linger:    cfg.StreamLinger,
		HeadCheck: headCheck,
		Events:    s.Store,
		Bus:       bus,
		Withhold: func(ctx context.Context, accountID, channelID string) (bool, error) {
			return storeutil.Withheld(ctx, s.Store, accountID, channelID)
		},
		Logger:  s.Logger,
		Metrics: prometheus.DefaultRegisterer,
	})

	// Web Push: the key every node signs with, who may be posted to, and
	// the dispatcher, woken by the updates posted on this node.
	signer, policy, err := s.pushSetup(ctx, clock)
	if err != nil {
		return nil, err
	}
	s.push = dispatch.New(dispatch.Config{
		Store:       s.Store,
		Sender:      &push.Sender{Client: push.NewClient(policy), Signer: signer, Clock: clock},
		Content:     dispatch.Content(cfg.PushContent),
		Concurrency: cfg.PushConcurrency,
		Lease:       cfg.PushLease,
		Logger:      s.Logger,
		Clock:       clock,
	})
	// Webhooks: who may be posted to (checked at registration and on every
	// delivery) and the worker, woken by events committed on this node.
	webhookRoots, err := addRoots(cfg.WebhookRootCAs, cfg.WebhookCARoots, "--webhook-ca-roots")
	if err != nil {
		return nil, err
	}
	webhookPolicy := outbound.Policy{AllowedHosts: cfg.WebhookAllowHosts, RootCAs: webhookRoots}
	s.webhooks = webhook.New(webhook.Config{Store: s.Store, Policy: webhookPolicy, Clock: clock, Logger: s.Logger,
		Lease: cfg.WebhookLease, Timeout: cfg.WebhookTimeout})
	publisher.Set(publishers{s.hub, s.push, s.webhooks})

	// Media files: a directory, or an S3 bucket every node shares.
	if s.Blobs, err = s.openBlobs(ctx); err != nil {
		return nil, err
	}
	quota := int64(cfg.MediaDailyQuota) << 20
	if quota == 0 {
		quota = -1 // none
	}
	mediaCfg := hhttp.MediaConfig{
		Blobs:         s.Blobs,
		MaxImage:      int64(cfg.MediaMaxImageMB) << 20,
		MaxVideo:      int64(cfg.MediaMaxVideoMB) << 20,
		MaxAudio:      int64(cfg.MediaMaxAudioMB) << 20,
		MaxDocument:   int64(cfg.MediaMaxDocMB) << 20,
		DailyQuota:    quota,
		UploadTimeout: cfg.MediaUploadTime,
	}
	if ff, err := media.FindFFmpeg(); err != nil {
		s.Logger.Warn("media: ffmpeg not found on PATH: video and audio uploads are refused", "err", err)
	} else {
		mediaCfg.Processor = ff
	}
	if h, err := media.FindHEIF(); err != nil {
		s.Logger.Warn("media: heif-convert not found on PATH (Debian: libheif-examples): HEIC and AVIF photos are refused", "err", err)
	} else {
		mediaCfg.HEIF = h
	}
	// 3b. The view counter: hashes keyed by a secret kept out of the store.
	secret, err := s.insightsSecret()
	if err != nil {
		return nil, err
	}
	keys, err := insights.NewKeyring(secret)
	if err != nil {
		return nil, err
	}
	s.views = insights.NewCounter(s.Store, keys, clock)

	// 4. The HTTP API and web app. The page cache is exact only if every
	// write goes through this process: true of the embedded store only.
	var pageCache int64
	if s.sqlite != nil && cfg.PageCacheMB > 0 {
		pageCache = int64(cfg.PageCacheMB) << 20
	}
	s.HTTP = hhttp.NewServer(hhttp.Config{
		Store:            s.Store,
		Streams:          s.hub,
		Logger:           s.Logger,
		Clock:            clock,
		Hasher:           password.NewHasher(cfg.PasswordParams),
		PublicURL:        cfg.PublicURL,
		AllowedOrigins:   cfg.AllowedOrigins,
		RateLimits:       cfg.RateLimits,
		TrustedProxies:   cfg.TrustedProxies,
		RateLimitExempt:  cfg.RateLimitExempt,
		Web:              web.Handler(),
		AppShell:         web.Index(),
		PageCacheBytes:   pageCache,
		Media:            mediaCfg,
		Push:             hhttp.PushConfig{PublicKey: signer.PublicKey(), ValidateEndpoint: policy.ValidateEndpoint},
		Views:            s.views,
		Webhooks:         webhookPolicy,
		MetricsToken:     cfg.MetricsToken,
		MetricsElsewhere: cfg.MetricsAddr != "",
	})

	// 5. Background work.
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.startLoops(bg)

	// 6. The listener: a bound per client address, then TLS if asked for.
	tlsConfig, acmeManager, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	ln = hhttp.LimitConnsPerAddr(ln, cfg.MaxConnsPerAddr, exempt)
	scheme := "http"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	s.URL = scheme + "://" + ln.Addr().String()
	errorLog := slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn)
	s.httpSrv = &http.Server{
		Handler:           s.HTTP,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		TLSConfig:         tlsConfig,
		ErrorLog:          errorLog,
		// A hijacked connection (an SSE or WebSocket stream) still has the
		// request's read deadline; the stream keeps its own from now on.
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateHijacked {
				_ = c.SetDeadline(time.Time{})
			}
		},
	}
	go func() { s.serveErr <- s.httpSrv.Serve(ln) }()
	if acmeManager != nil && cfg.ACMEHTTPAddr != "" {
		aln, err := net.Listen("tcp", cfg.ACMEHTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("--acme-http-addr: %w", err)
		}
		s.acmeSrv = &http.Server{
			Handler:           acmeManager.HTTPHandler(nil), // others: redirect to https
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			ReadTimeout:       cfg.ReadTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    cfg.MaxHeaderBytes,
			ErrorLog:          errorLog,
		}
		s.ChallengeURL = "http://" + aln.Addr().String()
		go func() { s.serveErr <- s.acmeSrv.Serve(aln) }()
	}
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("--metrics-addr: %w", err)
		}
		s.metrics = &http.Server{
			Handler:           s.HTTP.MetricsHandler(),
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			ReadTimeout:       cfg.ReadTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    cfg.MaxHeaderBytes,
			ErrorLog:          errorLog,
		}
		s.MetricsURL = "http://" + mln.Addr().String()
		go func() { s.serveErr <- s.metrics.Serve(mln) }()
		fmt.Fprintf(cfg.Stdout, "herald metrics on %s/metrics\n", s.MetricsURL)
	}
	s.Logger.Info("herald listening", "url", s.URL, "data", cfg.DataDir, "retention", cfg.Retention.String())
	// Tests and scripts read the bound address from this line.
	fmt.Fprintf(cfg.Stdout, "herald listening on %s\n", s.URL)
	return s, nil
}

// tlsConfig is nil for plain HTTP, certificates from files, or ACME's.
func (s *Server) tlsConfig() (*tls.Config, *autocert.Manager, error) {
	cfg := s.Config
	switch {
	case cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		return &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"h2", "http/1.1"},
		}, nil, nil
	case len(cfg.ACMEDomains) > 0:
		client := &acme.Client{DirectoryURL: cfg.ACMEDirectory, UserAgent: "herald"}
		if cfg.ACMECARoots != "" {
			pem, err := os.ReadFile(cfg.ACMECARoots)
			if err != nil {
				return nil, nil, fmt.Errorf("--acme-ca-roots: %w", err)
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return nil, nil, fmt.Errorf("--acme-ca-roots: no certificate in %s", cfg.ACMECARoots)
			}
			client.HTTPClient = &http.Client{Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
				Proxy:           http.ProxyFromEnvironment,
			}, Timeout: time.Minute}
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("data directory: %w", err)
		}
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(filepath.Join(cfg.DataDir, "acme")),
			HostPolicy: autocert.HostWhitelist(cfg.ACMEDomains...),
			Email:      cfg.ACMEEmail,
			Client:     client,
		}
		tc := m.TLSConfig()
		tc.MinVersion = tls.VersionTLS12
		return tc, m, nil
	}
	return nil, nil, nil
}

// publishBatch is how many scheduled updates one transaction publishes.
const publishBatch = 200

// startLoops runs the store's periodic work: pruning expired updates (the
// store also refuses expired ones on read, so a minute's delay is only
// about erasure), flushing coalesced counts, checkpointing the WAL.
func (s *Server) startLoops(ctx context.Context) {
	every := func(name string, d time.Duration, f func(context.Context) error) {
		s.loops.Go(func() {
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := f(ctx); err != nil && ctx.Err() == nil {
						s.Logger.Error("background task failed", "task", name, "err", err)
					}
				}
			}
		})
	}
	every("prune", time.Minute, func(ctx context.Context) error {
		n, err := s.Store.PruneExpired(ctx)
		if n > 0 {
			s.Logger.Info("pruned expired updates", "count", n)
		}
		return err
	})
	erasePeriod := s.Config.MediaErasePeriod
	if erasePeriod <= 0 {
		erasePeriod = 15 * time.Second
	}
	// Link previews: fetched off the request path within about a second
	// of posting, each by one node (leased claims).
	if s.Config.LinkPreviews {
		worker := &preview.Worker{
			Store:   s.Store,
			Fetcher: preview.New(preview.Config{AllowHosts: s.Config.PreviewAllowHosts}),
			Blobs:   s.Blobs,
			Logger:  s.Logger,
			Stored:  s.HTTP.InvalidatePages,
		}
		every("link-previews", time.Second, func(ctx context.Context) error {
			_, err := worker.RunOnce(ctx)
			return err
		})
	}
	every("media-erase", erasePeriod, func(ctx context.Context) error {
		n, err := media.Erase(ctx, s.Store, s.Blobs)
		if n > 0 {
			s.Logger.Info("erased media", "count", n)
		}
		return err
	})
	// Scheduled updates: due ones are published within a second of their
	// time, by whichever node takes them first (each exactly once).
	every("publish-scheduled", 200*time.Millisecond, func(ctx context.Context) error {
		for {
			n, err := s.Store.PublishDue(ctx, publishBatch)
			if n > 0 {
				s.HTTP.InvalidatePages() // written outside the API
			}
			if err != nil || n < publishBatch {
				return err
			}
		}
	})
	every("prune-idempotency", time.Minute, func(ctx context.Context) error {
		_, err := s.Store.PruneIdempotencyKeys(ctx)
		return err
	})
	every("flush-counts", time.Second, func(ctx context.Context) error {
		_, err := s.Store.FlushCounts(ctx)
		return err
	})
	// Views: sketches merged every second (or sooner when many are
	// waiting), their counts sent to open pages every 10 s at most.
	s.loops.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				// What was gathered since the last tick is merged on the
				// way out (Close waits for it).
				if err := s.views.Flush(context.Background()); err != nil {
					s.Logger.Error("background task failed", "task", "merge-views", "err", err)
				}
				return
			case <-t.C:
			case <-s.views.Kick():
			}
			if err := s.views.Flush(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Error("background task failed", "task", "merge-views", "err", err)
			}
		}
	})
	every("flush-views", 10*time.Second, func(ctx context.Context) error {
		_, err := s.Store.FlushViews(ctx)
		return err
	})
	if s.sqlite != nil {
		every("checkpoint", time.Minute, s.sqlite.Checkpoint)
	}
	if s.push != nil {
		s.loops.Go(func() { s.push.Run(ctx) })
	}
	if s.webhooks != nil {
		s.loops.Go(func() { s.webhooks.Run(ctx) })
	}
}

// insightsSecret is the secret keying view hashes: the configured file, or
// insights.key in the data directory, or (with PostgreSQL and no file) one
// made for this process, which then counts an account's views again after
// a restart or on another node.
func (s *Server) insightsSecret() ([]byte, error) {
	path := s.Config.InsightsSecretFile
	if path == "" && s.sqlite != nil {
		path = filepath.Join(s.Config.DataDir, "insights.key")
	}
	if path == "" {
		s.Logger.Warn("insights: no --insights-secret-file; view counts restart their deduplication with this process")
		b := make([]byte, insights.SecretSize)
		rand.Read(b)
		return b, nil
	}
	b, err := insights.LoadOrCreateSecret(path)
	if err != nil {
		return nil, fmt.Errorf("insights secret: %w", err)
	}
	return b, nil
}

// Wait delivers the error that stops a listener on its own.
func (s *Server) Wait() <-chan error { return s.serveErr }

// Close shuts down gracefully: /healthz turns 503, streams close, requests
// in flight finish (up to ShutdownTimeout), loops stop, the store closes,
// then the bus.
func (s *Server) Close() error {
	var errs []error
	if s.HTTP != nil {
		s.HTTP.SetReady(false)
	}
	timeout := s.Config.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if s.httpSrv != nil {
		// http.Server.Shutdown does not wait for hijacked streams: the hub
		// closes them, and must be done before the store closes.
		var hub sync.WaitGroup
		if s.hub != nil {
			hub.Add(1)
			s.httpSrv.RegisterOnShutdown(func() {
				defer hub.Done()
				if err := s.hub.Close(); err != nil {
					s.Logger.Warn("closing streams", "err", err)
				}
			})
		}
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			_ = s.httpSrv.Close()
		}
		hub.Wait()
		s.httpSrv, s.hub = nil, nil
	}
	if s.hub != nil { // started, never served
		if err := s.hub.Close(); err != nil {
			errs = append(errs, err)
		}
		s.hub = nil
	}
	if s.acmeSrv != nil {
		_ = s.acmeSrv.Shutdown(ctx)
		s.acmeSrv = nil
	}
	if s.metrics != nil {
		_ = s.metrics.Shutdown(ctx)
		s.metrics = nil
	}
	if s.cancel != nil {
		s.cancel()
		s.loops.Wait()
		s.cancel = nil
	}
	if s.Store != nil {
		if err := s.Store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		s.Store, s.sqlite = nil, nil
	}
	if s.bus != nil {
		if err := s.bus.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close bus: %w", err))
		}
		s.bus = nil
	}
	return errors.Join(errs...)
}

// registerReplacing registers collectors with the default registry,
// replacing those of an earlier server in the same process (tests).
func registerReplacing(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := prometheus.DefaultRegisterer.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				prometheus.DefaultRegisterer.Unregister(are.ExistingCollector)
				_ = prometheus.DefaultRegisterer.Register(c)
			}
		}
	}
}
