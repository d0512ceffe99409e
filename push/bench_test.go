package push

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/push/pushtest"
)

func BenchmarkEncrypt(b *testing.B) {
	sub := pushtest.NewSubscriber()
	for _, n := range []int{256, MaxPlaintext} {
		plain := []byte(strings.Repeat("x", n))
		b.Run(fmt.Sprintf("%dB", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			p256dh := sub.P256dh()
			cpu := processCPU()
			for b.Loop() {
				if _, err := Encrypt(plain, p256dh, sub.Auth); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// reportCPU reports the process's CPU time per op since cpu (user and
// system, all goroutines: in SendLoopback the push service's too).
func reportCPU(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

func BenchmarkVAPIDHeaderCached(b *testing.B) {
	s := newSigner(b, herald.NewFakeClock(t0))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Header("https://fcm.googleapis.com/fcm/send/abc"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVAPIDSign(b *testing.B) {
	s := newSigner(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.sign("https://fcm.googleapis.com", t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendLoopback posts pushes, 128 at a time like the dispatcher,
// over TLS to the test push service on loopback, which checks every request
// and decrypts one in 100: over HTTP/2 (one connection, many streams) and
// HTTP/1.1 (kept-alive connections, one request each at a time). Sender and
// receiver share the process, so cpu-ns/op is both sides' CPU per push.
func BenchmarkSendLoopback(b *testing.B) {
	for _, proto := range []struct {
		name  string
		major int
		start func(herald.Clock) *pushtest.Server
	}{{"h2", 2, pushtest.NewServer}, {"http1", 1, pushtest.NewHTTP1Server}} {
		b.Run(proto.name, func(b *testing.B) {
			clock := herald.SystemClock{}
			srv := proto.start(clock)
			defer srv.Close()
			srv.DecryptEvery = 100
			client := policyClient(Policy{AllowedHosts: []string{"127.0.0.1"}}, srv)
			ep, s := srv.Subscribe()
			sub := Subscription{Endpoint: ep, P256dh: s.P256dh(), Auth: s.Auth}
			sender := &Sender{Client: client, Signer: newSigner(b, clock)}
			// Check the protocol once.
			resp, err := client.Get(srv.URL + "/")
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.ProtoMajor != proto.major {
				b.Fatalf("protocol %s", resp.Proto)
			}
			payload := []byte(strings.Repeat("p", 256))
			send := func() {
				res, err := sender.Send(context.Background(), sub, Message{Payload: payload, TTL: time.Hour, Urgency: UrgencyHigh})
				if err != nil || res.Outcome != Delivered {
					b.Fatalf("%+v %v", res, err)
				}
			}
			// Open the connections first: the steady state is measured.
			var wg sync.WaitGroup
			for range 128 {
				wg.Go(send)
			}
			wg.Wait()
			accepted := srv.Accepted()
			b.SetParallelism(max(128/runtime.GOMAXPROCS(0), 1))
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu := time.Now(), processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					send()
				}
			})
			reportCPU(b, cpu)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pushes/s")
			if srv.Accepted()-accepted != int64(b.N) || len(srv.Failures()) > 1 { // the GET above is one failure
				b.Fatalf("accepted %d of %d, failures %q", srv.Accepted()-accepted, b.N, srv.Failures())
			}
		})
	}
}
