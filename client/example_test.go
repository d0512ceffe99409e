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

// A scheduled update can be edited (text, time) or cancelled until the
// server publishes it.
func ExampleClient_EditScheduled() {
	owner, channelID, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	noon := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	_, s, err := owner.Publish(ctx, channelID, client.Post{Text: "Bulletin de midi", PublishAt: noon})
	if err != nil {
		panic(err)
	}
	text, later := "Bulletin de 13 h", noon.Add(time.Hour)
	s, err = owner.EditScheduled(ctx, channelID, s.ID, &text, &later)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Text, s.PublishAt.Sub(noon))

	_ = owner.CancelScheduled(ctx, channelID, s.ID)
	list, _ := owner.ListScheduled(ctx, channelID)
	fmt.Println(len(list))
	// Output:
	// Bulletin de 13 h 1h0m0s
	// 0
}

// An update is corrected or withdrawn by its channel's admins (or a key
// with the edit or delete scope); followers see the change live.
func ExampleClient_EditUpdate() {
	owner, channelID, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	u, err := owner.PostText(ctx, channelID, "Orages à 18 h", "")
	if err != nil {
		panic(err)
	}
	u, err = owner.EditUpdate(ctx, channelID, u.ID, "Orages à 19 h")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Text, u.EditedAt != nil)

	_ = owner.DeleteUpdate(ctx, channelID, u.ID)
	_, err = owner.GetUpdate(ctx, channelID, u.ID)
	fmt.Println(client.KindOf(err))
	// Output:
	// Orages à 19 h true
	// update-not-found
}

// A channel with a handle is addressed as "@handle" wherever an id is
// expected, and found in the directory.
func ExampleClient_UpdateChannel() {
	owner, channelID, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	ch, err := owner.UpdateChannel(ctx, channelID, client.ChannelPatch{Handle: client.Ptr("meteo_lyon"), Description: client.Ptr("Le temps à Lyon, chaque heure.")})
	if err != nil {
		panic(err)
	}
	u, err := owner.PostText(ctx, "@meteo_lyon", "Ciel clair, 14 °C", "")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.ChannelID == ch.ID)

	page, err := client.New(owner.BaseURL(), "").Directory(ctx, client.DirectoryQuery{Text: "lyon", Category: "weather"})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(page.Channels), page.Channels[0].Handle)
	// Output:
	// true
	// 1 meteo_lyon
}

// Admins share a channel: each may post; the owner adds and removes them.
// The invite link lets people follow an unlisted channel; rotating it
// revokes the old one.
func ExampleClient_AddAdmin() {
	owner, channelID, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	if _, err := client.New(owner.BaseURL(), "").CreateAccount(ctx, "claire", "another long password", "Claire"); err != nil {
		panic(err)
	}
	a, err := owner.AddAdmin(ctx, channelID, "claire")
	if err != nil {
		panic(err)
	}
	admins, _ := owner.ListAdmins(ctx, channelID)
	fmt.Println(a.Role, len(admins))
	_ = owner.RemoveAdmin(ctx, channelID, a.Account.ID)

	old, _ := owner.GetChannel(ctx, channelID)
	link, err := owner.RotateInvite(ctx, channelID)
	if err != nil {
		panic(err)
	}
	_, err = client.New(owner.BaseURL(), "").Invite(ctx, old.InviteCode)
	fmt.Println(link.Code != old.InviteCode, client.KindOf(err))
	// Output:
	// admin 2
	// true invite-not-found
}
