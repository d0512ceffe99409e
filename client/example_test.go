package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/sqlite"
)

// exampleServer starts a Herald API on a temporary SQLite database and
// returns a signed-in owner and one of their channels.
func exampleServer() (owner *client.Client, channelID string, stop func()) {
	dir, err := os.MkdirTemp("", "herald-example")
	if err != nil {
		panic(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "herald.db"), herald.StoreConfig{})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(hhttp.NewServer(hhttp.Config{Store: db, Hasher: password.NewHasher(password.TestParams)}))
	stop = func() { ts.Close(); db.Close(); os.RemoveAll(dir) }
	ctx := context.Background()
	s, err := client.New(ts.URL, "").CreateAccount(ctx, "meteo_lyon", "correct horse battery", "Météo Lyon")
	if err != nil {
		panic(err)
	}
	owner = client.New(ts.URL, s.Token)
	ch, err := owner.CreateChannel(ctx, client.ChannelInput{Name: "Météo Lyon", Category: "weather", Country: "FR", Language: "fr"})
	if err != nil {
		panic(err)
	}
	return owner, ch.ID, stop
}

// A weather station publishes with a channel API key: one key per
// program, scoped to posting, revocable at any time.
func ExampleClient_CreateKey() {
	owner, channelID, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	key, err := owner.CreateKey(ctx, channelID, "weather station", herald.ScopePost)
	if err != nil {
		panic(err)
	}
	station := client.New(owner.BaseURL(), key.Secret)
	u, err := station.PostText(ctx, channelID, "Ciel clair, 14 °C", "")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Text)

	// A key may post, nothing more.
	_, err = station.ListAdmins(ctx, channelID)
	fmt.Println(client.KindOf(err))

	_ = owner.RevokeKey(ctx, channelID, key.ID)
	_, err = station.PostText(ctx, channelID, "Encore là ?", "")
	fmt.Println(client.KindOf(err))
	// Output:
	// Ciel clair, 14 °C
	// key-not-allowed
	// invalid-token
}

// Publish sends an Idempotency-Key: a retry of the same post (after a
// timeout, or a cron job run twice) creates nothing new.
func ExampleClient_Publish() {
	owner, channelID, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	post := client.Post{Text: "Orages ce soir", IdempotencyKey: "cron-2026-03-01T18", Retries: 3}
	first, _, err := owner.Publish(ctx, channelID, post)
	if err != nil {
		panic(err)
	}
	again, _, err := owner.Publish(ctx, channelID, post)
	if err != nil {
		panic(err)
	}
	fmt.Println(first.ID == again.ID)
	// Output: true
}

// Setting PublishAt schedules the update: the server publishes it at
// that time; until then only the channel's admins and keys see it.
func ExampleClient_Publish_scheduled() {
	owner, channelID, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	_, scheduled, err := owner.Publish(ctx, channelID, client.Post{Text: "Bulletin de midi", PublishAt: time.Now().Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	list, _ := owner.ListScheduled(ctx, channelID)
	fmt.Println(len(list), list[0].ID == scheduled.ID)

	u, err := owner.PublishScheduled(ctx, channelID, scheduled.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Text)
	// Output:
	// 1 true
	// Bulletin de midi
}
