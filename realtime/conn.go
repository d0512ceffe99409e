package realtime

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
	"github.com/heraldhq/herald"
)

// Transport is how a stream is carried.
type Transport uint8

const (
	TransportSSE       Transport = iota // Server-Sent Events
	TransportWebSocket                  // WebSocket (RFC 6455)
)

func (t Transport) String() string {
	if t == TransportWebSocket {
		return "ws"
	}
	return "sse"
}

// Queue item operations. Items are processed by the connection's writer in
// order; the writer keeps its own copy of the cursor (wcur) so that it can
// render each SSE event's id without the broadcast path doing any work per
// recipient.
const (
	opEvent  uint8 = iota // m is an event (shared or per connection): write it, advance wcur
	opAdd                 // a stream joined at seq: set wcur, write a cursor message
	opRemove              // a stream left: drop it from wcur
	opCursor              // write a cursor message
	opPing                // heartbeat
	opPong                // WebSocket pong; m.Data is the payload
	opClose               // final message, then close; reason/code set
)

// item overhead counted against the queue limit besides the payload.
const itemOverhead = 32

type qitem struct {
	op     uint8
	code   ws.StatusCode // opClose: WebSocket close code
	m      *Message
	stream string // opAdd, opRemove; opEvent: the hub's copy of m.Stream, or ""
	seq    int64  // opAdd
	reason string // opClose
}

// eventStream is an opEvent's stream: the hub's copy of its name when the
// item came from a broadcast.
func (it *qitem) eventStream() string {
	if it.stream != "" {
		return it.stream
	}
	return it.m.Stream
}

func (it *qitem) size() int {
	if it.m != nil {
		return len(it.m.Data) + itemOverhead
	}
	return itemOverhead
}

// streamState is a connection's position in one stream. While ready is
// false (history being read, a hole being filled, a follow being joined)
// live messages wait in pending.
type streamState struct {
	seq     int64
	ready   bool
	pending []*Message
	// checks counts unfollow checks in flight: while > 0 live messages
	// are held, since the channel may be about to leave. gen changes with
	// every follow or unfollow of the channel, so that a check answered
	// before a later change doesn't act on it.
	checks int
	gen    uint64
}

type task struct {
	kind   uint8 // taskCatchUp, taskAdd, taskRemove, taskUnfollow
	stream string
	st     *streamState
	resume bool   // taskCatchUp: read history after st.seq first
	from   *int64 // taskAdd: the channel's position at the follow, nil if unknown
	gen    uint64 // taskUnfollow: st.gen at the unfollow
}

const (
	taskCatchUp uint8 = iota
	taskAdd
	taskRemove
	taskUnfollow
)

type streamPos struct {
	stream string
	seq    int64
}

// conn is one open SSE or WebSocket stream. An idle conn owns no goroutine
// but its reader (blocked in the poller) and no buffer: the writer and the
// task runner are started on demand and exit when their work is done.
type conn struct {
	srv       *Server
	tr        Transport
	accountID string
	account   string // herald.AccountStream(accountID)
	addr      string
	session   string // public id of the session that opened it
	sink      sink   // set under mu once upgraded
	reserved  bool   // holds a slot in the server's limits (server mu)

	mu      sync.Mutex
	cond    sync.Cond // signals queue drain to a history reader waiting for room
	streams map[string]*streamState
	queue   []qitem
	qbuf    [1]qitem // the queue's array while it holds one item: no allocation per delivery
	qbytes  int
	writing bool
	closing bool // no more events: only the final message is left to write
	closed  bool
	tasks   []task
	tasking bool
	waiters int
	bc      *broadcast // during a broadcast: where c's writer hand-off and queued bytes go
	// the last stream looked up by a broadcast (see stream)
	lastKey  *byte
	lastLen  int
	lastSt   *streamState
	wcur     []streamPos // writer-owned cursor, sorted by stream
	lastSeen atomic.Int64

	once sync.Once
	done chan struct{}
}

