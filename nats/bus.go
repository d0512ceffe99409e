// Package nats is Herald's event bus between nodes: a realtime.Bus on NATS
// (github.com/nats-io/nats.go). Each stream is one subject; a node
// subscribes to a subject only while one of its connections follows the
// stream, so NATS sends an event only to the nodes that have a follower of
// it online.
//
// NATS core delivery is at most once, and this package says so rather than
// repairing it: when the node may have missed messages (a reconnect, a
// slow-consumer drop) it tells the stream's realtime.Receiver, whose
// Reliable layer compares the stream with the durable log and refills it.
// The package knows nothing of the log.
//
// Personal streams (an account's follows and unfollows on its other
// devices) are the exception to per-stream interest: a node subscribes to
// all of them with one wildcard and drops those of accounts it has no
// connection for. They are rare events, while one subscription per online
// account would put millions of subscriptions on the NATS servers.
//
// Files: bus.go the connection and its life (reconnects, errors, metrics),
// subscribe.go interest and delivery, publish.go, subject.go the subject
// names, frame.go the wire format.
package nats

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/realtime"
	natsgo "github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultPrefix       = "herald"
	DefaultShards       = 4
	DefaultShardBuffer  = 8192
	DefaultFlushTimeout = 2 * time.Second
)

// Config configures a Bus.
type Config struct {
	// URL is the NATS server URL, or several separated by commas.
	URL string
	// Prefix is the first subject token (default "herald"), so that several
	// Herald installations can share one NATS.
	Prefix string
	// Name identifies the node's connection in NATS monitoring.
	Name string
	// Shards is the number of goroutines delivering received messages to
	// the receivers; a stream always goes through the same one, in order.
	Shards int
	// ShardBuffer is each shard's queue of received messages; when it is
	// full NATS drops (a slow consumer) and the receivers are told.
	ShardBuffer int
	// FlushTimeout bounds how long Publish waits for the NATS server to
	// acknowledge it has the messages.
	FlushTimeout time.Duration
	Logger       *slog.Logger
	// Options are extra nats.go options (TLS, credentials, ...); they
	// apply after the bus's own.
	Options []natsgo.Option
}

// Bus is a realtime.Bus on NATS.
type Bus struct {
	cfg    Config
	nc     *natsgo.Conn
	log    *slog.Logger
	seed   maphash.Seed
	shards []chan *natsgo.Msg
	accCh  chan *natsgo.Msg // the personal streams' wildcard subscription
	accSub *natsgo.Subscription
	done   chan struct{}
	wg     sync.WaitGroup

	mu       sync.RWMutex
	byStream map[string]*sub
	bySub    map[*natsgo.Subscription]*sub

	dropped   atomic.Int64
	reconnect atomic.Int64

	sig signalState // signal.go
}

var _ realtime.Bus = (*Bus)(nil)

// Open connects to NATS and returns a running Bus; Close stops it. It
// fails if NATS is unreachable, so that a misconfigured node does not start.
func Open(cfg Config) (*Bus, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if !validToken(cfg.Prefix, true) {
		return nil, fmt.Errorf("nats: invalid subject prefix %q", cfg.Prefix)
	}
	if cfg.Shards <= 0 {
		cfg.Shards = DefaultShards
	}
	if cfg.ShardBuffer <= 0 {
		cfg.ShardBuffer = DefaultShardBuffer
	}
	if cfg.FlushTimeout <= 0 {
		cfg.FlushTimeout = DefaultFlushTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{
		cfg:      cfg,
		log:      cfg.Logger,
		seed:     maphash.MakeSeed(),
		done:     make(chan struct{}),
		byStream: map[string]*sub{},
		bySub:    map[*natsgo.Subscription]*sub{},
	}
	opts := []natsgo.Option{
		natsgo.Name(cfg.Name),
		// The node delivers its own events to its own hub directly.
		natsgo.NoEcho(),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(250 * time.Millisecond),
		natsgo.ReconnectJitter(250*time.Millisecond, time.Second),
		// Notice a dead server in seconds, not the default minutes.
		natsgo.PingInterval(5 * time.Second),
		natsgo.MaxPingsOutstanding(3),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil { // nil: closed on purpose
				b.log.Warn("nats disconnected", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(*natsgo.Conn) { go b.reconnected() }),
		natsgo.ErrorHandler(b.asyncError),
	}
	opts = append(opts, cfg.Options...)
	nc, err := natsgo.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w", redact(cfg.URL), err)
	}
	b.nc = nc
	b.shards = make([]chan *natsgo.Msg, cfg.Shards)
	for i := range b.shards {
		ch := make(chan *natsgo.Msg, cfg.ShardBuffer)
		b.shards[i] = ch
		b.wg.Add(1)
		go b.dispatch(ch)
	}
	b.accCh = make(chan *natsgo.Msg, cfg.ShardBuffer)
	b.wg.Add(1)
	go b.dispatch(b.accCh)
	if b.accSub, err = nc.ChanSubscribe(cfg.Prefix+".a.*", b.accCh); err == nil {
		err = nc.FlushTimeout(cfg.FlushTimeout)
	}
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("nats: subscribe: %w", err)
	}
	return b, nil
}

