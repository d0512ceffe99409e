package realtime

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
)

// DefaultHeadCheck is how often Reliable compares its channel streams with
// the log by default (ReliableConfig.HeadCheck, Config.HeadCheck).
const DefaultHeadCheck = time.Minute

const (
	// maxHeld bounds the live messages kept per stream while it is being
	// refilled; past it they are dropped and the refill reads again.
	maxHeld = 4096
	// maxRefills bounds concurrent refills (each holds a database
	// connection while it reads).
	maxRefills = 8
	// headBatch is how many streams one StreamHeads query compares.
	headBatch = 1000
)

// ReliableConfig configures a Reliable.
type ReliableConfig struct {
	// HeadCheck is how often the channel streams' heads in the log are
	// compared with what was delivered (one query per 1,000 streams), to
	// catch events that were committed but never published (their node
	// died between commit and publish, or was cut off from the bus), on a
	// channel that then went quiet. Default 1 min; negative: never.
	// Personal streams are left out: they outnumber channels, and a missed
	// follow event only delays another device's list until it reconnects.
	HeadCheck time.Duration
	Logger    *slog.Logger
}

// Reliable is the node's one recovery path. It stands between a Bus, which
// may drop, duplicate or reorder messages, and the hub: for each stream it
// remembers the last seq it handed on and delivers every later event once,
// in order. Whenever something may be missing it refills from the durable
// log (EventsAfter): a hole in a stream's sequence, the bus's word that it
// lost messages (a reconnect, a full buffer), and a periodic comparison of
// the streams' heads with the log. The refill is done once per node and
// stream, not once per connection; connections only read history for their
// own cursors.
//
// When the log no longer has what is missing (history past retention), the
// stream's connections get a resync event at the head.
type Reliable struct {
	bus     Bus
	events  herald.EventStore
	log     *slog.Logger
	sem     chan struct{} // running refills
	ctx     context.Context
	cancel  context.CancelFunc
	kick    chan struct{}
	wg      sync.WaitGroup
	refills atomic.Int64

	mu      sync.Mutex
	streams map[string]*rstream
	suspect map[*rstream]struct{} // streams the bus may have lost messages of
}

// rstream is Reliable's state for one subscribed stream. It is the stream's
// Receiver on the bus.
type rstream struct {
	r    *Reliable
	name string
	h    Handler

	// mu orders deliveries of the stream: the handler is called under it,
	// by whichever goroutine delivers (the bus, a refill), so the hub sees
	// each stream's events in order. Unsubscribe never takes it (it runs
	// under the hub's lock, which the handler takes).
	mu      sync.Mutex
	closed  atomic.Bool
	last    int64 // highest seq handed to h (at first, the head read at subscribe)
	syncing bool  // a refill runs: live messages wait in held
	again   bool  // refill once more when done (a loss reported during a refill)
	lost    bool  // a held message was dropped
	held    []*Message
}

