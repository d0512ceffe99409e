package realtime

import (
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Coalescing caps: one write carries at most this much of the queue.
const (
	batchItems = 16
	batchBytes = 64 << 10
)

// finalWriteTimeout bounds the final message (close reason) and the wait for
// the client to close its side.
const finalWriteTimeout = time.Second

// statusTryAgainLater closes a slow consumer: reconnect (with backoff) and
// resume. RFC 6455's registry has it; gobwas/ws names only the RFC's codes.
const statusTryAgainLater ws.StatusCode = 1013

// outBuf is a writer's scratch: the rendered batch, and the header bytes
// ws.WriteHeaderBuffer needs. Write buffers are borrowed only while a
// writer runs, so an idle connection holds none.
type outBuf struct {
	b   []byte
	hdr [ws.MaxHeaderSize]byte
	at  []byte // where Write puts a frame header: a reserved gap in b, or nil to append
}

// Write receives frame headers from ws.WriteHeaderBuffer.
func (o *outBuf) Write(p []byte) (int, error) {
	if o.at != nil {
		return copy(o.at, p), nil
	}
	o.b = append(o.b, p...)
	return len(p), nil
}

// frame appends a whole (control) frame.
func (o *outBuf) frame(op ws.OpCode, p []byte) {
	_ = ws.WriteHeaderBuffer(o, ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}, o.hdr[:])
	o.b = append(o.b, p...)
}

var bufPool = sync.Pool{New: func() any { return &outBuf{b: make([]byte, 0, 4096)} }}

// sink is where a connection's bytes go: a hijacked socket, or (when the
// ResponseWriter can't be hijacked, e.g. HTTP/2) the ResponseWriter.
type sink interface {
	write(p []byte, deadline time.Time) error
	// tryWrite writes what it can without blocking; ok is false when the
	// sink can't write without blocking at all (then nothing was written).
	tryWrite(p []byte) (n int, ok bool, err error)
	setWriteDeadline(t time.Time)
	// closeGracefully signals end of stream after the final message and lets
	// the peer close first (bounded); close drops the connection now.
	closeGracefully()
	close()
}

// netSink writes a hijacked connection. Where the system allows it (Linux,
// rawwrite_linux.go) a delivery is first tried with a non-blocking write
// system call; elsewhere, and when that would block, it is a plain
// net.Conn write with a deadline.
type netSink struct {
	nc net.Conn
	rw *rawWriter // nil when the socket can't be written without blocking
}

// tryWrite writes what the socket takes now, without waiting. Only the
// connection's one active writer calls it.
func (s netSink) tryWrite(p []byte) (int, bool, error) {
	if s.rw == nil {
		return 0, false, nil
	}
	n, err := s.rw.write(p)
	return n, true, err
}

func (s netSink) write(p []byte, deadline time.Time) error {
	_ = s.nc.SetWriteDeadline(deadline)
	_, err := s.nc.Write(p)
	return err
}

func (s netSink) setWriteDeadline(t time.Time) { _ = s.nc.SetWriteDeadline(t) }

func (s netSink) closeGracefully() {
	// Half-close and let the reader see the peer's close (or time out)
	// instead of resetting a connection with unread data, which could
	// destroy the final message before the client reads it.
	if cw, ok := s.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = s.nc.SetReadDeadline(time.Now().Add(finalWriteTimeout))
		return
	}
	_ = s.nc.Close()
}

func (s netSink) close() {
	if s.rw != nil {
		s.rw.close()
		return
	}
	_ = s.nc.Close()
}

type httpSink struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	done chan struct{} // closed to make the handler return
	once *sync.Once
}

func (s httpSink) write(p []byte, deadline time.Time) error {
	_ = s.rc.SetWriteDeadline(deadline)
	if _, err := s.w.Write(p); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s httpSink) setWriteDeadline(t time.Time)         { _ = s.rc.SetWriteDeadline(t) }
func (s httpSink) tryWrite(p []byte) (int, bool, error) { return 0, false, nil }
func (s httpSink) closeGracefully()                     { s.close() }
func (s httpSink) close()                               { s.once.Do(func() { close(s.done) }) }

