package realtime

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// handBus is a Bus the test drives by hand: it delivers what the test says,
// in the order it says, and reports losses when told.
type handBus struct {
	mu   sync.Mutex
	recv map[string]Receiver
}

func newHandBus() *handBus { return &handBus{recv: map[string]Receiver{}} }

func (b *handBus) Publish(context.Context, []*Message) error { return nil }
func (b *handBus) Subscribe(stream string, r Receiver) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recv[stream] = r
	return nil
}
func (b *handBus) Unsubscribe(stream string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.recv, stream)
	return nil
}
func (b *handBus) receiver(stream string) Receiver {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.recv[stream]
}

// collector records what a Reliable hands the hub for one stream.
type collector struct {
	mu   sync.Mutex
	msgs []*Message
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) handle(m *Message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

// wait returns the seqs handed on once there are n of them.
func (c *collector) wait(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.After(failAfter)
	for {
		c.mu.Lock()
		var seqs []int64
		for _, m := range c.msgs {
			seqs = append(seqs, m.Seq)
		}
		c.mu.Unlock()
		if len(seqs) >= n {
			return seqs
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("got %v, want %d messages", seqs, n)
		}
	}
}

// post logs n events of the stream without publishing them and returns
// their messages, as the bus would carry them.
func post(ev *fakeEvents, stream string, n int) []*Message {
	var out []*Message
	for range n {
		e := ev.append(herald.Event{Type: herald.EventUpdateCreated, ChannelID: stream, Update: &herald.Update{Text: "x"}}, false)
		out = append(out, encode(&e))
	}
	return out
}

func subscribed(t *testing.T, rel *Reliable, bus *handBus, stream string) (*collector, Receiver) {
	t.Helper()
	c := newCollector()
	if err := rel.Subscribe(stream, c.handle); err != nil {
		t.Fatal(err)
	}
	return c, bus.receiver(stream)
}

// Out of order, twice, or with a hole: the hub gets each event once, in
// order, the hole refilled from the log.
func TestReliableOrdersAndRefills(t *testing.T) {
	ev, bus := newFakeEvents(), newHandBus()
	rel := NewReliable(bus, ev, ReliableConfig{HeadCheck: -1})
	defer rel.Close()
	c, r := subscribed(t, rel, bus, "ch1")
	msgs := post(ev, "ch1", 6)
	r.Receive(msgs[0])
	c.wait(t, 1) // the stream is settled: what follows is live
	for _, i := range []int{2, 1, 2, 0, 5, 4, 3} {
		r.Receive(msgs[i])
	}
	if got := c.wait(t, 6); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("handed on %v", got)
	}
	r.Receive(msgs[5]) // a late duplicate
	more := post(ev, "ch1", 1)
	r.Receive(more[0])
	if got := c.wait(t, 7); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("handed on %v", got)
	}
	if rel.Refills() == 0 {
		t.Fatal("the hole was not refilled from the log")
	}
}

// A loss the bus reports is checked against the log in one batch: the
// stream that moved is refilled, the quiet one is not read.
func TestReliableLostComparesWithLog(t *testing.T) {
	ev, bus := newFakeEvents(), newHandBus()
	rel := NewReliable(bus, ev, ReliableConfig{HeadCheck: -1})
	defer rel.Close()
	moved, rm := subscribed(t, rel, bus, "moved")
	_, rq := subscribed(t, rel, bus, "quiet")
	post(ev, "moved", 2) // never delivered by the bus
	refills := rel.Refills()
	rq.Lost()
	rm.Lost()
	if got := moved.wait(t, 2); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("handed on %v", got)
	}
	if n := rel.Refills() - refills; n != 1 {
		t.Fatalf("%d refills, want only the stream that moved", n)
	}
}

// An event committed but never published, on a stream that then goes
// quiet, is found by the periodic head check.
func TestReliableHeadCheck(t *testing.T) {
	ev, bus := newFakeEvents(), newHandBus()
	rel := NewReliable(bus, ev, ReliableConfig{HeadCheck: 20 * time.Millisecond})
	defer rel.Close()
	c, _ := subscribed(t, rel, bus, "ch1")
	post(ev, "ch1", 1)
	if got := c.wait(t, 1); !slices.Equal(got, []int64{1}) {
		t.Fatalf("handed on %v", got)
	}
}

// When the log no longer has what is missing, the stream's connections
// are told to resync at the head, and delivery goes on from there.
func TestReliableResyncsWhenHistoryIsGone(t *testing.T) {
	ev, bus := newFakeEvents(), newHandBus()
	rel := NewReliable(bus, ev, ReliableConfig{HeadCheck: -1})
	defer rel.Close()
	c, r := subscribed(t, rel, bus, "ch1")
	msgs := post(ev, "ch1", 4)
	r.Receive(msgs[0])
	c.wait(t, 1)
	ev.mu.Lock()
	ev.trimmed["ch1"] = 3 // events 2 and 3 expired
	ev.mu.Unlock()
	r.Receive(msgs[3])
	c.wait(t, 2)
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.msgs[1]; m.Type != herald.EventResync || m.Seq != 4 {
		t.Fatalf("after the gone history: %s seq %d, want a resync at 4", m.Type, m.Seq)
	}
}

// failingEvents fails its next reads while fail > 0.
type failingEvents struct {
	*fakeEvents
	fail atomic.Int32
}

func (f *failingEvents) EventsAfter(ctx context.Context, stream string, after int64, limit int) ([]herald.Event, bool, error) {
	if f.fail.Add(-1) >= 0 {
		return nil, false, errors.New("database unavailable")
	}
	return f.fakeEvents.EventsAfter(ctx, stream, after, limit)
}

// While the log can't be read, a stream with a hole waits and retries: it
// stalls, it never skips.
func TestReliableRetriesTheLog(t *testing.T) {
	ev := &failingEvents{fakeEvents: newFakeEvents()}
	bus := newHandBus()
	rel := NewReliable(bus, ev, ReliableConfig{HeadCheck: -1})
	defer rel.Close()
	c, r := subscribed(t, rel, bus, "ch1")
	msgs := post(ev.fakeEvents, "ch1", 3)
	r.Receive(msgs[0])
	c.wait(t, 1)
	ev.fail.Store(2)
	r.Receive(msgs[2])
	if got := c.wait(t, 3); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("handed on %v", got)
	}
	if ev.fail.Load() > 0 {
		t.Fatal("delivered without retrying")
	}
}
