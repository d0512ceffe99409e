package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/heraldhq/herald/realtime"
	natsgo "github.com/nats-io/nats.go"
)

var _ realtime.SignalBus = (*Bus)(nil)

// signalSubject is the one subject every node subscribes to for signals (ended
// sessions): they are rare, and every node must hear them.
func (b *Bus) signalSubject() string { return b.cfg.Prefix + ".signal" }

// signalState is the handler of received signals.
type signalState struct {
	mu  sync.Mutex
	h   func([]byte)
	sub *natsgo.Subscription
}

// HandleSignals subscribes the node to signals and hands them to h.
func (b *Bus) HandleSignals(h func(data []byte)) error {
	b.sig.mu.Lock()
	defer b.sig.mu.Unlock()
	if b.sig.h != nil {
		return errors.New("nats: signals handled twice")
	}
	sub, err := b.nc.Subscribe(b.signalSubject(), func(m *natsgo.Msg) { h(m.Data) })
	if err != nil {
		return fmt.Errorf("nats subscribe signals: %w", err)
	}
	b.sig.h, b.sig.sub = h, sub
	if b.nc.IsConnected() {
		if err := b.nc.FlushTimeout(b.cfg.FlushTimeout); err != nil && !errors.Is(err, natsgo.ErrConnectionReconnecting) {
			return fmt.Errorf("nats flush: %w", err)
		}
	}
	return nil
}

// PublishSignal sends data to every other node and hands it to this node's
// handler (the connection does not echo).
func (b *Bus) PublishSignal(ctx context.Context, data []byte) error {
	err := b.nc.Publish(b.signalSubject(), data)
	if err == nil && b.nc.IsConnected() {
		if err = b.nc.FlushTimeout(b.cfg.FlushTimeout); errors.Is(err, natsgo.ErrConnectionReconnecting) {
			err = nil
		}
	}
	b.sig.mu.Lock()
	h := b.sig.h
	b.sig.mu.Unlock()
	if h != nil {
		h(data)
	}
	return err
}
