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
	// ChannelSeq is for channel.followed and channel.admin_added: the
	// channel's stream position at the change (herald.Event.ChannelSeq),
	// nil if unknown. A connection that sees its own follow joins the
	// channel right after it, whichever node or clock wrote the follow;
	// without it, at the channel's head.
	ChannelSeq *int64
}

// Handler receives the messages of a subscribed stream.
type Handler func(m *Message)

// Receiver is what a Bus hands a subscribed stream's messages to: the
// node's Reliable layer, which turns what the bus delivers into each
// stream's complete sequence.
type Receiver interface {
	// Receive is called with each message of the stream the bus got. A bus
	// may drop, duplicate or reorder messages; Receive must not block.
	Receive(m *Message)
	// Lost says the bus may have dropped messages of the stream without a
	// later one to show it (a reconnect, a full buffer): the receiver
	// compares the stream with its durable log.
	Lost()
}

// Bus carries encoded events from the node whose store committed them to
// every node with a connection that needs them: transport only. The
// in-process LocalBus is the single-node default; the nats package maps each
// stream to a NATS subject and subscribes a node only to the streams its
// connections follow.
//
// Contract:
//   - Delivery is best effort: messages may be dropped, duplicated or
//     reordered. The Reliable layer in front of the hub puts each stream
//     back in order and refills holes from the durable log, once per node
//     and stream; a bus only has to call Receiver.Lost when it knows it may
//     have dropped something no later message will reveal.
//   - Subscribe returns once messages published afterwards will reach r.
//     A node calls Subscribe at most once per stream before Unsubscribe.
//   - Unsubscribe must not wait for a Receive in progress.
type Bus interface {
	Publish(ctx context.Context, msgs []*Message) error
	Subscribe(stream string, r Receiver) error
	Unsubscribe(stream string) error
}

// LocalBus is the in-process Bus of a single node: Publish calls the
// stream's receiver synchronously.
type LocalBus struct {
	// pubMu serializes publishers so that the events of one Publish call are
	// never interleaved with another's.
	pubMu sync.Mutex
	mu    sync.RWMutex
	subs  map[string]Receiver
}

// NewLocalBus returns an empty in-process bus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[string]Receiver{}} }

// Publish hands each message to its stream's receiver, if any.
func (b *LocalBus) Publish(ctx context.Context, msgs []*Message) error {
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	for _, m := range msgs {
		// The subscription lock is not held while the receiver runs: the
		// hub takes its own locks, and subscribes under them.
		b.mu.RLock()
		r := b.subs[m.Stream]
		b.mu.RUnlock()
		if r != nil {
			r.Receive(m)
		}
	}
	return nil
}

// Subscribe routes the stream's messages to r.
func (b *LocalBus) Subscribe(stream string, r Receiver) error {
	b.mu.Lock()
	b.subs[stream] = r
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
