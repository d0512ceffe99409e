package http_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/internal/s3test"
	"github.com/heraldhq/herald/media"
	"github.com/heraldhq/herald/s3"
)

// blobBackends are the media stores every media test runs against: a
// local directory and a real S3-compatible bucket (skipped without one,
// unless HERALD_REQUIRE_SERVICES=1).
var blobBackends = []string{"dir", "s3"}

// eachBackend runs test once per media store, as subtests.
func eachBackend(t *testing.T, test func(t *testing.T, backend string)) {
	for _, b := range blobBackends {
		t.Run(b, func(t *testing.T) { test(t, b) })
	}
}

// testBlobs is a media store of a test, and a way to list what it holds.
type testBlobs struct {
	herald.BlobStore
	dir    string     // the "dir" backend's directory
	bucket *s3.Bucket // the "s3" backend's bucket
}

func newTestBlobs(t testing.TB, backend string) *testBlobs {
	t.Helper()
	switch backend {
	case "dir":
		dir := filepath.Join(t.TempDir(), "media")
		blobs, err := media.NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return &testBlobs{BlobStore: blobs, dir: dir}
	case "s3":
		b := s3test.Bucket(t)
		return &testBlobs{BlobStore: b, bucket: b}
	}
	t.Fatalf("no backend %q", backend)
	return nil
}

// files lists the stored files as "id/variant" keys.
func (b *testBlobs) files(t testing.TB) []string {
	t.Helper()
	if b.bucket != nil {
		return s3test.Keys(t, b.bucket)
	}
	return files(t, b.dir)
}

// mediaEnv is an env storing media in the backend it returns.
func mediaEnv(t testing.TB, backend string, mod ...func(*hhttp.MediaConfig)) (*env, *testBlobs) {
	t.Helper()
	blobs := newTestBlobs(t, backend)
	e := newEnv(t, func(c *hhttp.Config) {
		c.Media = hhttp.MediaConfig{Blobs: blobs.BlobStore, TempDir: t.TempDir()}
		for _, m := range mod {
			m(&c.Media)
		}
	})
	t.Cleanup(e.srv.WaitMedia)
	return e, blobs
}

