package storetest

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/hll"
)

func init() {
	register("Insights/ViewableUpdates", testInsightsViewable)
	register("Insights/ViewsCountedOnce", testInsightsViewsOnce)
	register("Insights/ViewsUnderThreshold", testInsightsViewsUnderThreshold)
	register("Insights/ViewsEvents", testInsightsViewsEvents)
	register("Insights/ViewsErasedWithUpdate", testInsightsViewsErased)
	register("Insights/AdminsOnly", testInsightsAdminsOnly)
	register("Insights/FollowDays", testInsightsFollowDays)
	register("Insights/Suppression", testInsightsSuppression)
	register("Insights/Languages", testInsightsLanguages)
	register("Insights/PublicViews", testInsightsPublicViews)
}

// sketchOf is a sketch holding the hashes of viewers from..to-1 (stand-ins
// for keyed account hashes: the store never sees accounts).
func sketchOf(from, to int) []byte {
	s := hll.New()
	for i := from; i < to; i++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i)*0x9E3779B97F4A7C15+0x632BE59BD9B4E019)
		h := binary.BigEndian.Uint64(b[:])
		h ^= h >> 31
		h *= 0xBF58476D1CE4E5B9
		h ^= h >> 27
		s.Add(h)
	}
	return s
}

func (h *Harness) views(u *herald.Update, from, to int) {
	h.T.Helper()
	NoErr(h.T, h.Store.MergeViews(h.Ctx, []herald.ViewDelta{{UpdateID: u.ID, Sketch: sketchOf(from, to)}}, nil), "MergeViews")
}

func (h *Harness) readUpdate(viewer *herald.Account, u *herald.Update) *herald.Update {
	h.T.Helper()
	got, err := h.Store.FindUpdate(h.Ctx, viewer.ID, u.ChannelID, u.ID)
	NoErr(h.T, err, "FindUpdate")
	return got
}

func testInsightsViewable(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	listed := h.Channel(owner)
	hidden := h.Channel(owner, Unlisted)
	follower := h.Follower(hidden)
	stranger := h.Account("stranger")
	a := h.Post(owner, listed, "listed")
	b := h.Post(owner, hidden, "unlisted")
	ids := []string{a.ID, b.ID, "no-such-update"}

	got, err := h.Store.ViewableUpdates(h.Ctx, stranger.ID, ids)
	NoErr(t, err, "ViewableUpdates(stranger)")
	if len(got) != 1 || got[0].UpdateID != a.ID || got[0].ChannelID != listed.ID || !got[0].CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("stranger may view only the listed channel's update: %+v", got)
	}
	for _, who := range []*herald.Account{follower, owner} {
		got, err = h.Store.ViewableUpdates(h.Ctx, who.ID, ids)
		NoErr(t, err, "ViewableUpdates")
		if len(got) != 2 {
			t.Fatalf("%s: %+v", who.Username, got)
		}
	}
	h.Clock.Advance(herald.DefaultRetention + time.Second)
	got, err = h.Store.ViewableUpdates(h.Ctx, owner.ID, ids)
	NoErr(t, err, "ViewableUpdates(expired)")
	if len(got) != 0 {
		t.Fatalf("expired updates are not viewable: %+v", got)
	}
	_, err = h.Store.ViewableUpdates(h.Ctx, "", ids)
	WantCode(t, err, herald.EUNAUTHORIZED, "ViewableUpdates(anonymous)")
}

func testInsightsViewsOnce(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "hello")
	// 2,000 viewers in two overlapping batches (two nodes, or two flushes):
	// the union counts each once.
	h.views(u, 0, 1500)
	h.views(u, 500, 2000)
	h.views(u, 0, 2000) // everyone again
	got := h.readUpdate(owner, u)
	if got.Views == nil || math.Abs(float64(*got.Views-2000)) > 4*0.0163*2000 {
		t.Fatalf("views = %v, want about 2000", got.Views)
	}
	in, err := h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if len(in.Updates) != 1 || in.Updates[0].Views == nil || *in.Updates[0].Views != *got.Views {
		t.Fatalf("insights views: %+v", in.Updates)
	}
	// Views of an update nobody may see any more are skipped, not an error.
	NoErr(t, h.Store.MergeViews(h.Ctx, []herald.ViewDelta{{UpdateID: "gone", Sketch: sketchOf(0, 10)}}, nil), "MergeViews(unknown)")
	err = h.Store.MergeViews(h.Ctx, []herald.ViewDelta{{UpdateID: u.ID, Sketch: []byte("short")}}, nil)
	if err == nil {
		t.Fatal("a malformed sketch was merged")
	}
}

