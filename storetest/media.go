package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Media/UploadAttachHydrate", testMediaAttach)
	register("Media/Access", testMediaAccess)
	register("Media/Quota", testMediaQuota)
	register("Media/Erasable", testMediaErasable)
	register("Media/Alt", testMediaAlt)
	register("Media/FinishAttached", testMediaFinishAttached)
	register("Media/Avatar", testMediaAvatar)
	register("Media/SignedURLs", testMediaSignedURLs)
	register("Media/EditEmptyText", testMediaEditEmptyText)
	register("Media/Scheduled", testMediaScheduled)
	register("Media/UnlistedAvatar", testMediaUnlistedAvatar)
}

// Upload records an image upload of size bytes, ready, as actor.
func (h *Harness) Upload(actor *herald.Account, ch *herald.Channel, size int64) *herald.Media {
	h.T.Helper()
	m := &herald.Media{ID: herald.NewID(), Type: herald.MediaImage, MIME: "image/jpeg", Size: size}
	NoErr(h.T, h.Store.CreateMedia(h.Ctx, actor.ID, ch.ID, m, 0), "CreateMedia")
	m.State, m.Width, m.Height, m.Blurhash, m.Variants = herald.MediaReady, 640, 480, "LEHV6nWB2yk8pyo0adR*.7kCMdnj", []string{"original", "1280", "320"}
	NoErr(h.T, h.Store.FinishMedia(h.Ctx, m), "FinishMedia")
	return m
}

func mediaIDs(list []herald.Media) []string {
	var out []string
	for _, m := range list {
		out = append(out, m.ID)
	}
	return out
}

func testMediaAttach(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	a, b := h.Upload(owner, ch, 100), h.Upload(owner, ch, 200)
	if a.ChannelID != ch.ID || !a.CreatedAt.Equal(Start) || a.URL != "/media/"+a.ID+"/original" || a.ThumbnailURL != "/media/"+a.ID+"/320" {
		t.Fatalf("uploaded media = %+v", a)
	}
	h.Events.Take()
	// Media without text: an album of two, in the given order.
	u := &herald.Update{Media: []herald.Media{{ID: b.ID, Alt: "  second  "}, {ID: a.ID, Alt: "first"}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u), "CreateUpdate with media only")
	if u.Text != "" || !slices.Equal(mediaIDs(u.Media), []string{b.ID, a.ID}) || u.Media[0].Alt != "second" || u.Media[0].Width != 640 {
		t.Fatalf("created = %s", JSON(t, u))
	}
	evs := h.Events.Take()
	if len(evs) != 1 || evs[0].Update == nil || len(evs[0].Update.Media) != 2 || evs[0].Update.Media[1].Alt != "first" {
		t.Fatalf("update.created event = %s", JSON(t, evs))
	}
	got, err := s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	if !slices.Equal(mediaIDs(got.Media), []string{b.ID, a.ID}) || got.Media[0].Blurhash == "" || got.Media[0].State != herald.MediaReady ||
		got.Media[1].ThumbnailURL != "/media/"+a.ID+"/320" || got.Media[1].Alt != "first" {
		t.Fatalf("FindUpdate = %s", JSON(t, got))
	}
	list, err := s.ListUpdates(h.Ctx, "", ch.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	if len(list) != 1 || len(list[0].Media) != 2 {
		t.Fatalf("ListUpdates = %s", JSON(t, list))
	}
	hist, _, err := s.EventsAfter(h.Ctx, ch.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	if last := hist[len(hist)-1]; last.Update == nil || len(last.Update.Media) != 2 {
		t.Fatalf("history = %s", JSON(t, hist))
	}
	// A media is attached once; another channel's media, unknown ids,
	// repeats, too many, too long alt texts are refused.
	other := h.Channel(owner)
	c := h.Upload(owner, other, 10)
	d := h.Upload(owner, ch, 10)
	for what, refs := range map[string][]herald.Media{
		"attached twice":     {{ID: a.ID}},
		"another channel's":  {{ID: c.ID}},
		"unknown":            {{ID: "nope"}},
		"repeated":           {{ID: d.ID}, {ID: d.ID}},
		"alt too long":       {{ID: d.ID, Alt: strings.Repeat("a", herald.MediaAltMaxLen+1)}},
		"eleven":             slices.Repeat([]herald.Media{{ID: d.ID}}, herald.MaxUpdateMedia+1),
		"empty id":           {{ID: ""}},
		"invalid alt bytes":  {{ID: d.ID, Alt: "\xff"}},
		"with one bad of 2":  {{ID: d.ID}, {ID: a.ID}},
		"text still checked": {{ID: d.ID}},
	} {
		u := &herald.Update{Media: refs}
		if what == "text still checked" {
			u.Text = strings.Repeat("x", herald.UpdateTextMaxLen+1)
		}
		WantCode(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u), herald.EINVALID, what)
	}
	// The failed attempts left d unattached: it still attaches, with text.
	u2 := &herald.Update{Text: "caption", Media: []herald.Media{{ID: d.ID, Alt: strings.Repeat("é", herald.MediaAltMaxLen)}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u2), "1,500-character alt")
	WantCode(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, &herald.Update{}), herald.EINVALID, "neither text nor media")
	// Only admins upload.
	f := h.Follower(ch)
	WantCode(t, s.CreateMedia(h.Ctx, f.ID, ch.ID, &herald.Media{ID: herald.NewID(), Type: herald.MediaImage, MIME: "image/png", Size: 1}, 0),
		herald.EFORBIDDEN, "follower uploads")
	WantCode(t, s.CreateMedia(h.Ctx, "", ch.ID, &herald.Media{ID: herald.NewID(), Type: herald.MediaImage, MIME: "image/png", Size: 1}, 0),
		herald.EUNAUTHORIZED, "anonymous uploads")
}