func newConn(s *Server, tr Transport, accountID, addr string) *conn {
	c := &conn{
		srv:       s,
		tr:        tr,
		accountID: accountID,
		account:   herald.AccountStream(accountID),
		addr:      addr,
		streams:   map[string]*streamState{},
		done:      make(chan struct{}),
	}
	c.cond.L = &c.mu
	c.queue = c.qbuf[:0]
	c.lastSeen.Store(time.Now().UnixNano())
	return c
}

// broadcast collects what one hub broadcast does across its recipients, so
// that shared state (the writer pool's lock, the queued-bytes gauge) is
// touched once per chunk of connections, not once per recipient.
type broadcast struct {
	ready  []*conn // connections that need a writer
	queued int64   // bytes queued, not yet added to the server's gauge
}

// deliver is called by the hub, under its shard lock, for a live message of
// a stream c subscribed to. It only enqueues.
// key is the hub's own copy of m.Stream, the same string for every
// recipient of every message of the stream: comparing it is comparing a
// pointer.
func (c *conn) deliver(m *Message, key string, bc *broadcast) {
	c.mu.Lock()
	c.bc = bc
	c.deliverLocked(m, key)
	c.bc = nil
	c.mu.Unlock()
}

func (c *conn) deliverLocked(m *Message, key string) {
	if c.closing || c.closed {
		return
	}
	st := c.stream(key)
	if st == nil {
		return // unsubscribed in the meantime: a non-follower never receives
	}
	if !st.ready {
		c.hold(st, m)
		return
	}
	// Live messages come through the node's Reliable layer: each stream's
	// complete sequence, in order. Holes were refilled there once for the
	// node; a hole that reaches here is events gone from the log.
	c.takeKeyed(st, m, key)
}

// stream returns the connection's state for a stream, remembering the last
// one asked for by the identity of its name: a broadcast then finds it
// without hashing and comparing names in the connection's map (the map's
// keys are the connection's own strings, cold in the cache). c.mu held.
func (c *conn) stream(key string) *streamState {
	if p := unsafe.StringData(key); p != nil && p == c.lastKey && len(key) == c.lastLen {
		return c.lastSt
	}
	st := c.streams[key]
	c.lastKey, c.lastLen, c.lastSt = unsafe.StringData(key), len(key), st
	return st
}

// forgetStream drops the remembered lookup; called on every change of
// c.streams. c.mu held.
func (c *conn) forgetStream() { c.lastKey, c.lastLen, c.lastSt = nil, 0, nil }

func (c *conn) hold(st *streamState, m *Message) {
	st.pending = append(st.pending, m)
	c.account1(len(m.Data) + itemOverhead)
}

// take delivers a live message if it is new, then applies what it means for
// the connection's subscriptions. c.mu held.
func (c *conn) take(st *streamState, m *Message) { c.takeKeyed(st, m, "") }

// takeKeyed is take with the hub's copy of the stream's name (or "" for
// m.Stream), which the writer's cursor then compares by identity.
func (c *conn) takeKeyed(st *streamState, m *Message, key string) {
	if m.Seq > st.seq {
		st.seq = m.Seq
		c.push(qitem{op: opEvent, m: m, stream: key})
	}
	c.sideEffects(m)
}

