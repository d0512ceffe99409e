package serve

import (
	"context"
	"sync/atomic"

	"github.com/heraldhq/herald"
)

// latePublisher is the store's EventPublisher. The store must be opened
// before the real-time hub exists (the hub reads from it), so the store gets
// this forwarder and the hub is plugged in afterwards with Set. Events
// published before Set are dropped: nobody can be connected yet.
type latePublisher struct {
	p atomic.Pointer[herald.EventPublisher]
}

// Set installs the publisher events are forwarded to.
func (l *latePublisher) Set(p herald.EventPublisher) { l.p.Store(&p) }

// Publish forwards events to the installed publisher, if any.
func (l *latePublisher) Publish(ctx context.Context, events []herald.Event) {
	if p := l.p.Load(); p != nil && *p != nil {
		(*p).Publish(ctx, events)
	}
}