func testMediaAccess(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	listed, unlisted := h.Channel(owner), h.Channel(owner, Unlisted)
	f := h.Follower(listed)
	stranger := h.Account("stranger")
	// Unattached: the channel's admins only.
	m := h.Upload(owner, listed, 10)
	acc, err := s.FindMedia(h.Ctx, owner.ID, m.ID)
	NoErr(t, err, "owner reads an unattached upload")
	if acc.Media.ID != m.ID || !acc.Listed || acc.Media.Size != 10 {
		t.Fatalf("FindMedia = %+v", acc)
	}
	for _, v := range []string{"", f.ID, stranger.ID} {
		_, err := s.FindMedia(h.Ctx, v, m.ID)
		WantCode(t, err, herald.ENOTFOUND, "unattached media seen by "+v)
	}
	h.Clock.Advance(herald.UnattachedMaxAge)
	_, err = s.FindMedia(h.Ctx, owner.ID, m.ID)
	WantCode(t, err, herald.ENOTFOUND, "an upload older than 24 h")
	WantCode(t, s.CreateUpdate(h.Ctx, owner.ID, listed.ID, &herald.Update{Media: []herald.Media{{ID: m.ID}}}), herald.EINVALID, "attach a stale upload")

	// Attached to a listed channel's update: anyone.
	m2 := h.Upload(owner, listed, 10)
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, listed.ID, &herald.Update{Media: []herald.Media{{ID: m2.ID}}}), "post")
	acc, err = s.FindMedia(h.Ctx, "", m2.ID)
	NoErr(t, err, "anonymous reads a listed channel's media")
	if !acc.Listed {
		t.Fatal("Listed = false")
	}
	// Unlisted: followers and admins only, and the caller learns it isn't listed.
	m3 := h.Upload(owner, unlisted, 10)
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, unlisted.ID, &herald.Update{Media: []herald.Media{{ID: m3.ID}}}), "post unlisted")
	for _, v := range []string{"", stranger.ID, f.ID} {
		_, err := s.FindMedia(h.Ctx, v, m3.ID)
		WantCode(t, err, herald.ENOTFOUND, "unlisted media seen by a non-follower")
	}
	acc, err = s.FindMedia(h.Ctx, owner.ID, m3.ID)
	NoErr(t, err, "owner reads unlisted media")
	if acc.Listed {
		t.Fatal("unlisted channel's media says Listed")
	}
	_, err = s.FindMedia(h.Ctx, "", "nope")
	WantCode(t, err, herald.ENOTFOUND, "unknown media")
}

