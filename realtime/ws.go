package realtime

import (
	"io"
	"time"

	"github.com/gobwas/ws"
)

// The WebSocket protocol (handshake, frame headers, masking, close codes)
// is github.com/gobwas/ws: its low-level API works on a hijacked net.Conn
// and leaves buffers and goroutines to the caller, so an idle connection
// costs one parked reader goroutine with a 12-byte header array and no
// buffer, which keeps 10,000 followers near 10 KiB each. Not
// github.com/coder/websocket (v1.8.15, whose client the tests use to check
// us): its Conn keeps the hijacked bufio.Reader and bufio.Writer (4 KiB
// each) for its life, and its blocking Reader API needs a goroutine per
// connection to answer control frames (CloseRead starts one).

// maxClientMessage bounds what a client may send: the stream is one-way.
const maxClientMessage = 4096

// readWS reads the client's frames until the connection ends: pings are
// answered, pongs and any frame prove the client alive, a close is echoed.
// Data frames are read and dropped (the stream is one-way). An idle reader
// holds only the header scratch ws.ReadHeaderBuffer needs; a control
// frame's payload (rare: pings, the close) is allocated when one comes.
func (c *conn) readWS(rd io.Reader) {
	defer c.finish()
	hdr := new([ws.MaxHeaderSize - 2]byte)
	state := ws.StateServerSide
	discarded := int64(0)
	for {
		h, err := ws.ReadHeaderBuffer(rd, hdr[:0])
		if err != nil {
			return
		}
		c.lastSeen.Store(time.Now().UnixNano())
		if err := ws.CheckHeader(h, state); err != nil {
			c.closeWS(ws.StatusProtocolError, "protocol error")
			return
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(rd, p); err != nil {
				return
			}
			ws.Cipher(p, h.Mask, 0)
			switch h.OpCode {
			case ws.OpPing:
				c.mu.Lock()
				c.push(qitem{op: opPong, m: &Message{Data: p}})
				c.mu.Unlock()
			case ws.OpClose:
				// Echo a valid code (RFC 6455 5.5.1); an empty close gets 1000.
				code, reason := ws.ParseCloseFrameDataUnsafe(p)
				switch {
				case len(p) == 0:
					code = ws.StatusNormalClosure
				case len(p) == 1 || ws.CheckCloseFrameData(code, reason) != nil:
					c.closeWS(ws.StatusProtocolError, "protocol error")
					return
				}
				c.closeWS(code, "")
				return
			}
			continue
		}
		if h.OpCode != ws.OpContinuation && h.OpCode != ws.OpText && h.OpCode != ws.OpBinary {
			c.closeWS(ws.StatusProtocolError, "protocol error")
			return
		}
		discarded += min(h.Length, maxClientMessage+1)
		if h.Length > maxClientMessage || discarded > maxClientMessage {
			c.closeWS(ws.StatusMessageTooBig, "client messages are not accepted")
			return
		}
		if _, err := io.CopyN(io.Discard, rd, h.Length); err != nil {
			return
		}
		if h.Fin {
			discarded = 0
			state = state.Clear(ws.StateFragmented)
		} else {
			state = state.Set(ws.StateFragmented)
		}
	}
}

// closeWS sends a close frame and waits (bounded) for the writer to flush
// it before the deferred finish drops the socket.
func (c *conn) closeWS(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if c.closing || c.closed {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.queue = append(c.queue, qitem{op: opClose, code: code, reason: reason})
	c.account1(itemOverhead)
	c.startWriter()
	c.mu.Unlock()
	t := time.NewTimer(finalWriteTimeout)
	defer t.Stop()
	for {
		c.mu.Lock()
		idle := !c.writing || c.closed
		c.mu.Unlock()
		if idle {
			return
		}
		select {
		case <-t.C:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// readSSE waits for the client to go away: an SSE client sends nothing
// after its request.
func (c *conn) readSSE(rd io.Reader) {
	defer c.finish()
	var buf [64]byte
	for {
		if _, err := rd.Read(buf[:]); err != nil {
			return
		}
	}
}
