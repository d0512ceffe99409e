// Package stream is a small Go reader of Herald's real-time streams (SSE
// and WebSocket) that keeps the resume cursor as events arrive. The tests
// and `herald-bench` use it; it is also a reference for clients.
//
// Cursor rules (the same in every client): an event with seq > 0 moves its
// stream to seq, where the stream is the event's "stream" field if present
// (personal events: "@" + account id) and its "channel_id" otherwise; a
// "cursor" message replaces the whole cursor (sent first on every
// connection and when a followed channel joins the stream); a "resync" event
// moves its stream to the given seq after the client refetched that
// channel. SSE ids are the cursor itself.
package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/heraldhq/herald"
)

// Message types besides herald.Event* types.
const (
	TypeCursor = "cursor" // {"type":"cursor","cursor":"..."}
	TypeError  = "error"  // final SSE event: {"type":"error","reason":"..."}
)

// Event is one message of a stream.
type Event struct {
	herald.Event
	Cursor string `json:"cursor,omitempty"` // TypeCursor
	Reason string `json:"reason,omitempty"` // TypeError
	ID     string `json:"-"`                // SSE id
}

// Key is the stream the event belongs to.
func (e *Event) Key() string {
	if e.Stream != "" {
		return e.Stream
	}
	return e.ChannelID
}

// CloseError is the end of a stream announced by the server: a WebSocket
// close frame or the final SSE error event.
type CloseError struct {
	Code   int // WebSocket close code; 0 for SSE
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("stream closed by server: code=%d reason=%q", e.Code, e.Reason)
}

// StatusError is a refused stream request.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string { return fmt.Sprintf("stream refused: %d %s", e.Status, e.Body) }

// Options tune Dial.
type Options struct {
	Token  string
	Since  herald.Cursor // resume position; nil starts at the current heads
	Header http.Header   // extra request headers (Origin, ...)
	Dialer *net.Dialer
}

// Conn is an open stream.
type Conn struct {
	ws     bool
	nc     net.Conn
	br     *bufio.Reader
	body   io.Closer
	wmu    sync.Mutex
	frame  []byte // WS: the last frame read
	hdr    [ws.MaxHeaderSize - 2]byte
	rest   []byte // WS: events of the frame not yet returned
	cursor herald.Cursor
	err    error
}

// Dial opens a stream. transport is "sse" or "ws"; base is the server's URL
// (http://host:port).
func Dial(ctx context.Context, base, transport string, o Options) (*Conn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if len(o.Since) > 0 {
		q.Set("since", o.Since.String())
	}
	c := &Conn{cursor: herald.Cursor{}}
	for k, v := range o.Since {
		c.cursor[k] = v
	}
	d := o.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: 10 * time.Second}
	}
	switch transport {
	case "sse":
		u.Path = "/api/v1/events"
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		for k, v := range o.Header {
			req.Header[k] = v
		}
		if o.Token != "" {
			req.Header.Set("Authorization", "Bearer "+o.Token)
		}
		req.Header.Set("Accept", "text/event-stream")
		// One transport per stream: a plain TCP connection we can close.
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := d.DialContext(ctx, network, addr)
			c.nc = nc
			return nc, err
		}, DisableCompression: true, ReadBufferSize: 1024, WriteBufferSize: 1024}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return nil, &StatusError{resp.StatusCode, string(b)}
		}
		c.body = resp.Body
		c.br = bufio.NewReaderSize(resp.Body, 2048)
		return c, nil
	case "ws":
		u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
		u.Path = "/api/v1/ws"
		u.RawQuery = q.Encode()
		h := http.Header{}
		for k, v := range o.Header {
			h[k] = v
		}
		if o.Token != "" {
			h.Set("Authorization", "Bearer "+o.Token)
		}
		var refused *StatusError
		wd := ws.Dialer{
			Header:         ws.HandshakeHeaderHTTP(h),
			NetDial:        d.DialContext,
			ReadBufferSize: 2048,
			OnStatusError: func(status int, _ []byte, resp io.Reader) {
				refused = &StatusError{Status: status}
				if r, err := http.ReadResponse(bufio.NewReader(resp), nil); err == nil {
					b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
					refused.Body = string(b)
				}
			},
		}
		nc, br, _, err := wd.Dial(ctx, u.String())
		if refused != nil {
			return nil, refused
		}
		if err != nil {
			return nil, err
		}
		if br == nil {
			br = bufio.NewReaderSize(nc, 2048)
		}
		c.nc, c.br, c.ws = nc, br, true
		return c, nil
	}
	return nil, fmt.Errorf("stream: unknown transport %q", transport)
}

// Cursor returns a copy of the position after the last event returned.
func (c *Conn) Cursor() herald.Cursor {
	cp := make(herald.Cursor, len(c.cursor))
	for k, v := range c.cursor {
		cp[k] = v
	}
	return cp
}

// SetReadDeadline bounds the next reads.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.nc == nil {
		return nil
	}
	return c.nc.SetReadDeadline(t)
}

