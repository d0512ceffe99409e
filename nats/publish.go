package nats

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/realtime"
	natsgo "github.com/nats-io/nats.go"
)

// Publish sends each message to its stream's subject, hands it to this
// node's own subscribers, and returns once the NATS server has the
// messages, so a node that dies right after acknowledging a post has
// already handed its event on.
func (b *Bus) Publish(ctx context.Context, msgs []*realtime.Message) error {
	var errs []error
	for _, m := range msgs {
		subj, err := b.Subject(m.Stream)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := b.nc.Publish(subj, frame(m)); err != nil {
			errs = append(errs, err)
		}
	}
	for _, m := range msgs {
		b.mu.RLock()
		s := b.byStream[m.Stream]
		b.mu.RUnlock()
		if s != nil {
			s.r.Receive(m)
		}
	}
	if len(errs) == 0 && b.nc.IsConnected() {
		// While reconnecting the messages wait in nats.go's buffer and go
		// out on reconnect; other nodes compare their streams with the log
		// after their own reconnects, so nothing is lost either way.
		if err := b.nc.FlushTimeout(b.cfg.FlushTimeout); err != nil && !errors.Is(err, natsgo.ErrConnectionReconnecting) {
			errs = append(errs, fmt.Errorf("nats flush: %w", err))
		}
	}
	return errors.Join(errs...)
}