// sideEffects applies follow changes carried by live events, even duplicate
// ones: add and remove are idempotent, and only live events (never history)
// change subscriptions, because the followed set was read after subscribing
// to the account stream. c.mu held.
func (c *conn) sideEffects(m *Message) {
	if c.closing || c.closed {
		return
	}
	switch {
	case m.Stream == c.account && (m.Type == herald.EventChannelFollowed || m.Type == herald.EventChannelAdminAdded) && m.ChannelID != "":
		if st := c.streams[m.ChannelID]; st != nil {
			st.gen++ // followed again: an unfollow check in flight must keep it
		} else {
			st := &streamState{}
			c.streams[m.ChannelID] = st
			c.forgetStream()
			c.schedule(task{kind: taskAdd, stream: m.ChannelID, st: st, from: m.ChannelSeq})
		}
	case m.Stream == c.account && (m.Type == herald.EventChannelUnfollowed || m.Type == herald.EventChannelAdminRemoved) && m.ChannelID != "":
		// An admin's streams carry their channels whether or not they
		// follow them, a follower's whether or not they administer them:
		// ask the store (off the broadcast path) before dropping, holding
		// the channel's live events meanwhile.
		if st := c.streams[m.ChannelID]; st != nil {
			st.gen++
			st.checks++
			st.ready = false
			c.schedule(task{kind: taskUnfollow, stream: m.ChannelID, st: st, gen: st.gen})
		}
	case m.Stream != c.account && m.Type == herald.EventChannelDeleted:
		c.dropStream(m.Stream)
	}
}

func (c *conn) dropStream(stream string) {
	st := c.streams[stream]
	if st == nil {
		return
	}
	delete(c.streams, stream)
	c.forgetStream()
	c.release(st)
	c.push(qitem{op: opRemove, stream: stream})
	c.schedule(task{kind: taskRemove, stream: stream, st: st})
}

func (c *conn) release(st *streamState) {
	n := 0
	for _, m := range st.pending {
		n += len(m.Data) + itemOverhead
	}
	st.pending = nil
	c.account1(-n)
}

// account1 adds n bytes to the connection's queued bytes and cuts it off as
// a slow consumer past the limit. c.mu held.
func (c *conn) account1(n int) {
	c.qbytes += n
	if c.bc != nil {
		c.bc.queued += int64(n)
	} else {
		c.srv.queued.Add(int64(n))
	}
	if n > 0 && c.qbytes > c.srv.cfg.QueueBytes && !c.closing {
		c.fail("slow consumer", statusTryAgainLater)
	}
}

// push appends an item to the write queue and starts the writer if it is
// not running. c.mu held.
func (c *conn) push(it qitem) {
	if c.closing || c.closed {
		return
	}
	c.queue = append(c.queue, it)
	c.account1(it.size())
	c.startWriter()
}

func (c *conn) startWriter() {
	if !c.writing && !c.closed {
		c.writing = true
		if c.bc != nil {
			// In a broadcast: handed to the pool a chunk at a time.
			c.bc.ready = append(c.bc.ready, c)
			return
		}
		c.srv.writers.push(c)
	}
}

// fail drops everything queued and ends the connection with a reason,
// without blocking: the writer sends the final message if the socket takes
// it. c.mu held.
func (c *conn) fail(reason string, code ws.StatusCode) {
	if c.closing || c.closed {
		return
	}
	if reason == "slow consumer" {
		c.srv.metrics.slowConsumers.Inc()
		c.srv.log.Info("realtime stream cut", "reason", reason, "transport", c.tr.String())
	}
	c.closing = true
	c.srv.queued.Add(int64(-c.qbytes))
	c.qbytes = 0
	for _, st := range c.streams {
		st.pending = nil
	}
	c.queue = append(c.qbuf[:0], qitem{op: opClose, reason: reason, code: code})
	c.account1(itemOverhead)
	// A writer stuck on a full socket gives up soon instead of after the
	// full write timeout.
	c.sink.setWriteDeadline(time.Now().Add(finalWriteTimeout))
	c.cond.Broadcast()
	c.startWriter()
}

// shutdown ends the stream cleanly: what is queued is still written, then
// the final message.
func (c *conn) shutdown(reason string, code ws.StatusCode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.closed {
		return
	}
	c.closing = true
	c.queue = append(c.queue, qitem{op: opClose, reason: reason, code: code})
	c.account1(itemOverhead)
	c.cond.Broadcast()
	c.startWriter()
}

func (c *conn) schedule(t task) {
	c.tasks = append(c.tasks, t)
	if !c.tasking {
		c.tasking = true
		go c.runTasks()
	}
}

