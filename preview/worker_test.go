package preview_test

import (
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/media"
	"github.com/heraldhq/herald/preview"
	"github.com/heraldhq/herald/sqlite"
	"github.com/heraldhq/herald/sqlite/sqlitetest"
	"github.com/heraldhq/herald/storetest"
)

// gpsJPEG is a photo carrying a location and a camera name, as phones
// write them (exiftool adds the EXIF).
func gpsJPEG(t *testing.T) []byte {
	t.Helper()
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
			t.Fatal("exiftool is required (HERALD_REQUIRE_SERVICES=1): apt-get install -y libimage-exiftool-perl")
		}
		t.Skip("exiftool not installed")
	}
	img := image.NewRGBA(image.Rect(0, 0, 1200, 630))
	for y := 0; y < 630; y++ {
		for x := 0; x < 1200; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 5), 80, uint8(y / 3), 255})
		}
	}
	p := filepath.Join(t.TempDir(), "a7.jpg")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(exiftool, "-overwrite_original", "-GPSLatitude=45.7640", "-GPSLatitudeRef=N",
		"-GPSLongitude=4.8357", "-GPSLongitudeRef=E", "-Model=SecretCam", p).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool: %v\n%s", err, out)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if before, _ := exec.Command(exiftool, "-a", p).CombinedOutput(); !strings.Contains(string(before), "GPS Latitude") {
		t.Fatalf("the test photo carries no location:\n%s", before)
	}
	return b
}

// testSite is a linked site: a page with Open Graph tags naming a photo
// with a location, a page without metadata, and a count of requests.
type testSite struct {
	*httptest.Server
	requests atomic.Int64
}