func testInsightsViewsUnderThreshold(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "hello")
	h.views(u, 0, 10)
	if got := h.readUpdate(owner, u); got.Views != nil {
		t.Fatalf("10 views shown under k=%d: %d", herald.DefaultInsightsThreshold, *got.Views)
	}
	in, err := h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if in.Threshold != herald.DefaultInsightsThreshold || in.Updates[0].Views != nil || in.Updates[0].Reach != nil {
		t.Fatalf("under k: %+v", in.Updates[0])
	}
	h.views(u, 10, 60)
	if got := h.readUpdate(owner, u); got.Views == nil || *got.Views < 55 || *got.Views > 65 {
		t.Fatalf("60 views: %v", got.Views)
	}
}

func testInsightsViewsEvents(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "hello")
	small := h.Post(owner, ch, "few views")
	h.Events.Take()
	h.views(u, 0, 100)
	h.views(small, 0, 5)
	h.views(u, 100, 200)
	n, err := h.Store.FlushViews(h.Ctx)
	NoErr(t, err, "FlushViews")
	evs := h.Events.Take()
	if n != 1 || len(evs) != 1 || evs[0].Type != herald.EventUpdateViews || evs[0].UpdateID != u.ID || evs[0].Stream != ch.ID ||
		evs[0].Counts == nil || evs[0].Counts.Views == nil || *evs[0].Counts.Views < 190 {
		t.Fatalf("one coalesced update.views event for the update past k: %d %+v", n, evs)
	}
	// Nothing changed since: nothing to send.
	n, err = h.Store.FlushViews(h.Ctx)
	NoErr(t, err, "FlushViews(again)")
	h.views(u, 0, 200) // the same viewers again
	n2, err := h.Store.FlushViews(h.Ctx)
	NoErr(t, err, "FlushViews(same viewers)")
	if n != 0 || n2 != 0 || len(h.Events.Take()) != 0 {
		t.Fatalf("no change, no event: %d %d", n, n2)
	}
	// The event is in the log, hydrated from current state when resumed.
	log, _, err := h.Store.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	found := false
	for _, ev := range log {
		if ev.Type == herald.EventUpdateViews {
			found = ev.Counts != nil && ev.Counts.Views != nil && *ev.Counts.Views >= 190
		}
	}
	if !found {
		t.Fatalf("update.views not replayed with its count: %+v", log)
	}
}

func testInsightsViewsErased(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "hello")
	h.views(u, 0, 100)
	NoErr(t, h.Store.DeleteUpdate(h.Ctx, owner.ID, ch.ID, u.ID), "DeleteUpdate")
	// Merging views of the deleted update recreates nothing.
	h.views(u, 0, 100)
	n, err := h.Store.FlushViews(h.Ctx)
	NoErr(t, err, "FlushViews")
	if n != 0 {
		t.Fatalf("events for a deleted update's views: %d", n)
	}
	in, err := h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if len(in.Updates) != 0 {
		t.Fatalf("deleted update in insights: %+v", in.Updates)
	}
}

func testInsightsAdminsOnly(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	follower := h.Follower(ch)
	hidden := h.Channel(owner, Unlisted)
	_, err := h.Store.ChannelInsights(h.Ctx, admin.ID, ch.ID)
	NoErr(t, err, "ChannelInsights(admin)")
	_, err = h.Store.ChannelInsights(h.Ctx, follower.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "ChannelInsights(follower)")
	_, err = h.Store.ChannelInsights(h.Ctx, follower.ID, hidden.ID)
	WantCode(t, err, herald.ENOTFOUND, "ChannelInsights(unlisted, stranger)")
	_, err = h.Store.ChannelInsights(h.Ctx, "", ch.ID)
	WantCode(t, err, herald.EUNAUTHORIZED, "ChannelInsights(anonymous)")
}

func testInsightsFollowDays(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	var people []*herald.Account
	for range 5 {
		people = append(people, h.Follower(ch))
	}
	h.Clock.Advance(24 * time.Hour)
	NoErr(t, h.Store.Unfollow(h.Ctx, people[0].ID, ch.ID), "Unfollow")
	NoErr(t, h.Store.Unfollow(h.Ctx, people[1].ID, ch.ID), "Unfollow")
	_, err := h.Store.Follow(h.Ctx, h.Account("late").ID, ch.ID)
	NoErr(t, err, "Follow")
	in, err := h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if len(in.Days) != herald.InsightsDays || in.Followers != 4 {
		t.Fatalf("days %d followers %d", len(in.Days), in.Followers)
	}
	today, yesterday, before := in.Days[len(in.Days)-1], in.Days[len(in.Days)-2], in.Days[len(in.Days)-3]
	if today.Day != herald.DayOf(h.Clock.Now()).Format(time.DateOnly) || today.Follows != 1 || today.Unfollows != 2 || today.Net != -1 || today.Followers != 4 {
		t.Fatalf("today %+v", today)
	}
	if yesterday.Follows != 5 || yesterday.Unfollows != 0 || yesterday.Followers != 5 || before.Followers != 0 {
		t.Fatalf("yesterday %+v, the day before %+v", yesterday, before)
	}
}