// runTasks performs the work that needs the database (history, heads, hub
// subscriptions), off the broadcast path, one task at a time.
func (c *conn) runTasks() {
	ctx := context.Background()
	for {
		c.mu.Lock()
		if len(c.tasks) == 0 || c.closed {
			c.tasks = nil
			c.tasking = false
			c.mu.Unlock()
			return
		}
		t := c.tasks[0]
		c.tasks = c.tasks[1:]
		c.mu.Unlock()
		if err := c.runTask(ctx, t); err != nil {
			c.srv.log.Error("realtime stream sync failed", "err", err)
			c.mu.Lock()
			c.fail("internal error", ws.StatusInternalServerError)
			c.mu.Unlock()
		}
	}
}

func (c *conn) runTask(ctx context.Context, t task) error {
	switch t.kind {
	case taskRemove:
		c.srv.hub.remove(t.stream, c)
		return nil
	case taskUnfollow:
		return c.checkUnfollow(ctx, t)
	case taskAdd:
		if err := c.srv.hub.add(t.stream, c); err != nil {
			return err
		}
		c.mu.Lock()
		gone := c.closed || c.streams[t.stream] != t.st
		c.mu.Unlock()
		if gone {
			// Closed or unfollowed while joining: finish or the remove task
			// may have run before this add.
			c.srv.hub.remove(t.stream, c)
			return nil
		}
		start, err := c.joinPosition(ctx, t.stream, t.from)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if c.streams[t.stream] == t.st {
			t.st.seq = start
			c.push(qitem{op: opAdd, stream: t.stream, seq: start})
		}
		c.mu.Unlock()
		return c.catchUp(ctx, t.stream, t.st, true)
	default:
		return c.catchUp(ctx, t.stream, t.st, t.resume)
	}
}

// checkUnfollow keeps a channel the account unfollowed if it is still among
// its streams (it administers the channel), and drops it otherwise.
func (c *conn) checkUnfollow(ctx context.Context, t task) error {
	streams, err := c.srv.events.FollowedStreams(ctx, c.accountID)
	if err != nil {
		return err
	}
	still := false
	for _, s := range streams {
		if s == t.stream {
			still = true
			break
		}
	}
	c.mu.Lock()
	if c.streams[t.stream] != t.st {
		c.mu.Unlock()
		return nil // deleted or dropped meanwhile
	}
	t.st.checks--
	if !still && t.st.gen == t.gen {
		c.dropStream(t.stream)
		c.mu.Unlock()
		return nil
	}
	pending := t.st.checks > 0 // a later unfollow's check decides
	c.mu.Unlock()
	if pending {
		return nil
	}
	// Kept: resume where delivery stopped (a catch-up may have been cut
	// short by the check), then release what was held.
	return c.catchUp(ctx, t.stream, t.st, true)
}

// joinPosition is where a channel followed on an open stream starts, so
// that what was posted between the follow and this join is delivered too:
// the channel's position the store recorded in the follow's transaction
// (pos), or, for an event without one, the current head.
func (c *conn) joinPosition(ctx context.Context, stream string, pos *int64) (int64, error) {
	if pos != nil {
		// Beyond the head or below the retained history, catchUp's read
		// resyncs as for any cursor.
		return *pos, nil
	}
	heads, err := c.srv.events.StreamHeads(ctx, []string{stream})
	if err != nil {
		return 0, err
	}
	return heads[stream], nil
}

// historyPage is how many events one EventsAfter call reads.
const historyPage = 256

