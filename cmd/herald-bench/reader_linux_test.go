package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// TestRawStreamMessages checks the bench reader's WebSocket parsing: frames
// of every length encoding, split at any byte, yield each event once, in
// order, and a close frame ends the stream.
func TestRawStreamMessages(t *testing.T) {
	long := strings.Repeat("x", 70000)
	var want []string
	var wire []byte
	for _, payload := range []string{`{"a":1}`, "{\"b\":2}\n{\"c\":3}", strings.Repeat("y", 300), long} {
		wire = append(wire, ws.MustCompileFrame(ws.NewTextFrame([]byte(payload)))...)
		want = append(want, strings.Split(payload, "\n")...)
	}
	for _, chunk := range []int{1, 3, 7, 4096, len(wire), -1, -3, -4096, -len(wire)} {
		s := &rawStream{ws: true}
		var got []string
		// Positive: appended to pending then parsed (messages); negative:
		// handed over as just read (received, the epoll loops' path).
		size := max(chunk, -chunk)
		for i := 0; i < len(wire); i += size {
			b := wire[i:min(i+size, len(wire))]
			var err error
			if chunk > 0 {
				s.pending = append(s.pending, b...)
				err = s.messages(func(d []byte) { got = append(got, string(d)) })
			} else {
				err = s.received(append([]byte(nil), b...), func(d []byte) { got = append(got, string(d)) })
			}
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("chunk %d: %d events, want %d", chunk, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("chunk %d: event %d is %.20q, want %.20q", chunk, i, got[i], want[i])
			}
		}
		if len(s.pending) != 0 {
			t.Fatalf("chunk %d: %d bytes left over", chunk, len(s.pending))
		}
	}
	s := &rawStream{ws: true, pending: ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "")))}
	if err := s.messages(func([]byte) {}); err == nil {
		t.Fatal("close frame not reported")
	}
	s = &rawStream{ws: true, pending: append([]byte{0x81, 0x7F}, bytes.Repeat([]byte{0xFF}, 8)...)} // 64-bit length with its top bit set
	if err := s.messages(func([]byte) {}); err == nil {
		t.Fatal("malformed header accepted")
	}
}
