package media

import (
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
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