// catchUp brings st from its current seq to live: it reads the history
// after st.seq when asked (a resume, a join), then releases the held live
// events in order, dropping those the history already had. This is history
// for this connection's cursor, not recovery: the held live events are the
// stream's complete sequence from the moment the connection joined (the
// Reliable layer refills holes for the node), and the history read started
// after that moment, so nothing falls between the two.
func (c *conn) catchUp(ctx context.Context, stream string, st *streamState, history bool) error {
	for {
		c.mu.Lock()
		if c.closed || c.closing || c.streams[stream] != st || st.checks > 0 {
			// checks > 0: an unfollow check resumes this when it keeps st.
			c.mu.Unlock()
			return nil
		}
		if !history {
			for len(st.pending) > 0 {
				m := st.pending[0]
				st.pending = st.pending[1:]
				c.account1(-(len(m.Data) + itemOverhead))
				c.take(st, m)
				if c.closing || c.streams[stream] != st {
					c.mu.Unlock()
					return nil
				}
			}
			st.pending = nil
			st.ready = true
			c.mu.Unlock()
			return nil
		}
		after := st.seq
		c.mu.Unlock()

		evs, ok, err := c.srv.events.EventsAfter(ctx, stream, after, historyPage)
		if err != nil {
			return err
		}
		if !ok {
			heads, err := c.srv.events.StreamHeads(ctx, []string{stream})
			if err != nil {
				return err
			}
			c.mu.Lock()
			if c.streams[stream] == st && !c.closing {
				// The head, even below the cursor (a cursor from the future:
				// a restored backup), so that what follows is delivered.
				head := heads[stream]
				st.seq = head
				c.push(qitem{op: opEvent, m: resyncMessage(stream, head)})
				c.srv.log.Info("realtime cursor too old: resync", "transport", c.tr.String())
			}
			c.mu.Unlock()
			history = false
			continue
		}
		withheld, err := c.withheld(ctx, stream, evs)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if c.streams[stream] != st || c.closing || st.checks > 0 {
			c.mu.Unlock()
			return nil
		}
		for i := range evs {
			if evs[i].Seq <= st.seq {
				continue
			}
			if withheld && strings.HasPrefix(evs[i].Type, "update.") {
				st.seq = evs[i].Seq // passed over, never replayed
				continue
			}
			m := encode(&evs[i])
			// Don't queue history faster than the client reads it: a long
			// absence must not look like a slow consumer.
			for len(c.queue) > 0 && c.qbytes+len(m.Data) > c.srv.cfg.QueueBytes/2 && !c.closing && !c.closed {
				c.waiters++
				c.cond.Wait()
				c.waiters--
			}
			if c.closing || c.closed || c.streams[stream] != st || st.checks > 0 {
				c.mu.Unlock()
				return nil
			}
			st.seq = evs[i].Seq
			c.push(qitem{op: opEvent, m: m})
		}
		c.mu.Unlock()
		if len(evs) < historyPage {
			history = false
		}
	}
}

// withheld answers whether the update events of a channel's history page
// are withheld from this connection's account (a suspended channel it
// does not administer); it asks only for a page holding update events.
func (c *conn) withheld(ctx context.Context, stream string, evs []herald.Event) (bool, error) {
	if c.srv.cfg.Withhold == nil || stream[0] == '@' {
		return false, nil
	}
	for i := range evs {
		if strings.HasPrefix(evs[i].Type, "update.") {
			w, err := c.srv.cfg.Withhold(ctx, c.accountID, stream)
			if herald.ErrorCode(err) == herald.ENOTFOUND {
				return true, nil // a suspended channel it can't even see
			}
			return w, err
		}
	}
	return false, nil
}

// resyncMessage tells the client that the stream's history after its cursor
// is gone: refetch, then continue from seq.
func resyncMessage(stream string, seq int64) *Message {
	e := herald.Event{Type: herald.EventResync, Seq: seq}
	if stream[0] == '@' {
		e.Stream = stream
	} else {
		e.ChannelID = stream
	}
	return encode(&e)
}

// wireEvent is an event as streams carry it: its update and channel
// without their "viewer" parts, which in an API answer are the caller's own
// reaction, votes, follow and role, and which one encoding shared by every
// follower can't have.
type wireEvent struct {
	herald.Event
	Update  *wireUpdate  `json:"update,omitempty"`
	Channel *wireChannel `json:"channel,omitempty"`
}

