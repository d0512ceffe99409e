package realtime

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// loopbackPair returns both ends of a TCP connection on loopback.
func loopbackPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func newTestRawWriter(t *testing.T, nc net.Conn) *rawWriter {
	t.Helper()
	w := newRawWriter(nc)
	if w == nil {
		t.Fatal("no raw writer")
	}
	return w
}

func TestRawWriterWritesAndCloses(t *testing.T) {
	srv, cli := loopbackPair(t)
	w := newTestRawWriter(t, srv)
	if n, err := w.write([]byte("hello")); n != 5 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	w.close()
	if _, err := w.write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v, want net.ErrClosed", err)
	}
	cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(cli)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "hello" {
		t.Fatalf("peer read %q, want only what was written before the close", got)
	}
}

// A close that comes while a write is in flight is done by the writer when
// its write returns, never under it: the descriptor's number can't be reused
// by another connection while the write still uses it.
func TestRawWriterCloseDuringWriteIsDeferred(t *testing.T) {
	srv, cli := loopbackPair(t)
	w := newTestRawWriter(t, srv)
	w.state.Store(rawWriting) // as if a write were in flight
	w.close()
	if got := w.state.Load(); got != rawWriting|rawClosePending {
		t.Fatalf("state = %d, want the close left to the writer", got)
	}
	// The socket is still open: the in-flight write may use it.
	if _, err := srv.Write([]byte("still open")); err != nil {
		t.Fatalf("socket closed under an in-flight write: %v", err)
	}
	// The writer finishing its write performs the close.
	w.endWrite()
	if got := w.state.Load(); got != rawClosed {
		t.Fatalf("state = %d after the write, want closed", got)
	}
	cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(cli)
	if err != nil || string(got) != "still open" {
		t.Fatalf("peer read %q, %v; want the bytes then EOF after the deferred close", got, err)
	}
}

// Writers and closers racing: every write either completes on the open
// socket or reports net.ErrClosed; the peer sees a clean end of stream.
func TestRawWriterConcurrentClose(t *testing.T) {
	for range 50 {
		srv, cli := loopbackPair(t)
		w := newTestRawWriter(t, srv)
		done := make(chan error, 1)
		go func() {
			for {
				if _, err := w.write([]byte("x")); err != nil {
					done <- err
					return
				}
			}
		}()
		go io.Copy(io.Discard, cli)
		time.Sleep(time.Millisecond)
		w.close()
		select {
		case err := <-done:
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("writer stopped with %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("writer never saw the close")
		}
		if w.state.Load() != rawClosed {
			t.Fatalf("state = %d, want closed", w.state.Load())
		}
	}
}
