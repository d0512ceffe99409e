package media

import (
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// photo12MP writes a 4000 x 3000 JPEG with gradients and noise, like a
// phone photo in size and entropy.
func photo12MP(b *testing.B) string {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	seed := uint32(1)
	for y := 0; y < 3000; y++ {
		for x := 0; x < 4000; x++ {
			seed = seed*1664525 + 1013904223
			img.Y[img.YOffset(x, y)] = uint8((x/16+y/16)&0xff) ^ uint8(seed>>28)
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(i), uint8(i>>8)
	}
	p := filepath.Join(b.TempDir(), "12mp.jpg")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 92}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	_ = color.White
	return p
}

// BenchmarkImage12MP: decode, orient, re-encode without metadata, the 1280
// and 320 variants and the blurhash of a 12-megapixel JPEG. cpu-ms/op is the
// process's CPU time (GC included), the figure the issue bounds (< 1 s).
func BenchmarkImage12MP(b *testing.B) {
	p := photo12MP(b)
	st, _ := os.Stat(p)
	b.SetBytes(st.Size())
	dir := b.TempDir()
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Image(context.Background(), f, "image/jpeg", dir)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		res.Remove()
	}
	b.ReportMetric(float64((processCPU()-cpu0)/time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkHEIC12MP: a 12-megapixel HEIC photo decoded by heif-convert (a
// temporary JPEG at quality 95) and then processed like a JPEG (variants,
// blurhash). cpu-ms/op is the Go process's CPU, child-cpu-ms/op that of
// heif-convert (finished children, from getrusage).
func BenchmarkHEIC12MP(b *testing.B) {
	enc := need(b, "heif-enc", "libheif-examples")
	h, err := FindHEIF()
	if err != nil {
		b.Skip("heif-convert not installed")
	}
	p := filepath.Join(b.TempDir(), "12mp.heic")
	if msg, err := exec.Command(enc, "-q", "50", photo12MP(b), "-o", p).CombinedOutput(); err != nil {
		b.Fatalf("heif-enc: %v %s", err, msg)
	}
	st, _ := os.Stat(p)
	b.SetBytes(st.Size())
	dir := b.TempDir()
	b.ResetTimer()
	cpu0, child0 := processCPU(), childrenCPU()
	for b.Loop() {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		dec, err := h.Decode(context.Background(), f, dir)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		df, err := os.Open(dec)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Image(context.Background(), df, "image/heic", dir)
		df.Close()
		os.Remove(dec)
		if err != nil {
			b.Fatal(err)
		}
		res.Remove()
	}
	b.ReportMetric(float64((processCPU()-cpu0)/time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64((childrenCPU()-child0)/time.Millisecond)/float64(b.N), "child-cpu-ms/op")
}
