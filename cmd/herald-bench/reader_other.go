//go:build !linux

package main

import (
	"context"
	"time"
)

// follower is one follower's open stream: realtime/stream's reader here
// (Linux has epoll loops, reader_linux.go).
type follower = streamFollower

func dialFollower(ctx context.Context, base, transport, token string, idx int) (*follower, error) {
	return dialStreamFollower(ctx, base, transport, token, idx)
}

// readFollowers ignores loops and poll, the epoll readers' settings.
func readFollowers(streams []*follower, _ int, _ time.Duration, onEvent func(idx int, data []byte, now int64), stop <-chan struct{}) (wait func(), err error) {
	return readStreamFollowers(streams, onEvent, stop)
}
