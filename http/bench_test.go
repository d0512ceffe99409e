package http_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/password"
)

// pageStore answers a session lookup and a fixed first page from memory,
// so BenchmarkHTTPFirstPage measures the HTTP layer, JSON and the client
// alone: the ceiling any store can reach through this stack.
type pageStore struct {
	herald.Store
	account *herald.Account
	page    []*herald.Update
}

func (s *pageStore) FindAccountBySession(ctx context.Context, hash []byte) (*herald.Account, error) {
	return s.account, nil
}

func (s *pageStore) ListUpdates(ctx context.Context, viewerID, channelID string, before int64, limit int) ([]*herald.Update, error) {
	return s.page, nil
}

func BenchmarkHTTPFirstPage(b *testing.B) {
	now := time.Now().UTC()
	st := &pageStore{account: &herald.Account{ID: "acc", Username: "alice", DisplayName: "alice"}}
	for i := range 20 {
		st.page = append(st.page, &herald.Update{
			ID: "u" + strings.Repeat("x", 25), ChannelID: "c" + strings.Repeat("y", 25), Seq: int64(100 - i),
			Text: strings.Repeat("Storm warning. ", 14), CreatedAt: now, ExpiresAt: now.Add(herald.DefaultRetention),
			Reactions: map[string]int64{}, Viewer: herald.UpdateViewer{Votes: []int{}},
		})
	}
	srv := hhttp.NewServer(hhttp.Config{Store: st, Hasher: password.NewHasher(password.TestParams)})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := client.New(ts.URL, strings.Repeat("t", 43))
	b.SetParallelism(25) // 50 concurrent clients on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			us, err := c.ListUpdates(context.Background(), "chan", client.ListOptions{Limit: 20})
			if err != nil || len(us) != 20 {
				b.Fatal(err)
			}
		}
	})
}
