// Package nats is Herald's event bus between nodes: a realtime.Bus on NATS
// (github.com/nats-io/nats.go). Each stream is one subject; a node
// subscribes to a subject only while one of its connections follows the
// stream, so NATS sends an event only to the nodes that have a follower of
// it online.
//
// NATS core delivery is at most once. The bus turns that into "nothing
// lost" with the durable per-stream log: it remembers the last seq it
// handed to the hub for each stream, and refills from the log
// (EventsAfter) whenever it may have missed something: a hole in a stream's
// sequence, a reconnect to NATS, a slow-consumer drop, and a periodic
// comparison of its streams' heads with the log (for an event committed but
// never published, on a channel that then went quiet). The refill is done
// once per node and stream, not once per connection.
//
// Personal streams (an account's follows and unfollows on its other
// devices) are the exception to per-stream interest: a node subscribes to
// all of them with one wildcard and drops those of accounts it has no
// connection for. They are rare events, while one subscription per online
// account would put millions of subscriptions on the NATS servers.
package nats

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
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
	DefaultHeadCheck    = time.Minute
	// historyPage is how many events one EventsAfter call reads.
	historyPage = 256
	// maxHeld bounds the live messages kept per stream while it is being
	// refilled; past it they are dropped and the refill reads again.
	maxHeld = 4096
	// maxRefills bounds concurrent refills (each holds a database
	// connection while it reads).
	maxRefills = 8
)

// Config configures a Bus.
type Config struct {
	// URL is the NATS server URL, or several separated by commas.
	URL string
	// Events is the durable log the bus refills missed events from.
	// Required.
	Events herald.EventStore
	// Prefix is the first subject token (default "herald"), so that several
	// Herald installations can share one NATS.
	Prefix string
	// Name identifies the node's connection in NATS monitoring.
	Name string
	// Shards is the number of goroutines delivering received messages to
	// the hub; a stream always goes through the same one, in order.
	Shards int
	// ShardBuffer is each shard's queue of received messages; when it is
	// full NATS drops (a slow consumer) and the bus refills from the log.
	ShardBuffer int
	// FlushTimeout bounds how long Publish waits for the NATS server to
	// acknowledge it has the messages.
	FlushTimeout time.Duration
	// HeadCheck is how often the bus compares its channel streams' heads
	// with what it delivered (one query per 1,000 streams), to catch events
	// that were committed but never published: their node died between
	// commit and publish, or was cut off from NATS. Default 1 min; negative:
	// never. Personal streams are left out: they outnumber channels, and a
	// missed follow event only delays another device's list until it
	// reconnects.
	HeadCheck time.Duration
	Logger    *slog.Logger
	// Options are extra nats.go options (TLS, credentials, ...); they
	// apply after the bus's own.
	Options []natsgo.Option
}

// Bus is a realtime.Bus on NATS.
type Bus struct {
	cfg    Config
	nc     *natsgo.Conn
	events herald.EventStore
	log    *slog.Logger
	seed   maphash.Seed
	shards []chan *natsgo.Msg
	accCh  chan *natsgo.Msg // the personal streams' wildcard subscription
	accSub *natsgo.Subscription
	done   chan struct{}
	wg     sync.WaitGroup
	refill chan struct{} // semaphore of running refills

	mu       sync.RWMutex
	byStream map[string]*sub
	bySub    map[*natsgo.Subscription]*sub

	refills   atomic.Int64
	dropped   atomic.Int64
	reconnect atomic.Int64
}

var _ realtime.Bus = (*Bus)(nil)

// sub is the bus's state for one subscribed stream.
type sub struct {
	stream string
	ns     *natsgo.Subscription
	h      realtime.Handler

	// mu orders deliveries of the stream: the handler is called under it,
	// by whichever goroutine delivers (a shard, Publish, a refill), so the
	// hub sees each stream's events in order. Unsubscribe never takes it
	// (it runs under the hub's lock, which the handler takes).
	mu      sync.Mutex
	closed  atomic.Bool
	last    int64 // highest seq handed to h; -1 until the head is read
	syncing bool  // a refill runs: live messages wait in held
	again   bool  // refill once more when done (a reconnect during a refill)
	lost    bool  // a held message was dropped
	held    []*realtime.Message
}

