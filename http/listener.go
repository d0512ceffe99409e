package http

import (
	"net"
	"net/netip"
	"sync"
)

// LimitConnsPerAddr wraps l so that at most perAddr connections from one
// client address are open at once; further ones are closed as soon as they
// are accepted, before anything is read from them. Addresses in exempt (a
// reverse proxy every client comes through, loopback for load tests) are
// not counted. perAddr <= 0 returns l unchanged.
//
// Accepted TCP connections keep their *net.TCPConn methods (SyscallConn,
// CloseWrite, ReadFrom, ...), so hijacked streams keep their fast paths.
func LimitConnsPerAddr(l net.Listener, perAddr int, exempt []netip.Prefix) net.Listener {
	if perAddr <= 0 {
		return l
	}
	return &limitListener{Listener: l, perAddr: perAddr, exempt: exempt, open: map[netip.Addr]int{}}
}

type limitListener struct {
	net.Listener
	perAddr int
	exempt  []netip.Prefix

	mu   sync.Mutex
	open map[netip.Addr]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, ok := remoteAddr(c)
		if !ok || l.isExempt(addr) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[addr] >= l.perAddr {
			l.mu.Unlock()
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // a reset: no TIME_WAIT kept for the refused
			}
			_ = c.Close()
			continue
		}
		l.open[addr]++
		l.mu.Unlock()
		release := func() {
			l.mu.Lock()
			if l.open[addr]--; l.open[addr] <= 0 {
				delete(l.open, addr)
			}
			l.mu.Unlock()
		}
		if tc, ok := c.(*net.TCPConn); ok {
			return &countedTCPConn{TCPConn: tc, release: release}, nil
		}
		return &countedConn{Conn: c, release: release}, nil
	}
}

func (l *limitListener) isExempt(a netip.Addr) bool {
	for _, p := range l.exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(c net.Conn) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// countedTCPConn gives its slot back once, on the first Close.
type countedTCPConn struct {
	*net.TCPConn
	once    sync.Once
	release func()
}

func (c *countedTCPConn) Close() error {
	err := c.TCPConn.Close()
	c.once.Do(c.release)
	return err
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
