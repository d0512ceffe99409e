package e2e

import (
	"context"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/heraldhq/herald/realtime"
)

// attachStreams plugs the real-time hub into the server (SSE on
// /api/v1/events) and returns a function that closes it.
func attachStreams(t *testing.T, ctx context.Context, api *hhttp.Server, store herald.Store, pub *latePublisher) func() {
	rt := realtime.New(realtime.Config{Events: store, Withhold: func(ctx context.Context, accountID, channelID string) (bool, error) {
		return storeutil.Withheld(ctx, store, accountID, channelID)
	}})
	api.Streams = rt
	pub.Set(rt)
	return func() { _ = rt.Close() }
}
