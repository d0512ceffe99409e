package realtime

import (
	"context"
	"sync"
)

// Message is one event as it travels on the bus: the fields the hub routes
// by, plus the event's JSON encoding. Data is encoded once, on the node that
// published the event, and the same bytes are written to every recipient;
// nobody may modify it.
type Message struct {
	Stream    string // herald.AccountStream(id) or a channel id
	Seq       int64  // position in Stream's durable log
	Type      string // herald.Event* type
	ChannelID string
	Data      []byte // JSON of the herald.Event, without a trailing newline
	// ChannelSeq is for channel.followed: the channel's stream position at
	// the follow (herald.Event.ChannelSeq), nil if unknown. A connection
	// that sees its own channel.followed joins the channel right after it,
	// whichever node or clock wrote the follow.
	ChannelSeq *int64
	// At is when the event was appended (unix ns; 0 if unknown). For a
	// channel.followed without ChannelSeq (logged before it existed, or by
	// an older node) the join falls back to the first channel event at or
	// after that moment; without At either, to the channel's head.
	At int64
}

// Handler receives the messages of a subscribed stream.
type Handler func(m *Message)

// Bus carries encoded events from the node whose store committed them to
// every node with a connection that needs them. The in-process LocalBus is
// the single-node default; a NATS bus (issue 6) maps each stream to a subject
// and subscribes a node only to the streams its connections follow.
//
// Contract:
//   - Messages of one stream reach the handler in the order they were
//     published. Delivery is best effort: the hub detects a hole in a
//     stream's sequence and refills it from the durable log, so a bus may
//     drop or reorder under failure without losing events.
//   - Subscribe returns once messages published afterwards will reach h (the
//     hub relies on this to join history and live events without a gap).
//     A node calls Subscribe at most once per stream before Unsubscribe.
//   - Handlers must not block: the hub's handler only enqueues.
type Bus interface {
	Publish(ctx context.Context, msgs []*Message) error
	Subscribe(stream string, h Handler) error
	Unsubscribe(stream string) error
}

// LocalBus is the in-process Bus of a single node: Publish calls the
// stream's handler synchronously.
type LocalBus struct {
	// pubMu serializes publishers so that the events of one Publish call are
	// never interleaved with another's, which keeps each stream in the order
	// the store published it.
	pubMu sync.Mutex
	mu    sync.RWMutex
	subs  map[string]Handler
}

// NewLocalBus returns an empty in-process bus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[string]Handler{}} }

// Publish hands each message to its stream's handler, if any.
func (b *LocalBus) Publish(ctx context.Context, msgs []*Message) error {
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	for _, m := range msgs {
		// The subscription lock is not held while the handler runs: the hub
		// takes its own locks, and subscribes under them.
		b.mu.RLock()
		h := b.subs[m.Stream]
		b.mu.RUnlock()
		if h != nil {
			h(m)
		}
	}
	return nil
}

// Subscribe routes the stream's messages to h.
func (b *LocalBus) Subscribe(stream string, h Handler) error {
	b.mu.Lock()
	b.subs[stream] = h
	b.mu.Unlock()
	return nil
}

// Unsubscribe stops routing the stream.
func (b *LocalBus) Unsubscribe(stream string) error {
	b.mu.Lock()
	delete(b.subs, stream)
	b.mu.Unlock()
	return nil
}
