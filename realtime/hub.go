package realtime

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

const hubShards = 64

// hub is the node's subscription index: stream -> local connections. It is
// sharded by stream so a broadcast holds only its own shard's read lock, and
// it subscribes to a stream (through the Reliable layer, on the bus) only
// while a local connection needs it.
type hub struct {
	rel     *Reliable
	writers *writerPool
	queued  *atomic.Int64 // the server's queued-bytes gauge
	seed    maphash.Seed
	shards  [hubShards]hubShard
}

type hubShard struct {
	mu    sync.RWMutex
	feeds map[string]*feed
}

// feed is a stream's local subscribers. key is the hub's copy of the
// stream's name, handed to every recipient of a broadcast.
type feed struct {
	key   string
	conns map[*conn]struct{}
}

func newHub(rel *Reliable, writers *writerPool, queued *atomic.Int64) *hub {
	h := &hub{rel: rel, writers: writers, queued: queued, seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].feeds = map[string]*feed{}
	}
	return h
}

func (h *hub) shard(stream string) *hubShard {
	return &h.shards[maphash.String(h.seed, stream)%hubShards]
}

// add subscribes c to stream. Once it returns, every message published
// afterwards on the stream reaches c.
func (h *hub) add(stream string, c *conn) error {
	s := h.shard(stream)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.feeds[stream]
	if f == nil {
		if err := h.rel.Subscribe(stream, h.handle); err != nil {
			return err
		}
		f = &feed{key: stream, conns: map[*conn]struct{}{}}
		s.feeds[stream] = f
	}
	f.conns[c] = struct{}{}
	return nil
}

// remove unsubscribes c from stream (a no-op if it was not subscribed).
func (h *hub) remove(stream string, c *conn) {
	s := h.shard(stream)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.feeds[stream]
	if f == nil {
		return
	}
	delete(f.conns, c)
	if len(f.conns) == 0 {
		delete(s.feeds, stream)
		_ = h.rel.Unsubscribe(stream)
	}
}

// handOff is how many connections a broadcast queues before handing them
// to the writers: writing starts while the rest are still being queued
// (queueing 10,000 takes several milliseconds), at one pool lock per chunk.
const handOff = 512

// handle is the bus handler: it only enqueues onto each connection.
func (h *hub) handle(m *Message) {
	s := h.shard(m.Stream)
	bc := broadcastPool.Get().(*broadcast)
	at := h.writers.broadcastStart()
	s.mu.RLock()
	var key string
	var conns map[*conn]struct{}
	if f := s.feeds[m.Stream]; f != nil {
		key, conns = f.key, f.conns
	}
	for c := range conns {
		c.deliver(m, key, bc)
		if len(bc.ready) >= handOff {
			h.handOff(bc, at)
		}
	}
	s.mu.RUnlock()
	h.handOff(bc, at)
	broadcastPool.Put(bc)
}

// handOff gives the writers the connections queued so far.
func (h *hub) handOff(bc *broadcast, at int64) {
	h.queued.Add(bc.queued) // before the writers take it off again
	bc.queued = 0
	h.writers.pushAll(bc.ready, at)
	clear(bc.ready)
	bc.ready = bc.ready[:0]
}

var broadcastPool = sync.Pool{New: func() any { return new(broadcast) }}

// subscribers returns how many local connections follow stream (tests).
func (h *hub) subscribers(stream string) int {
	s := h.shard(stream)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if f := s.feeds[stream]; f != nil {
		return len(f.conns)
	}
	return 0
}
