package realtime

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// rawWS opens a WebSocket as alice with gobwas/ws's dialer and reads the
// first message (the cursor), so that a test can send any frame.
func rawWS(t *testing.T, ts *testServer) (net.Conn, *bufio.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	d := ws.Dialer{Header: ws.HandshakeHeaderHTTP(http.Header{"Authorization": {"Bearer alice"}})}
	nc, br, _, err := d.Dial(ctx, strings.Replace(ts.URL, "http", "ws", 1)+"/api/v1/ws")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if br == nil {
		br = bufio.NewReader(nc)
	}
	nc.SetReadDeadline(time.Now().Add(failAfter))
	f, err := readFrame(br)
	if err != nil || f.Header.OpCode != ws.OpText || !strings.Contains(string(f.Payload), `"type":"cursor"`) {
		t.Fatalf("first frame %+v %q %v", f.Header, f.Payload, err)
	}
	return nc, br
}

// readFrame reads one frame as sent (a masked payload stays masked),
// refusing a declared length above 1 MiB (ws.ReadFrame, deprecated, reads
// whatever length the peer declares).
func readFrame(r io.Reader) (ws.Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Length > 1<<20 {
		return ws.Frame{Header: h}, fmt.Errorf("frame of %d bytes", h.Length)
	}
	f := ws.Frame{Header: h, Payload: make([]byte, h.Length)}
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return f, err
	}
	return f, nil
}

// closeCode reads frames until the server's close and returns its code.
func closeCode(t *testing.T, br *bufio.Reader) ws.StatusCode {
	t.Helper()
	for {
		f, err := readFrame(br)
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if f.Header.Masked {
			t.Fatal("server frame is masked")
		}
		if f.Header.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return code
		}
	}
}

// TestWebSocketClientFrames checks how the server answers what a client
// may send: a ping gets its pong, a close is echoed, and protocol errors
// and client messages end the stream with the right close code.
func TestWebSocketClientFrames(t *testing.T) {
	ts := newTestServer(t, Config{})
	masked := func(f ws.Frame) []byte { return ws.MustCompileFrame(ws.MaskFrame(f)) }
	cases := []struct {
		name  string
		send  []byte
		want  ws.StatusCode
		reply ws.OpCode // a frame expected before the close, if any
	}{
		{"ping then close", append(masked(ws.NewPingFrame([]byte("hey"))), masked(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")))...), ws.StatusNormalClosure, ws.OpPong},
		{"close going away", masked(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, ""))), ws.StatusGoingAway, 0},
		{"empty close", masked(ws.NewCloseFrame(nil)), ws.StatusNormalClosure, 0},
		{"reserved close code", masked(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNoStatusRcvd, ""))), ws.StatusProtocolError, 0},
		{"unmasked frame", ws.MustCompileFrame(ws.NewTextFrame([]byte("hi"))), ws.StatusProtocolError, 0},
		{"reserved opcode", masked(ws.NewFrame(ws.OpCode(0x3), true, nil)), ws.StatusProtocolError, 0},
		{"stray continuation", masked(ws.NewFrame(ws.OpContinuation, true, []byte("x"))), ws.StatusProtocolError, 0},
		{"fragmented ping", masked(ws.NewFrame(ws.OpPing, false, nil)), ws.StatusProtocolError, 0},
		{"message too big", masked(ws.NewTextFrame(make([]byte, maxClientMessage+1))), ws.StatusMessageTooBig, 0},
		{"small messages are dropped, big ones refused", append(masked(ws.NewTextFrame([]byte("hello"))), masked(ws.NewBinaryFrame(make([]byte, 70000)))...), ws.StatusMessageTooBig, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nc, br := rawWS(t, ts)
			if _, err := nc.Write(c.send); err != nil {
				t.Fatal(err)
			}
			if c.reply != 0 {
				f, err := readFrame(br)
				if err != nil || f.Header.OpCode != c.reply || string(f.Payload) != "hey" {
					t.Fatalf("reply %+v %q %v", f.Header, f.Payload, err)
				}
			}
			if got := closeCode(t, br); got != c.want {
				t.Fatalf("close code %d, want %d", got, c.want)
			}
			// The server ends the TCP connection after its close.
			if _, err := io.Copy(io.Discard, br); err != nil {
				t.Fatalf("after close: %v", err)
			}
		})
	}
}

// TestSSEHead checks the head net/http writes for a hijacked SSE stream:
// 200, the event-stream type, no chunked encoding (the stream writes raw
// events after hijacking) and Connection: close, then the first event.
func TestSSEHead(t *testing.T) {
	ts := newTestServer(t, Config{})
	nc, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(failAfter))
	if _, err := io.WriteString(nc, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || len(resp.TransferEncoding) != 0 || !resp.Close {
		t.Fatalf("head: %d %v %v close=%v", resp.StatusCode, resp.Header, resp.TransferEncoding, resp.Close)
	}
	for _, want := range []string{"id: @alice:0\n", `data: {"type":"cursor","cursor":"@alice:0"}` + "\n", "\n"} {
		if l, err := br.ReadString('\n'); err != nil || l != want {
			t.Fatalf("got %q %v, want %q", l, err, want)
		}
	}
}