// Open connects to NATS and returns a running Bus; Close stops it. It
// fails if NATS is unreachable, so that a misconfigured node does not start.
func Open(cfg Config) (*Bus, error) {
	if cfg.Events == nil {
		return nil, errors.New("nats: Config.Events is required")
	}
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
	if cfg.HeadCheck == 0 {
		cfg.HeadCheck = DefaultHeadCheck
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{
		cfg:      cfg,
		events:   cfg.Events,
		log:      cfg.Logger,
		seed:     maphash.MakeSeed(),
		done:     make(chan struct{}),
		refill:   make(chan struct{}, maxRefills),
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
	if cfg.HeadCheck > 0 {
		b.wg.Add(1)
		go b.checkHeads(cfg.HeadCheck)
	}
	return b, nil
}

// checkHeads refills, every d, the channel streams whose head in the log is
// past what the bus delivered, which no later event has shown to be behind.
func (b *Bus) checkHeads(d time.Duration) {
	defer b.wg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
		}
		if !b.nc.IsConnected() {
			continue // the reconnect refills
		}
		b.mu.RLock()
		subs := make([]*sub, 0, len(b.byStream))
		for st, s := range b.byStream {
			if !strings.HasPrefix(st, "@") {
				subs = append(subs, s)
			}
		}
		b.mu.RUnlock()
		if n := b.refillMoved(subs, "head check"); n > 0 {
			b.log.Debug("nats: head check refilled streams", "streams", n)
		}
	}
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
	Refills    int64 // refills from the log (holes, reconnects, drops)
	Dropped    int64 // messages NATS dropped because a shard was full
	Reconnects int64
	Streams    int // streams subscribed now
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	b.mu.RLock()
	n := len(b.byStream)
	b.mu.RUnlock()
	return Stats{Refills: b.refills.Load(), Dropped: b.dropped.Load(), Reconnects: b.reconnect.Load(), Streams: n}
}

// Subject returns the NATS subject of a stream: <prefix>.c.<channel id> for
// a channel, <prefix>.a.<account id> for an account's personal stream.
func (b *Bus) Subject(stream string) (string, error) { return subject(b.cfg.Prefix, stream) }

func subject(prefix, stream string) (string, error) {
	kind, id := "c.", stream
	if strings.HasPrefix(stream, "@") {
		kind, id = "a.", stream[1:]
	}
	if !validToken(id, false) {
		return "", fmt.Errorf("nats: stream name %q can't be a subject token", stream)
	}
	return prefix + "." + kind + id, nil
}

// validToken accepts the characters of stream names (see herald.ParseCursor);
// dots only in a prefix, where they separate tokens.
func validToken(s string, dots bool) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || (dots && c == '.')
		if !ok {
			return false
		}
	}
	return !dots || !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".") && !strings.Contains(s, "..")
}

