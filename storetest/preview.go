package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Preview/QueueClaimFinish", testPreviewQueue)
	register("Preview/Lease", testPreviewLease)
	register("Preview/EditRemove", testPreviewEditRemove)
	register("Preview/Erase", testPreviewErase)
	register("Preview/Stale", testPreviewStale)
	register("Preview/UnlistedImageSigned", testPreviewUnlistedImageSigned)
}

// testPreviewUnlistedImageSigned: the preview image of an unlisted
// channel's update is served like its media, by a signed URL, wherever the
// store returns the update; a listed channel's stays bare.
func testPreviewUnlistedImageSigned(t *testing.T, h *Harness) {
	s := h.Store
	key, err := s.MediaURLKey(h.Ctx)
	NoErr(t, err, "MediaURLKey")
	owner := h.Account("owner")
	ch := h.Channel(owner, Unlisted)
	f := h.Follower(ch)
	u := h.Post(owner, ch, "Details: https://school.example/closures")
	jobs := h.claimPreviews(t)
	if len(jobs) != 1 {
		t.Fatalf("claimed %+v", jobs)
	}
	img := h.previewImage(ch)
	NoErr(t, s.FinishPreview(h.Ctx, jobs[0], &herald.LinkPreview{URL: jobs[0].URL, Title: "Closures", Image: img}), "FinishPreview")
	now := h.Clock.Now()
	wantSigned := func(what string, got *herald.Update) {
		t.Helper()
		p := got.LinkPreview
		if p == nil || p.Image == nil || p.Image.URL != herald.SignedMediaPath(key, img.ID, "original", now) ||
			p.Image.ThumbnailURL != herald.SignedMediaPath(key, img.ID, "320", now) {
			t.Fatalf("%s: preview %s, want signed image URLs", what, JSON(t, p))
		}
	}
	got, err := s.FindUpdate(h.Ctx, f.ID, ch.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	wantSigned("FindUpdate", got)
	list, err := s.ListUpdates(h.Ctx, f.ID, ch.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	wantSigned("ListUpdates", list[0])
	acc, err := s.FindSignedMedia(h.Ctx, img.ID)
	if err != nil || acc.Media.ID != img.ID {
		t.Fatalf("FindSignedMedia of the preview image = %+v, %v", acc, err)
	}
}

// previewImage records a ready preview image of ch, as the fetcher does.
func (h *Harness) previewImage(ch *herald.Channel) *herald.Media {
	h.T.Helper()
	m := &herald.Media{ID: herald.NewID(), Type: herald.MediaImage, MIME: "image/jpeg", Size: 10, State: herald.MediaProcessing}
	NoErr(h.T, h.Store.CreatePreviewImage(h.Ctx, ch.ID, m), "CreatePreviewImage")
	m.State, m.Width, m.Height, m.Variants = herald.MediaReady, 600, 315, []string{"original", "1280", "320"}
	NoErr(h.T, h.Store.FinishMedia(h.Ctx, m), "FinishMedia")
	return m
}

func (h *Harness) claimPreviews(t *testing.T) []herald.PreviewJob {
	t.Helper()
	jobs, err := h.Store.ClaimPreviews(h.Ctx, 10, time.Minute)
	NoErr(t, err, "ClaimPreviews")
	return jobs
}

func testPreviewQueue(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	h.Post(owner, ch, "no link here")
	u := h.Post(owner, ch, "Road closed, see https://traffic.example/a7?x=1. Drive safely")
	if u.LinkPreview != nil {
		t.Fatalf("a new update has a preview before any fetch: %s", JSON(t, u))
	}
	jobs := h.claimPreviews(t)
	want := herald.PreviewJob{ChannelID: ch.ID, UpdateID: u.ID, URL: "https://traffic.example/a7?x=1"}
	if len(jobs) != 1 || jobs[0] != want {
		t.Fatalf("claimed %+v, want [%+v]", jobs, want)
	}
	if again := h.claimPreviews(t); len(again) != 0 {
		t.Fatalf("a leased preview was claimed twice: %+v", again)
	}
	h.Events.Take()
	img := h.previewImage(ch)
	p := &herald.LinkPreview{URL: want.URL, Title: "A7 closed", Description: "Until noon", SiteName: "Traffic", CanonicalURL: "https://traffic.example/a7", Image: img}
	NoErr(t, s.FinishPreview(h.Ctx, jobs[0], p), "FinishPreview")
	got, err := s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	lp := got.LinkPreview
	if lp == nil || lp.URL != want.URL || lp.Title != "A7 closed" || lp.Description != "Until noon" || lp.SiteName != "Traffic" ||
		lp.CanonicalURL != "https://traffic.example/a7" || lp.Image == nil || lp.Image.ID != img.ID || lp.Image.Width != 600 ||
		lp.Image.URL != "/media/"+img.ID+"/original" {
		t.Fatalf("stored preview = %s", JSON(t, got.LinkPreview))
	}
	if len(got.Media) != 0 {
		t.Fatalf("the preview image is listed among the update's media: %s", JSON(t, got.Media))
	}
	if got.EditedAt != nil || got.Signature != u.Signature {
		t.Fatalf("a preview changed the update's edit time or signature: %s", JSON(t, got))
	}
	evs := h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventUpdateEdited || evs[0].Update == nil || evs[0].Update.LinkPreview == nil ||
		evs[0].Update.LinkPreview.Image == nil {
		t.Fatalf("events after a preview = %s", JSON(t, evs))
	}
	// Lists, history and the image's access all see it.
	list, err := s.ListUpdates(h.Ctx, "", ch.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	if list[0].ID != u.ID || list[0].LinkPreview == nil || list[0].LinkPreview.Image == nil || list[1].LinkPreview != nil {
		t.Fatalf("listed = %s", JSON(t, list))
	}
	hist, _, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	if last := hist[len(hist)-1]; last.Update == nil || last.Update.LinkPreview == nil || last.Update.LinkPreview.Title != "A7 closed" {
		t.Fatalf("history's last event = %s", JSON(t, last))
	}
	acc, err := s.FindMedia(h.Ctx, "", img.ID)
	NoErr(t, err, "FindMedia of a listed channel's preview image")
	if !acc.Listed || acc.Media.ID != img.ID {
		t.Fatalf("access = %+v", acc)
	}
	// Finished once: a second result changes nothing.
	NoErr(t, s.FinishPreview(h.Ctx, jobs[0], nil), "FinishPreview again")
	got, _ = s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	if got.LinkPreview == nil {
		t.Fatal("a late failure erased a stored preview")
	}

	// A failed fetch leaves the update intact, without preview, not retried.
	f := h.Post(owner, ch, "http://broken.example")
	jobs = h.claimPreviews(t)
	if len(jobs) != 1 || jobs[0].UpdateID != f.ID {
		t.Fatalf("claimed %+v", jobs)
	}
	NoErr(t, s.FinishPreview(h.Ctx, jobs[0], nil), "FinishPreview nil")
	got, err = s.FindUpdate(h.Ctx, "", ch.ID, f.ID)
	NoErr(t, err, "FindUpdate failed")
	if got.LinkPreview != nil || got.Text != "http://broken.example" {
		t.Fatalf("after a failed fetch = %s", JSON(t, got))
	}
	h.Clock.Advance(time.Hour)
	if again := h.claimPreviews(t); len(again) != 0 {
		t.Fatalf("a failed preview was claimed again: %+v", again)
	}

	// Scheduled updates queue theirs when published.
	sched := &herald.ScheduledUpdate{Text: "later: https://later.example/x", PublishAt: h.Clock.Now().Add(time.Minute)}
	NoErr(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, sched), "ScheduleUpdate")
	if again := h.claimPreviews(t); len(again) != 0 {
		t.Fatalf("a scheduled update's preview was claimed before publishing: %+v", again)
	}
	h.Clock.Advance(2 * time.Minute)
	_, err = s.PublishDue(h.Ctx, 10)
	NoErr(t, err, "PublishDue")
	if jobs := h.claimPreviews(t); len(jobs) != 1 || jobs[0].URL != "https://later.example/x" {
		t.Fatalf("claimed after publishing %+v", jobs)
	}
}

func testPreviewLease(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "https://slow.example")
	for i := 0; i < herald.PreviewMaxAttempts; i++ {
		jobs := h.claimPreviews(t)
		if len(jobs) != 1 || jobs[0].UpdateID != u.ID {
			t.Fatalf("claim %d = %+v", i, jobs)
		}
		h.Clock.Advance(59 * time.Second)
		if jobs := h.claimPreviews(t); len(jobs) != 0 {
			t.Fatalf("claimed within the lease: %+v", jobs)
		}
		h.Clock.Advance(time.Second) // the fetcher died: the lease runs out
	}
	if jobs := h.claimPreviews(t); len(jobs) != 0 {
		t.Fatalf("claimed past %d attempts: %+v", herald.PreviewMaxAttempts, jobs)
	}
	// Expired updates are never claimed.
	h.Post(owner, ch, "https://late.example")
	h.Clock.Advance(herald.DefaultRetention)
	if jobs := h.claimPreviews(t); len(jobs) != 0 {
		t.Fatalf("an expired update's preview was claimed: %+v", jobs)
	}
}

// fetched stores a preview with an image for the update's pending job.
func (h *Harness) fetched(t *testing.T, ch *herald.Channel, u *herald.Update) *herald.Media {
	t.Helper()
	jobs := h.claimPreviews(t)
	if len(jobs) != 1 || jobs[0].UpdateID != u.ID {
		t.Fatalf("claimed %+v, want the update %s", jobs, u.ID)
	}
	img := h.previewImage(ch)
	NoErr(t, h.Store.FinishPreview(h.Ctx, jobs[0], &herald.LinkPreview{URL: jobs[0].URL, Title: "T " + jobs[0].URL, Image: img}), "FinishPreview")
	return img
}

func testPreviewEditRemove(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	follower := h.Follower(ch)
	u := h.Post(owner, ch, "see https://one.example")
	img1 := h.fetched(t, ch, u)
	// Same URL: kept, not fetched again.
	got, err := s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "look at https://one.example")
	NoErr(t, err, "EditUpdate same URL")
	if got.LinkPreview == nil || got.LinkPreview.Image == nil || len(h.claimPreviews(t)) != 0 || len(erasable(t, h)) != 0 {
		t.Fatalf("edit keeping the URL: %s", JSON(t, got))
	}
	// Another URL: the old preview and image go, the new one is queued.
	got, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "now https://two.example")
	NoErr(t, err, "EditUpdate new URL")
	if got.LinkPreview != nil {
		t.Fatalf("the old preview survived a URL change: %s", JSON(t, got.LinkPreview))
	}
	if e := erasable(t, h); !slices.Equal(e, []string{img1.ID}) {
		t.Fatalf("erasable after the URL changed = %v, want the old image", e)
	}
	img2 := h.fetched(t, ch, u)
	got, _ = s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	if got.LinkPreview == nil || got.LinkPreview.URL != "https://two.example" || got.LinkPreview.Image.ID != img2.ID {
		t.Fatalf("re-fetched preview = %s", JSON(t, got.LinkPreview))
	}
	// Removal: admins only; then gone, image erasable, never fetched again.
	_, err = s.RemovePreview(h.Ctx, follower.ID, ch.ID, u.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a follower removing a preview")
	h.Events.Take()
	got, err = s.RemovePreview(h.Ctx, owner.ID, ch.ID, u.ID)
	NoErr(t, err, "RemovePreview")
	if got.LinkPreview != nil || got.Text != "now https://two.example" {
		t.Fatalf("after removal = %s", JSON(t, got))
	}
	if evs := h.Events.Take(); len(evs) != 1 || evs[0].Type != herald.EventUpdateEdited || evs[0].Update.LinkPreview != nil {
		t.Fatalf("events after removal = %s", JSON(t, evs))
	}
	if e := erasable(t, h); !slices.Contains(e, img2.ID) {
		t.Fatalf("erasable after removal = %v, want %s", e, img2.ID)
	}
	_, err = s.RemovePreview(h.Ctx, owner.ID, ch.ID, u.ID)
	WantKind(t, err, herald.ENOTFOUND, "preview-not-found", "removing twice")
	_, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "still https://two.example!")
	NoErr(t, err, "EditUpdate after removal")
	if jobs := h.claimPreviews(t); len(jobs) != 0 {
		t.Fatalf("a removed preview was queued again for the same URL: %+v", jobs)
	}
	// Removing the URL removes the preview; a new URL brings one back.
	_, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "https://three.example")
	NoErr(t, err, "EditUpdate third URL")
	h.fetched(t, ch, u)
	got, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "no more links")
	NoErr(t, err, "EditUpdate without URL")
	if got.LinkPreview != nil || len(h.claimPreviews(t)) != 0 {
		t.Fatalf("preview after the URL went: %s", JSON(t, got))
	}
	plain := h.Post(owner, ch, "plain")
	_, err = s.RemovePreview(h.Ctx, owner.ID, ch.ID, plain.ID)
	WantKind(t, err, herald.ENOTFOUND, "preview-not-found", "removing a preview that never was")
}