func testMediaQuota(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch, other := h.Channel(owner), h.Channel(owner)
	up := func(c *herald.Channel, size int64) error {
		return s.CreateMedia(h.Ctx, owner.ID, c.ID, &herald.Media{ID: herald.NewID(), Type: herald.MediaDocument, MIME: "application/pdf", Size: size}, 1000)
	}
	NoErr(t, up(ch, 600), "first upload")
	NoErr(t, up(ch, 400), "up to the quota")
	WantKind(t, up(ch, 1), herald.ERATELIMIT, "upload-quota", "past the quota")
	NoErr(t, up(other, 1000), "another channel's quota")
	used, err := s.MediaUsage(h.Ctx, ch.ID, h.Clock.Now().Add(-24*time.Hour))
	NoErr(t, err, "MediaUsage")
	if used != 1000 {
		t.Fatalf("MediaUsage = %d", used)
	}
	h.Clock.Advance(24*time.Hour + time.Second)
	NoErr(t, up(ch, 1000), "a day later")
}

func erasable(t *testing.T, h *Harness) []string {
	t.Helper()
	list, err := h.Store.ErasableMedia(h.Ctx, 100)
	NoErr(t, err, "ErasableMedia")
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func testMediaErasable(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch, doomed := h.Channel(owner), h.Channel(owner)
	kept := h.Upload(owner, ch, 1)
	u := &herald.Update{Text: "keep", Media: []herald.Media{{ID: kept.ID}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u), "post")
	del := h.Upload(owner, ch, 1)
	ud := &herald.Update{Media: []herald.Media{{ID: del.ID}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, ud), "post")
	loose := h.Upload(owner, ch, 1)
	gone := h.Upload(owner, doomed, 1)
	if got := erasable(t, h); len(got) != 0 {
		t.Fatalf("erasable at first = %v", got)
	}
	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, ch.ID, ud.ID), "DeleteUpdate")
	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, doomed.ID), "DeleteChannel")
	if got := erasable(t, h); !slices.Equal(got, sorted(del.ID, gone.ID)) {
		t.Fatalf("erasable after deletes = %v", got)
	}
	NoErr(t, s.ForgetMedia(h.Ctx, []string{del.ID, gone.ID}), "ForgetMedia")
	if got := erasable(t, h); len(got) != 0 {
		t.Fatalf("erasable after ForgetMedia = %v", got)
	}
	h.Clock.Advance(herald.UnattachedMaxAge)
	if got := erasable(t, h); !slices.Equal(got, []string{loose.ID}) {
		t.Fatalf("erasable after 24 h = %v, want the unattached upload", got)
	}
	// Expiry, before and after pruning.
	h.Clock.Advance(herald.DefaultRetention)
	if got := erasable(t, h); !slices.Equal(got, sorted(loose.ID, kept.ID)) {
		t.Fatalf("erasable after expiry = %v", got)
	}
	_, err := s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired")
	if got := erasable(t, h); !slices.Equal(got, sorted(loose.ID, kept.ID)) {
		t.Fatalf("erasable after pruning = %v", got)
	}
	_, err = s.FindMedia(h.Ctx, owner.ID, kept.ID)
	WantCode(t, err, herald.ENOTFOUND, "expired update's media")
}

