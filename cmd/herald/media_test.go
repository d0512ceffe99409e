package main

import (
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

// TestCLIPostMedia: `herald post --image --alt --file` uploads and posts;
// the server's erase loop removes the files once the update is deleted.
func TestCLIPostMedia(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data, "--media-erase-period", "100ms")
	token := p.cli(t, "", "", "account", "create", "--username", "photographer", "--password", "a long enough password")
	chID := p.cli(t, token, "", "channel", "create", "--name", "Pictures", "--category", "news")

	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(0, 0, color.Black)
	photo := filepath.Join(dir, "photo.jpg")
	f, err := os.Create(photo)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	doc := filepath.Join(dir, "minutes.pdf")
	if err := os.WriteFile(doc, []byte("%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	uid := p.cli(t, token, "", "post", "--channel", chID, "--image", photo, "--alt", "A grey field", "--file", doc, "Today")
	u, err := client.New(p.url, "").GetUpdate(context.Background(), chID, uid)
	if err != nil {
		t.Fatal(err)
	}
	if u.Text != "Today" || len(u.Media) != 2 || u.Media[0].Type != herald.MediaImage || u.Media[0].Alt != "A grey field" ||
		u.Media[0].Width != 200 || u.Media[1].Type != herald.MediaDocument || u.Media[1].Name != "minutes.pdf" || u.Media[1].MIME != "application/pdf" {
		t.Fatalf("posted = %+v", u)
	}
	// --image refuses what is not an image.
	if _, err := runCLI(t, "post", "--server", p.url, "--token", token, "--channel", chID, "--image", doc); err == nil || !strings.Contains(err.Error(), "not an image") {
		t.Fatalf("--image with a PDF: %v", err)
	}

	mediaDir := filepath.Join(data, "media")
	count := func() int {
		n := 0
		_ = filepath.WalkDir(mediaDir, func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	if n := count(); n < 4 {
		t.Fatalf("%d files in the media directory", n)
	}
	if err := client.New(p.url, token).DeleteUpdate(context.Background(), chID, uid); err != nil {
		t.Fatal(err)
	}
	// The unattached upload of the refused --image stays (erased after 24 h);
	// the update's files go within the erase period.
	deadline := time.Now().Add(30 * time.Second)
	for count() != 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d files left after deleting the update, want the 1 unattached upload", n)
	}

	// --at with an attachment schedules both; publishing posts the photo.
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out := p.cli(t, token, "", "post", "--channel", chID, "--at", at, "--image", photo, "--alt", "Later", "Tonight")
	if !strings.Contains(out, "scheduled for") {
		t.Fatalf("post --at --image printed %q", out)
	}
	pid := p.cli(t, token, "", "schedule", "publish", "--channel", chID, strings.Fields(out)[0])
	u, err = client.New(p.url, "").GetUpdate(context.Background(), chID, pid)
	if err != nil || u.Text != "Tonight" || len(u.Media) != 1 || u.Media[0].Alt != "Later" || u.Media[0].Width != 200 {
		t.Fatalf("published scheduled media: %+v, %v", u, err)
	}
}
