package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// Run with: go test -run '^$' -bench . -benchtime 3s ./sqlite/

func BenchmarkCreateUpdate(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, herald.StoreConfig{})
	f := newFixture(b, db)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, &herald.Update{Text: fmt.Sprintf("Bulletin %d: light rain, 14°C", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateUpdateParallel(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, herald.StoreConfig{})
	f := newFixture(b, db)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, &herald.Update{Text: "Bulletin: light rain, 14°C"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// seedFeed posts n updates with reactions, as a realistic first page.
func seedFeed(b *testing.B, db herald.Store, f fixture, n int) {
	ctx := context.Background()
	for i := 0; i < n; i++ {
		u := &herald.Update{Text: fmt.Sprintf("Update %d with some ordinary length text for a feed item.", i)}
		must(b, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u))
		_, err := db.SetReaction(ctx, f.follower.ID, f.ch.ID, u.ID, "👍")
		must(b, err)
	}
}

func BenchmarkListUpdatesFirstPage(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, herald.StoreConfig{})
	f := newFixture(b, db)
	seedFeed(b, db, f, 200)
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			list, err := db.ListUpdates(ctx, f.follower.ID, f.ch.ID, 0, 20)
			if err != nil || len(list) != 20 {
				b.Errorf("ListUpdates: %d, %v", len(list), err)
				return
			}
		}
	})
}

func BenchmarkFindUpdate(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, herald.StoreConfig{})
	f := newFixture(b, db)
	u := &herald.Update{Text: "hot", Poll: &herald.Poll{Question: "q", Options: []herald.PollOption{{Text: "a"}, {Text: "b"}}}}
	must(b, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u))
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.FindUpdate(ctx, f.follower.ID, f.ch.ID, u.ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSetReactionHot has many followers change their reaction to one
// update at once; every op changes a count.
func BenchmarkSetReactionHot(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, herald.StoreConfig{})
	f := newFixture(b, db)
	u := &herald.Update{Text: "hot"}
	must(b, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u))
	const followers = 100
	ids := make([]string, followers)
	for i := range ids {
		a := &herald.Account{Username: fmt.Sprintf("hot%d", i), DisplayName: "h"}
		must(b, db.CreateAccount(ctx, a, "hash"))
		_, err := db.Follow(ctx, a.ID, f.ch.ID)
		must(b, err)
		ids[i] = a.ID
	}
	emojis := []string{"👍", "❤️", "😂", "😮"}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(followers / 2) // 100 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		me := ids[int(next.Add(1)-1)%followers]
		for i := 0; pb.Next(); i++ {
			if _, err := db.SetReaction(ctx, me, f.ch.ID, u.ID, emojis[i%len(emojis)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCreateUpdateIdempotent is BenchmarkCreateUpdate with an
// Idempotency-Key claimed and answered in the post's transaction (issue
// 15): compare ns/op with BenchmarkCreateUpdate.
func BenchmarkCreateUpdateIdempotent(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, herald.StoreConfig{})
	f := newFixture(b, db)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		u := &herald.Update{Text: fmt.Sprintf("Bulletin %d: light rain, 14°C", i)}
		iw := &herald.IdempotentWrite{Principal: f.owner.ID, Key: fmt.Sprintf("cron-%d-%x", i, i*7919), Fingerprint: []byte("0123456789abcdef0123456789abcdef"),
			Answer: func() (*herald.IdempotentResponse, error) {
				body, err := json.Marshal(u)
				return &herald.IdempotentResponse{Status: 201, Body: body, ChannelID: f.ch.ID, ResourceID: u.ID,
					Headers: map[string]string{"Content-Type": "application/json"}}, err
			}}
		if err := db.CreateUpdate(herald.WithIdempotentWrite(ctx, iw), f.owner.ID, f.ch.ID, u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateUpdateIdempotentParallel is BenchmarkCreateUpdateParallel
// with an Idempotency-Key per post, kept in the post's transaction.
func BenchmarkCreateUpdateIdempotentParallel(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, herald.StoreConfig{})
	f := newFixture(b, db)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			u := &herald.Update{Text: "Bulletin: light rain, 14°C"}
			iw := &herald.IdempotentWrite{Principal: f.owner.ID, Key: herald.NewID(), Fingerprint: []byte("0123456789abcdef0123456789abcdef"),
				Answer: func() (*herald.IdempotentResponse, error) {
					body, err := json.Marshal(u)
					return &herald.IdempotentResponse{Status: 201, Body: body, ChannelID: f.ch.ID, ResourceID: u.ID,
						Headers: map[string]string{"Content-Type": "application/json"}}, err
				}}
			if err := db.CreateUpdate(herald.WithIdempotentWrite(ctx, iw), f.owner.ID, f.ch.ID, u); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkListUpdatesWithPreviews is BenchmarkListUpdatesFirstPage where
// every update has a stored link preview with an image: the cost of
// hydrating cards (two more queries per page).
func BenchmarkListUpdatesWithPreviews(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, herald.StoreConfig{})
	f := newFixture(b, db)
	for i := 0; i < 200; i++ {
		u := &herald.Update{Text: fmt.Sprintf("Update %d, details at https://news.example/story/%d", i, i)}
		must(b, db.CreateUpdate(ctx, f.owner.ID, f.ch.ID, u))
	}
	for {
		jobs, err := db.ClaimPreviews(ctx, 50, time.Minute)
		must(b, err)
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			m := &herald.Media{ID: herald.NewID(), Type: herald.MediaImage, MIME: "image/jpeg", Size: 1000, State: herald.MediaProcessing}
			must(b, db.CreatePreviewImage(ctx, f.ch.ID, m))
			m.State, m.Width, m.Height, m.Variants = herald.MediaReady, 1200, 630, []string{"original", "1280", "320"}
			must(b, db.FinishMedia(ctx, m))
			must(b, db.FinishPreview(ctx, j, &herald.LinkPreview{URL: j.URL, Title: "A story", Description: "What happened, in a sentence or two.", SiteName: "News", Image: m}))
		}
	}
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			list, err := db.ListUpdates(ctx, f.follower.ID, f.ch.ID, 0, 20)
			if err != nil || len(list) != 20 || list[0].LinkPreview == nil || list[0].LinkPreview.Image == nil {
				b.Errorf("ListUpdates: %d, %v", len(list), err)
				return
			}
		}
	})
}