func testMediaAlt(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	a, b := h.Upload(owner, ch, 1), h.Upload(owner, ch, 1)
	u := &herald.Update{Text: "two", Media: []herald.Media{{ID: a.ID, Alt: "old a"}, {ID: b.ID, Alt: "old b"}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u), "post")
	h.Events.Take()
	h.Clock.Advance(time.Minute)
	got, err := s.SetMediaAlt(h.Ctx, owner.ID, ch.ID, u.ID, []herald.MediaRef{{ID: b.ID, Alt: " new b "}})
	NoErr(t, err, "SetMediaAlt")
	if got.EditedAt == nil || got.Media[0].Alt != "old a" || got.Media[1].Alt != "new b" || got.Text != "two" {
		t.Fatalf("SetMediaAlt = %s", JSON(t, got))
	}
	evs := h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventUpdateEdited || evs[0].Update.Media[1].Alt != "new b" {
		t.Fatalf("events = %s", JSON(t, evs))
	}
	other := h.Upload(owner, ch, 1)
	_, err = s.SetMediaAlt(h.Ctx, owner.ID, ch.ID, u.ID, []herald.MediaRef{{ID: other.ID, Alt: "x"}})
	WantCode(t, err, herald.EINVALID, "alt of a media not in the update")
	_, err = s.SetMediaAlt(h.Ctx, h.Follower(ch).ID, ch.ID, u.ID, []herald.MediaRef{{ID: a.ID, Alt: "x"}})
	WantCode(t, err, herald.EFORBIDDEN, "follower edits alt")
	_, err = s.SetMediaAlt(h.Ctx, owner.ID, ch.ID, u.ID, []herald.MediaRef{{ID: a.ID, Alt: strings.Repeat("a", herald.MediaAltMaxLen+1)}})
	WantCode(t, err, herald.EINVALID, "alt too long")
}

// A video posted while processing: its update is edited (for followers)
// when processing ends, without an edited_at (nobody edited it).
func testMediaFinishAttached(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	m := &herald.Media{ID: herald.NewID(), Type: herald.MediaVideo, MIME: "video/mp4", Size: 1000}
	NoErr(t, s.CreateMedia(h.Ctx, owner.ID, ch.ID, m, 0), "CreateMedia")
	if m.State != herald.MediaProcessing {
		t.Fatalf("state = %q", m.State)
	}
	u := &herald.Update{Text: "film", Media: []herald.Media{{ID: m.ID}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u), "post while processing")
	if u.Media[0].State != herald.MediaProcessing {
		t.Fatalf("posted media = %+v", u.Media[0])
	}
	h.Events.Take()
	m.State, m.Width, m.Height, m.Duration, m.Variants = herald.MediaReady, 320, 240, 2.5, []string{"original", "poster"}
	NoErr(t, s.FinishMedia(h.Ctx, m), "FinishMedia")
	evs := h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventUpdateEdited || evs[0].Update == nil || evs[0].Update.EditedAt != nil ||
		evs[0].Update.Media[0].State != herald.MediaReady || evs[0].Update.Media[0].Duration != 2.5 || evs[0].Update.Media[0].ThumbnailURL != "/media/"+m.ID+"/poster" {
		t.Fatalf("events = %s", JSON(t, evs))
	}
	// An unattached media's processing tells nobody.
	m2 := h.Upload(owner, ch, 1)
	_ = m2
	if evs := h.Events.Take(); len(evs) != 0 {
		t.Fatalf("events for an unattached media = %s", JSON(t, evs))
	}
	WantCode(t, s.FinishMedia(h.Ctx, &herald.Media{ID: "nope", State: herald.MediaReady}), herald.ENOTFOUND, "FinishMedia of an unknown media")

	// An unlisted channel's followers hear it too, with signed URLs.
	hidden := h.Channel(owner, Unlisted)
	v := &herald.Media{ID: herald.NewID(), Type: herald.MediaVideo, MIME: "video/mp4", Size: 1000}
	NoErr(t, s.CreateMedia(h.Ctx, owner.ID, hidden.ID, v, 0), "CreateMedia unlisted")
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, hidden.ID, &herald.Update{Media: []herald.Media{{ID: v.ID}}}), "post unlisted while processing")
	h.Events.Take()
	v.State, v.Variants = herald.MediaReady, []string{"original", "poster"}
	NoErr(t, s.FinishMedia(h.Ctx, v), "FinishMedia unlisted")
	evs = h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventUpdateEdited || evs[0].Update.Media[0].State != herald.MediaReady ||
		!strings.HasPrefix(evs[0].Update.Media[0].ThumbnailURL, "/media/"+v.ID+"/poster?expires=") || !strings.Contains(v.URL, "&sig=") {
		t.Fatalf("unlisted events = %s (media %+v)", JSON(t, evs), v)
	}
}

