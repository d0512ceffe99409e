package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/realtime/stream"
)

// TestServeStreams runs `herald serve` in-process and checks the real-time
// wiring: the store publishes to the hub, /api/v1/ws and /metrics serve it,
// and shutdown closes open streams with 1001 before the store closes.
func TestServeStreams(t *testing.T) {
	ctx := context.Background()
	m := startInProcess(t, false)
	anon := client.New(m.URL, "")
	owner, err := anon.CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	fan, err := anon.CreateAccount(ctx, "fan", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := anon.WithToken(owner.Token).CreateChannel(ctx, client.ChannelInput{Name: "News", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.WithToken(fan.Token).Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	s, err := stream.Dial(ctx, m.URL, "ws", stream.Options{Token: fan.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetReadDeadline(time.Now().Add(15 * time.Second))
	if e, err := s.Next(); err != nil || e.Type != stream.TypeCursor {
		t.Fatalf("first message %+v %v", e, err)
	}
	if _, err := anon.WithToken(owner.Token).PostUpdate(ctx, ch.ID, "Hello", nil); err != nil {
		t.Fatal(err)
	}
	if e, err := s.Next(); err != nil || e.Update == nil || e.Update.Text != "Hello" {
		t.Fatalf("event %+v %v", e, err)
	}

	resp, err := http.Get(m.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `herald_realtime_open_streams{transport="ws"} 1`) {
		t.Errorf("metrics lack the open stream:\n%s", body)
	}

	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	_, err = s.Next()
	var ce *stream.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 {
		t.Fatalf("stream end: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}
