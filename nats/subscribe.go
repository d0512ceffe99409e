package nats

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"

	"github.com/heraldhq/herald/realtime"
	natsgo "github.com/nats-io/nats.go"
)

// sub is one subscribed stream.
type sub struct {
	stream string
	ns     *natsgo.Subscription // nil for personal streams (the wildcard)
	r      realtime.Receiver
}

// Subscribe starts handing the stream's messages to r. It returns once the
// NATS server has registered the interest, so later publishes reach r.
func (b *Bus) Subscribe(stream string, r realtime.Receiver) error {
	subj, err := b.Subject(stream)
	if err != nil {
		return err
	}
	s := &sub{stream: stream, r: r}
	b.mu.Lock()
	if b.byStream[stream] != nil {
		b.mu.Unlock()
		return fmt.Errorf("nats: stream %q subscribed twice", stream)
	}
	b.byStream[stream] = s
	b.mu.Unlock()
	if strings.HasPrefix(stream, "@") {
		return nil // personal streams come through the wildcard
	}
	ns, err := b.nc.ChanSubscribe(subj, b.shards[maphash.String(b.seed, stream)%uint64(len(b.shards))])
	if err == nil {
		b.mu.Lock()
		s.ns = ns
		b.bySub[ns] = s
		b.mu.Unlock()
		if b.nc.IsConnected() {
			if err = b.nc.FlushTimeout(b.cfg.FlushTimeout); errors.Is(err, natsgo.ErrConnectionReconnecting) {
				err = nil // the subscription is re-sent on reconnect, then the receivers compare with the log
			}
		}
	}
	if err != nil {
		_ = b.Unsubscribe(stream)
		return fmt.Errorf("nats subscribe: %w", err)
	}
	return nil
}

// Unsubscribe stops handing the stream's messages on. It never waits for a
// delivery in progress.
func (b *Bus) Unsubscribe(stream string) error {
	b.mu.Lock()
	s := b.byStream[stream]
	if s != nil {
		delete(b.byStream, stream)
		if s.ns != nil {
			delete(b.bySub, s.ns)
		}
	}
	b.mu.Unlock()
	if s == nil || s.ns == nil {
		return nil
	}
	return s.ns.Unsubscribe()
}

// dispatch delivers one shard's received messages, in order.
func (b *Bus) dispatch(ch chan *natsgo.Msg) {
	defer b.wg.Done()
	for {
		select {
		case <-b.done:
			return
		case nm := <-ch:
			b.mu.RLock()
			var s *sub
			if nm.Sub == b.accSub {
				s = b.byStream["@"+nm.Subject[len(b.cfg.Prefix)+3:]]
			} else {
				s = b.bySub[nm.Sub]
			}
			b.mu.RUnlock()
			if s == nil {
				continue // unsubscribed meanwhile, or nobody here for that account
			}
			m, err := unframe(s.stream, nm.Data)
			if err != nil {
				b.log.Error("nats: malformed message dropped", "err", err)
				continue
			}
			s.r.Receive(m)
		}
	}
}
