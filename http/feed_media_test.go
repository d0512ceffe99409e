package http_test

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/media"
)

// TestFeedMediaEnclosuresAndOGImage: an update's media are Atom enclosures
// and JSON Feed attachments at their public URLs; an update page's
// og:image is its first image, else the channel's avatar, which is also the
// channel page's.
func TestFeedMediaEnclosuresAndOGImage(t *testing.T) {
	blobs, err := media.NewDir(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withApp, func(c *hhttp.Config) {
		c.Media = hhttp.MediaConfig{Blobs: blobs, TempDir: t.TempDir()}
	})
	t.Cleanup(e.srv.WaitMedia)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "pics", true)
	const base = "https://herald.example"

	// No avatar, no image: no og:image.
	plain := e.post(owner, ch.ID, "Words only")
	if p := parsePage(t, e.do("GET", "/@pics", "", nil).body); p.meta["og:image"] != "" || p.meta["twitter:card"] != "summary" {
		t.Fatalf("channel page without avatar: %v", p.meta)
	}

	one := upload(t, owner, ch.ID, testJPEG(t, 640, 480), "a.jpg")
	two := upload(t, owner, ch.ID, testJPEG(t, 320, 200), "b.jpg")
	u, err := owner.PostMedia(ctx, ch.ID, "", []herald.MediaRef{{ID: one.ID, Alt: "A tram"}, {ID: two.ID, Alt: "A bridge"}})
	if err != nil {
		t.Fatal(err)
	}

	af, jf := e.feeds(t, "/@pics", "/@pics")
	if len(af.Entries) != 2 || len(jf.Items) != 2 {
		t.Fatalf("entries %d, items %d", len(af.Entries), len(jf.Items))
	}
	// A media-only update still has the title Atom requires: its first alt text.
	if af.Entries[0].Title != "A tram" || jf.Items[0].Title != "A tram" || jf.Items[0].ContentText != "A tram\nA bridge" {
		t.Fatalf("titles %q / %q", af.Entries[0].Title, jf.Items[0].Title)
	}
	var encl []string
	for _, l := range af.Entries[0].Links {
		if l.Rel == "enclosure" {
			encl = append(encl, l.Href+" "+l.Type+" "+l.Length+" "+l.Title)
		}
	}
	want := []string{
		base + one.URL + " image/jpeg " + strconv.FormatInt(one.Size, 10) + " A tram",
		base + two.URL + " image/jpeg " + strconv.FormatInt(two.Size, 10) + " A bridge",
	}
	if len(encl) != 2 || encl[0] != want[0] || encl[1] != want[1] {
		t.Fatalf("enclosures %q, want %q", encl, want)
	}
	if jf.Items[0].Attachments == nil || len(*jf.Items[0].Attachments) != 2 {
		t.Fatalf("attachments %+v", jf.Items[0].Attachments)
	}
	for i, a := range *jf.Items[0].Attachments {
		m := []*herald.Media{one, two}[i]
		if a.URL != base+m.URL || a.MimeType != "image/jpeg" || a.SizeInBytes != m.Size || m.Size <= 0 {
			t.Fatalf("attachment %d = %+v, media %+v", i, a, m)
		}
	}
	if jf.Items[0].Image != base+one.URL {
		t.Fatalf("item image %q", jf.Items[0].Image)
	}
	for _, l := range af.Entries[1].Links {
		if l.Rel == "enclosure" {
			t.Fatalf("text update has an enclosure: %+v", l)
		}
	}
	if jf.Items[1].Attachments != nil || jf.Items[1].Image != "" {
		t.Fatalf("text update has attachments: %+v", jf.Items[1])
	}
	// The URLs really serve the files, to anyone (a listed channel).
	if r := e.do("GET", one.URL, "", nil); r.status != 200 || strconv.Itoa(len(r.body)) != strconv.FormatInt(one.Size, 10) {
		t.Fatalf("enclosure fetch: %d, %d bytes, size %d", r.status, len(r.body), one.Size)
	}

	page := func(path string) pageMeta {
		t.Helper()
		r := e.do("GET", path, "", nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d", path, r.status)
		}
		return parsePage(t, r.body)
	}
	updPath := func(u *herald.Update) string {
		return "/channels/" + ch.ID + "/updates/" + strconv.FormatInt(u.Seq, 10)
	}
	if p := page(updPath(u)); p.meta["og:image"] != base+one.URL || p.meta["twitter:image"] != base+one.URL || p.meta["twitter:card"] != "summary_large_image" {
		t.Fatalf("update page image: %v", p.meta)
	}
	if p := page(updPath(plain)); p.meta["og:image"] != "" {
		t.Fatalf("text update page without avatar has og:image %q", p.meta["og:image"])
	}

	// With an avatar: the channel page and text updates show it; an
	// update with an image still shows its own.
	av := testJPEG(t, 600, 600)
	withAvatar, err := owner.SetAvatar(ctx, ch.ID, bytes.NewReader(av), int64(len(av)))
	if err != nil || withAvatar.AvatarURL == "" {
		t.Fatalf("SetAvatar: %+v %v", withAvatar, err)
	}
	if p := page("/@pics"); p.meta["og:image"] != base+withAvatar.AvatarURL || p.meta["twitter:image"] != base+withAvatar.AvatarURL {
		t.Fatalf("channel page image: %v", p.meta)
	}
	if p := page(updPath(plain)); p.meta["og:image"] != base+withAvatar.AvatarURL {
		t.Fatalf("text update page image: %v", p.meta)
	}
	if p := page(updPath(u)); p.meta["og:image"] != base+one.URL {
		t.Fatalf("image update page image: %v", p.meta)
	}
}
