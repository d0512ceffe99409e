package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
)

// On Linux the fan-out benchmarks read 10,000 streams with a couple of
// epoll loops instead of a goroutine per stream: the load generator shares
// the CPU with the server, so the less it spends per delivery, the more the
// figures measure the server. (Elsewhere, reader_other.go reads each stream
// with realtime/stream.)

// follower is one follower's open stream.
type follower = rawStream

// dialFollower opens follower idx's stream and waits for its first
// message, the cursor: the stream is then subscribed and live.
func dialFollower(ctx context.Context, base, transport, token string, idx int) (*follower, error) {
	s, err := dialRaw(ctx, base, transport, token, idx)
	if err != nil {
		return nil, err
	}
	if err := s.first(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// readFollowers reads every stream with `loops` epoll loops, polling every
// poll (see epollReadersPoll), and calls onEvent(stream index, event JSON,
// arrival time) for each event until stop is closed.
func readFollowers(streams []*follower, loops int, poll time.Duration, onEvent func(idx int, data []byte, now int64), stop <-chan struct{}) (wait func(), err error) {
	return epollReadersPoll(streams, loops, poll, onEvent, stop)
}

// rawStream is one follower's stream, read without the Go runtime's poller.
type rawStream struct {
	idx     int
	nc      net.Conn // until detach
	fd      int      // after detach, the stream's own descriptor
	ws      bool
	pending []byte // bytes read but not yet parsed
	rd      bytes.Reader
	hdr     [ws.MaxHeaderSize - 2]byte
}

// dialRaw opens a stream (HTTP/1.1 GET with the bearer token) and returns it
// once the server accepted it; bytes already received stay in pending.
func dialRaw(ctx context.Context, base, transport, token string, idx int) (*rawStream, error) {
	addr := strings.TrimPrefix(base, "http://")
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &rawStream{idx: idx, nc: nc, ws: transport == "ws"}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	var br *bufio.Reader
	if s.ws {
		// The handshake is gobwas/ws's, on the connection dialed above.
		u, _ := url.Parse("ws://" + addr + "/api/v1/ws")
		d := ws.Dialer{Header: ws.HandshakeHeaderHTTP(http.Header{"Authorization": {"Bearer " + token}})}
		if br, _, err = d.Upgrade(nc, u); err != nil {
			nc.Close()
			return nil, fmt.Errorf("stream refused: %w", err)
		}
	} else {
		req := "GET /api/v1/events HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + token + "\r\n\r\n"
		if _, err := nc.Write([]byte(req)); err != nil {
			nc.Close()
			return nil, err
		}
		br = bufio.NewReaderSize(nc, 4096)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			nc.Close()
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			nc.Close()
			return nil, fmt.Errorf("stream refused: %s", resp.Status)
		}
	}
	if br != nil {
		if n := br.Buffered(); n > 0 {
			b, _ := br.Peek(n)
			s.pending = append(s.pending, b...)
		}
	}
	nc.SetDeadline(time.Time{})
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		nc.Close()
		return nil, err
	}
	rc.Control(func(fd uintptr) { s.fd = int(fd) })
	return s, nil
}

// messages parses the complete messages in pending, calling fn with each
// event's JSON, and keeps the incomplete tail. It answers pings.
func (s *rawStream) messages(fn func(data []byte)) error {
	rest, err := s.parse(s.pending, fn)
	if err != nil {
		return err
	}
	s.pending = append(s.pending[:0], rest...)
	return nil
}

// received parses bytes just read: straight from the read buffer when
// nothing was pending (no copy, and no allocation per delivery for the
// generator's collector to chase during the measurement), keeping only an
// incomplete tail.
func (s *rawStream) received(b []byte, fn func(data []byte)) error {
	if len(s.pending) > 0 {
		s.pending = append(s.pending, b...)
		return s.messages(fn)
	}
	rest, err := s.parse(b, fn)
	if err != nil {
		return err
	}
	s.pending = append(s.pending[:0], rest...)
	return nil
}

// parse calls fn with each complete message's events in p and returns the
// incomplete tail. It answers pings.
func (s *rawStream) parse(p []byte, fn func(data []byte)) (rest []byte, err error) {
	defer s.rd.Reset(nil)
	for {
		if s.ws {
			s.rd.Reset(p)
			h, err := ws.ReadHeaderBuffer(&s.rd, s.hdr[:0])
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break // an incomplete header: wait for more bytes
			}
			if err != nil {
				return nil, err
			}
			hl, n := len(p)-s.rd.Len(), int(h.Length)
			if len(p) < hl+n {
				break
			}
			payload := p[hl : hl+n]
			p = p[hl+n:]
			switch h.OpCode {
			case ws.OpText:
				for len(payload) > 0 {
					i := bytes.IndexByte(payload, '\n')
					if i < 0 {
						fn(payload)
						break
					}
					fn(payload[:i])
					payload = payload[i+1:]
				}
			case ws.OpPing: // answer, or the server reaps us as dead
				if err := s.writeFrame(ws.MaskFrame(ws.NewPongFrame(payload))); err != nil {
					return nil, err
				}
			case ws.OpClose:
				return nil, errors.New("stream closed by server")
			}
			continue
		}
		i := bytes.Index(p, []byte("\n\n"))
		if i < 0 {
			break
		}
		block := p[:i]
		p = p[i+2:]
		for len(block) > 0 {
			line := block
			if j := bytes.IndexByte(block, '\n'); j >= 0 {
				line, block = block[:j], block[j+1:]
			} else {
				block = nil
			}
			if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				fn(d)
			}
		}
	}
	return p, nil
}

