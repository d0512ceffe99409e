package realtime

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// recordSink keeps what the connection's writer wrote.
type recordSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *recordSink) write(p []byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	return nil
}
func (s *recordSink) tryWrite(p []byte) (int, bool, error) {
	return len(p), true, s.write(p, time.Time{})
}
func (s *recordSink) setWriteDeadline(time.Time) {}
func (s *recordSink) closeGracefully()           {}
func (s *recordSink) close()                     {}

func (s *recordSink) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.buf.Bytes()...)
}

// serverFrames parses what the server wrote: complete, unmasked frames.
func serverFrames(t *testing.T, p []byte) []ws.Frame {
	t.Helper()
	var fs []ws.Frame
	r := bytes.NewReader(p)
	for r.Len() > 0 {
		f, err := readFrame(r)
		if err != nil {
			t.Fatalf("the server wrote a malformed frame: %v (%q)", err, p)
		}
		if f.Header.Masked {
			t.Fatal("the server wrote a masked frame")
		}
		fs = append(fs, f)
	}
	return fs
}

// clientFrame is a masked frame as a client sends it.
func clientFrame(op ws.OpCode, fin bool, payload []byte) []byte {
	f := ws.MaskFrameInPlace(ws.NewFrame(op, fin, append([]byte(nil), payload...)))
	b, err := ws.CompileFrame(f)
	if err != nil {
		panic(err)
	}
	return b
}

// readClient runs readWS on what r yields, with a connection writing to a
// recordSink, and returns once the reader has ended the connection.
func readClient(t *testing.T, s *Server, r io.Reader) (*conn, *recordSink) {
	t.Helper()
	c := newConn(s, TransportWebSocket, "acc", "")
	snk := &recordSink{}
	c.sink = snk
	done := make(chan struct{})
	go func() { c.readWS(r); close(done) }()
	select {
	case <-done:
	case <-time.After(failAfter):
		t.Fatal("readWS did not return at the end of its input")
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if !closed {
		t.Fatal("readWS returned without finishing the connection")
	}
	return c, snk
}

// TestWebSocketReaderAnswers checks the reader's answers: a ping gets a
// pong with its payload, a close is echoed, a protocol error or a too big
// message is answered with the matching close code.
func TestWebSocketReaderAnswers(t *testing.T) {
	s := New(Config{Events: newFakeEvents()})
	defer s.Close()

	// A ping, then the client waits for the pong before going away.
	pr, pw := io.Pipe()
	c := newConn(s, TransportWebSocket, "acc", "")
	snk := &recordSink{}
	c.sink = snk
	done := make(chan struct{})
	go func() { c.readWS(pr); close(done) }()
	if _, err := pw.Write(clientFrame(ws.OpPing, true, []byte("hello"))); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(failAfter); len(snk.bytes()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no pong")
		}
	}
	pw.Close()
	<-done
	if fs := serverFrames(t, snk.bytes()); len(fs) != 1 || fs[0].Header.OpCode != ws.OpPong || string(fs[0].Payload) != "hello" {
		t.Fatalf("answer to a ping: %+v", fs)
	}

	for _, tc := range []struct {
		name string
		in   []byte
		code ws.StatusCode
	}{
		{"close 1000", clientFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")), ws.StatusNormalClosure},
		{"empty close", clientFrame(ws.OpClose, true, nil), ws.StatusNormalClosure},
		{"close with a reserved code", clientFrame(ws.OpClose, true, ws.NewCloseFrameBody(1004, "")), ws.StatusProtocolError},
		{"unmasked frame", func() []byte { b, _ := ws.CompileFrame(ws.NewTextFrame([]byte("x"))); return b }(), ws.StatusProtocolError},
		{"too big", clientFrame(ws.OpText, true, make([]byte, maxClientMessage+1)), ws.StatusMessageTooBig},
		{"reserved opcode", clientFrame(ws.OpCode(3), true, nil), ws.StatusProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, snk := readClient(t, s, bytes.NewReader(tc.in))
			fs := serverFrames(t, snk.bytes())
			if len(fs) != 1 || fs[0].Header.OpCode != ws.OpClose {
				t.Fatalf("answer: %+v", fs)
			}
			if code, _ := ws.ParseCloseFrameData(fs[0].Payload); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
		})
	}
}

// FuzzWebSocketFrames: whatever a client sends, the reader ends the
// connection when the input ends, never panics, and writes only complete,
// unmasked pongs and at most one close, last, with a valid code.
func FuzzWebSocketFrames(f *testing.F) {
	f.Add(clientFrame(ws.OpPing, true, []byte("p")))
	f.Add(clientFrame(ws.OpText, true, []byte(`{"hello":1}`)))
	f.Add(append(clientFrame(ws.OpText, false, []byte("a")), clientFrame(ws.OpContinuation, true, []byte("b"))...))
	f.Add(clientFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusGoingAway, "")))
	f.Add(clientFrame(ws.OpClose, true, []byte{3}))
	f.Add(clientFrame(ws.OpPong, true, nil))
	f.Add([]byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x89, 0x7e, 0x00, 0x80})
	f.Add(clientFrame(ws.OpContinuation, true, []byte("orphan")))
	s := New(Config{Events: newFakeEvents(), Linger: -1})
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, in []byte) {
		_, snk := readClient(t, s, bytes.NewReader(in))
		fs := serverFrames(t, snk.bytes())
		for i, fr := range fs {
			switch fr.Header.OpCode {
			case ws.OpPong:
			case ws.OpClose:
				if i != len(fs)-1 {
					t.Fatalf("frames after the close: %+v", fs)
				}
				code, reason := ws.ParseCloseFrameData(fr.Payload)
				if err := ws.CheckCloseFrameData(code, reason); err != nil {
					t.Fatalf("close with an invalid code %d: %v", code, err)
				}
			default:
				t.Fatalf("the server answered with opcode %v", fr.Header.OpCode)
			}
		}
	})
}
