package push

import (
	"context"
	"fmt"
	"strings"
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
			for b.Loop() {
				if _, err := Encrypt(plain, sub.P256dh(), sub.Auth); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
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

// BenchmarkSendLoopback posts pushes in parallel over HTTP/2 and TLS to the
// test push service on loopback, which checks every request and decrypts one
// in 100. Sender and receiver share the machine.
func BenchmarkSendLoopback(b *testing.B) {
	clock := herald.SystemClock{}
	srv := pushtest.NewServer(clock)
	defer srv.Close()
	srv.DecryptEvery = 100
	p := Policy{AllowedHosts: []string{"127.0.0.1"}}
	client := policyClient(p, srv)
	ep, s := srv.Subscribe()
	sub := Subscription{Endpoint: ep, P256dh: s.P256dh(), Auth: s.Auth}
	signer := newSigner(b, clock)
	sender := &Sender{Client: client, Signer: signer}
	// Check the protocol once: the client must speak HTTP/2 to the service.
	resp, err := client.Get(srv.URL + "/")
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		b.Fatalf("protocol %s", resp.Proto)
	}
	payload := []byte(strings.Repeat("p", 256))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := sender.Send(context.Background(), sub, Message{Payload: payload, TTL: time.Hour, Urgency: UrgencyHigh})
			if err != nil || res.Outcome != Delivered {
				b.Fatalf("%+v %v", res, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pushes/s")
	if srv.Accepted() < int64(b.N) || len(srv.Failures()) > 1 { // the GET above is one failure
		b.Fatalf("accepted %d of %d, failures %q", srv.Accepted(), b.N, srv.Failures())
	}
}
