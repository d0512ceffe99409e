package realtime

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// The WebSocket side is a small RFC 6455 server (no extensions, no
// subprotocol) rather than a general library: the stream only writes text
// frames and reads control frames, and owning the socket lets an idle
// connection cost one parked reader goroutine and no buffers, which is what
// keeps 10,000 followers within a few KiB each. The tests check it against
// github.com/coder/websocket's client.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxClientMessage bounds what a client may send: the stream is one-way.
const maxClientMessage = 4096

// wsHandshakeError says why an upgrade request was refused.
func checkWSRequest(r *http.Request) (kind, detail string, status int) {
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return "websocket-handshake", "This endpoint speaks WebSocket: send Connection: Upgrade and Upgrade: websocket.", http.StatusBadRequest
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return "websocket-version", "Only WebSocket version 13 is supported.", http.StatusUpgradeRequired
	}
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key"))
	if err != nil || len(key) != 16 {
		return "websocket-handshake", "Missing or malformed Sec-WebSocket-Key.", http.StatusBadRequest
	}
	return "", "", 0
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(wsGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// originAllowed reports whether a browser page at the request's Origin may
// open a stream with the user's credentials: the server's own origin (the
// request's Host, or PublicURL's), or one of the allow-list (an origin such
// as "https://app.example.com", or a host pattern such as "*.example.com").
// Requests without Origin come from non-browser clients and are allowed.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if s.publicOrigin != "" && strings.EqualFold(origin, s.publicOrigin) {
		return true
	}
	for _, a := range s.cfg.AllowedOrigins {
		if strings.Contains(a, "://") {
			if strings.EqualFold(strings.TrimRight(a, "/"), origin) {
				return true
			}
			continue
		}
		if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(u.Host)); ok {
			return true
		}
	}
	return false
}

// readWS reads the client's frames until the connection ends: pings are
// answered, pongs and any frame prove the client alive, a close is echoed.
// Data frames are read and dropped (the stream is one-way). It uses a small
// array on its own stack and allocates nothing while idle.
func (c *conn) readWS(rd io.Reader) {
	defer c.finish()
	var buf [14 + 125]byte
	discarded := 0
	for {
		if _, err := io.ReadFull(rd, buf[:2]); err != nil {
			return
		}
		c.lastSeen.Store(time.Now().UnixNano())
		fin, rsv, opcode := buf[0]&0x80 != 0, buf[0]&0x70, buf[0]&0x0F
		masked, n := buf[1]&0x80 != 0, int64(buf[1]&0x7F)
		if rsv != 0 || !masked {
			c.closeWS(closeProtocolError, "protocol error")
			return
		}
		switch n {
		case 126:
			if _, err := io.ReadFull(rd, buf[:2]); err != nil {
				return
			}
			n = int64(binary.BigEndian.Uint16(buf[:2]))
		case 127:
			if _, err := io.ReadFull(rd, buf[:8]); err != nil {
				return
			}
			n = int64(binary.BigEndian.Uint64(buf[:8]))
		}
		var mask [4]byte
		if _, err := io.ReadFull(rd, mask[:]); err != nil {
			return
		}
		if opcode >= opCloseFrame {
			if !fin || n > 125 {
				c.closeWS(closeProtocolError, "protocol error")
				return
			}
			p := buf[:n]
			if _, err := io.ReadFull(rd, p); err != nil {
				return
			}
			for i := range p {
				p[i] ^= mask[i&3]
			}
			switch opcode {
			case opPingFrame:
				c.mu.Lock()
				c.push(qitem{op: opPong, m: &Message{Data: append([]byte(nil), p...)}})
				c.mu.Unlock()
			case opCloseFrame:
				code := uint16(1000)
				if len(p) >= 2 {
					code = binary.BigEndian.Uint16(p)
				}
				if code == 1005 || code == 1006 || code < 1000 {
					code = 1000
				}
				c.closeWS(code, "")
				return
			case opPongFrame:
			default:
				c.closeWS(closeProtocolError, "protocol error")
				return
			}
			continue
		}
		if opcode != opContinuation && opcode != opText && opcode != opBinary {
			c.closeWS(closeProtocolError, "protocol error")
			return
		}
		discarded += int(min(n, maxClientMessage+1))
		if n > maxClientMessage || discarded > maxClientMessage {
			c.closeWS(closeTooBig, "client messages are not accepted")
			return
		}
		if _, err := io.CopyN(io.Discard, rd, n); err != nil {
			return
		}
		if fin {
			discarded = 0
		}
	}
}

// closeWS sends a close frame and waits (bounded) for the writer to flush
// it before the deferred finish drops the socket.
func (c *conn) closeWS(code uint16, reason string) {
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
