// Package realtime delivers Herald's events to followers over Server-Sent
// Events and WebSocket: a hub that fans each committed event out to the
// connections following its stream, and the per-connection machinery that
// resumes a stream from a cursor without loss or duplicates.
//
// Path of an event: the store commits it and calls Server.Publish, which
// encodes it once and puts it on the Bus; the bus carries it to every node
// with a follower online, where the Reliable layer (the one recovery path:
// order, duplicates, holes refilled from the log) hands it to the hub; the
// hub only enqueues the shared bytes on each connection; a per-connection
// writer, started on demand, coalesces what is queued into one write.
//
// The HTTP layer (package http) authenticates a stream request and checks
// its cursor, WebSocket handshake and Origin; Server.Serve takes the
// resulting StreamRequest.
package realtime

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/heraldhq/herald"
)

// Defaults of Config.
const (
	DefaultQueueBytes           = 1 << 20
	DefaultHeartbeat            = 25 * time.Second
	DefaultWriteTimeout         = 10 * time.Second
	DefaultMaxStreamsPerAccount = 16
	DefaultMaxStreamsPerAddr    = 256
	DefaultLinger               = 2 * time.Millisecond
)

// Config configures a Server.
type Config struct {
	Events herald.EventStore // required
	Bus    Bus               // nil: a LocalBus
	// HeadCheck is how often the node compares its channel streams with the
	// log, for events committed but never published (ReliableConfig).
	// Default 1 min; negative: never.
	HeadCheck time.Duration

	QueueBytes           int           // per-connection queue limit; default 1 MiB
	Heartbeat            time.Duration // default 25 s
	WriteTimeout         time.Duration // default 10 s
	MaxStreamsPerAccount int           // default 16; negative: unlimited
	MaxStreamsPerAddr    int           // default 256; negative: unlimited
	// Linger is how long a connection's first queued event waits for
	// others to share its write (default 2 ms; negative: none). It trades
	// that much latency for far fewer syscalls under back-to-back events.
	Linger time.Duration
	// SocketSendBuffer, if > 0, sets SO_SNDBUF on stream sockets (tests use
	// a small one to make a stalled reader visible quickly).
	SocketSendBuffer int

	// Withhold answers whether the history of a channel (a suspended one)
	// is withheld from an account: a stream's catch-up then skips the
	// channel's update events for it. nil: nothing is withheld.
	Withhold func(ctx context.Context, accountID, channelID string) (bool, error)

	Logger  *slog.Logger
	Metrics MetricsRegisterer // nil: metrics are kept but not exported
}

// Server is the real-time hub. It implements herald.EventPublisher and the
// HTTP layer's stream server (Serve).
type Server struct {
	cfg     Config
	events  herald.EventStore
	bus     *Reliable
	hub     *hub
	writers *writerPool
	log     *slog.Logger
	metrics *metrics
	queued  atomic.Int64

	mu         sync.Mutex
	conns      map[*conn]struct{}
	perAccount map[string]int
	perAddr    map[string]int
	endHooks   []func(SessionsEnded)
	closing    bool
	connWG     sync.WaitGroup
	stop       chan struct{}
	stopped    chan struct{}
}

var _ herald.EventPublisher = (*Server)(nil)