// Close unsubscribes everything and closes the NATS connection.
func (b *Bus) Close() error {
	select {
	case <-b.done:
		return nil
	default:
	}
	b.nc.Close()
	close(b.done)
	b.wg.Wait()
	return nil
}

// Conn returns the NATS connection (tests, health checks).
func (b *Bus) Conn() *natsgo.Conn { return b.nc }

// Stats are counters for tests and benchmarks.
type Stats struct {
	Dropped    int64 // times NATS dropped messages because a shard was full
	Reconnects int64
	Streams    int // streams subscribed now
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	b.mu.RLock()
	n := len(b.byStream)
	b.mu.RUnlock()
	return Stats{Dropped: b.dropped.Load(), Reconnects: b.reconnect.Load(), Streams: n}
}

// reconnected tells every subscribed stream's receiver that messages may
// have been lost while the node was cut off from NATS.
func (b *Bus) reconnected() {
	b.reconnect.Add(1)
	// The subscriptions were re-sent on reconnect; wait until the server has
	// them, so that anything published after the receivers' comparison with
	// the log arrives live.
	if err := b.nc.FlushTimeout(10 * time.Second); err != nil {
		b.log.Warn("nats: flush after reconnect failed", "err", err)
	}
	subs := b.subs(func(string) bool { return true })
	for _, s := range subs {
		s.r.Lost()
	}
	b.log.Info("nats reconnected", "streams", len(subs))
}

// subs returns the subscribed streams whose names pass keep.
func (b *Bus) subs(keep func(stream string) bool) []*sub {
	b.mu.RLock()
	defer b.mu.RUnlock()
	subs := make([]*sub, 0, len(b.byStream))
	for st, s := range b.byStream {
		if keep(st) {
			subs = append(subs, s)
		}
	}
	return subs
}

// asyncError handles nats.go's asynchronous errors; a slow consumer means
// NATS dropped messages of that subscription.
func (b *Bus) asyncError(_ *natsgo.Conn, ns *natsgo.Subscription, err error) {
	if errors.Is(err, natsgo.ErrSlowConsumer) && ns != nil {
		b.dropped.Add(1)
		var subs []*sub
		if ns == b.accSub {
			subs = b.subs(func(st string) bool { return strings.HasPrefix(st, "@") })
		} else {
			b.mu.RLock()
			if s := b.bySub[ns]; s != nil {
				subs = append(subs, s)
			}
			b.mu.RUnlock()
		}
		for _, s := range subs {
			s.r.Lost()
		}
		return
	}
	b.log.Warn("nats error", "err", err)
}

// redact drops credentials from a NATS URL for messages.
func redact(u string) string {
	parts := strings.Split(u, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			if s := strings.Index(p, "://"); s >= 0 && s < at {
				parts[i] = p[:s+3] + "REDACTED@" + p[at+1:]
			} else {
				parts[i] = "REDACTED@" + p[at+1:]
			}
		}
	}
	return strings.Join(parts, ",")
}

// Collectors returns Prometheus collectors of the bus's state, read at
// scrape time: whether the node is connected to NATS, streams subscribed,
// messages dropped, reconnects. (Refills from the log are the realtime
// package's herald_realtime_refills_total.)
func (b *Bus) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_nats_connected",
			Help: "1 while the node is connected to NATS.",
		}, func() float64 {
			if b.nc.IsConnected() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_nats_streams",
			Help: "Streams the node is subscribed to for its connections.",
		}, func() float64 { return float64(b.Stats().Streams) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "herald_nats_slow_consumer_total",
			Help: "Times NATS dropped messages because the node could not keep up.",
		}, func() float64 { return float64(b.dropped.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "herald_nats_reconnects_total",
			Help: "Reconnections to NATS.",
		}, func() float64 { return float64(b.reconnect.Load()) }),
	}
}
