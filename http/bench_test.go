package http_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// postStore answers a session or key lookup and creates updates in
// memory, so that BenchmarkHTTPPost measures what the HTTP layer and the
// client add to a post, with a session token or with an API key and an
// Idempotency-Key (the store's own share: sqlite's
// BenchmarkCreateUpdate(Idempotent)?Parallel).
type postStore struct {
	herald.Store
	account *herald.Account
	key     *herald.ChannelKey
	seq     atomic.Int64
}

func (s *postStore) FindAccountBySession(ctx context.Context, hash []byte) (*herald.Account, error) {
	return s.account, nil
}

func (s *postStore) FindChannelKey(ctx context.Context, hash []byte) (*herald.ChannelKey, error) {
	return s.key, nil
}

func (s *postStore) CreateUpdate(ctx context.Context, actorID, channelID string, u *herald.Update) error {
	now := time.Now().UTC()
	u.ID, u.ChannelID, u.Seq, u.CreatedAt, u.ExpiresAt = herald.NewID(), channelID, s.seq.Add(1), now, now.Add(herald.DefaultRetention)
	u.Reactions, u.Viewer = map[string]int64{}, herald.UpdateViewer{Votes: []int{}}
	return nil
}

func BenchmarkHTTPPost(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		name := "token"
		if keyed {
			name = "key+idempotency"
		}
		b.Run(name, func(b *testing.B) {
			today := herald.KeyDay(time.Now())
			st := &postStore{account: &herald.Account{ID: "acc", Username: "alice", DisplayName: "alice"},
				key: &herald.ChannelKey{ID: "k", ChannelID: "chan", Scopes: []string{herald.ScopePost}, LastUsed: &today}}
			srv := hhttp.NewServer(hhttp.Config{Store: st, Hasher: password.NewHasher(password.TestParams)})
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c := client.New(ts.URL, strings.Repeat("t", 43))
			if keyed {
				c = c.WithToken(herald.KeySecretPrefix + strings.Repeat("k", 43))
			}
			text := strings.Repeat("Storm warning. ", 14)
			b.SetParallelism(25)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var err error
					if keyed {
						_, _, err = c.Publish(context.Background(), "chan", client.Post{Text: text})
					} else {
						_, err = c.PostUpdate(context.Background(), "chan", text, nil)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
