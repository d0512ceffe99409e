package preview_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkWorkerPreview is one link preview end to end on SQLite: post an
// update linking to a local page, then the worker fetches the page, its
// 1200x630 JPEG image, re-encodes the image (three renditions and a
// blurhash), stores files and card. Run with:
//
//	go test -run '^$' -bench WorkerPreview -benchtime 50x -cpu 1 ./preview/
func BenchmarkWorkerPreview(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 1200, 630))
	for y := 0; y < 630; y++ {
		for x := 0; x < 1200; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 5), 80, uint8(y / 3), 255})
		}
	}
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, img, nil); err != nil {
		b.Fatal(err)
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/img.jpg" {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo.Bytes())
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><meta property="og:title" content="A story"><meta property="og:description" content="What happened.">
			<meta property="og:image" content="/img.jpg"></head><body>`+string(bytes.Repeat([]byte("<p>text</p>"), 2000))+`</body></html>`)
	}))
	defer site.Close()
	e := newEnv(b, "127.0.0.1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		u := e.h.Post(e.owner, e.ch, "Read "+site.URL+"/story")
		if n, err := e.worker.RunOnce(ctx); err != nil || n != 1 {
			b.Fatalf("RunOnce = %d, %v", n, err)
		}
		got, err := e.h.Store.FindUpdate(ctx, "", e.ch.ID, u.ID)
		if err != nil || got.LinkPreview == nil || got.LinkPreview.Image == nil {
			b.Fatalf("no preview: %v", err)
		}
	}
}
