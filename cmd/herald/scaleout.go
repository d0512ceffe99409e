package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	hnats "github.com/heraldhq/herald/nats"
	"github.com/heraldhq/herald/postgres"
	"github.com/heraldhq/herald/realtime"
	"github.com/prometheus/client_golang/prometheus"
)

// Scale-out: `herald serve --postgres URL --nats URL` runs the node as one
// of several stateless nodes sharing a PostgreSQL store and a NATS bus.
// Both or neither: PostgreSQL without NATS would leave each node's followers
// deaf to posts made on the others, and NATS without PostgreSQL would join
// nodes whose SQLite files disagree about every sequence number.
func init() {
	serveFlagHooks = append(serveFlagHooks, scaleoutFlags)
	realtimeBus = scaleoutBus
}

func scaleoutFlags(fs *flag.FlagSet, m *Main) {
	pg := fs.String("postgres", envOr("HERALD_POSTGRES", ""), "PostgreSQL URL of the shared store; requires --nats (HERALD_POSTGRES)")
	nu := fs.String("nats", envOr("HERALD_NATS", ""), "NATS URL(s) of the event bus between nodes, comma-separated; requires --postgres (HERALD_NATS)")
	hc := fs.String("nats-head-check", envOr("HERALD_NATS_HEAD_CHECK", realtime.DefaultHeadCheck.String()), "how often a node checks its channels' heads for events committed but never published; 0 disables (HERALD_NATS_HEAD_CHECK)")
	m.OpenStore = func(ctx context.Context, m *Main) (herald.Store, error) {
		switch {
		case *pg == "" && *nu == "":
			return m.openSQLite()
		case *nu == "":
			return nil, errors.New("--postgres needs --nats: every node must hear the events posted on the others (set both, or neither for a single SQLite node)")
		case *pg == "":
			return nil, errors.New("--nats needs --postgres: nodes on separate SQLite files can't share streams (set both, or neither for a single SQLite node)")
		}
		headCheck, err := time.ParseDuration(*hc)
		if err != nil || headCheck < 0 {
			return nil, fmt.Errorf("--nats-head-check %q: want a duration such as 1m, or 0 to disable", *hc)
		}
		if headCheck == 0 {
			headCheck = -1 // realtime.Config's "never"
		}
		db, err := postgres.Open(ctx, *pg, herald.StoreConfig{
			Clock:     m.Clock,
			Retention: m.Retention,
			Publisher: m.Publisher,
		})
		if err != nil {
			return nil, err
		}
		m.Logger.Info("store: postgresql", "nats", "on")
		return &clusterStore{DB: db, natsURL: *nu, headCheck: headCheck}, nil
	}
}

// clusterStore is the PostgreSQL store of a scaled-out node. It also owns
// the node's NATS bus so that the bus closes after the store, when nothing
// can publish any more.
type clusterStore struct {
	*postgres.DB
	natsURL   string
	headCheck time.Duration

	mu  sync.Mutex
	bus *hnats.Bus
}

// Close closes the store, then the bus.
func (s *clusterStore) Close() error {
	err := s.DB.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bus != nil {
		err = errors.Join(err, s.bus.Close())
		s.bus = nil
	}
	return err
}

// scaleoutBus connects a scaled-out node to NATS; a single node keeps the
// in-process bus.
func scaleoutBus(ctx context.Context, m *Main) (realtime.Bus, error) {
	s, ok := m.Store.(*clusterStore)
	if !ok {
		return nil, nil
	}
	host, _ := os.Hostname()
	bus, err := hnats.Open(hnats.Config{
		URL:    s.natsURL,
		Name:   fmt.Sprintf("herald %s pid %d", host, os.Getpid()),
		Logger: m.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.bus = bus
	s.mu.Unlock()
	for _, c := range bus.Collectors() {
		// Replace a collector of an earlier node in the same process (tests).
		if err := prometheus.DefaultRegisterer.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				prometheus.DefaultRegisterer.Unregister(are.ExistingCollector)
				_ = prometheus.DefaultRegisterer.Register(c)
			}
		}
	}
	return bus, nil
}
