package realtime

import (
	"hash/maphash"
	"sync"
)

const hubShards = 64

// hub is the node's subscription index: stream -> local connections. It is
// sharded by stream so a broadcast holds only its own shard's read lock, and
// it subscribes the bus to a stream only while a local connection needs it.
type hub struct {
	bus     Bus
	writers *writerPool
	seed    maphash.Seed
	shards  [hubShards]hubShard
}

type hubShard struct {
	mu    sync.RWMutex
	feeds map[string]map[*conn]struct{}
}

func newHub(bus Bus, writers *writerPool) *hub {
	h := &hub{bus: bus, writers: writers, seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].feeds = map[string]map[*conn]struct{}{}
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
		if err := h.bus.Subscribe(stream, h.handle); err != nil {
			return err
		}
		f = map[*conn]struct{}{}
		s.feeds[stream] = f
	}
	f[c] = struct{}{}
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
	delete(f, c)
	if len(f) == 0 {
		delete(s.feeds, stream)
		_ = h.bus.Unsubscribe(stream)
	}
}

// handle is the bus handler: it only enqueues onto each connection.
func (h *hub) handle(m *Message) {
	s := h.shard(m.Stream)
	bp := readyPool.Get().(*[]*conn)
	s.mu.RLock()
	for c := range s.feeds[m.Stream] {
		c.deliver(m, bp)
	}
	s.mu.RUnlock()
	h.writers.pushAll(*bp)
	clear(*bp)
	*bp = (*bp)[:0]
	readyPool.Put(bp)
}

var readyPool = sync.Pool{New: func() any { return new([]*conn) }}

// subscribers returns how many local connections follow stream (tests).
func (h *hub) subscribers(stream string) int {
	s := h.shard(stream)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.feeds[stream])
}
