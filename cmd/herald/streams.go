package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/heraldhq/herald/realtime"
	"github.com/prometheus/client_golang/prometheus"
)

// realtimeBus, if set (by the NATS wiring), returns the bus between nodes;
// nil means the in-process bus of a single node.
var realtimeBus func(ctx context.Context, m *Main) (realtime.Bus, error)

func init() {
	serveHooks = append(serveHooks, startStreams)
}

// startStreams plugs the real-time hub in: the store publishes to it, the
// HTTP layer serves /api/v1/events and /api/v1/ws through it, and shutdown
// closes every stream before http.Server.Shutdown waits for requests.
func startStreams(ctx context.Context, m *Main) error {
	var bus realtime.Bus
	if realtimeBus != nil {
		var err error
		if bus, err = realtimeBus(ctx, m); err != nil {
			return err
		}
	}
	// HERALD_STREAM_LINGER tunes write coalescing (see realtime.Config.Linger).
	var linger time.Duration
	if v := os.Getenv("HERALD_STREAM_LINGER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("HERALD_STREAM_LINGER: %w", err)
		}
		linger = d
		if d == 0 {
			linger = -1
		}
	}
	var headCheck time.Duration // the default
	if cs, ok := m.Store.(*clusterStore); ok {
		headCheck = cs.headCheck
	}
	rt := realtime.New(realtime.Config{
		HeadCheck: headCheck,
		Linger:    linger,
		Events:    m.Store,
		Bus:       bus,
		Logger:    m.Logger,
		Metrics:   prometheus.DefaultRegisterer,
	})
	m.Publisher.Set(rt)
	m.HTTP.Streams = rt
	m.OnShutdown(func(context.Context) error { return rt.Close() })
	return nil
}
