package realtime

import (
	"net"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// rawWriter writes a connection's socket with direct non-blocking write
// system calls: a delivery then costs one system call and none of the
// runtime poller's per-call locking and bookkeeping (about 5 % of the
// server's CPU in a fan-out to 10,000). Since the runtime doesn't know of
// these writes, state keeps the descriptor from being closed, and its number
// reused by another connection, while one is in flight: a close that comes
// during a write is left to the writer.
type rawWriter struct {
	nc    net.Conn
	fd    uintptr
	state atomic.Int32
}

const (
	rawWriting      = 1 // a write is in flight
	rawClosePending = 2 // close() came during the write: the writer closes
	rawClosed       = 4
)

// newRawWriter returns a raw writer for nc, or nil if nc has no descriptor.
func newRawWriter(nc net.Conn) *rawWriter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &rawWriter{nc: nc}
	if err := raw.Control(func(fd uintptr) { w.fd = fd }); err != nil {
		return nil
	}
	return w
}

// write writes what the socket takes now. Only the connection's one active
// writer calls it.
func (w *rawWriter) write(p []byte) (n int, err error) {
	if !w.state.CompareAndSwap(0, rawWriting) {
		return 0, net.ErrClosed
	}
	for n < len(p) {
		// A raw system call: the socket is non-blocking, so the write
		// never waits and the scheduler needn't hand off this thread.
		// send(2) rather than write(2): it goes straight to the socket,
		// past the file layer's checks (a few per cent of a fan-out's
		// CPU), and MSG_NOSIGNAL spares a SIGPIPE when the peer is gone.
		q := p[n:]
		m, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, w.fd, uintptr(unsafe.Pointer(&q[0])), uintptr(len(q)), syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno == syscall.EAGAIN {
			break
		}
		if errno != 0 {
			err = errno
			break
		}
		n += int(m)
	}
	w.endWrite()
	return n, err
}

// endWrite ends a write, closing the connection if close() came meanwhile.
func (w *rawWriter) endWrite() {
	if !w.state.CompareAndSwap(rawWriting, 0) {
		w.state.Store(rawClosed)
		_ = w.nc.Close()
	}
}

// close closes the connection now, or has the write in flight close it.
func (w *rawWriter) close() {
	for {
		switch w.state.Load() {
		case 0:
			if w.state.CompareAndSwap(0, rawClosed) {
				_ = w.nc.Close()
				return
			}
		case rawWriting:
			if w.state.CompareAndSwap(rawWriting, rawWriting|rawClosePending) {
				return
			}
		default:
			return // closed, or about to be
		}
	}
}
