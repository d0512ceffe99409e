package realtime

import (
	"fmt"
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
		c := newConn(s, transportWS, fmt.Sprint("a", i), "x")
		c.sink = discardSink{}
		c.streams["ch"] = &streamState{ready: true}
		s.hub.add("ch", c)
	}
	m := &Message{Stream: "ch", Type: "update.created", ChannelID: "ch", Data: make([]byte, 400)}
	b.ResetTimer()
	for i := range b.N {
		m2 := *m
		m2.Seq = int64(i + 1)
		t0 := time.Now()
		s.hub.handle(&m2)
		b.ReportMetric(float64(time.Since(t0).Microseconds()), "us/broadcast")
		time.Sleep(20 * time.Millisecond) // let the writers drain
	}
}