// epollReadersPoll reads every stream with `loops` epoll loops and calls
// onEvent(stream index, event JSON, arrival time) for each event, until stop
// is closed. With poll > 0 the loops poll every poll instead of sleeping in
// epoll_wait.
//
// Polling is how the bench stands in for clients on other machines: a
// reader that sleeps in epoll_wait makes every server write wake it (an
// inter-processor interrupt and two context switches on this VM, paid on the
// cores the server shares with it), which remote clients never cost the
// server. A polling loop stays on its own OS thread, makes only
// non-blocking system calls (no trip through the Go scheduler per read) and
// sleeps poll between rounds that found nothing, so an arrival is stamped at
// most poll late.
func epollReadersPoll(streams []*rawStream, loops int, poll time.Duration, onEvent func(idx int, data []byte, now int64), stop <-chan struct{}) (wait func(), err error) {
	done := make(chan struct{})
	n := 0
	events := uint32(syscall.EPOLLIN)
	if poll > 0 {
		// Edge-triggered: a stream read dry leaves the ready list at
		// once, instead of being polled again by the next epoll_wait.
		events |= 1 << 31 // EPOLLET (syscall declares it as a negative int)
	}
	for l := range loops {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return nil, err
		}
		byFD := map[int32]*rawStream{}
		for i := l; i < len(streams); i += loops {
			s := streams[i]
			if err := s.detach(); err != nil {
				return nil, err
			}
			byFD[int32(s.fd)] = s
			if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, s.fd, &syscall.EpollEvent{Events: events, Fd: int32(s.fd)}); err != nil {
				return nil, err
			}
		}
		n++
		go func() {
			defer func() { done <- struct{}{} }()
			defer syscall.Close(epfd)
			ready := make([]syscall.EpollEvent, 1024)
			buf := make([]byte, 256<<10)
			for {
				select {
				case <-stop:
					return
				default:
				}
				var k int
				if poll > 0 {
					k = rawEpollWait(epfd, ready)
					if k == 0 {
						// Nothing ready: sleep without waiting in epoll
						// (the runtime's timer: the P serves the posting
						// client meanwhile).
						time.Sleep(poll)
						continue
					}
				} else {
					var err error
					k, err = syscall.EpollWait(epfd, ready, 100)
					if err != nil && err != syscall.EINTR {
						return
					}
				}
				for _, ev := range ready[:max(k, 0)] {
					s := byFD[ev.Fd]
					for {
						var m int
						var err error
						if poll > 0 {
							m, err = rawRead(s.fd, buf)
						} else {
							m, err = syscall.Read(s.fd, buf)
						}
						if m <= 0 || err != nil {
							if err != syscall.EAGAIN && err != syscall.EINTR {
								syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, s.fd, nil)
							}
							break
						}
						now := time.Now().UnixNano()
						if err := s.received(buf[:m], func(data []byte) { onEvent(s.idx, data, now) }); err != nil {
							syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, s.fd, nil)
							break
						}
						if m < len(buf) {
							break // read dry (edge-triggered: the next arrival is a new edge)
						}
					}
				}
			}
		}()
	}
	return func() {
		for range n {
			<-done
		}
	}, nil
}

// rawEpollWait asks which streams are readable without waiting (timeout 0),
// as a raw system call: it never blocks, so the Go scheduler need not know.
// epoll_pwait with no signal mask is epoll_wait, and exists on every Linux
// architecture (arm64 has no epoll_wait).
func rawEpollWait(epfd int, events []syscall.EpollEvent) int {
	r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0
	}
	return int(r)
}

// rawRead reads a non-blocking socket as a raw system call.
func rawRead(fd int, buf []byte) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// writeFrame sends a (small) frame, on the connection or, once detached,
// straight on the descriptor.
func (s *rawStream) writeFrame(f ws.Frame) error {
	if s.nc != nil {
		return ws.WriteFrame(s.nc, f)
	}
	var b bytes.Buffer
	if err := ws.WriteFrame(&b, f); err != nil {
		return err
	}
	_, err := syscall.Write(s.fd, b.Bytes())
	return err
}

// detach takes the stream away from the Go runtime's poller: it keeps a
// duplicate of the descriptor and closes the net.Conn (which removes the
// socket from the runtime's epoll). Otherwise every event the server writes
// would also wake the runtime's poller in this process, a wake-up that the
// server's write pays for on the shared cores and that no remote client
// costs it.
func (s *rawStream) detach() error {
	if s.nc == nil {
		return nil
	}
	fd, err := syscall.Dup(s.fd)
	if err != nil {
		return err
	}
	syscall.CloseOnExec(fd)
	if err := s.nc.Close(); err != nil {
		syscall.Close(fd)
		return err
	}
	s.nc, s.fd = nil, fd
	return nil
}

// close ends the stream with a reset rather than leaving 10,000 sockets in
// TIME_WAIT for a minute, where they would share the kernel's connection
// table with the next run's.
func (s *rawStream) close() {
	if s.nc != nil {
		if tc, ok := s.nc.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		s.nc.Close()
		return
	}
	_ = syscall.SetsockoptLinger(s.fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
	syscall.Close(s.fd)
	s.fd = -1
}

// first waits (blocking) for the stream's first message, the cursor.
func (s *rawStream) first() error {
	s.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer s.nc.SetReadDeadline(time.Time{})
	buf := make([]byte, 4096)
	for {
		got := false
		if err := s.messages(func([]byte) { got = true }); err != nil {
			return err
		}
		if got {
			return nil
		}
		n, err := s.nc.Read(buf)
		if err != nil {
			return err
		}
		s.pending = append(s.pending, buf[:n]...)
	}
}