// Publish sends each message to its stream's subject, hands it to this
// node's own subscribers, and returns once the NATS server has the
// messages, so a node that dies right after acknowledging a post has
// already handed its event on.
func (b *Bus) Publish(ctx context.Context, msgs []*realtime.Message) error {
	var errs []error
	for _, m := range msgs {
		subj, err := b.Subject(m.Stream)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := b.nc.Publish(subj, frame(m)); err != nil {
			errs = append(errs, err)
		}
	}
	for _, m := range msgs {
		b.mu.RLock()
		s := b.byStream[m.Stream]
		b.mu.RUnlock()
		if s != nil {
			b.live(s, m)
		}
	}
	if len(errs) == 0 && b.nc.IsConnected() {
		// While reconnecting the messages wait in nats.go's buffer and go
		// out on reconnect; subscribers refill from the log after their own
		// reconnects, so nothing is lost either way.
		if err := b.nc.FlushTimeout(b.cfg.FlushTimeout); err != nil && !errors.Is(err, natsgo.ErrConnectionReconnecting) {
			errs = append(errs, fmt.Errorf("nats flush: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Subscribe starts routing the stream's messages to h. It returns once the
// NATS server has registered the interest (so later publishes reach h),
// having read the stream's head: the position the bus refills from if it
// misses something before the first message arrives.
func (b *Bus) Subscribe(stream string, h realtime.Handler) error {
	subj, err := b.Subject(stream)
	if err != nil {
		return err
	}
	// Live messages wait in held until the head is known; nothing but
	// the hub's own goroutine may deliver them meanwhile.
	s := &sub{stream: stream, h: h, last: -1, syncing: true}
	shard := b.shards[maphash.String(b.seed, stream)%uint64(len(b.shards))]
	b.mu.Lock()
	if b.byStream[stream] != nil {
		b.mu.Unlock()
		return nil // already subscribed: the hub passes one handler
	}
	b.byStream[stream] = s
	b.mu.Unlock()
	fail := func(err error) error {
		s.closed.Store(true)
		b.mu.Lock()
		if b.byStream[stream] == s {
			delete(b.byStream, stream)
		}
		if s.ns != nil {
			delete(b.bySub, s.ns)
		}
		b.mu.Unlock()
		if s.ns != nil {
			_ = s.ns.Unsubscribe()
		}
		return err
	}
	if !strings.HasPrefix(stream, "@") { // personal streams come through the wildcard
		ns, err := b.nc.ChanSubscribe(subj, shard)
		if err != nil {
			return fail(fmt.Errorf("nats subscribe: %w", err))
		}
		b.mu.Lock()
		s.ns = ns
		b.bySub[ns] = s
		b.mu.Unlock()
		if b.nc.IsConnected() {
			if err := b.nc.FlushTimeout(b.cfg.FlushTimeout); err != nil && !errors.Is(err, natsgo.ErrConnectionReconnecting) {
				return fail(fmt.Errorf("nats subscribe: %w", err))
			}
		}
	}
	// Read after the interest is registered: every event after this head
	// either arrives live or is refilled from here.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	heads, err := b.events.StreamHeads(ctx, []string{stream})
	if err != nil {
		return fail(fmt.Errorf("nats subscribe: stream head: %w", err))
	}
	// The caller holds the hub's lock, which a delivery (under s.mu) may be
	// waiting for: settle the held messages in another goroutine.
	go b.syncStream(s, heads[stream], false)
	return nil
}

// Unsubscribe stops routing the stream. It runs under the hub's lock, so it
// must not wait for a delivery in progress (which takes that lock).
func (b *Bus) Unsubscribe(stream string) error {
	b.mu.Lock()
	s := b.byStream[stream]
	if s != nil {
		delete(b.byStream, stream)
		if s.ns != nil {
			delete(b.bySub, s.ns)
		}
	}
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	s.closed.Store(true)
	if s.ns != nil {
		return s.ns.Unsubscribe()
	}
	return nil
}

// dispatch delivers one shard's received messages, in order.
func (b *Bus) dispatch(ch chan *natsgo.Msg) {
	defer b.wg.Done()
	for {
		select {
		case <-b.done:
			return
		case nm := <-ch:
			b.mu.RLock()
			var s *sub
			if nm.Sub == b.accSub {
				s = b.byStream["@"+nm.Subject[len(b.cfg.Prefix)+3:]]
			} else {
				s = b.bySub[nm.Sub]
			}
			b.mu.RUnlock()
			if s == nil {
				continue // unsubscribed meanwhile, or nobody here for that account
			}
			m, err := unframe(s.stream, nm.Data)
			if err != nil {
				b.log.Error("nats: malformed message dropped", "err", err)
				continue
			}
			b.live(s, m)
		}
	}
}

// live hands a live message to the stream's handler, unless it is a
// duplicate; a hole in the sequence holds it and refills from the log.
func (b *Bus) live(s *sub, m *realtime.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return
	}
	if s.syncing {
		s.hold(m)
		return
	}
	if s.last >= 0 && m.Seq <= s.last {
		return // already delivered (from the log, or twice by NATS)
	}
	if s.last >= 0 && m.Seq > s.last+1 {
		s.syncing = true
		s.hold(m)
		go b.syncStream(s, -1, true)
		return
	}
	s.last = m.Seq
	s.h(m)
}

func (s *sub) hold(m *realtime.Message) {
	if len(s.held) >= maxHeld {
		s.lost = true
		return
	}
	s.held = append(s.held, m)
}

// startRefill refills the stream unless a refill is already running, in
// which case that one goes round again.
func (b *Bus) startRefill(s *sub) {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return
	}
	if s.syncing {
		s.again = true
		s.mu.Unlock()
		return
	}
	s.syncing = true
	s.mu.Unlock()
	go b.syncStream(s, -1, true)
}

// syncStream ends a syncing period of s: it reads the log after the last
// delivered seq (if read) and delivers it, then the held live messages in
// order without duplicates. head, if >= 0, is a lower bound of s.last (the
// head read at subscribe). A held message past a hole is let through only
// if it was held before a complete read of the log (the events in the hole
// are then gone: updates since deleted); otherwise the log is read again.
// If the log can't help (history pruned, database down), the held messages
// go through as they are: each connection detects the hole itself and
// resyncs its client.
func (b *Bus) syncStream(s *sub, head int64, read bool) {
	if read {
		select {
		case b.refill <- struct{}{}:
		case <-b.done:
			return
		}
		defer func() { <-b.refill }()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-b.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var gapOK int64 // held messages up to this seq may follow a hole
	for attempt := 0; ; {
		s.mu.Lock()
		if s.closed.Load() {
			s.mu.Unlock()
			return
		}
		if head > s.last {
			s.last = head
		}
		after := s.last
		var maxHeldSeq int64
		for _, m := range s.held {
			maxHeldSeq = max(maxHeldSeq, m.Seq)
		}
		s.lost = false
		s.again = false
		s.mu.Unlock()

		complete := true
		if read && after >= 0 {
			if attempt == 0 {
				b.refills.Add(1)
			}
			evs, ok, err := b.events.EventsAfter(ctx, s.stream, after, historyPage)
			switch {
			case err != nil && ctx.Err() == nil && attempt < 3:
				attempt++
				b.log.Warn("nats: refill failed, retrying", "err", err)
				select {
				case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
				case <-b.done:
					return
				}
				continue
			case err != nil || !ok:
				if err != nil && ctx.Err() == nil {
					b.log.Error("nats: refill failed", "err", err)
				}
				gapOK = 1<<63 - 1 // let everything held through
			default:
				s.mu.Lock()
				for i := range evs {
					if s.closed.Load() {
						break
					}
					if evs[i].Seq > s.last {
						s.last = evs[i].Seq
						s.h(realtime.Encode(&evs[i]))
					}
				}
				s.mu.Unlock()
				complete = len(evs) < historyPage
				if complete {
					gapOK = max(gapOK, maxHeldSeq)
				}
			}
			attempt = 0
		}
		if !complete {
			continue
		}
		s.mu.Lock()
		if s.closed.Load() {
			s.mu.Unlock()
			return
		}
		sort.SliceStable(s.held, func(i, j int) bool { return s.held[i].Seq < s.held[j].Seq })
		i := 0
		for ; i < len(s.held); i++ {
			m := s.held[i]
			if s.last >= 0 && m.Seq > s.last+1 && m.Seq > gapOK {
				break // a hole the read could not have seen: read again
			}
			if s.last < 0 || m.Seq > s.last {
				s.last = m.Seq
				s.h(m)
			}
		}
		s.held = s.held[i:]
		if len(s.held) == 0 && !s.lost && !s.again {
			s.held = nil
			s.syncing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if !read {
			// The head was only a lower bound: go on as a refill.
			read = true
			select {
			case b.refill <- struct{}{}:
			case <-b.done:
				return
			}
			defer func() { <-b.refill }()
		}
	}
}

// reconnected refills the subscribed streams that moved while the node
// was cut off from NATS: their events never reached it.
func (b *Bus) reconnected() {
	b.reconnect.Add(1)
	// The subscriptions were re-sent on reconnect; wait until the server has
	// them, so that anything published after the refill's read arrives live.
	if err := b.nc.FlushTimeout(10 * time.Second); err != nil {
		b.log.Warn("nats: flush after reconnect failed", "err", err)
	}
	b.mu.RLock()
	subs := make([]*sub, 0, len(b.byStream))
	for _, s := range b.byStream {
		subs = append(subs, s)
	}
	b.mu.RUnlock()
	n := b.refillMoved(subs, "reconnect")
	b.log.Info("nats reconnected", "streams", len(subs), "refilled", n)
}

// headBatch is how many streams one StreamHeads query checks.
const headBatch = 1000

// refillMoved compares the streams' heads with what the bus delivered, in
// batches, and refills those that moved: after a reconnect a node with
// hundreds of thousands of streams reads the log of the few that changed,
// not of all of them.
func (b *Bus) refillMoved(subs []*sub, why string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-b.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	n := 0
	for len(subs) > 0 {
		batch := subs[:min(headBatch, len(subs))]
		subs = subs[len(batch):]
		names := make([]string, len(batch))
		for i, s := range batch {
			names[i] = s.stream
		}
		heads, err := b.events.StreamHeads(ctx, names)
		for _, s := range batch {
			s.mu.Lock()
			// Without heads, a reconnect refills everything to be safe; a
			// periodic check just waits for the next round.
			moved := err != nil && why != "head check" || err == nil && heads[s.stream] > s.last
			s.mu.Unlock()
			if moved {
				b.startRefill(s)
				n++
			}
		}
		if err != nil && ctx.Err() == nil {
			b.log.Error("nats: stream heads", "during", why, "err", err)
		}
	}
	return n
}

// asyncError handles nats.go's asynchronous errors; a slow consumer means
// NATS dropped messages of that subscription.
func (b *Bus) asyncError(_ *natsgo.Conn, ns *natsgo.Subscription, err error) {
	if errors.Is(err, natsgo.ErrSlowConsumer) && ns != nil {
		b.dropped.Add(1)
		if ns == b.accSub {
			b.mu.RLock()
			var subs []*sub
			for st, s := range b.byStream {
				if strings.HasPrefix(st, "@") {
					subs = append(subs, s)
				}
			}
			b.mu.RUnlock()
			go b.refillMoved(subs, "slow consumer")
			return
		}
		b.mu.RLock()
		s := b.bySub[ns]
		b.mu.RUnlock()
		if s != nil {
			// Not on nats.go's callback goroutine: it may wait for a delivery.
			go b.startRefill(s)
		}
		return
	}
	b.log.Warn("nats error", "err", err)
}

// Wire format of a message: version byte 1, uvarint seq, uvarint-prefixed
// type and channel id, then the event's JSON. The stream is the subject.
// Version 2 adds a uvarint At (unix ns) after seq; it is written only for
// channel.followed, the one message whose time a receiver needs (an open
// stream joins the followed channel from that moment), so that every other
// frame stays readable by a node that knows only version 1.
//
// The channel's position at a follow (Message.ChannelSeq), which an open
// stream joins at in preference to the time, is not framed: it travels in
// the event's JSON ("channel_seq"), which every version already carries, so
// nodes of any version read each other's frames and the receiver takes it
// from there.
const (
	frameVersion   = 1
	frameVersionAt = 2
)

func frame(m *realtime.Message) []byte {
	n := 1 + binary.MaxVarintLen64*4 + len(m.Type) + len(m.ChannelID) + len(m.Data)
	p := make([]byte, 0, n)
	withAt := m.At > 0 && m.Type == herald.EventChannelFollowed
	if withAt {
		p = append(p, frameVersionAt)
	} else {
		p = append(p, frameVersion)
	}
	p = binary.AppendUvarint(p, uint64(m.Seq))
	if withAt {
		p = binary.AppendUvarint(p, uint64(m.At))
	}
	p = binary.AppendUvarint(p, uint64(len(m.Type)))
	p = append(p, m.Type...)
	p = binary.AppendUvarint(p, uint64(len(m.ChannelID)))
	p = append(p, m.ChannelID...)
	return append(p, m.Data...)
}

var errFrame = errors.New("malformed frame")

func unframe(stream string, p []byte) (*realtime.Message, error) {
	if len(p) == 0 || p[0] != frameVersion && p[0] != frameVersionAt {
		return nil, errFrame
	}
	withAt := p[0] == frameVersionAt
	p = p[1:]
	seq, n := binary.Uvarint(p)
	if n <= 0 || seq > 1<<62 {
		return nil, errFrame
	}
	p = p[n:]
	var at uint64
	if withAt {
		if at, n = binary.Uvarint(p); n <= 0 || at > 1<<62 {
			return nil, errFrame
		}
		p = p[n:]
	}
	str := func() (string, bool) {
		l, n := binary.Uvarint(p)
		if n <= 0 || l > uint64(len(p)-n) {
			return "", false
		}
		s := string(p[n : n+int(l)])
		p = p[n+int(l):]
		return s, true
	}
	typ, ok := str()
	if !ok {
		return nil, errFrame
	}
	ch, ok := str()
	if !ok || len(p) == 0 {
		return nil, errFrame
	}
	m := &realtime.Message{Stream: stream, Seq: int64(seq), Type: typ, ChannelID: ch, Data: p, At: int64(at)}
	if typ == herald.EventChannelFollowed {
		m.ChannelSeq = followPosition(p)
	}
	return m, nil
}

// followPosition reads a channel.followed event's channel_seq from its JSON;
// nil when absent (a follow logged before it existed) or unreadable, which
// makes the receiver fall back to the follow's time.
func followPosition(data []byte) *int64 {
	var e struct {
		ChannelSeq *int64 `json:"channel_seq"`
	}
	if json.Unmarshal(data, &e) != nil || e.ChannelSeq == nil || *e.ChannelSeq < 0 {
		return nil
	}
	return e.ChannelSeq
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
// refills from the log, messages dropped, reconnects.
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
			Name: "herald_nats_refills_total",
			Help: "Stream refills from the database (holes, reconnects, drops).",
		}, func() float64 { return float64(b.refills.Load()) }),
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