type wireChannel struct {
	*herald.Channel
	Viewer *struct{} `json:"viewer,omitempty"` // shadows Channel.Viewer: always left out
}

type wireUpdate struct {
	*herald.Update
	Viewer *struct{} `json:"viewer,omitempty"` // shadows Update.Viewer: always left out
}

// encode builds an event's Message: its JSON once for every recipient.
// Personal events carry their stream ("@" + account id); channel events are
// keyed by channel_id, so stream is omitted to save bytes.
func encode(e *herald.Event) *Message {
	stream := e.Stream
	if stream == "" {
		stream = e.ChannelID
	}
	ev := wireEvent{Event: *e}
	if ev.Stream == ev.ChannelID {
		ev.Stream = ""
	}
	if e.Update != nil {
		ev.Update = &wireUpdate{Update: e.Update}
	}
	if e.Channel != nil {
		ev.Channel = &wireChannel{Channel: e.Channel}
	}
	data, err := json.Marshal(&ev)
	if err != nil {
		// Events hold only strings, numbers and maps of them.
		panic("realtime: encode event: " + err.Error())
	}
	m := &Message{Stream: stream, Seq: e.Seq, Type: e.Type, ChannelID: e.ChannelID, Data: data}
	if e.ChannelSeq != nil {
		// A copy: the message is shared and immutable, the event is not.
		pos := *e.ChannelSeq
		m.ChannelSeq = &pos
	}
	return m
}

// setCursor sets a stream's position in the writer's cursor.
func (c *conn) setCursor(stream string, seq int64) {
	// Most connections follow a few channels: a scan beats the binary
	// search's comparisons, on every event written.
	if len(c.wcur) <= 8 {
		sp := unsafe.StringData(stream)
		for i := range c.wcur {
			p := &c.wcur[i]
			if unsafe.StringData(p.stream) == sp && len(p.stream) == len(stream) {
				p.seq = seq
				return
			}
		}
		for i := range c.wcur {
			if p := &c.wcur[i]; len(p.stream) == len(stream) && p.stream == stream {
				// Keep the caller's copy: the hub's, shared by every
				// event of the stream, matches by identity next time.
				p.stream, p.seq = stream, seq
				return
			}
		}
	}
	i := sort.Search(len(c.wcur), func(i int) bool { return c.wcur[i].stream >= stream })
	if i < len(c.wcur) && c.wcur[i].stream == stream {
		c.wcur[i].seq = seq
		return
	}
	c.wcur = append(c.wcur, streamPos{})
	copy(c.wcur[i+1:], c.wcur[i:])
	c.wcur[i] = streamPos{stream, seq}
}

func (c *conn) removeCursor(stream string) {
	i := sort.Search(len(c.wcur), func(i int) bool { return c.wcur[i].stream >= stream })
	if i < len(c.wcur) && c.wcur[i].stream == stream {
		c.wcur = append(c.wcur[:i], c.wcur[i+1:]...)
	}
}

// appendCursor renders the writer's cursor in herald.Cursor's format.
func (c *conn) appendCursor(b []byte) []byte {
	for i, p := range c.wcur {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.stream...)
		b = append(b, ':')
		b = strconv.AppendInt(b, p.seq, 10)
	}
	return b
}

// finish tears the connection down: the socket, its subscriptions, its
// slot in the limits. Idempotent; never called under a hub lock.
func (c *conn) finish() {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.closing = true
		c.srv.queued.Add(int64(-c.qbytes))
		c.qbytes = 0
		c.queue = nil
		streams := make([]string, 0, len(c.streams))
		for s, st := range c.streams {
			st.pending = nil
			streams = append(streams, s)
		}
		c.cond.Broadcast()
		snk := c.sink
		c.mu.Unlock()
		snk.close()
		for _, s := range streams {
			c.srv.hub.remove(s, c)
		}
		c.srv.untrack(c)
		close(c.done)
	})
}