// New returns a running Server; Close stops it.
func New(cfg Config) *Server {
	if cfg.Bus == nil {
		cfg.Bus = NewLocalBus()
	}
	if cfg.QueueBytes <= 0 {
		cfg.QueueBytes = DefaultQueueBytes
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.MaxStreamsPerAccount == 0 {
		cfg.MaxStreamsPerAccount = DefaultMaxStreamsPerAccount
	}
	if cfg.MaxStreamsPerAddr == 0 {
		cfg.MaxStreamsPerAddr = DefaultMaxStreamsPerAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Linger == 0 {
		cfg.Linger = DefaultLinger
	}
	s := &Server{
		cfg:        cfg,
		events:     cfg.Events,
		bus:        NewReliable(cfg.Bus, cfg.Events, ReliableConfig{HeadCheck: cfg.HeadCheck, Logger: cfg.Logger}),
		log:        cfg.Logger,
		conns:      map[*conn]struct{}{},
		perAccount: map[string]int{},
		perAddr:    map[string]int{},
		stop:       make(chan struct{}),
		stopped:    make(chan struct{}),
	}
	s.metrics = newMetrics(s, cfg.Metrics)
	s.writers = newWriterPool(runtime.GOMAXPROCS(0), cfg.Linger, s.metrics, &s.queued)
	s.hub = newHub(s.bus, s.writers, &s.queued)
	if sb, ok := cfg.Bus.(SignalBus); ok {
		if err := sb.HandleSignals(s.handleSignal); err != nil {
			s.log.Error("realtime: signals unavailable", "err", err)
		}
	}
	go s.heartbeats()
	return s
}

// Publish encodes each committed event once and puts it on the bus.
func (s *Server) Publish(ctx context.Context, events []herald.Event) {
	if len(events) == 0 {
		return
	}
	msgs := make([]*Message, 0, len(events))
	for i := range events {
		if events[i].Stream == "" && events[i].ChannelID == "" {
			continue
		}
		msgs = append(msgs, encode(&events[i]))
	}
	if err := s.bus.Publish(ctx, msgs); err != nil {
		// Other nodes refill what they missed from the log when the next
		// event shows the hole, or at their next head check.
		s.log.Error("realtime publish failed", "err", err, "events", len(msgs))
	}
}

// StreamRequest is a request to open a stream that the HTTP layer has
// already authenticated and checked: the account, the cursor it parsed (from
// ?since= or Last-Event-ID), the transport (a WebSocket handshake already
// validated, its Origin allowed).
type StreamRequest struct {
	Account   string        // the account's id
	Cursor    herald.Cursor // where to resume; empty: from now
	Transport Transport
	// Addr is the client's address, which the per-address stream limit
	// counts; "" for a client exempt from it (a trusted proxy's network,
	// loopback for load tests).
	Addr string
	// Session is the public id of the session that opened the stream
	// (herald.SessionID): the stream ends when the session does.
	Session string
}

var (
	errShuttingDown      = herald.KindErrorf(herald.EUNAVAILABLE, "shutting-down", "The server is shutting down; reconnect shortly.")
	errStreamUnavailable = herald.KindErrorf(herald.EUNAVAILABLE, "stream-unavailable", "The event stream is unavailable; retry shortly.")
	errTooManyForAccount = herald.KindErrorf(herald.ERATELIMIT, "too-many-streams", "Too many open streams for this account; close one first.")
	errTooManyForAddr    = herald.KindErrorf(herald.ERATELIMIT, "too-many-streams", "Too many open streams from this address.")
)

// Serve opens the stream req asks for on w and serves it. Before the upgrade
// it refuses with a *herald.Error (stream limits, shutting down, the store
// unavailable), and nothing has been written: the caller answers with the
// problem. After the upgrade it returns nil; the stream may still be running
// (on a hijacked connection, without this goroutine).
func (s *Server) Serve(w http.ResponseWriter, r *http.Request, req StreamRequest) error {
	tr, cursor := req.Transport, req.Cursor
	if err := s.reserve(req.Account, req.Addr); err != nil {
		return err
	}
	c := newConn(s, tr, req.Account, req.Addr)
	c.session = req.Session
	c.sink = nopSink{}
	c.reserved = true
	if len(cursor) > 0 {
		s.metrics.resumes.Inc()
	}

	// Subscribe live first (held until ready), then read what to join from.
	ctx := r.Context()
	starts, err := s.subscribeInitial(ctx, c, cursor)
	if err != nil {
		c.finish()
		if ctx.Err() == nil {
			s.log.Error("realtime stream setup failed", "err", err)
		}
		return errStreamUnavailable
	}

	rd, snk, ok := s.upgrade(w, r, c)
	if !ok {
		c.finish()
		return nil
	}
	c.mu.Lock()
	c.sink = snk
	closed := c.closed
	c.mu.Unlock()
	if closed || !s.track(c) {
		c.finish() // shutting down between reserve and now
		return nil
	}
	if rd != nil {
		if tr == TransportWebSocket {
			go c.readWS(rd)
		} else {
			go c.readSSE(rd)
		}
	}

	c.mu.Lock()
	for _, p := range starts {
		st := c.streams[p.stream]
		if st != nil {
			st.seq = p.seq
			c.setCursor(p.stream, p.seq)
		}
	}
	c.push(qitem{op: opCursor})
	// Run the initial catch-up in this goroutine; a live hole detected
	// meanwhile is appended to the same task list.
	c.tasking = true
	for _, p := range starts {
		if st := c.streams[p.stream]; st != nil {
			_, resumed := cursor[p.stream]
			c.tasks = append(c.tasks, task{kind: taskCatchUp, stream: p.stream, st: st, resume: resumed})
		}
	}
	c.mu.Unlock()
	c.runTasks()

	if h, ok := snk.(httpSink); ok {
		select {
		case <-h.done:
		case <-ctx.Done():
		}
		c.finish()
		// The ResponseWriter must not be used once this handler returns:
		// wait for a write in progress to end (it fails fast now).
		for deadline := time.Now().Add(s.cfg.WriteTimeout + time.Second); time.Now().Before(deadline); {
			c.mu.Lock()
			writing := c.writing
			c.mu.Unlock()
			if !writing {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// subscribeInitial subscribes c to its account stream, then to the
// channels it follows or administers (read after, so no follow is missed),
// and returns the position each stream starts from: the cursor's, or the
// current head.
func (s *Server) subscribeInitial(ctx context.Context, c *conn, cursor herald.Cursor) ([]streamPos, error) {
	add := func(stream string) error {
		c.mu.Lock()
		if c.streams[stream] != nil {
			c.mu.Unlock()
			return nil
		}
		c.streams[stream] = &streamState{}
		c.forgetStream()
		c.mu.Unlock()
		return s.hub.add(stream, c)
	}
	if err := add(c.account); err != nil {
		return nil, err
	}
	followed, err := s.events.FollowedStreams(ctx, c.accountID)
	if err != nil {
		return nil, err
	}
	if len(followed) > herald.MaxCursorStreams-1 {
		followed = followed[:herald.MaxCursorStreams-1]
	}
	for _, f := range followed {
		if err := add(f); err != nil {
			return nil, err
		}
	}
	streams := append([]string{c.account}, followed...)
	var atHead []string
	for _, st := range streams {
		if _, ok := cursor[st]; !ok {
			atHead = append(atHead, st)
		}
	}
	var heads map[string]int64
	if len(atHead) > 0 {
		if heads, err = s.events.StreamHeads(ctx, atHead); err != nil {
			return nil, err
		}
	}
	starts := make([]streamPos, 0, len(streams))
	for _, st := range streams {
		if seq, ok := cursor[st]; ok {
			starts = append(starts, streamPos{st, seq})
		} else {
			starts = append(starts, streamPos{st, heads[st]})
		}
	}
	return starts, nil
}

// upgrade takes the connection over. Hijacking (HTTP/1.x) frees the
// server's per-connection goroutine and buffers; for SSE over HTTP/2 the
// ResponseWriter is used instead, with this handler's goroutine waiting.
// The WebSocket handshake is gobwas/ws's (the HTTP layer has already
// refused what it would refuse, with a problem+json).
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, c *conn) (rd interface{ Read([]byte) (int, error) }, snk sink, ok bool) {
	rc := http.NewResponseController(w)
	var nc net.Conn
	var brw *bufio.ReadWriter
	var err error
	if c.tr == TransportWebSocket {
		nc, brw, _, err = ws.HTTPUpgrader{Timeout: s.cfg.WriteTimeout}.Upgrade(r, w)
		if err != nil {
			if nc != nil {
				_ = nc.Close()
			}
			return nil, nil, false
		}
	} else {
		setSSEHeaders(w.Header())
		if r.ProtoMajor == 1 && canHijack(w) {
			// net/http writes the head as it documents for SSE: identity
			// transfer encoding, unchunked, and Connection: close (the body
			// ends when the stream does). The status goes through the
			// ResponseWriter, so the access log says 200, not 101.
			w.Header().Set("Transfer-Encoding", "identity")
			w.WriteHeader(http.StatusOK)
			nc, brw, err = rc.Hijack() // flushes the head first
		} else {
			err = http.ErrNotSupported
		}
		if err != nil {
			_ = rc.SetWriteDeadline(time.Time{}) // the server's WriteTimeout would end the stream
			w.WriteHeader(http.StatusOK)
			if err := rc.Flush(); err != nil {
				return nil, nil, false
			}
			return nil, httpSink{w: w, rc: rc, done: make(chan struct{}), once: &sync.Once{}}, true
		}
		_ = nc.SetDeadline(time.Time{})
	}
	if tc, ok := nc.(*net.TCPConn); ok && s.cfg.SocketSendBuffer > 0 {
		_ = tc.SetWriteBuffer(s.cfg.SocketSendBuffer)
	}
	// Keep only bytes the client already sent; drop net/http's buffers.
	var reader interface{ Read([]byte) (int, error) } = nc
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		reader = &prefixReader{p: append([]byte(nil), early...), r: nc}
	}
	return reader, netSink{nc: nc, rw: newRawWriter(nc)}, true
}

// canHijack reports whether w, or a writer it wraps, can be hijacked, as
// http.ResponseController would find it.
func canHijack(w http.ResponseWriter) bool {
	for {
		if _, ok := w.(http.Hijacker); ok {
			return true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
}

func setSSEHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell nginx-style proxies not to buffer
	h.Del("Content-Length")
}

type prefixReader struct {
	p []byte
	r interface{ Read([]byte) (int, error) }
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.p) > 0 {
		n := copy(b, p.p)
		p.p = p.p[n:]
		return n, nil
	}
	return p.r.Read(b)
}

type nopSink struct{}

func (nopSink) write([]byte, time.Time) error      { return net.ErrClosed }
func (nopSink) setWriteDeadline(time.Time)         {}
func (nopSink) tryWrite([]byte) (int, bool, error) { return 0, false, nil }
func (nopSink) closeGracefully()                   {}
func (nopSink) close()                             {}

// reserve takes a stream slot for the account and address, or says why
// not. An empty address is exempt from the per-address limit.
func (s *Server) reserve(accountID, addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return errShuttingDown
	}
	if max := s.cfg.MaxStreamsPerAccount; max > 0 && s.perAccount[accountID] >= max {
		return errTooManyForAccount
	}
	if max := s.cfg.MaxStreamsPerAddr; max > 0 && addr != "" && s.perAddr[addr] >= max {
		return errTooManyForAddr
	}
	s.perAccount[accountID]++
	if addr != "" {
		s.perAddr[addr]++
	}
	s.connWG.Add(1)
	return nil
}

// track registers an upgraded connection for heartbeats and shutdown.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.metrics.open[c.tr].Add(1)
	return true
}

// untrack forgets a finished connection and frees its slot.
func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.metrics.open[c.tr].Add(-1)
	}
	if c.reserved {
		c.reserved = false
		if s.perAccount[c.accountID]--; s.perAccount[c.accountID] <= 0 {
			delete(s.perAccount, c.accountID)
		}
		if c.addr != "" {
			if s.perAddr[c.addr]--; s.perAddr[c.addr] <= 0 {
				delete(s.perAddr, c.addr)
			}
		}
		s.connWG.Done()
	}
}

