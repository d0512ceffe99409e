package realtime

import (
	"net"
	"syscall"
)

// smallReceiveDialer dials with a tiny socket receive buffer, so that a
// client that stops reading stalls the server's writes quickly.
func smallReceiveDialer() *net.Dialer {
	return &net.Dialer{Control: func(network, address string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
}