func testMediaAvatar(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	a := h.Upload(owner, ch, 10)
	h.Events.Take()
	got, err := s.SetChannelAvatar(h.Ctx, owner.ID, ch.ID, a.ID)
	NoErr(t, err, "SetChannelAvatar")
	if got.AvatarURL != "/media/"+a.ID+"/original" || got.Viewer.Role == nil {
		t.Fatalf("channel = %s", JSON(t, got))
	}
	if evs := h.Events.Take(); len(evs) != 1 || evs[0].Type != herald.EventChannelUpdated || evs[0].Channel.AvatarURL != got.AvatarURL {
		t.Fatalf("events = %s", JSON(t, evs))
	}
	seen, err := s.FindChannel(h.Ctx, "", ch.ID)
	NoErr(t, err, "FindChannel")
	if seen.AvatarURL != got.AvatarURL {
		t.Fatalf("FindChannel avatar = %q", seen.AvatarURL)
	}
	// Public like the channel, and never erased while it is the avatar.
	_, err = s.FindMedia(h.Ctx, "", a.ID)
	NoErr(t, err, "anonymous reads a listed channel's avatar")
	h.Clock.Advance(herald.UnattachedMaxAge * 2)
	if got := erasable(t, h); len(got) != 0 {
		t.Fatalf("erasable = %v while it is the avatar", got)
	}
	// Replacing it retires the old one at once.
	b := h.Upload(owner, ch, 10)
	_, err = s.SetChannelAvatar(h.Ctx, owner.ID, ch.ID, b.ID)
	NoErr(t, err, "replace the avatar")
	if got := erasable(t, h); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("erasable after replacing = %v", got)
	}
	_, err = s.FindMedia(h.Ctx, owner.ID, a.ID)
	WantCode(t, err, herald.ENOTFOUND, "the retired avatar")
	// Removing it.
	got, err = s.SetChannelAvatar(h.Ctx, owner.ID, ch.ID, "")
	NoErr(t, err, "remove the avatar")
	if got.AvatarURL != "" {
		t.Fatalf("avatar after removal = %q", got.AvatarURL)
	}
	if got := erasable(t, h); !slices.Equal(got, sorted(a.ID, b.ID)) {
		t.Fatalf("erasable after removing = %v", got)
	}
	// Only admins; only the channel's own recent, unattached images.
	c := h.Upload(owner, ch, 10)
	_, err = s.SetChannelAvatar(h.Ctx, h.Follower(ch).ID, ch.ID, c.ID)
	WantCode(t, err, herald.EFORBIDDEN, "follower sets the avatar")
	other := h.Channel(owner)
	d := h.Upload(owner, other, 10)
	_, err = s.SetChannelAvatar(h.Ctx, owner.ID, ch.ID, d.ID)
	WantCode(t, err, herald.EINVALID, "another channel's upload")
	doc := &herald.Media{ID: herald.NewID(), Type: herald.MediaDocument, MIME: "application/pdf", Size: 1, State: herald.MediaReady}
	NoErr(t, s.CreateMedia(h.Ctx, owner.ID, ch.ID, doc, 0), "CreateMedia")
	_, err = s.SetChannelAvatar(h.Ctx, owner.ID, ch.ID, doc.ID)
	WantCode(t, err, herald.EINVALID, "a document as avatar")
}