// heartbeats pings every connection each Heartbeat (keeping proxies from
// timing idle streams out) and reaps WebSockets that stopped answering.
func (s *Server) heartbeats() {
	defer close(s.stopped)
	t := time.NewTicker(s.cfg.Heartbeat)
	defer t.Stop()
	var conns []*conn
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		conns = conns[:0]
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		deadline := time.Now().Add(-2*s.cfg.Heartbeat - s.cfg.WriteTimeout).UnixNano()
		for _, c := range conns {
			if c.tr == TransportWebSocket && c.lastSeen.Load() < deadline {
				go c.finish() // no frame (not even a pong) for two heartbeats: dead
				continue
			}
			c.mu.Lock()
			c.push(qitem{op: opPing})
			c.mu.Unlock()
		}
		clear(conns)
	}
}

// Close ends every stream cleanly (SSE: a final error event saying the
// server is shutting down; WebSocket: close 1001) and waits, briefly, for
// them to finish, so that http.Server.Shutdown does not wait on streams.
// New streams are refused with 503.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.stopped
	for _, c := range conns {
		c.shutdown("shutting down", ws.StatusGoingAway)
	}
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * finalWriteTimeout):
		s.mu.Lock()
		conns = conns[:0]
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.finish()
		}
	}
	s.writers.close()
	s.bus.Close()
	return nil
}

// Refills returns how many times a stream was refilled from the log because
// the bus lost or reordered something (tests, benchmarks).
func (s *Server) Refills() int64 { return s.bus.Refills() }

// OpenStreams returns the number of open streams (tests, health).
func (s *Server) OpenStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