// NewReliable returns a running Reliable over bus; Close stops it.
func NewReliable(bus Bus, events herald.EventStore, cfg ReliableConfig) *Reliable {
	if cfg.HeadCheck == 0 {
		cfg.HeadCheck = DefaultHeadCheck
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Reliable{
		bus:     bus,
		events:  events,
		log:     cfg.Logger,
		sem:     make(chan struct{}, maxRefills),
		ctx:     ctx,
		cancel:  cancel,
		kick:    make(chan struct{}, 1),
		streams: map[string]*rstream{},
		suspect: map[*rstream]struct{}{},
	}
	r.wg.Add(1)
	go r.watch(cfg.HeadCheck)
	return r
}

// Close stops refills and head checks. The bus is the caller's to close.
func (r *Reliable) Close() {
	r.cancel()
	r.wg.Wait()
}

// Refills returns how many times a stream was refilled from the log.
func (r *Reliable) Refills() int64 { return r.refills.Load() }

// Publish puts messages on the bus.
func (r *Reliable) Publish(ctx context.Context, msgs []*Message) error {
	return r.bus.Publish(ctx, msgs)
}

// Subscribe starts handing the stream's events to h, each once and in
// order. It returns once every event committed afterwards will reach h,
// having read the stream's head: the position delivery continues from.
// It must be called at most once per stream before Unsubscribe.
func (r *Reliable) Subscribe(stream string, h Handler) error {
	// Live messages wait in held until the head is known and settled.
	s := &rstream{r: r, name: stream, h: h, last: -1, syncing: true}
	r.mu.Lock()
	if r.streams[stream] != nil {
		r.mu.Unlock()
		return fmt.Errorf("realtime: stream %q subscribed twice", stream)
	}
	r.streams[stream] = s
	r.mu.Unlock()
	fail := func(err error) error {
		s.closed.Store(true)
		r.forget(s)
		return err
	}
	if err := r.bus.Subscribe(stream, s); err != nil {
		return fail(err)
	}
	// Read after the bus has the interest: every later event either
	// arrives live or is refilled from here.
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	heads, err := r.events.StreamHeads(ctx, []string{stream})
	if err != nil {
		_ = r.bus.Unsubscribe(stream)
		return fail(fmt.Errorf("realtime: stream head: %w", err))
	}
	s.mu.Lock()
	s.last = heads[stream]
	s.mu.Unlock()
	// The caller holds the hub's lock, which a delivery (under s.mu) may
	// wait for: settle the held messages in another goroutine.
	r.wg.Add(1)
	go s.settle(-1, false)
	return nil
}

// Unsubscribe stops the stream. It runs under the hub's lock, so it must
// not wait for a delivery in progress (which takes that lock).
func (r *Reliable) Unsubscribe(stream string) error {
	r.mu.Lock()
	s := r.streams[stream]
	r.mu.Unlock()
	if s == nil {
		return nil
	}
	s.closed.Store(true)
	r.forget(s)
	return r.bus.Unsubscribe(stream)
}

func (r *Reliable) forget(s *rstream) {
	r.mu.Lock()
	if r.streams[s.name] == s {
		delete(r.streams, s.name)
	}
	delete(r.suspect, s)
	r.mu.Unlock()
}

// Receive takes a live message from the bus: a duplicate is dropped, a hole
// in the sequence holds it and refills from the log.
func (s *rstream) Receive(m *Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return
	}
	if s.syncing {
		s.hold(m)
		return
	}
	if m.Seq <= s.last {
		return // already delivered (from the log, or twice by the bus)
	}
	if m.Seq > s.last+1 {
		s.syncing = true
		s.hold(m)
		s.r.wg.Add(1)
		go s.settle(-1, true)
		return
	}
	s.last = m.Seq
	s.h(m)
}