// testMediaSignedURLs: an unlisted channel's media URLs are signed with the
// store's key wherever the store returns them, a listed channel's are bare;
// FindSignedMedia opens a live update's media to whoever holds the URL,
// never an unattached upload or a deleted update's media.
func testMediaSignedURLs(t *testing.T, h *Harness) {
	s := h.Store
	key, err := s.MediaURLKey(h.Ctx)
	NoErr(t, err, "MediaURLKey")
	again, err := s.MediaURLKey(h.Ctx)
	NoErr(t, err, "MediaURLKey again")
	if len(key) < 32 || string(key) != string(again) {
		t.Fatalf("MediaURLKey = %x then %x: want one stable key of 32+ bytes", key, again)
	}
	owner := h.Account("owner")
	listed, unlisted := h.Channel(owner), h.Channel(owner, Unlisted)
	f := h.Follower(unlisted)
	now := h.Clock.Now()
	wantSigned := func(what string, m herald.Media) {
		t.Helper()
		if m.URL != herald.SignedMediaPath(key, m.ID, "original", now) || m.ThumbnailURL != herald.SignedMediaPath(key, m.ID, "320", now) {
			t.Fatalf("%s: URLs %q %q are not signed", what, m.URL, m.ThumbnailURL)
		}
	}
	pub := h.Upload(owner, listed, 10)
	priv := h.Upload(owner, unlisted, 10)
	if pub.URL != "/media/"+pub.ID+"/original" {
		t.Fatalf("listed upload URL %q", pub.URL)
	}
	wantSigned("FinishMedia", *priv)
	_, err = s.FindSignedMedia(h.Ctx, priv.ID)
	WantCode(t, err, herald.ENOTFOUND, "FindSignedMedia of an unattached upload")

	u := &herald.Update{Media: []herald.Media{{ID: priv.ID}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, unlisted.ID, u), "post unlisted")
	wantSigned("CreateUpdate", u.Media[0])
	got, err := s.FindUpdate(h.Ctx, f.ID, unlisted.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	wantSigned("FindUpdate", got.Media[0])
	list, err := s.ListUpdates(h.Ctx, f.ID, unlisted.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	wantSigned("ListUpdates", list[0].Media[0])
	evs, _, err := s.EventsAfter(h.Ctx, unlisted.ID, 0, 100)
	NoErr(t, err, "EventsAfter")
	heard := false
	for _, ev := range evs {
		if ev.Type == herald.EventUpdateCreated && ev.UpdateID == u.ID && ev.Update != nil {
			wantSigned("update.created from the log", ev.Update.Media[0])
			heard = true
		}
	}
	if !heard {
		t.Fatal("no update.created in the channel's log")
	}
	acc, err := s.FindSignedMedia(h.Ctx, priv.ID)
	NoErr(t, err, "FindSignedMedia")
	if acc.Media.ID != priv.ID || acc.Listed {
		t.Fatalf("FindSignedMedia = %+v", acc)
	}

	pu := &herald.Update{Media: []herald.Media{{ID: pub.ID}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, listed.ID, pu), "post listed")
	got, err = s.FindUpdate(h.Ctx, "", listed.ID, pu.ID)
	NoErr(t, err, "FindUpdate listed")
	if got.Media[0].URL != "/media/"+pub.ID+"/original" || got.Media[0].ThumbnailURL != "/media/"+pub.ID+"/320" {
		t.Fatalf("listed media URLs %q %q: want bare paths", got.Media[0].URL, got.Media[0].ThumbnailURL)
	}

	NoErr(t, s.DeleteUpdate(h.Ctx, owner.ID, unlisted.ID, u.ID), "DeleteUpdate")
	_, err = s.FindSignedMedia(h.Ctx, priv.ID)
	WantCode(t, err, herald.ENOTFOUND, "FindSignedMedia of a deleted update's media")
}

// testMediaEditEmptyText: a media update's text may be edited away (and
// back); a text-only update's may not, and the refused edit changes
// nothing. A poll and media never share an update.
func testMediaEditEmptyText(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	m := h.Upload(owner, ch, 1)
	u := &herald.Update{Text: "caption", Media: []herald.Media{{ID: m.ID, Alt: "a dog"}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u), "post")
	h.Events.Take()
	got, err := s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "  \n ")
	NoErr(t, err, "edit a media update's text to empty")
	if got.Text != "" || got.EditedAt == nil || len(got.Media) != 1 || got.Media[0].Alt != "a dog" {
		t.Fatalf("EditUpdate = %s", JSON(t, got))
	}
	if evs := h.Events.Take(); len(evs) != 1 || evs[0].Type != herald.EventUpdateEdited || evs[0].Update.Text != "" {
		t.Fatalf("events = %s", JSON(t, evs))
	}
	got, err = s.FindUpdate(h.Ctx, owner.ID, ch.ID, u.ID)
	if err != nil || got.Text != "" {
		t.Fatalf("FindUpdate = %+v, %v", got, err)
	}
	got, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "caption again")
	if err != nil || got.Text != "caption again" {
		t.Fatalf("EditUpdate back = %+v, %v", got, err)
	}

	plain := h.Post(owner, ch, "words only")
	h.Events.Take()
	_, err = s.EditUpdate(h.Ctx, owner.ID, ch.ID, plain.ID, " ")
	WantKind(t, err, herald.EINVALID, "invalid-text", "empty text without media")
	got, err = s.FindUpdate(h.Ctx, owner.ID, ch.ID, plain.ID)
	if err != nil || got.Text != "words only" || got.EditedAt != nil {
		t.Fatalf("refused edit changed the update: %+v, %v", got, err)
	}
	if evs := h.Events.Take(); len(evs) != 0 {
		t.Fatalf("refused edit appended %s", JSON(t, evs))
	}

	m2 := h.Upload(owner, ch, 1)
	poll := &herald.Update{Text: "Which?", Media: []herald.Media{{ID: m2.ID}},
		Poll: &herald.Poll{Question: "Which?", Options: []herald.PollOption{{Text: "a"}, {Text: "b"}}}}
	WantKind(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, poll), herald.EINVALID, "poll-with-media", "poll with media")
}