// takeBatch moves up to batchItems / batchBytes of the queue into batch.
// It returns 0 (and clears writing) when there is nothing to write.
func (c *conn) takeBatch(batch *[batchItems]qitem, st *writeStats) (n int, closing bool, snk sink) {
	c.mu.Lock()
	defer c.mu.Unlock()
	size := 0
	for n < len(c.queue) && n < batchItems && (n == 0 || size+c.queue[n].size() <= batchBytes) {
		batch[n] = c.queue[n]
		size += c.queue[n].size()
		c.queue[n] = qitem{}
		n++
	}
	if n == 0 || c.closed {
		c.writing = false
		return 0, false, nil
	}
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = c.qbuf[:0] // an idle connection keeps no queue array of its own
	}
	c.qbytes -= size
	if st != nil {
		st.dequeued += int64(size)
	} else {
		c.srv.queued.Add(int64(-size))
	}
	if c.waiters > 0 {
		c.cond.Broadcast() // a history reader waits for room
	}
	return n, c.closing, c.sink
}

// afterWrite handles a batch fully written; it reports whether the stream
// ended.
func (c *conn) afterWrite(snk sink, events int, final bool, st *writeStats) bool {
	if st != nil {
		st.delivered += uint64(events)
		st.writes++
	} else {
		c.srv.metrics.delivered.Add(uint64(events))
		c.srv.metrics.writes.Add(1)
	}
	if !final {
		return false
	}
	// The reader (or the handler, for an httpSink) finishes.
	snk.closeGracefully()
	c.mu.Lock()
	c.writing = false
	c.queue = c.qbuf[:0]
	c.mu.Unlock()
	return true
}

// turnBatches bounds how many batches a pool worker writes for one
// connection before serving the others (a long history replay must not
// hold a worker).
const turnBatches = 4

// writeTurn is a pool worker's turn on a connection: it writes what the
// socket takes without blocking. It returns true if the connection still
// has work and must be queued again; when the socket is full it hands the
// connection to a goroutine of its own that waits (with the write
// deadline), so one stuck client never holds a worker.
func (c *conn) writeTurn(o *outBuf, st *writeStats) bool {
	var batch [batchItems]qitem
	for range turnBatches {
		n, _, snk := c.takeBatch(&batch, st)
		if n == 0 {
			return false
		}
		events, final := c.render(o, batch[:n])
		clear(batch[:n])
		w, ok, err := snk.tryWrite(o.b)
		if !ok {
			go c.writeLoop(append([]byte(nil), o.b...), events, final)
			return false
		}
		if err != nil {
			c.finish()
			c.stopWriting()
			return false
		}
		if w < len(o.b) {
			go c.writeLoop(append([]byte(nil), o.b[w:]...), events, final)
			return false
		}
		if c.afterWrite(snk, events, final, st) {
			return false
		}
	}
	return true
}

// writeLoop writes pending (the rest of a batch the socket did not take)
// and then drains the queue with blocking, deadline-bounded writes, until
// the queue is empty.
func (c *conn) writeLoop(pending []byte, pendingEvents int, pendingFinal bool) {
	c.mu.Lock()
	closing, snk := c.closing, c.sink
	c.mu.Unlock()
	if pending != nil {
		if !c.blockingWrite(snk, pending, closing) {
			return
		}
		if c.afterWrite(snk, pendingEvents, pendingFinal, nil) {
			return
		}
	}
	o := bufPool.Get().(*outBuf)
	defer func() {
		if cap(o.b) <= 4*batchBytes {
			o.b = o.b[:0]
			bufPool.Put(o)
		}
	}()
	var batch [batchItems]qitem
	for {
		n, closing, snk := c.takeBatch(&batch, nil)
		if n == 0 {
			return
		}
		events, final := c.render(o, batch[:n])
		clear(batch[:n])
		if !c.blockingWrite(snk, o.b, closing) {
			return
		}
		if c.afterWrite(snk, events, final, nil) {
			return
		}
	}
}

func (c *conn) blockingWrite(snk sink, p []byte, closing bool) bool {
	timeout := c.srv.cfg.WriteTimeout
	if closing {
		timeout = finalWriteTimeout
	}
	if err := snk.write(p, time.Now().Add(timeout)); err != nil {
		c.finish()
		c.stopWriting()
		return false
	}
	return true
}