// Lost marks the stream for a comparison with the log: the next check
// refills it if its head moved past what was delivered. Checks are batched,
// so a reconnect of a node with many streams costs a few queries.
func (s *rstream) Lost() {
	r := s.r
	r.mu.Lock()
	if r.streams[s.name] == s {
		r.suspect[s] = struct{}{}
	}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (s *rstream) hold(m *Message) {
	if len(s.held) >= maxHeld {
		s.lost = true
		return
	}
	s.held = append(s.held, m)
}

// refill refills the stream unless a refill is already running, in which
// case that one goes round again.
func (s *rstream) refill() {
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
	s.r.wg.Add(1)
	go s.settle(-1, true)
}

// settle ends a syncing period of s: it reads the log after the last
// delivered seq (if read) and delivers it, then the held live messages in
// order without duplicates. head, if >= 0, is a lower bound of s.last. A
// held message past a hole is let through only
// if it was held before a complete read of the log (the events in the hole
// are then gone: updates since deleted); otherwise the log is read again.
// While the log can't be read (database down) it retries, holding live
// messages: a stream may stall, never skip.
func (s *rstream) settle(head int64, read bool) {
	r := s.r
	defer r.wg.Done()
	acquired := false
	acquire := func() bool {
		if acquired {
			return true
		}
		select {
		case r.sem <- struct{}{}:
			acquired = true
			return true
		case <-r.ctx.Done():
			return false
		}
	}
	defer func() {
		if acquired {
			<-r.sem
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
		// A refill asked for meanwhile (even before this pass began)
		// makes this pass read.
		read = read || s.again || s.lost
		s.lost = false
		s.again = false
		s.mu.Unlock()
		if read && !acquired {
			if !acquire() {
				return
			}
			r.refills.Add(1)
		}

		complete := true
		if read && after >= 0 {
			evs, ok, err := r.events.EventsAfter(r.ctx, s.name, after, historyPage)
			if ok && err == nil {
				attempt = 0
				s.mu.Lock()
				for i := range evs {
					if s.closed.Load() {
						break
					}
					if evs[i].Seq > s.last {
						s.last = evs[i].Seq
						s.h(encode(&evs[i]))
					}
				}
				s.mu.Unlock()
				complete = len(evs) < historyPage
				if complete {
					gapOK = max(gapOK, maxHeldSeq)
				}
			} else if err == nil {
				// The log no longer has what follows after: tell the
				// stream's connections to resync from the head.
				var heads map[string]int64
				if heads, err = r.events.StreamHeads(r.ctx, []string{s.name}); err == nil {
					s.mu.Lock()
					if h := heads[s.name]; h > s.last && !s.closed.Load() {
						s.last = h
						s.h(resyncMessage(s.name, h))
					}
					s.mu.Unlock()
					r.log.Info("realtime refill: history gone, resync", "stream_kind", streamKind(s.name))
					gapOK = max(gapOK, maxHeldSeq)
				}
			}
			if err != nil {
				if r.ctx.Err() != nil {
					return
				}
				attempt++
				if attempt == 1 || attempt%20 == 0 {
					r.log.Warn("realtime refill failed, retrying", "err", err, "attempts", attempt)
				}
				select {
				case <-time.After(min(time.Duration(attempt)*200*time.Millisecond, 5*time.Second)):
				case <-r.ctx.Done():
					return
				}
				continue
			}
		}
		if !complete {
			continue
		}
		s.mu.Lock()
		if s.closed.Load() {
			s.mu.Unlock()
			return
		}
		sortBySeq(s.held)
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
		// The head was only a lower bound, or more was lost or asked
		// for: go round again, reading.
		read = true
	}
}

// watch runs the batched comparisons with the log: of the streams the bus
// reported losses on, at once, and of every channel stream each HeadCheck.
func (r *Reliable) watch(every time.Duration) {
	defer r.wg.Done()
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		var subs []*rstream
		lost := false
		select {
		case <-r.ctx.Done():
			return
		case <-r.kick:
			lost = true
			r.mu.Lock()
			for s := range r.suspect {
				subs = append(subs, s)
			}
			clear(r.suspect)
			r.mu.Unlock()
		case <-tick:
			r.mu.Lock()
			for name, s := range r.streams {
				if !strings.HasPrefix(name, "@") {
					subs = append(subs, s)
				}
			}
			r.mu.Unlock()
		}
		if n := r.refillMoved(subs, lost); n > 0 {
			r.log.Debug("realtime: streams behind the log refilled", "streams", n, "lost", lost)
		}
	}
}

// refillMoved compares the streams' heads with what was delivered, in
// batches, and refills those that moved: after a reconnect a node with
// hundreds of thousands of streams reads the log of the few that changed,
// not of all of them. Without heads, streams the bus lost messages of are
// refilled anyway; a periodic check waits for its next round.
func (r *Reliable) refillMoved(subs []*rstream, lost bool) int {
	n := 0
	for len(subs) > 0 {
		batch := subs[:min(headBatch, len(subs))]
		subs = subs[len(batch):]
		names := make([]string, len(batch))
		for i, s := range batch {
			names[i] = s.name
		}
		heads, err := r.events.StreamHeads(r.ctx, names)
		if r.ctx.Err() != nil {
			return n
		}
		for _, s := range batch {
			s.mu.Lock()
			moved := err != nil && lost || err == nil && heads[s.name] > s.last
			s.mu.Unlock()
			if moved {
				s.refill()
				n++
			}
		}
		if err != nil {
			r.log.Error("realtime: stream heads", "err", err)
		}
	}
	return n
}

func sortBySeq(ms []*Message) {
	slices.SortStableFunc(ms, func(a, b *Message) int { return cmp.Compare(a.Seq, b.Seq) })
}

// streamKind names a stream's kind for logs, never the stream itself.
func streamKind(stream string) string {
	if strings.HasPrefix(stream, "@") {
		return "account"
	}
	return "channel"
}