// testMediaScheduled: uploads scheduled with an update stay attached to it
// (visible to its admins, never erased as unattached, whatever the wait),
// are published with it in order with their alt texts, and become
// erasable if it is cancelled.
func testMediaScheduled(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	a, b := h.Upload(owner, ch, 1), h.Upload(owner, ch, 1)
	sched := &herald.ScheduledUpdate{PublishAt: Start.Add(72 * time.Hour),
		Media: []herald.Media{{ID: b.ID, Alt: "second"}, {ID: a.ID, Alt: "first"}}}
	NoErr(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, sched), "schedule media without text")
	if sched.Text != "" || !slices.Equal(mediaIDs(sched.Media), []string{b.ID, a.ID}) || sched.Media[0].Alt != "second" {
		t.Fatalf("scheduled = %s", JSON(t, sched))
	}
	list, err := s.ListScheduled(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "ListScheduled")
	if len(list) != 1 || !slices.Equal(mediaIDs(list[0].Media), []string{b.ID, a.ID}) || list[0].Media[1].Alt != "first" {
		t.Fatalf("ListScheduled = %s", JSON(t, list))
	}
	_, err = s.FindMedia(h.Ctx, owner.ID, a.ID)
	NoErr(t, err, "an admin previews scheduled media")
	for _, v := range []string{"", f.ID} {
		_, err = s.FindMedia(h.Ctx, v, a.ID)
		WantCode(t, err, herald.ENOTFOUND, "scheduled media seen before publication")
	}
	_, err = s.FindSignedMedia(h.Ctx, a.ID)
	WantCode(t, err, herald.ENOTFOUND, "scheduled media opened by a signature")
	WantCode(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, &herald.Update{Media: []herald.Media{{ID: a.ID}}}), herald.EINVALID, "post media already scheduled")
	m3 := h.Upload(owner, ch, 1)
	WantKind(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, &herald.ScheduledUpdate{Text: "Q", PublishAt: Start.Add(time.Hour), Media: []herald.Media{{ID: m3.ID}},
		Poll: &herald.Poll{Question: "Q", Options: []herald.PollOption{{Text: "a"}, {Text: "b"}}}}), herald.EINVALID, "poll-with-media", "schedule a poll with media")

	// Two days later the uploads are older than 24 h but still kept.
	h.Clock.Advance(48 * time.Hour)
	if got := erasable(t, h); !slices.Equal(got, []string{m3.ID}) {
		t.Fatalf("erasable while scheduled = %v, want only the loose upload", got)
	}
	edited, err := s.EditScheduled(h.Ctx, owner.ID, ch.ID, sched.ID, new(string), nil)
	if err != nil || edited.Text != "" || len(edited.Media) != 2 {
		t.Fatalf("EditScheduled empty text = %+v, %v", edited, err)
	}
	txt := "With words"
	_, err = s.EditScheduled(h.Ctx, owner.ID, ch.ID, sched.ID, &txt, nil)
	NoErr(t, err, "EditScheduled text")
	h.Events.Take()
	h.Clock.Advance(24 * time.Hour)
	n, err := s.PublishDue(h.Ctx, 10)
	if err != nil || n != 1 {
		t.Fatalf("PublishDue = %d, %v", n, err)
	}
	evs := h.Events.Take()
	if len(evs) != 1 || evs[0].Type != herald.EventUpdateCreated || evs[0].Update.Text != "With words" ||
		!slices.Equal(mediaIDs(evs[0].Update.Media), []string{b.ID, a.ID}) || evs[0].Update.Media[1].Alt != "first" {
		t.Fatalf("published = %s", JSON(t, evs))
	}
	got, err := s.FindUpdate(h.Ctx, f.ID, ch.ID, evs[0].UpdateID)
	if err != nil || !slices.Equal(mediaIDs(got.Media), []string{b.ID, a.ID}) {
		t.Fatalf("FindUpdate = %+v, %v", got, err)
	}
	// Published, it is signed with its attachments (moved, not copied).
	keys, err := s.SigningKeys(h.Ctx, f.ID, ch.ID)
	NoErr(t, err, "SigningKeys")
	wantValid(t, got, keys, "published scheduled update with media")
	_, err = s.FindMedia(h.Ctx, f.ID, a.ID)
	NoErr(t, err, "a follower sees published media")
	if got := erasable(t, h); !slices.Equal(got, []string{m3.ID}) {
		t.Fatalf("erasable after publication = %v", got)
	}

	// Cancelled: its uploads go.
	c := h.Upload(owner, ch, 1)
	doomed := &herald.ScheduledUpdate{Text: "later", PublishAt: h.Clock.Now().Add(time.Hour), Media: []herald.Media{{ID: c.ID}}}
	NoErr(t, s.ScheduleUpdate(h.Ctx, owner.ID, ch.ID, doomed), "schedule")
	NoErr(t, s.CancelScheduled(h.Ctx, owner.ID, ch.ID, doomed.ID), "CancelScheduled")
	if got := erasable(t, h); !slices.Equal(got, sorted(m3.ID, c.ID)) {
		t.Fatalf("erasable after cancelling = %v", got)
	}
}