func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func upload(t *testing.T, u *user, channelID string, data []byte, name string) *herald.Media {
	t.Helper()
	m, err := u.UploadMedia(ctx, channelID, bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	return m
}

// files lists the regular files under dir (relative paths).
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMediaImageUploadPostServe(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		e, blobs := mediaEnv(t, backend)
		alice := e.signup("alice")
		ch := e.channel(alice, "Photos")
		m := upload(t, alice, ch.ID, testJPEG(t, 1600, 900), "holiday.jpg")
		if m.Type != herald.MediaImage || m.State != herald.MediaReady || m.Width != 1600 || m.Height != 900 || m.MIME != "image/jpeg" ||
			m.Blurhash == "" || m.URL != "/media/"+m.ID+"/original" || m.ThumbnailURL != "/media/"+m.ID+"/320" || m.Name != "" {
			t.Fatalf("uploaded = %+v", m)
		}
		if got := blobs.files(t); len(got) != 3 {
			t.Fatalf("files = %v, want 3 renditions", got)
		}
		// Unattached: only its channel's admins can fetch it.
		if r := e.do("GET", m.URL, "", nil); r.status != 404 {
			t.Fatalf("anonymous fetch of an unattached upload: %d", r.status)
		}
		if r := e.do("GET", m.URL, alice.Token(), nil); r.status != 200 {
			t.Fatalf("owner's preview: %d", r.status)
		}
		u, err := alice.PostMedia(ctx, ch.ID, "", []herald.MediaRef{{ID: m.ID, Alt: "A beach at dusk"}})
		if err != nil {
			t.Fatal(err)
		}
		if u.Text != "" || len(u.Media) != 1 || u.Media[0].Alt != "A beach at dusk" || u.Media[0].Width != 1600 {
			t.Fatalf("posted = %+v", u)
		}
		got, err := e.anon.GetUpdate(ctx, ch.ID, u.ID)
		if err != nil || len(got.Media) != 1 || got.Media[0].ID != m.ID || got.Media[0].Alt != "A beach at dusk" {
			t.Fatalf("GetUpdate = %+v, %v", got, err)
		}
		// Alt texts change; text may be added.
		ed, err := alice.EditAlt(ctx, ch.ID, u.ID, []herald.MediaRef{{ID: m.ID, Alt: "The beach"}})
		if err != nil || ed.Media[0].Alt != "The beach" || ed.EditedAt == nil {
			t.Fatalf("EditAlt = %+v, %v", ed, err)
		}
		ed, err = alice.EditUpdate(ctx, ch.ID, u.ID, "Now with words")
		if err != nil || ed.Text != "Now with words" || ed.Media[0].Alt != "The beach" {
			t.Fatalf("EditUpdate = %+v, %v", ed, err)
		}

		// Served publicly (a listed channel), cached for good, never sniffed.
		r := e.do("GET", m.URL, "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" || r.header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(r.header.Get("Cache-Control"), "immutable") || r.header.Get("ETag") == "" ||
			r.header.Get("Content-Disposition") != "" || strconv.Itoa(len(r.body)) != r.header.Get("Content-Length") {
			t.Fatalf("GET original: %d %v", r.status, r.header)
		}
		if _, err := jpeg.Decode(bytes.NewReader(r.body)); err != nil {
			t.Fatalf("served original is not a JPEG: %v", err)
		}
		thumb := e.do("GET", m.ThumbnailURL, "", nil)
		if img, err := jpeg.DecodeConfig(bytes.NewReader(thumb.body)); err != nil || img.Width != 320 || img.Height != 180 {
			t.Fatalf("thumbnail: %+v %v", img, err)
		}
		// Range and conditional requests.
		rr := e.do("GET", m.URL, "", nil, "Range", "bytes=10-19")
		if rr.status != 206 || !bytes.Equal(rr.body, r.body[10:20]) || rr.header.Get("Content-Range") != "bytes 10-19/"+strconv.Itoa(len(r.body)) {
			t.Fatalf("range: %d %q %v", rr.status, rr.header.Get("Content-Range"), len(rr.body))
		}
		if nm := e.do("GET", m.URL, "", nil, "If-None-Match", r.header.Get("ETag")); nm.status != 304 || len(nm.body) != 0 ||
			nm.header.Get("ETag") != r.header.Get("ETag") || !strings.Contains(nm.header.Get("Cache-Control"), "immutable") {
			t.Fatalf("If-None-Match: %d %v", nm.status, nm.header)
		}
		if nm := e.do("GET", m.URL, "", nil, "If-None-Match", `"other", W/`+r.header.Get("ETag")); nm.status != 304 {
			t.Fatalf("If-None-Match with a list: %d", nm.status)
		}
		if nm := e.do("GET", m.URL, "", nil, "If-None-Match", `"other"`); nm.status != 200 || !bytes.Equal(nm.body, r.body) {
			t.Fatalf("If-None-Match of another tag: %d", nm.status)
		}
		for _, bad := range []string{"/media/" + m.ID + "/9999", "/media/nope/original", "/media/" + m.ID + "/..%2f..%2fetc"} {
			if r := e.do("GET", bad, "", nil); r.status != 404 {
				t.Fatalf("GET %s: %d", bad, r.status)
			}
		}
		// A media belongs to one update.
		_, err = alice.PostMedia(ctx, ch.ID, "again", []herald.MediaRef{{ID: m.ID}})
		wantProblem(t, err, 400, "invalid-media")
	})
}

