//go:build !linux

package realtime

import "net"

// rawWriter is Linux's non-blocking send(2) writer (rawwrite_linux.go).
// Elsewhere there is none: every write is a net.Conn write with a deadline.
type rawWriter struct{}

// newRawWriter returns nil: netSink then writes through net.Conn only.
func newRawWriter(net.Conn) *rawWriter { return nil }

func (*rawWriter) write([]byte) (int, error) { return 0, net.ErrClosed }

func (*rawWriter) close() {}
