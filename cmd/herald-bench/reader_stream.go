package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/heraldhq/herald/realtime/stream"
)

// Outside Linux the fan-out benchmarks read each stream with a goroutine
// and realtime/stream, the reference reader (Linux's epoll loops cost the
// shared cores less per delivery: see reader_linux.go). Compiled everywhere
// so that Linux tests it too.

// streamFollower is one follower's open stream, read with realtime/stream.
type streamFollower struct {
	idx int
	c   *stream.Conn
}

// dialStreamFollower opens follower idx's stream and waits for its first
// message, the cursor: the stream is then subscribed and live.
func dialStreamFollower(ctx context.Context, base, transport, token string, idx int) (*streamFollower, error) {
	c, err := stream.Dial(ctx, base, transport, stream.Options{Token: token})
	if err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	e, err := c.Next()
	if err == nil && e.Type != stream.TypeCursor {
		err = errors.New("first message is not the cursor")
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetReadDeadline(time.Time{})
	return &streamFollower{idx: idx, c: c}, nil
}

// readStreamFollowers reads every stream until stop is closed, calling
// onEvent(stream index, event JSON, arrival time) for each event, from a
// goroutine per stream.
func readStreamFollowers(streams []*streamFollower, onEvent func(idx int, data []byte, now int64), stop <-chan struct{}) (wait func(), err error) {
	var wg sync.WaitGroup
	for _, f := range streams {
		wg.Go(func() {
			for {
				data, err := f.c.NextData()
				if err != nil {
					return // closed: by stop below, or by the server
				}
				onEvent(f.idx, data, time.Now().UnixNano())
			}
		})
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-stop:
			for _, f := range streams {
				f.c.Close()
			}
		case <-done:
		}
	}()
	return func() { wg.Wait(); close(done) }, nil
}

func (f *streamFollower) close() { f.c.Close() }
