package nats_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	hnats "github.com/heraldhq/herald/nats"
	"github.com/heraldhq/herald/realtime"
	"github.com/heraldhq/herald/sqlite"
)

// BenchmarkCrossNode measures one event going from the publishing node's
// bus through NATS to another node's hub handler: framing, the NATS server,
// dispatch and the bus's ordering checks; not the hub's fan-out. Events of
// a typical update.created (about 450 bytes of JSON) over 100 streams.
// "post" publishes one event per Publish, as a post does (each waits for
// the NATS server's acknowledgement); "batch64" 64 per Publish, as a count
// flush does.
//
//	go test ./nats -run '^$' -bench CrossNode -benchtime 200000x
func BenchmarkCrossNode(b *testing.B) {
	for _, batch := range []int{1, 64} {
		name := "post"
		if batch > 1 {
			name = "batch" + strconv.Itoa(batch)
		}
		b.Run(name, func(b *testing.B) { benchCrossNode(b, batch) })
	}
}

func benchCrossNode(b *testing.B, batch int) {
	ns := startNATS(b)
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "herald.db"), herald.StoreConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	pub, err := hnats.Open(hnats.Config{URL: ns.url()})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	sub, err := hnats.Open(hnats.Config{URL: ns.url()})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()

	const streams = 100
	var got atomic.Int64
	names := make([]string, streams)
	for i := range names {
		names[i] = "benchstream" + strconv.Itoa(i)
		if err := sub.Subscribe(names[i], receiverFunc(func(*realtime.Message) { got.Add(1) })); err != nil {
			b.Fatal(err)
		}
	}
	data := []byte(`{"type":"update.created","channel_id":"CHANNELIDCHANNELIDCHANNELID","seq":1,"update_id":"UPDATEIDUPDATEID","update":{"text":"` +
		strings.Repeat("x", 300) + `","reactions":{}}}`)
	seqs := make([]int64, streams)
	msgs := make([]*realtime.Message, 0, batch)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		k := i % streams
		seqs[k]++
		msgs = append(msgs, &realtime.Message{Stream: names[k], Seq: seqs[k], Type: herald.EventUpdateCreated, ChannelID: names[k], Data: data})
		if len(msgs) == batch || i == b.N-1 {
			if err := pub.Publish(context.Background(), msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	deadline := time.Now().Add(time.Minute)
	for got.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events arrived (dropped %d)", got.Load(), b.N, sub.Stats().Dropped)
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
