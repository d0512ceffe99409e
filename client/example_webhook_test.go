package client_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

// A newsroom's CMS hears about every update of its channel: the server
// posts each event, signed with the secret shown here once, to the URL.
// Private and loopback addresses are refused unless the operator allows
// them (--webhook-allow-hosts).
func ExampleClient_CreateWebhook() {
	owner, channelID, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	hook, err := owner.CreateWebhook(ctx, channelID, "https://cms.example.org/herald",
		herald.EventUpdateCreated, herald.EventUpdateEdited, herald.EventUpdateDeleted)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(hook.Secret, "whsec_"), hook.Enabled, hook.Events)

	_, err = owner.CreateWebhook(ctx, channelID, "https://127.0.0.1/hook", herald.EventUpdateCreated)
	fmt.Println(client.KindOf(err))

	off := false
	w, _ := owner.UpdateWebhook(ctx, channelID, hook.ID, herald.WebhookPatch{Enabled: &off})
	fmt.Println(w.Enabled)

	log, _ := owner.WebhookDeliveries(ctx, channelID, hook.ID)
	fmt.Println(len(log))
	// Output:
	// true true [update.created update.deleted update.edited]
	// webhook-url-refused
	// false
	// 0
}