func testPreviewErase(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	del := h.Post(owner, ch, "https://deleted.example")
	imgDel := h.fetched(t, ch, del)
	exp := h.Post(owner, ch, "https://expired.example")
	h.Clock.Advance(time.Hour)
	imgExp := h.fetched(t, ch, exp)
	if e := erasable(t, h); len(e) != 0 {
		t.Fatalf("erasable while live = %v", e)
	}
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, del.ID), "DeleteUpdate")
	if e := erasable(t, h); !slices.Equal(e, []string{imgDel.ID}) {
		t.Fatalf("erasable after delete = %v", e)
	}
	h.Clock.Advance(herald.DefaultRetention - time.Hour)
	if e := erasable(t, h); !slices.Equal(e, sorted(imgDel.ID, imgExp.ID)) {
		t.Fatalf("erasable after expiry = %v", e)
	}
	_, err := s.FindMedia(h.Ctx, owner.ID, imgExp.ID)
	WantCode(t, err, herald.ENOTFOUND, "an expired update's preview image")
	_, err = s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired")
	// A preview image recorded but never attached (the fetcher died) goes
	// like a stale upload.
	ch2 := h.Channel(owner)
	loose := h.previewImage(ch2)
	NoErr(t, s.ForgetMedia(h.Ctx, []string{imgDel.ID, imgExp.ID}), "ForgetMedia")
	if e := erasable(t, h); len(e) != 0 {
		t.Fatalf("erasable = %v, want none before a day", e)
	}
	h.Clock.Advance(herald.UnattachedMaxAge)
	if e := erasable(t, h); !slices.Equal(e, []string{loose.ID}) {
		t.Fatalf("erasable = %v, want the unattached preview image", e)
	}
}

func testPreviewStale(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	u := h.Post(owner, ch, "https://old.example")
	jobs := h.claimPreviews(t)
	// Edited while fetching: the late result is dropped, its image erasable.
	_, err := s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "https://new.example")
	NoErr(t, err, "EditUpdate")
	img := h.previewImage(ch)
	NoErr(t, s.FinishPreview(h.Ctx, jobs[0], &herald.LinkPreview{URL: jobs[0].URL, Title: "old", Image: img}), "late FinishPreview")
	got, _ := s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	if got.LinkPreview != nil {
		t.Fatalf("a stale preview was stored: %s", JSON(t, got.LinkPreview))
	}
	if e := erasable(t, h); !slices.Equal(e, []string{img.ID}) {
		t.Fatalf("erasable = %v, want the stale image", e)
	}
	// Deleted while fetching: nothing stored, no error.
	jobs = h.claimPreviews(t)
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, u.ID), "DeleteUpdate")
	NoErr(t, s.FinishPreview(h.Ctx, jobs[0], &herald.LinkPreview{URL: jobs[0].URL, Title: "new"}), "FinishPreview of a deleted update")
}
