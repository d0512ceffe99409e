package realtime

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/realtime/stream"
)

// BenchmarkFanout measures one event delivered to N WebSocket followers on
// loopback, readers included (they share the CPU, as on one machine).
// `herald-bench fanout` measures the real server in its own process.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ts := newTestServer(b, Config{MaxStreamsPerAddr: -1})
			conns := make([]*stream.Conn, n)
			for i := range conns {
				acc := fmt.Sprint("f", i)
				ts.events.follow(acc, "ch1")
				c, err := stream.Dial(context.Background(), ts.URL, "ws", stream.Options{Token: acc})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				if _, err := c.NextData(); err != nil {
					b.Fatal(err)
				}
				conns[i] = c
			}
			ev := herald.Event{Type: herald.EventUpdateCreated, ChannelID: "ch1", Update: &herald.Update{Text: "Storm warning for the whole valley tonight."}}
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for _, c := range conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := c.NextData(); err != nil {
							b.Error(err)
						}
					}()
				}
				ts.events.append(ev, true)
				wg.Wait()
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