// Close drops the connection.
func (c *Conn) Close() error {
	if c.body != nil {
		c.body.Close()
	}
	if c.nc != nil {
		return c.nc.Close()
	}
	return nil
}

// Next returns the next message, decoded, with the cursor advanced. At the
// server's close it returns a *CloseError.
func (c *Conn) Next() (*Event, error) {
	data, id, err := c.next()
	if err != nil {
		return nil, err
	}
	e := &Event{ID: id}
	if err := json.Unmarshal(data, e); err != nil {
		return nil, fmt.Errorf("stream: bad event %q: %w", data, err)
	}
	switch {
	case e.Type == TypeCursor:
		cur, err := herald.ParseCursor(e.Cursor)
		if err != nil {
			return nil, err
		}
		c.cursor = cur
	case e.Type == TypeError:
		c.err = &CloseError{Reason: e.Reason}
		return e, nil
	case e.Seq > 0 || e.Type == herald.EventResync:
		c.cursor[e.Key()] = e.Seq
	}
	if id != "" {
		// The SSE id is the whole cursor; it must agree with ours.
		if cur, err := herald.ParseCursor(id); err == nil {
			c.cursor = cur
		}
	}
	return e, nil
}

// NextData returns the next message's raw JSON without decoding it or
// moving the cursor (load generators). The slice is valid until the next call.
func (c *Conn) NextData() ([]byte, error) {
	data, _, err := c.next()
	return data, err
}

func (c *Conn) next() (data []byte, id string, err error) {
	if c.err != nil {
		return nil, "", c.err
	}
	if c.ws {
		data, err = c.nextWS()
	} else {
		data, id, err = c.nextSSE()
	}
	if err != nil && c.err == nil {
		// A read deadline is not the end of the stream; anything else is.
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			c.err = err
		}
	}
	return data, id, err
}

func (c *Conn) nextSSE() ([]byte, string, error) {
	var data []byte
	var id, event string
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			if err == bufio.ErrBufferFull {
				// Copy before reading on: ReadSlice's result is overwritten.
				long := append([]byte(nil), line...)
				rest, err2 := c.br.ReadBytes('\n')
				line = append(long, rest...)
				err = err2
			}
			if err != nil {
				return nil, "", err
			}
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if data == nil {
				continue
			}
			if event == "error" {
				return data, id, nil
			}
			return data, id, nil
		case line[0] == ':':
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, v...)
		case bytes.HasPrefix(line, []byte("id:")):
			id = strings.TrimPrefix(strings.TrimPrefix(string(line), "id:"), " ")
		case bytes.HasPrefix(line, []byte("event:")):
			event = strings.TrimSpace(strings.TrimPrefix(string(line), "event:"))
		}
	}
}

func (c *Conn) nextWS() ([]byte, error) {
	for len(c.rest) == 0 {
		h, err := ws.ReadHeaderBuffer(c.br, c.hdr[:0])
		if err != nil {
			return nil, err
		}
		if err := ws.CheckHeader(h, ws.StateClientSide); err != nil {
			return nil, err
		}
		if h.Length > 16<<20 {
			return nil, errors.New("stream: frame too large")
		}
		// The frame buffer is reused: callers own a message only until
		// the next call.
		if int64(cap(c.frame)) < h.Length {
			c.frame = make([]byte, h.Length)
		}
		p := c.frame[:h.Length]
		if _, err := io.ReadFull(c.br, p); err != nil {
			return nil, err
		}
		switch h.OpCode {
		case ws.OpText, ws.OpContinuation:
			if !h.Fin {
				return nil, errors.New("stream: fragmented frames are not expected")
			}
			c.rest = p
		case ws.OpPing:
			if err := c.writeFrame(ws.OpPong, p); err != nil {
				return nil, err
			}
		case ws.OpClose:
			ce := &CloseError{Code: int(ws.StatusNoStatusRcvd)}
			if len(p) >= 2 {
				code, reason := ws.ParseCloseFrameData(p)
				ce.Code, ce.Reason = int(code), reason
			}
			_ = c.writeFrame(ws.OpClose, p[:min(len(p), 2)])
			return nil, ce
		}
	}
	// One frame holds newline-separated events.
	l := c.rest
	if i := bytes.IndexByte(l, '\n'); i >= 0 {
		l, c.rest = l[:i], l[i+1:]
	} else {
		c.rest = nil
	}
	return l, nil
}

// writeFrame sends a masked client frame (a control frame: p is short).
func (c *Conn) writeFrame(op ws.OpCode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	f := ws.MaskFrame(ws.NewFrame(op, true, p))
	b, err := ws.CompileFrame(f)
	if err != nil {
		return err
	}
	_, err = c.nc.Write(b)
	return err
}

// Ping sends a WebSocket ping (the pong is consumed by Next).
func (c *Conn) Ping() error {
	if !c.ws {
		return errors.New("stream: ping is WebSocket only")
	}
	return c.writeFrame(ws.OpPing, []byte("hi"))
}