// stopWriting marks the writer gone after a failed write (the connection
// is finished; nothing more will be written).
func (c *conn) stopWriting() {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
}

// writerPool is a few goroutines that write for every connection with
// something queued: a delivery costs a write, not a goroutine, and the
// scheduler's run queue stays short while 10,000 followers are served.
type writerPool struct {
	metrics *metrics
	queued  *atomic.Int64
	linger  int64 // nanoseconds a connection waits for more events before its write
	// lastBroadcast is when the latest broadcast started (unix ns).
	lastBroadcast atomic.Int64
	mu            sync.Mutex
	cond          sync.Cond
	ready         []readyConn
	head          int
	idle          int
	stop          bool
}

type readyConn struct {
	c  *conn
	at int64 // when it became ready
}

func nanotime() int64 { return time.Now().UnixNano() }

// writeStats is a pool worker's share of the metrics, added to the shared
// counters when it pauses: two writers updating the same counters on every
// write would pass their cache line back and forth.
type writeStats struct {
	delivered, writes uint64
	dequeued          int64
}

func (p *writerPool) flush(st *writeStats) {
	if st.writes == 0 && st.dequeued == 0 {
		return
	}
	p.queued.Add(-st.dequeued)
	p.metrics.delivered.Add(st.delivered)
	p.metrics.writes.Add(st.writes)
	*st = writeStats{}
}

func newWriterPool(workers int, linger time.Duration, m *metrics, queued *atomic.Int64) *writerPool {
	p := &writerPool{linger: int64(linger), metrics: m, queued: queued}
	p.cond.L = &p.mu
	for range workers {
		go p.work()
	}
	return p
}

func (p *writerPool) push(c *conn) {
	p.mu.Lock()
	p.ready = append(p.ready, readyConn{c, nanotime()})
	// Wake a worker only if one sleeps: a broadcast to 10,000 followers
	// would otherwise make 10,000 futex calls.
	wake := p.idle > 0
	p.mu.Unlock()
	if wake {
		p.cond.Signal()
	}
}

// quietGap is how long without broadcasts makes the next one "alone": its
// writes go out at once instead of lingering for events that, at that pace,
// are not coming.
const quietGap = 50 * time.Millisecond

// broadcastStart notes a broadcast and returns the time its connections
// count their linger from: now while broadcasts come back to back (they then
// share writes), or far enough in the past that nobody waits when it comes
// alone.
func (p *writerPool) broadcastStart() int64 {
	now := nanotime()
	last := p.lastBroadcast.Swap(now)
	if now-last > int64(quietGap) {
		return now - p.linger
	}
	return now
}

// pushAll queues connections a broadcast made ready, in one lock; at is
// when their linger started (broadcastStart).
func (p *writerPool) pushAll(cs []*conn, at int64) {
	if len(cs) == 0 {
		return
	}
	p.mu.Lock()
	for _, c := range cs {
		p.ready = append(p.ready, readyConn{c, at})
	}
	wake := p.idle > 0
	p.mu.Unlock()
	if wake {
		p.cond.Broadcast()
	}
}

func (p *writerPool) close() {
	p.mu.Lock()
	p.stop = true
	p.mu.Unlock()
	p.cond.Broadcast()
}

// popBatch is how many ready connections a worker takes per lock of the
// pool: the broadcaster and both workers would otherwise pass the pool's
// lock around on every delivery.
const popBatch = 16

func (p *writerPool) work() {
	o := bufPool.Get().(*outBuf)
	turns := 0
	var st writeStats
	var local [popBatch]readyConn
	for {
		p.mu.Lock()
		if p.head == len(p.ready) {
			p.mu.Unlock()
			p.flush(&st)
			p.mu.Lock()
		}
		for p.head == len(p.ready) && !p.stop {
			p.idle++
			p.cond.Wait()
			p.idle--
		}
		if p.head == len(p.ready) {
			p.mu.Unlock()
			return
		}
		n := copy(local[:], p.ready[p.head:])
		clear(p.ready[p.head : p.head+n])
		p.head += n
		if p.head == len(p.ready) {
			p.ready, p.head = p.ready[:0], 0
		}
		p.mu.Unlock()
		now := nanotime()
		for i := range n {
			rc := local[i]
			local[i] = readyConn{}
			// Linger: events posted back to back then share one write
			// (and one read by the client) instead of costing a syscall
			// each. The queue is in order, so only the first connections
			// of a burst wait.
			if d := rc.at + p.linger - now; d > 0 {
				time.Sleep(time.Duration(d))
				now = nanotime()
			}
			if rc.c.writeTurn(o, &st) {
				p.push(rc.c)
			}
			// Let request handlers (the next post) run between turns: a
			// fan-out to thousands must not delay the work that feeds it.
			if turns++; turns%32 == 0 {
				p.flush(&st)
				runtime.Gosched()
			}
			if cap(o.b) > 4*batchBytes {
				o.b = make([]byte, 0, 4096)
			}
		}
	}
}