func testInsightsSuppression(t *testing.T, h *Harness) {
	h = h.With(func(c *herald.StoreConfig) { c.InsightsThreshold = 3 })
	owner := h.Account("owner")
	ch := h.Channel(owner)
	var fs []*herald.Account
	for range 4 {
		fs = append(fs, h.Follower(ch))
	}
	// Two followers with notifications on: under k = 3, not shown.
	h.savePush(fs[0], PushSub(1, 1))
	h.savePush(fs[1], PushSub(2, 2))
	in, err := h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if in.Threshold != 3 || in.NotificationShare != nil {
		t.Fatalf("2 < k: share %v", in.NotificationShare)
	}
	h.savePush(fs[2], PushSub(3, 3))
	in, err = h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if in.NotificationShare == nil || *in.NotificationShare != 0.75 {
		t.Fatalf("3 of 4 with notifications: %v", in.NotificationShare)
	}
	// Muting turns a follower's notifications off.
	_, err = h.Store.SetMuted(h.Ctx, fs[2].ID, ch.ID, true)
	NoErr(t, err, "SetMuted")
	in, err = h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if in.NotificationShare != nil {
		t.Fatalf("muted: %v", *in.NotificationShare)
	}
	u := h.Post(owner, ch, "hello")
	h.views(u, 0, 4)
	in, err = h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if v := in.Updates[0].Views; v == nil || *v != 4 || in.Updates[0].Reach == nil || *in.Updates[0].Reach != 1 {
		t.Fatalf("4 views of 4 followers at k=3: %+v", in.Updates[0])
	}
}

func testInsightsLanguages(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	day := herald.DayOf(h.Clock.Now())
	NoErr(t, h.Store.MergeViews(h.Ctx, nil, []herald.LanguageDelta{
		{ChannelID: ch.ID, Day: day, Lang: "fr", Sketch: sketchOf(0, 120)},
		{ChannelID: ch.ID, Day: day, Lang: "en", Sketch: sketchOf(1000, 1010)},
		{ChannelID: "no-such-channel", Day: day, Lang: "fr", Sketch: sketchOf(0, 10)},
	}), "MergeViews(languages)")
	NoErr(t, h.Store.MergeViews(h.Ctx, nil, []herald.LanguageDelta{
		{ChannelID: ch.ID, Day: day, Lang: "fr", Sketch: sketchOf(60, 150)},
	}), "MergeViews(languages again)")
	in, err := h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if len(in.Languages) != 1 || in.Languages[0].Day != day.Format(time.DateOnly) {
		t.Fatalf("languages %+v", in.Languages)
	}
	v := in.Languages[0].Viewers
	if fr := v["fr"]; fr == nil || *fr < 140 || *fr > 160 {
		t.Fatalf("fr viewers %v, want about 150", fr)
	}
	if en, ok := v["en"]; !ok || en != nil {
		t.Fatalf("en under k must be present and suppressed (null): %v %v", ok, en)
	}
}

func testInsightsPublicViews(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "hello")
	NoErr(t, h.Store.MergeViews(h.Ctx, []herald.ViewDelta{{UpdateID: u.ID, Anonymous: 30}}, nil), "MergeViews(anonymous)")
	in, err := h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if in.Updates[0].PublicViews != nil || in.Updates[0].Views != nil {
		t.Fatalf("30 public loads are under k: %+v", in.Updates[0])
	}
	NoErr(t, h.Store.MergeViews(h.Ctx, []herald.ViewDelta{{UpdateID: u.ID, Anonymous: 25, Sketch: sketchOf(0, 3)}}, nil), "MergeViews(both)")
	in, err = h.Store.ChannelInsights(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ChannelInsights")
	if p := in.Updates[0].PublicViews; p == nil || *p != 55 {
		t.Fatalf("public views %v, want 55 (counted apart from the 3 signed-in views)", p)
	}
	if got := h.readUpdate(owner, u); got.Views != nil {
		t.Fatalf("anonymous loads never make signed-in views: %v", *got.Views)
	}
}