// TestMediaHTMLIsADocument: HTML declared as a PNG is recognised from its
// bytes, stored as a document and served as a sandboxed download.
func TestMediaHTMLIsADocument(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		e, _ := mediaEnv(t, backend)
		alice := e.signup("alice")
		ch := e.channel(alice, "Docs")
		html := []byte("<!DOCTYPE html><html><body><script>fetch('/api/v1/me')</script></body></html>")
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="file"; filename="cat.png"`}
		h["Content-Type"] = []string{"image/png"}
		pw, _ := mw.CreatePart(h)
		pw.Write(html)
		mw.Close()
		r := e.do("POST", "/api/v1/channels/"+ch.ID+"/media", alice.Token(), body.Bytes(), "Content-Type", mw.FormDataContentType())
		if r.status != 201 {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		var m herald.Media
		decodeInto(t, r.body, &m)
		if m.Type != herald.MediaDocument || m.MIME != "application/octet-stream" || m.Name != "cat.png" || m.Width != 0 || m.ThumbnailURL != "" {
			t.Fatalf("media = %+v", m)
		}
		if _, err := alice.PostMedia(ctx, ch.ID, "a file", []herald.MediaRef{{ID: m.ID}}); err != nil {
			t.Fatal(err)
		}
		g := e.do("GET", m.URL, "", nil)
		if g.status != 200 || !bytes.Equal(g.body, html) || g.header.Get("Content-Type") != "application/octet-stream" ||
			!strings.HasPrefix(g.header.Get("Content-Disposition"), "attachment") || !strings.Contains(g.header.Get("Content-Disposition"), "cat.png") ||
			!strings.Contains(g.header.Get("Content-Security-Policy"), "sandbox") || g.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("served: %d %v", g.status, g.header)
		}
	})
}

// TestMediaUnlistedNeedsASignatureOrSession: an unlisted channel's media is
// served to a follower's session, or to anyone holding the signed,
// expiring URL the API gives; never at its bare path, never once the
// signature expired or was altered.
func TestMediaUnlistedNeedsASignatureOrSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		e, _ := mediaEnv(t, backend)
		alice := e.signup("alice")
		ch, err := alice.CreateChannel(ctx, client.ChannelInput{Name: "Private", Category: "weather", Listed: client.Ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		m := upload(t, alice, ch.ID, testJPEG(t, 64, 64), "")
		bare := "/media/" + m.ID + "/original"
		if !strings.HasPrefix(m.URL, bare+"?expires=") || !strings.Contains(m.URL, "&sig=") {
			t.Fatalf("unlisted upload URL %q is not signed", m.URL)
		}
		// Not attached yet: a signed URL does not open an upload to strangers.
		if r := e.do("GET", m.URL, "", nil); r.status != 404 {
			t.Fatalf("signed URL of an unattached upload: %d", r.status)
		}
		u, err := alice.PostMedia(ctx, ch.ID, "secret", []herald.MediaRef{{ID: m.ID}})
		if err != nil {
			t.Fatal(err)
		}
		signed, thumb := u.Media[0].URL, u.Media[0].ThumbnailURL
		if !strings.HasPrefix(signed, bare+"?expires=") || !strings.HasPrefix(thumb, "/media/"+m.ID+"/320?expires=") {
			t.Fatalf("posted media URLs %q %q are not signed", signed, thumb)
		}
		bob, eve := e.signup("bob"), e.signup("eve")
		inv, err := alice.RotateInvite(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.FollowInvite(ctx, inv.Code); err != nil {
			t.Fatal(err)
		}
		for who, tok := range map[string]string{"anonymous": "", "a stranger": eve.Token()} {
			if r := e.do("GET", bare, tok, nil); r.status != 404 {
				t.Fatalf("%s fetched unlisted media: %d", who, r.status)
			}
			// Revalidation is no way around the check.
			if r := e.do("GET", bare, tok, nil, "If-None-Match", "*"); r.status != 404 {
				t.Fatalf("%s revalidated unlisted media: %d", who, r.status)
			}
		}
		r := e.do("GET", bare, bob.Token(), nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Cache-Control"), "private") {
			t.Fatalf("follower: %d %v", r.status, r.header)
		}
		// The follower's view of the update carries the same signed URLs (the
		// same all day: caches keep them), which work without a session.
		got, err := bob.GetUpdate(ctx, ch.ID, u.ID)
		if err != nil || got.Media[0].URL != signed || got.Media[0].ThumbnailURL != thumb {
			t.Fatalf("follower's update: %+v, %v (want %q)", got, err, signed)
		}
		for _, p := range []string{signed, thumb} {
			r := e.do("GET", p, "", nil)
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Cache-Control"), "private, max-age=") || len(r.body) == 0 {
				t.Fatalf("signed %s: %d %v", p, r.status, r.header)
			}
		}
		// Tampered: another variant, another expiry, another signature.
		sig := signed[strings.Index(signed, "&sig=")+5:]
		exp := signed[strings.Index(signed, "expires=")+8 : strings.Index(signed, "&sig=")]
		later, _ := strconv.ParseInt(exp, 10, 64)
		for _, p := range []string{
			"/media/" + m.ID + "/1280?expires=" + exp + "&sig=" + sig,
			bare + "?expires=" + strconv.FormatInt(later+86400, 10) + "&sig=" + sig,
			bare + "?expires=" + exp + "&sig=" + strings.ToUpper(sig[:4]) + sig[4:] + "x",
			bare + "?expires=" + exp + "&sig=",
		} {
			if r := e.do("GET", p, "", nil); r.status == 200 {
				t.Fatalf("tampered %s served", p)
			} else if strings.Contains(p, "sig=&") || strings.HasSuffix(p, "sig=") {
				if r.status != 404 {
					t.Fatalf("empty signature %s: %d", p, r.status)
				}
			} else if r.status != 403 || !strings.Contains(string(r.body), "media-link-invalid") {
				t.Fatalf("tampered %s: %d %s", p, r.status, r.body)
			}
		}
		// Expired: refused to anyone without a session; the follower's session
		// still opens it, and the API hands out a fresh URL.
		e.clock.Advance(2*herald.MediaURLPeriod + time.Second)
		if r := e.do("GET", signed, "", nil); r.status != 403 {
			t.Fatalf("expired signed URL: %d", r.status)
		}
		if r := e.do("GET", signed, bob.Token(), nil); r.status != 200 {
			t.Fatalf("expired signed URL with a follower's session: %d", r.status)
		}
		fresh, err := bob.GetUpdate(ctx, ch.ID, u.ID)
		if err != nil || fresh.Media[0].URL == signed {
			t.Fatalf("fresh URL: %+v, %v", fresh, err)
		}
		if r := e.do("GET", fresh.Media[0].URL, "", nil); r.status != 200 {
			t.Fatalf("fresh signed URL: %d", r.status)
		}
		// Deleted: the signature no longer opens anything.
		if err := alice.DeleteUpdate(ctx, ch.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", fresh.Media[0].URL, "", nil); r.status == 200 {
			t.Fatalf("signed URL of a deleted update served")
		}
	})
}

// TestMediaErasure: deleting an update, its expiry, an unattached upload's
// age and deleting the channel each leave nothing in the media directory.
func TestMediaErasure(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		e, blobs := mediaEnv(t, backend)
		alice := e.signup("alice")
		ch := e.channel(alice, "Gone")
		erase := func() {
			t.Helper()
			if _, err := media.Erase(ctx, e.db, blobs); err != nil {
				t.Fatal(err)
			}
		}
		post := func() (*herald.Update, *herald.Media) {
			m := upload(t, alice, ch.ID, testJPEG(t, 50, 50), "")
			u, err := alice.PostMedia(ctx, ch.ID, "x", []herald.MediaRef{{ID: m.ID}})
			if err != nil {
				t.Fatal(err)
			}
			return u, m
		}
		u1, m1 := post()
		_, m2 := post()
		loose := upload(t, alice, ch.ID, testJPEG(t, 50, 50), "")
		if n := len(blobs.files(t)); n != 9 {
			t.Fatalf("%d files, want 9", n)
		}
		if err := alice.DeleteUpdate(ctx, ch.ID, u1.ID); err != nil {
			t.Fatal(err)
		}
		erase()
		got := blobs.files(t)
		if len(got) != 6 || slices.ContainsFunc(got, func(f string) bool { return strings.HasPrefix(f, m1.ID) }) {
			t.Fatalf("after deleting an update: %v", got)
		}
		e.clock.Advance(herald.UnattachedMaxAge + time.Second)
		erase()
		if got := blobs.files(t); len(got) != 3 || slices.ContainsFunc(got, func(f string) bool { return strings.HasPrefix(f, loose.ID) }) {
			t.Fatalf("after 24 h: %v", got)
		}
		e.clock.Advance(herald.DefaultRetention)
		if r := e.do("GET", m2.URL, alice.Token(), nil); r.status != 404 {
			t.Fatalf("expired update's media still served: %d", r.status)
		}
		erase()
		if got := blobs.files(t); len(got) != 0 {
			t.Fatalf("after expiry: %v", got)
		}
		// Deleting the channel.
		ch2 := e.channel(alice, "Doomed")
		m3 := upload(t, alice, ch2.ID, testJPEG(t, 50, 50), "")
		if _, err := alice.PostMedia(ctx, ch2.ID, "", []herald.MediaRef{{ID: m3.ID}}); err != nil {
			t.Fatal(err)
		}
		upload(t, alice, ch2.ID, testJPEG(t, 50, 50), "")
		if err := alice.DeleteChannel(ctx, ch2.ID); err != nil {
			t.Fatal(err)
		}
		erase()
		if got := blobs.files(t); len(got) != 0 {
			t.Fatalf("after deleting the channel: %v", got)
		}
		if entries, _ := os.ReadDir(blobs.dir); blobs.dir != "" && len(entries) != 0 {
			t.Fatalf("directories left: %v", entries)
		}
	})
}

func TestMediaOffWithoutBlobs(t *testing.T) {
	e := newEnv(t)
	alice := e.signup("alice")
	ch := e.channel(alice, "No media")
	_, err := alice.UploadMedia(ctx, ch.ID, strings.NewReader("x"), 1, "")
	wantProblem(t, err, http.StatusNotFound, "media-disabled")
}

func decodeInto(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func TestMediaVideoIsRefusedWithoutFFmpeg(t *testing.T) {
	e, _ := mediaEnv(t, "dir")
	alice := e.signup("alice")
	ch := e.channel(alice, "Films")
	mp4 := []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x08free")
	_, err := alice.UploadMedia(ctx, ch.ID, bytes.NewReader(mp4), int64(len(mp4)), "")
	wantProblem(t, err, 400, "media-unsupported")
}

// TestMediaVideoProcessing: a video is answered "processing", posted at
// once, and becomes ready (without its location) off the request path.
func TestMediaVideoProcessing(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		for _, tool := range []string{"ffmpeg", "ffprobe"} {
			if _, err := exec.LookPath(tool); err != nil {
				if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
					t.Fatalf("%s is required (HERALD_REQUIRE_SERVICES=1): apt-get install -y ffmpeg", tool)
				}
				t.Skipf("%s not installed", tool)
			}
		}
		ff, err := media.FindFFmpeg()
		if err != nil {
			t.Fatal(err)
		}
		e, blobs := mediaEnv(t, backend, func(c *hhttp.MediaConfig) { c.Processor = ff })
		alice := e.signup("alice")
		ch := e.channel(alice, "Films")
		src := filepath.Join(t.TempDir(), "in.mp4")
		if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10",
			"-c:v", "libx264", "-metadata", "location=+48.8584+002.2945/", "-movflags", "use_metadata_tags", src).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v %s", err, out)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		m := upload(t, alice, ch.ID, data, "")
		if m.Type != herald.MediaVideo || m.State != herald.MediaProcessing {
			t.Fatalf("uploaded = %+v", m)
		}
		u, err := alice.PostMedia(ctx, ch.ID, "a film", []herald.MediaRef{{ID: m.ID, Alt: "Test pattern"}})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		var got *herald.Update
		for {
			got, err = e.anon.GetUpdate(ctx, ch.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Media[0].State != herald.MediaProcessing || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		v := got.Media[0]
		if v.State != herald.MediaReady || v.Width != 160 || v.Height != 120 || v.Duration <= 0 || v.ThumbnailURL != "/media/"+m.ID+"/poster" || v.Alt != "Test pattern" {
			t.Fatalf("processed = %+v", v)
		}
		r := e.do("GET", v.URL, "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "video/mp4" || bytes.Contains(r.body, []byte("48.8584")) {
			t.Fatalf("served video: %d %v (location kept: %v)", r.status, r.header, bytes.Contains(r.body, []byte("48.8584")))
		}
		if p := e.do("GET", v.ThumbnailURL, "", nil); p.status != 200 || p.header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("poster: %d", p.status)
		}
		if err := alice.DeleteUpdate(ctx, ch.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := media.Erase(ctx, e.db, blobs); err != nil {
			t.Fatal(err)
		}
		if got := blobs.files(t); len(got) != 0 {
			t.Fatalf("files left: %v", got)
		}
	})
}

func TestMediaChannelAvatar(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		e, blobs := mediaEnv(t, backend)
		alice := e.signup("alice")
		ch := e.channel(alice, "Faces")
		wide := testJPEG(t, 900, 600)
		got, err := alice.SetAvatar(ctx, ch.ID, bytes.NewReader(wide), int64(len(wide)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got.AvatarURL, "/media/") || got.Viewer.Role == nil {
			t.Fatalf("channel = %+v", got)
		}
		seen, err := e.anon.GetChannel(ctx, ch.ID)
		if err != nil || seen.AvatarURL != got.AvatarURL {
			t.Fatalf("GetChannel = %+v %v", seen, err)
		}
		r := e.do("GET", got.AvatarURL, "", nil)
		img, err := jpeg.DecodeConfig(bytes.NewReader(r.body))
		if r.status != 200 || err != nil || img.Width != 512 || img.Height != 512 {
			t.Fatalf("avatar: %d %+v %v", r.status, img, err)
		}
		small := e.do("GET", strings.TrimSuffix(got.AvatarURL, "original")+"128", "", nil)
		if img, err := jpeg.DecodeConfig(bytes.NewReader(small.body)); err != nil || img.Width != 128 || img.Height != 128 {
			t.Fatalf("small avatar: %+v %v", img, err)
		}
		// Not an image: refused. Not an admin: refused.
		_, err = alice.SetAvatar(ctx, ch.ID, strings.NewReader("%PDF-1.4 nope"), 13)
		wantProblem(t, err, 400, "invalid-image")
		bob := e.signup("bob")
		_, err = bob.SetAvatar(ctx, ch.ID, bytes.NewReader(wide), int64(len(wide)))
		wantProblem(t, err, 403, "")
		// Replacing then removing it leaves no file once the erase loop ran.
		if _, err := alice.SetAvatar(ctx, ch.ID, bytes.NewReader(wide), int64(len(wide))); err != nil {
			t.Fatal(err)
		}
		gone, err := alice.DeleteAvatar(ctx, ch.ID)
		if err != nil || gone.AvatarURL != "" {
			t.Fatalf("DeleteAvatar = %+v %v", gone, err)
		}
		if r := e.do("GET", got.AvatarURL, "", nil); r.status != 404 {
			t.Fatalf("removed avatar still served: %d", r.status)
		}
		if _, err := media.Erase(ctx, e.db, blobs); err != nil {
			t.Fatal(err)
		}
		if got := blobs.files(t); len(got) != 0 {
			t.Fatalf("files left: %v", got)
		}
	})
}

// TestMediaAudioVoiceNote: a voice note uploaded with the Go client is
// processed off the request path, served by range without its tags, and
// erased with its update, on both stores.
func TestMediaAudioVoiceNote(t *testing.T) {
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
				t.Fatalf("%s is required (HERALD_REQUIRE_SERVICES=1): apt-get install -y ffmpeg", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	ff, err := media.FindFFmpeg()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "voice.ogg")
	if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1",
		"-c:a", "libopus", "-metadata", "artist=Jane Doe", src).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	eachBackend(t, func(t *testing.T, backend string) {
		e, blobs := mediaEnv(t, backend, func(c *hhttp.MediaConfig) { c.Processor = ff })
		alice := e.signup("alice")
		ch := e.channel(alice, "Voice")
		m := upload(t, alice, ch.ID, data, "voice.ogg")
		if m.Type != herald.MediaAudio || m.State != herald.MediaProcessing {
			t.Fatalf("uploaded = %+v", m)
		}
		u, err := alice.PostMedia(ctx, ch.ID, "", []herald.MediaRef{{ID: m.ID, Alt: "A tone"}})
		if err != nil {
			t.Fatal(err)
		}
		e.srv.WaitMedia()
		got, err := e.anon.GetUpdate(ctx, ch.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		a := got.Media[0]
		if a.State != herald.MediaReady || a.MIME != "audio/ogg" || a.Duration < 0.9 || a.Alt != "A tone" {
			t.Fatalf("processed = %+v", a)
		}
		r := e.do("GET", a.URL, "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "audio/ogg" || bytes.Contains(r.body, []byte("Jane Doe")) || len(r.body) < 100 {
			t.Fatalf("served audio: %d %v (%d bytes)", r.status, r.header, len(r.body))
		}
		rr := e.do("GET", a.URL, "", nil, "Range", "bytes=50-")
		if rr.status != 206 || !bytes.Equal(rr.body, r.body[50:]) {
			t.Fatalf("range: %d, %d bytes", rr.status, len(rr.body))
		}
		if err := alice.DeleteUpdate(ctx, ch.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := media.Erase(ctx, e.db, blobs); err != nil {
			t.Fatal(err)
		}
		if got := blobs.files(t); len(got) != 0 {
			t.Fatalf("files left: %v", got)
		}
	})
}

// TestMediaUploadByKey: a channel key with the media scope uploads to its
// channel and posts the upload (with the post scope); without the scope,
// on another channel, or for the avatar, it is refused before a byte is
// stored.
func TestMediaUploadByKey(t *testing.T) {
	e, blobs := mediaEnv(t, "dir")
	owner := e.signup("owner")
	a, b := e.channel(owner, "A"), e.channel(owner, "B")
	station := e.createKey(owner, a.ID, "post", "media")
	postOnly := e.createKey(owner, a.ID, "post")
	jpg := testJPEG(t, 200, 100)

	wantKind(t, e.do("POST", "/api/v1/channels/"+a.ID+"/media", postOnly.Secret, jpg, "Content-Type", "image/jpeg"), 403, "key-scope")
	wantKind(t, e.do("POST", "/api/v1/channels/"+b.ID+"/media", station.Secret, jpg, "Content-Type", "image/jpeg"), 403, "key-wrong-channel")
	wantKind(t, e.do("PUT", "/api/v1/channels/"+a.ID+"/avatar", station.Secret, jpg, "Content-Type", "image/jpeg"), 403, "key-not-allowed")
	if got := blobs.files(t); len(got) != 0 {
		t.Fatalf("refused uploads stored %v", got)
	}

	r := e.do("POST", "/api/v1/channels/"+a.ID+"/media", station.Secret, jpg, "Content-Type", "image/jpeg")
	if r.status != 201 {
		t.Fatalf("upload by key: %d %s", r.status, r.body)
	}
	var m herald.Media
	decodeInto(t, r.body, &m)
	if m.Type != herald.MediaImage || m.ChannelID != a.ID || m.Width != 200 || m.State != herald.MediaReady {
		t.Fatalf("uploaded by key: %+v", m)
	}
	body := []byte(`{"text":"Radar image","media":[{"id":"` + m.ID + `","alt":"Rain over the coast"}]}`)
	r = e.do("POST", "/api/v1/channels/"+a.ID+"/updates", station.Secret, body, "Content-Type", "application/json")
	if r.status != 201 {
		t.Fatalf("post with media by key: %d %s", r.status, r.body)
	}
	var u herald.Update
	decodeInto(t, r.body, &u)
	if len(u.Media) != 1 || u.Media[0].ID != m.ID || u.Media[0].Alt != "Rain over the coast" {
		t.Fatalf("posted by key: %+v", u)
	}
	// A key schedules media too: the scheduled update carries them.
	r = e.do("POST", "/api/v1/channels/"+a.ID+"/media", station.Secret, jpg, "Content-Type", "image/jpeg")
	var later herald.Media
	decodeInto(t, r.body, &later)
	body = []byte(`{"media":[{"id":"` + later.ID + `","alt":"Tomorrow's map"}],"publish_at":"` + e.clock.Now().Add(time.Hour).Format(time.RFC3339) + `"}`)
	r = e.do("POST", "/api/v1/channels/"+a.ID+"/updates", station.Secret, body, "Content-Type", "application/json")
	var sched herald.ScheduledUpdate
	decodeInto(t, r.body, &sched)
	if r.status != 202 || len(sched.Media) != 1 || sched.Media[0].ID != later.ID || sched.Media[0].Alt != "Tomorrow's map" {
		t.Fatalf("schedule media by key: %d %s", r.status, r.body)
	}
	// Another channel's key can't attach this channel's uploads.
	other := e.createKey(owner, b.ID, "post", "media")
	m2 := upload(t, owner, a.ID, jpg, "")
	body = []byte(`{"media":[{"id":"` + m2.ID + `"}]}`)
	wantKind(t, e.do("POST", "/api/v1/channels/"+b.ID+"/updates", other.Secret, body, "Content-Type", "application/json"), 400, "invalid-media")
}

// TestMediaEditTextAwayAndPollRule: one PATCH may clear a media update's
// text and change its alt text; a poll with media is a clear 400.
func TestMediaEditTextAwayAndPollRule(t *testing.T) {
	e, _ := mediaEnv(t, "dir")
	alice := e.signup("alice")
	ch := e.channel(alice, "Photos")
	m := upload(t, alice, ch.ID, testJPEG(t, 64, 64), "")
	u, err := alice.PostMedia(ctx, ch.ID, "A caption", []herald.MediaRef{{ID: m.ID, Alt: "old"}})
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("PATCH", "/api/v1/channels/"+ch.ID+"/updates/"+u.ID, alice.Token(),
		[]byte(`{"text":"","media":[{"id":"`+m.ID+`","alt":"A red kite over the field"}]}`))
	if r.status != 200 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	var got herald.Update
	decodeInto(t, r.body, &got)
	if got.Text != "" || got.Media[0].Alt != "A red kite over the field" || got.EditedAt == nil {
		t.Fatalf("edited = %+v", got)
	}
	plain, err := alice.PostUpdate(ctx, ch.ID, "just words", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.do("PATCH", "/api/v1/channels/"+ch.ID+"/updates/"+plain.ID, alice.Token(), []byte(`{"text":" "}`)), 400, "invalid-text")

	m2 := upload(t, alice, ch.ID, testJPEG(t, 64, 64), "")
	body := []byte(`{"text":"Vote","media":[{"id":"` + m2.ID + `"}],"poll":{"question":"Which?","options":["a","b"]}}`)
	wantKind(t, e.do("POST", "/api/v1/channels/"+ch.ID+"/updates", alice.Token(), body), 400, "poll-with-media")
}

// TestMediaHEICRefused: without a HEIF decoder (none injected: the server
// found no heif-convert) a HEIC photo is a clear 400 that names the type,
// and nothing of it is stored.
func TestMediaHEICRefused(t *testing.T) {
	e, blobs := mediaEnv(t, "dir", func(c *hhttp.MediaConfig) { c.HEIF = nil })
	alice := e.signup("alice")
	ch := e.channel(alice, "Photos")
	heic := append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 128)...)
	r := e.do("POST", "/api/v1/channels/"+ch.ID+"/media", alice.Token(), heic, "Content-Type", "image/jpeg")
	wantKind(t, r, 400, "media-unsupported")
	if !strings.Contains(string(r.body), "HEIC") {
		t.Fatalf("problem does not name the type: %s", r.body)
	}
	if got := blobs.files(t); len(got) != 0 {
		t.Fatalf("refused HEIC stored %v", got)
	}
}

// TestMediaHEICUpload: an iPhone-style HEIC photo carrying GPS and camera
// tags is decoded with heif-convert, uploaded as an image of the right size,
// and none of its variants keeps the tags (exiftool reads each served file).
func TestMediaHEICUpload(t *testing.T) {
	tools := map[string]string{}
	for _, tool := range []string{"heif-enc", "heif-convert", "exiftool"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
				t.Fatalf("%s is required (HERALD_REQUIRE_SERVICES=1): apt-get install -y libheif-examples libimage-exiftool-perl", tool)
			}
			t.Skipf("%s not installed", tool)
		}
		tools[tool] = p
	}
	tmp := t.TempDir()
	jpg := filepath.Join(tmp, "in.jpg")
	if err := os.WriteFile(jpg, testJPEG(t, 300, 200), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tools["exiftool"], "-overwrite_original", "-GPSLatitude=48.8584", "-GPSLatitudeRef=N",
		"-GPSLongitude=2.2945", "-GPSLongitudeRef=E", "-Make=HeraldCam", "-Model=Spy 3000", jpg).CombinedOutput(); err != nil {
		t.Fatalf("exiftool: %v %s", err, out)
	}
	heicPath := filepath.Join(tmp, "in.heic")
	if out, err := exec.Command(tools["heif-enc"], "-q", "90", jpg, "-o", heicPath).CombinedOutput(); err != nil {
		t.Fatalf("heif-enc: %v %s", err, out)
	}
	if meta, _ := exec.Command(tools["exiftool"], "-a", "-G1", heicPath).CombinedOutput(); !bytes.Contains(meta, []byte("HeraldCam")) {
		t.Fatalf("the sample HEIC lacks its EXIF:\n%s", meta)
	}
	heic, err := os.ReadFile(heicPath)
	if err != nil {
		t.Fatal(err)
	}
	h, err := media.FindHEIF()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	e, _ := mediaEnv(t, "dir", func(c *hhttp.MediaConfig) { c.HEIF, c.TempDir = h, work })
	alice := e.signup("alice")
	ch := e.channel(alice, "Photos")
	m := upload(t, alice, ch.ID, heic, "IMG_0001.HEIC")
	if m.Type != herald.MediaImage || m.MIME != "image/jpeg" || m.Width != 300 || m.Height != 200 || m.State != herald.MediaReady || m.Blurhash == "" {
		t.Fatalf("uploaded = %+v", m)
	}
	for _, v := range []string{"original", "1280", "320"} {
		r := e.do("GET", "/media/"+m.ID+"/"+v, alice.Token(), nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("%s: %d %s", v, r.status, r.header.Get("Content-Type"))
		}
		p := filepath.Join(tmp, v+".jpg")
		if err := os.WriteFile(p, r.body, 0o600); err != nil {
			t.Fatal(err)
		}
		meta, err := exec.Command(tools["exiftool"], "-a", "-G1", p).CombinedOutput()
		if err != nil {
			t.Fatalf("exiftool read: %v %s", err, meta)
		}
		for _, s := range []string{"GPS", "HeraldCam", "Spy 3000", "Make", "Model"} {
			if bytes.Contains(meta, []byte(s)) {
				t.Errorf("%s still has %q:\n%s", v, s, meta)
			}
		}
	}
	// An avatar may be a HEIC photo too.
	if r := e.do("PUT", "/api/v1/channels/"+ch.ID+"/avatar", alice.Token(), heic, "Content-Type", "image/heic"); r.status != 200 {
		t.Fatalf("HEIC avatar: %d %s", r.status, r.body)
	}
	// The upload and heif-convert's decoded picture (which carries the
	// EXIF) are gone from the working directory.
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