// render encodes a batch in the connection's protocol and reports how many
// events it holds and whether it ends the stream.
func (c *conn) render(o *outBuf, items []qitem) (events int, final bool) {
	if c.tr == TransportWebSocket {
		return c.renderWS(o, items)
	}
	o.b, events, final = c.renderSSE(o.b[:0], items)
	return events, final
}

var cursorPrefix = []byte(`{"type":"cursor","cursor":"`)

func (c *conn) renderSSE(b []byte, items []qitem) ([]byte, int, bool) {
	events := 0
	final := false
	for i := range items {
		it := &items[i]
		switch it.op {
		case opEvent:
			c.setCursor(it.eventStream(), it.m.Seq)
			b = append(b, "id: "...)
			b = c.appendCursor(b)
			b = append(b, "\ndata: "...)
			b = append(b, it.m.Data...)
			b = append(b, "\n\n"...)
			events++
		case opAdd, opCursor:
			if it.op == opAdd {
				c.setCursor(it.stream, it.seq)
			}
			b = append(b, "id: "...)
			b = c.appendCursor(b)
			b = append(b, "\ndata: "...)
			b = append(b, cursorPrefix...)
			b = c.appendCursor(b)
			b = append(b, "\"}\n\n"...)
		case opRemove:
			c.removeCursor(it.stream)
		case opPing:
			b = append(b, ": ping\n\n"...)
		case opClose:
			b = append(b, "event: error\ndata: {\"type\":\"error\",\"reason\":\""...)
			b = append(b, it.reason...)
			b = append(b, "\"}\n\n"...)
			final = true
		}
	}
	return b, events, final
}

// renderWS writes the batch's events as one text frame of newline-separated
// JSON events, preceded by any control frames and followed by a close frame.
func (c *conn) renderWS(o *outBuf, items []qitem) (int, bool) {
	// Room for the longest header of an unmasked frame, filled in once the
	// payload's length is known.
	const reserve = 10
	b := append(o.b[:0], make([]byte, reserve)...)
	events, data := 0, false
	sep := func() {
		if data {
			b = append(b, '\n')
		}
		data = true
	}
	var ctrl []qitem
	for i := range items {
		it := &items[i]
		switch it.op {
		case opEvent:
			c.setCursor(it.eventStream(), it.m.Seq)
			sep()
			b = append(b, it.m.Data...)
			events++
		case opAdd, opCursor:
			if it.op == opAdd {
				c.setCursor(it.stream, it.seq)
			}
			sep()
			b = append(b, cursorPrefix...)
			b = c.appendCursor(b)
			b = append(b, `"}`...)
		case opRemove:
			c.removeCursor(it.stream)
		default:
			ctrl = append(ctrl, *it)
		}
	}
	start := reserve
	if data {
		h := ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(b) - reserve)}
		start = reserve - ws.HeaderSize(h)
		o.at = b[start:reserve]
		_ = ws.WriteHeaderBuffer(o, h, o.hdr[:])
		o.at = nil
	}
	// Move the frames to the front so the buffer can be reused as is.
	o.b = b[:copy(b, b[start:])]
	final := false
	for _, it := range ctrl {
		switch it.op {
		case opPing:
			o.frame(ws.OpPing, nil)
		case opPong:
			o.frame(ws.OpPong, it.m.Data)
		case opClose:
			o.frame(ws.OpClose, ws.NewCloseFrameBody(it.code, it.reason))
			final = true
		}
	}
	return events, final
}