// testMediaUnlistedAvatar: an unlisted channel's avatar URL is signed where
// the store returns the channel (its page, the invite, events), so an
// invite's visitor sees the picture before following; FindSignedMedia opens it.
func testMediaUnlistedAvatar(t *testing.T, h *Harness) {
	s := h.Store
	key, err := s.MediaURLKey(h.Ctx)
	NoErr(t, err, "MediaURLKey")
	owner := h.Account("owner")
	ch := h.Channel(owner, Unlisted)
	a := h.Upload(owner, ch, 10)
	h.Events.Take()
	want := herald.SignedMediaPath(key, a.ID, "original", h.Clock.Now())
	got, err := s.SetChannelAvatar(h.Ctx, owner.ID, ch.ID, a.ID)
	NoErr(t, err, "SetChannelAvatar")
	if got.AvatarURL != want {
		t.Fatalf("SetChannelAvatar avatar = %q, want %q", got.AvatarURL, want)
	}
	if evs := h.Events.Take(); len(evs) != 1 || evs[0].Channel.AvatarURL != want {
		t.Fatalf("events = %s", JSON(t, evs))
	}
	seen, err := s.FindChannel(h.Ctx, owner.ID, ch.ID)
	if err != nil || seen.AvatarURL != want {
		t.Fatalf("FindChannel = %+v, %v", seen, err)
	}
	code, err := s.RotateInvite(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "RotateInvite")
	visitor := h.Account("visitor")
	inv, err := s.FindChannelByInvite(h.Ctx, visitor.ID, code)
	if err != nil || inv.AvatarURL != want {
		t.Fatalf("FindChannelByInvite = %+v, %v", inv, err)
	}
	_, err = s.FindMedia(h.Ctx, visitor.ID, a.ID)
	WantCode(t, err, herald.ENOTFOUND, "a visitor's session opens an unlisted avatar")
	acc, err := s.FindSignedMedia(h.Ctx, a.ID)
	if err != nil || acc.Media.ID != a.ID {
		t.Fatalf("FindSignedMedia(avatar) = %+v, %v", acc, err)
	}
}
