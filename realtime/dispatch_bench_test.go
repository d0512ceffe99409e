package realtime

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

type discardSink struct{}

func (discardSink) write([]byte, time.Time) error        { return nil }
func (discardSink) setWriteDeadline(time.Time)           {}
func (discardSink) tryWrite(p []byte) (int, bool, error) { return len(p), true, nil }
func (discardSink) closeGracefully()                     {}
func (discardSink) close()                               {}

// BenchmarkDispatch measures the broadcast alone: one event enqueued on
// 10,000 connections (writes go to a discarding sink).
func BenchmarkDispatch(b *testing.B) {
	s := New(Config{Events: newFakeEvents()})
	defer s.Close()
	for i := 0; i < 10000; i++ {
		c := newConn(s, TransportWebSocket, fmt.Sprint("a", i), "x")
		c.sink = discardSink{}
		c.streams["ch"] = &streamState{ready: true}
		s.hub.add("ch", c)
	}
	m := &Message{Stream: "ch", Type: "update.created", ChannelID: "ch", Data: make([]byte, 400)}
	b.ResetTimer()
	var queued, drained time.Duration
	for i := range b.N {
		m2 := *m
		m2.Seq = int64(i + 1)
		want := s.metrics.delivered.Load() + 10000
		t0 := time.Now()
		s.hub.handle(&m2)
		queued += time.Since(t0)
		for s.metrics.delivered.Load() < want {
			runtime.Gosched()
		}
		drained += time.Since(t0)
	}
	b.ReportMetric(float64(queued.Microseconds())/float64(b.N), "us/broadcast")
	// Everything but the system call: queueing, batching, framing, the
	// poller's write lock, the metrics.
	b.ReportMetric(float64(drained.Nanoseconds())/float64(b.N*10000), "ns/delivery")
}
