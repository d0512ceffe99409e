package main

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/realtime/stream"
)

// TestAdminStreamWithoutFollowing: an owner who doesn't follow their own
// channel still hears it live, because an account's streams carry the
// channels it administers.
func TestAdminStreamWithoutFollowing(t *testing.T) {
	ctx := context.Background()
	m := startInProcess(t, false)
	anon := client.New(m.URL, "")
	owner, err := anon.CreateAccount(ctx, "owner", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	cohost, err := anon.CreateAccount(ctx, "cohost", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	oc := anon.WithToken(owner.Token)
	ch, err := oc.CreateChannel(ctx, client.ChannelInput{Name: "News", Category: "news"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oc.AddAdmin(ctx, ch.ID, "cohost"); err != nil {
		t.Fatal(err)
	}
	if mine, err := oc.MyChannels(ctx); err != nil || len(mine) != 0 {
		t.Fatalf("owner follows %+v, %v; the test needs an owner who doesn't", mine, err)
	}
	for _, transport := range []string{"ws", "sse"} {
		s, err := stream.Dial(ctx, m.URL, transport, stream.Options{Token: owner.Token})
		if err != nil {
			t.Fatal(err)
		}
		s.SetReadDeadline(time.Now().Add(15 * time.Second))
		if e, err := s.Next(); err != nil || e.Type != stream.TypeCursor {
			t.Fatalf("%s: first message %+v %v", transport, e, err)
		}
		text := "Hello over " + transport
		if _, err := anon.WithToken(cohost.Token).PostUpdate(ctx, ch.ID, text, nil); err != nil {
			t.Fatal(err)
		}
		if e, err := s.Next(); err != nil || e.ChannelID != ch.ID || e.Update == nil || e.Update.Text != text {
			t.Fatalf("%s: event %+v %v", transport, e, err)
		}
		s.Close()
	}
}