func newSite(t *testing.T, photo []byte) *testSite {
	s := &testSite{}
	mux := http.NewServeMux()
	mux.HandleFunc("/a7", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><title>fallback</title>
			<meta property="og:title" content="A7 closed near Lyon">
			<meta property="og:description" content="Both ways until noon.">
			<meta property="og:site_name" content="Lyon Traffic">
			<meta property="og:image" content="/img/a7.jpg">
			<link rel="canonical" href="/roads/a7">
			</head><body>text</body></html>`)
	})
	mux.HandleFunc("/img/a7.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(photo)
	})
	mux.HandleFunc("/loopback-image", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><meta property="og:title" content="Inside"><meta property="og:image" content="http://`+r.URL.Query().Get("img")+`/img/a7.jpg"></head></html>`)
	})
	mux.HandleFunc("/fake-image", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><meta property="og:title" content="Fake"><meta property="og:image" content="/not-an-image"></head></html>`)
	})
	mux.HandleFunc("/not-an-image", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, "<script>alert(1)</script>")
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

type env struct {
	h      *storetest.Harness
	blobs  *media.Dir
	worker *preview.Worker
	owner  *herald.Account
	ch     *herald.Channel
}

func newEnv(t testing.TB, allow ...string) *env {
	h := storetest.NewHarness(t, func(tb testing.TB, cfg herald.StoreConfig) herald.Store {
		db, err := sqlite.Open(context.Background(), sqlitetest.Path(t), cfg)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	})
	blobs, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{h: h, blobs: blobs}
	e.worker = &preview.Worker{Store: h.Store, Fetcher: preview.New(preview.Config{AllowHosts: allow}), Blobs: blobs, TempDir: t.TempDir()}
	e.owner = h.Account("owner")
	e.ch = h.Channel(e.owner)
	return e
}

func (e *env) run(t *testing.T) {
	t.Helper()
	if _, err := e.worker.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
}

func (e *env) find(t *testing.T, id string) *herald.Update {
	t.Helper()
	u, err := e.h.Store.FindUpdate(context.Background(), "", e.ch.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// files lists the stored files of a media.
func (e *env) files(m *herald.Media) []string {
	var out []string
	for _, v := range media.AllVariants {
		if b, err := e.blobs.Get(context.Background(), herald.BlobKey(m.ID, v)); err == nil {
			b.Close()
			out = append(out, v)
		}
	}
	return out
}

func (e *env) erase(t *testing.T) {
	t.Helper()
	if _, err := media.Erase(context.Background(), e.h.Store, e.blobs); err != nil {
		t.Fatal(err)
	}
}

func TestWorkerStoresPreviewWithStrippedImage(t *testing.T) {
	site := newSite(t, gpsJPEG(t))
	e := newEnv(t, "127.0.0.1")
	u := e.h.Post(e.owner, e.ch, "Road news: "+site.URL+"/a7 (details)")
	if u.LinkPreview != nil {
		t.Fatal("the post waited for its preview")
	}
	e.run(t)
	got := e.find(t, u.ID)
	p := got.LinkPreview
	if p == nil || p.URL != site.URL+"/a7" || p.Title != "A7 closed near Lyon" || p.Description != "Both ways until noon." ||
		p.SiteName != "Lyon Traffic" || p.CanonicalURL != site.URL+"/roads/a7" || p.Image == nil {
		t.Fatalf("preview = %s", storetest.JSON(t, p))
	}
	img := p.Image
	if img.URL != "/media/"+img.ID+"/original" || img.Width != 1200 || img.Height != 630 || img.MIME != "image/jpeg" || img.Blurhash == "" {
		t.Fatalf("image = %s", storetest.JSON(t, img))
	}
	if strings.Contains(storetest.JSON(t, got), "/img/a7.jpg") || len(e.files(img)) != 3 {
		t.Fatalf("the update names the linked site's image address, or its copy is not stored: %s %v", storetest.JSON(t, got), e.files(img))
	}
	// The stored copy carries no location nor camera.
	b, err := e.blobs.Get(context.Background(), herald.BlobKey(img.ID, "original"))
	if err != nil {
		t.Fatal(err)
	}
	stored := filepath.Join(t.TempDir(), "stored.jpg")
	data, _ := io.ReadAll(b)
	b.Close()
	os.WriteFile(stored, data, 0o600)
	meta, _ := exec.Command("exiftool", "-a", stored).CombinedOutput()
	for _, secret := range []string{"GPS", "SecretCam"} {
		if strings.Contains(string(meta), secret) {
			t.Errorf("the stored image still has %q:\n%s", secret, meta)
		}
	}
	// Fetched once: another run asks the site nothing.
	n := site.requests.Load()
	if n != 2 {
		t.Fatalf("the site saw %d requests, want 2 (page, image)", n)
	}
	e.run(t)
	if site.requests.Load() != n {
		t.Fatal("a stored preview was fetched again")
	}
	// Removal: the image's files go at the erase loop's next run.
	if _, err := e.h.Store.RemovePreview(context.Background(), e.owner.ID, e.ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	e.erase(t)
	if left := e.files(img); len(left) != 0 {
		t.Fatalf("files left after removal: %v", left)
	}
	e.run(t)
	if site.requests.Load() != n || e.find(t, u.ID).LinkPreview != nil {
		t.Fatal("a removed preview came back")
	}
}

func TestWorkerEraseWithUpdate(t *testing.T) {
	site := newSite(t, gpsJPEG(t))
	e := newEnv(t, "127.0.0.1")
	ctx := context.Background()
	edited := e.h.Post(e.owner, e.ch, site.URL+"/a7")
	deleted := e.h.Post(e.owner, e.ch, site.URL+"/a7?deleted")
	expired := e.h.Post(e.owner, e.ch, site.URL+"/a7?expired")
	e.run(t)
	images := map[string]*herald.Media{}
	for _, u := range []*herald.Update{edited, deleted, expired} {
		p := e.find(t, u.ID).LinkPreview
		if p == nil || p.Image == nil || len(e.files(p.Image)) != 3 {
			t.Fatalf("preview of %s = %s", u.Text, storetest.JSON(t, p))
		}
		images[u.ID] = p.Image
	}
	// Editing the link away removes the card; its files go.
	if _, err := e.h.Store.EditUpdate(ctx, e.owner.ID, e.ch.ID, edited.ID, "no link any more"); err != nil {
		t.Fatal(err)
	}
	if err := e.h.Store.DeleteUpdate(ctx, e.owner.ID, e.ch.ID, deleted.ID); err != nil {
		t.Fatal(err)
	}
	e.erase(t)
	for _, id := range []string{edited.ID, deleted.ID} {
		if left := e.files(images[id]); len(left) != 0 {
			t.Fatalf("files left: %v", left)
		}
	}
	if len(e.files(images[expired.ID])) != 3 {
		t.Fatal("a live update's preview image was erased")
	}
	e.h.Clock.Advance(herald.DefaultRetention)
	e.erase(t)
	if left := e.files(images[expired.ID]); len(left) != 0 {
		t.Fatalf("files left after expiry: %v", left)
	}
}

func TestWorkerRefusesLoopbackWithoutAllow(t *testing.T) {
	site := newSite(t, nil)
	e := newEnv(t) // no allowed host: 127.0.0.1 is refused
	u := e.h.Post(e.owner, e.ch, "internal: "+site.URL+"/a7")
	e.run(t)
	if n := site.requests.Load(); n != 0 {
		t.Fatalf("the loopback site saw %d requests", n)
	}
	got := e.find(t, u.ID)
	if got.LinkPreview != nil || got.Text != u.Text {
		t.Fatalf("update after a refused fetch = %s", storetest.JSON(t, got))
	}
	// Given up, not retried.
	e.run(t)
	jobs, err := e.h.Store.ClaimPreviews(context.Background(), 10, 0)
	if err != nil || len(jobs) != 0 {
		t.Fatalf("still pending: %v %v", jobs, err)
	}
}

func TestWorkerFailuresLeaveUpdateIntact(t *testing.T) {
	site := newSite(t, nil)
	e := newEnv(t, "127.0.0.1")
	missing := e.h.Post(e.owner, e.ch, site.URL+"/missing")
	fake := e.h.Post(e.owner, e.ch, site.URL+"/fake-image")
	e.run(t)
	if got := e.find(t, missing.ID); got.LinkPreview != nil || got.Text != missing.Text {
		t.Fatalf("after a 404 = %s", storetest.JSON(t, got))
	}
	// An "image" that is not one: the card without a picture, nothing stored.
	got := e.find(t, fake.ID)
	if got.LinkPreview == nil || got.LinkPreview.Title != "Fake" || got.LinkPreview.Image != nil {
		t.Fatalf("after a fake image = %s", storetest.JSON(t, got.LinkPreview))
	}
	list, err := e.h.Store.ErasableMedia(context.Background(), 10)
	if err != nil || len(list) != 0 {
		t.Fatalf("media recorded for a fake image: %v %v", list, err)
	}
}

// TestWorkerImageThroughThePolicy: the page's host is allowed, but the
// image it names is on a loopback address that is not: the card comes
// without a picture and the image is never requested.
func TestWorkerImageThroughThePolicy(t *testing.T) {
	site := newSite(t, nil)
	e := newEnv(t)
	hostPort := strings.TrimPrefix(site.URL, "http://")
	port := hostPort[strings.LastIndex(hostPort, ":"):]
	e.worker.Fetcher = preview.New(preview.Config{AllowHosts: []string{"front.test"},
		Lookup: func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}})
	u := e.h.Post(e.owner, e.ch, "http://front.test"+port+"/loopback-image?img="+hostPort)
	e.run(t)
	got := e.find(t, u.ID)
	if got.LinkPreview == nil || got.LinkPreview.Title != "Inside" || got.LinkPreview.Image != nil {
		t.Fatalf("preview = %s", storetest.JSON(t, got.LinkPreview))
	}
	if n := site.requests.Load(); n != 1 {
		t.Fatalf("the site saw %d requests, want only the page", n)
	}
}
