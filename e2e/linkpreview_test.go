package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/preview"
)

// TestLinkPreviewCard: a posted link's card, fetched by the server, shows
// on the public page without JavaScript and in the web app, its picture
// loaded from /media: the browser never contacts the linked site. The
// channel's admin removes the card from the app.
func TestLinkPreviewCard(t *testing.T) {
	requireChromium(t)
	img := image.NewRGBA(image.Rect(0, 0, 600, 315))
	for y := 0; y < 315; y++ {
		for x := 0; x < 600; x++ {
			img.Set(x, y, color.RGBA{200, uint8(x / 3), uint8(y), 255})
		}
	}
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, img, nil); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/photo.jpg" {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo.Bytes())
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><meta property="og:title" content="Bridge reopened"><meta property="og:site_name" content="Lyon Roads">
			<meta property="og:description" content="Traffic is back to normal."><meta property="og:image" content="/photo.jpg"></head></html>`)
	}))
	defer site.Close()

	s := startServer(t)
	pub := signUp(t, s.URL, "roadsadmin")
	var ch herald.Channel
	pub.do("POST", "/channels", map[string]any{"name": "Lyon roads", "handle": "lyonroads", "category": "traffic", "language": "en"}, &ch)
	var u herald.Update
	pub.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": "The bridge: " + site.URL + "/bridge"}, &u)
	worker := &preview.Worker{Store: s.store, Blobs: s.blobs, TempDir: t.TempDir(),
		Fetcher: preview.New(preview.Config{AllowHosts: []string{"127.0.0.1"}})}
	if _, err := worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	fetched := hits.Load()
	if fetched != 2 {
		t.Fatalf("the site saw %d requests, want the page and its image", fetched)
	}

	b := newBrowser(t, "nojs", 1000, 800)
	b.do("disable scripts", noScripts())
	b.open(s.URL + "/@lyonroads")
	html := b.str("page HTML", `document.documentElement.outerHTML`)
	if !strings.Contains(html, `class="link-card"`) || !strings.Contains(html, "Bridge reopened") || !strings.Contains(html, `src="/media/`) {
		t.Fatalf("public page without the card:\n%s", html)
	}

	app := newBrowser(t, "js", 1000, 800)
	signInInBrowser(app, s.URL, "roadsadmin")
	app.open(s.URL + "/@lyonroads")
	app.waitJS("card with its picture", `(() => {
		const card = document.querySelector("#feed article.update .link-card");
		const img = card && card.querySelector("img");
		return card && card.querySelector(".link-card-title").textContent === "Bridge reopened" &&
			card.querySelector(".link-card-site").textContent === "Lyon Roads" &&
			img && img.complete && img.naturalWidth > 0 && new URL(img.src).pathname.startsWith("/media/");
	})()`)
	if n := hits.Load(); n != fetched {
		t.Fatalf("the browsers contacted the linked site (%d requests)", n-fetched)
	}
	app.click("remove the card", "#feed article.update .link-card-remove")
	app.waitJS("card removed", `!document.querySelector("#feed .link-card")`)
	var got herald.Update
	pub.do("GET", "/channels/"+ch.ID+"/updates/"+u.ID, nil, &got)
	if got.LinkPreview != nil {
		t.Fatalf("the API still has the card: %+v", got.LinkPreview)
	}
	app.checkErrors("link preview")
}
