package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/media"
	"github.com/heraldhq/herald/preview"
)

// TestLinkPreviewServedAndRemoved: a post's link gets its card from the
// preview worker; the card shows in the API and on the public page with
// its image served from /media (never the linked site's address); a
// follower can't remove it, an admin can, and then it is gone everywhere.
func TestLinkPreviewServedAndRemoved(t *testing.T) {
	var hits atomic.Int64
	photo := testJPEG(t, 800, 420)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/story":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html><head><meta property="og:title" content="Flood &lt;warning&gt;"><meta property="og:site_name" content="Rhône Info">
				<meta property="og:description" content="Quays closed."><meta property="og:image" content="/photo.jpg"></head></html>`)
		case "/photo.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo)
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()
	blobs, err := media.NewDir(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withApp, func(c *hhttp.Config) { c.Media = hhttp.MediaConfig{Blobs: blobs, TempDir: t.TempDir()} })
	worker := &preview.Worker{Store: e.db, Blobs: blobs, TempDir: t.TempDir(), Stored: e.srv.InvalidatePages,
		Fetcher: preview.New(preview.Config{AllowHosts: []string{"127.0.0.1"}})}
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "rhone", true)
	follower := e.signup("follower")
	if _, err := follower.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	u := e.post(owner, ch.ID, "Read this: "+site.URL+"/story")
	if u.LinkPreview != nil || hits.Load() != 0 {
		t.Fatal("posting waited for the linked site")
	}
	// The page is cached before the preview arrives: storing it must drop that.
	if r := e.do("GET", "/@rhone", "", nil); r.status != 200 || strings.Contains(string(r.body), "link-card") {
		t.Fatalf("page before the preview: %d", r.status)
	}
	if _, err := worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := e.anon.GetUpdate(ctx, ch.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := got.LinkPreview
	if p == nil || p.Title != "Flood <warning>" || p.SiteName != "Rhône Info" || p.Image == nil || p.Image.ThumbnailURL == "" {
		t.Fatalf("link_preview = %+v", p)
	}
	raw := e.do("GET", "/api/v1/channels/"+ch.ID+"/updates/"+u.ID, "", nil)
	var asJSON map[string]json.RawMessage
	if err := json.Unmarshal(raw.body, &asJSON); err != nil || asJSON["link_preview"] == nil || strings.Contains(string(raw.body), "photo.jpg") {
		t.Fatalf("update JSON = %s", raw.body)
	}
	// The image, from /media, to anyone (the channel is listed).
	img := e.do("GET", p.Image.ThumbnailURL, "", nil)
	if img.status != 200 || img.header.Get("Content-Type") != "image/jpeg" || len(img.body) == 0 {
		t.Fatalf("GET %s: %d %s", p.Image.ThumbnailURL, img.status, img.header.Get("Content-Type"))
	}
	// The public page: the card, escaped, with the copy's address.
	page := e.do("GET", "/@rhone", "", nil)
	body := string(page.body)
	if page.status != 200 || !strings.Contains(body, `class="link-card"`) || !strings.Contains(body, "Flood &lt;warning&gt;") ||
		!strings.Contains(body, `src="`+p.Image.ThumbnailURL+`"`) || strings.Contains(body, "photo.jpg") {
		t.Fatalf("public page without the card:\n%s", body)
	}
	hitsAfter := hits.Load()

	_, err = follower.RemovePreview(ctx, ch.ID, u.ID)
	wantProblem(t, err, 403, "")
	got, err = owner.RemovePreview(ctx, ch.ID, u.ID)
	if err != nil || got.LinkPreview != nil {
		t.Fatalf("RemovePreview = %+v, %v", got, err)
	}
	_, err = owner.RemovePreview(ctx, ch.ID, u.ID)
	wantProblem(t, err, 404, "preview-not-found")
	page = e.do("GET", "/@rhone", "", nil)
	if strings.Contains(string(page.body), "link-card") {
		t.Fatal("the public page still shows a removed card")
	}
	if n, err := media.Erase(ctx, e.db, blobs); err != nil || n != 1 {
		t.Fatalf("Erase = %d, %v; want the card's image", n, err)
	}
	if r := e.do("GET", p.Image.ThumbnailURL, "", nil); r.status != 404 {
		t.Fatalf("removed card's image: %d", r.status)
	}
	if _, err := worker.RunOnce(context.Background()); err != nil || hits.Load() != hitsAfter {
		t.Fatalf("a removed preview was fetched again (%v)", err)
	}
	// An update without a link has no preview to remove.
	plain := e.post(owner, ch.ID, "no link")
	r := e.do("DELETE", "/api/v1/channels/"+ch.ID+"/updates/"+plain.ID+"/preview", owner.Token(), nil)
	if r.status != 404 || r.problem(t).Type != herald.ProblemTypeBase+"preview-not-found" {
		t.Fatalf("DELETE a missing preview: %d %s", r.status, r.body)
	}
}
