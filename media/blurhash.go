package media

import (
	"image"
	"math"
	"strings"
)

// The blurhash format (https://blurha.sh): a DCT of the image in linear
// light, a handful of components, base-83 text. Written from the format's
// description; no blurhash library with a permissive licence is served here.

const base83Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"

func base83(b *strings.Builder, v, length int) {
	for i := 1; i <= length; i++ {
		d := v / ipow(83, length-i) % 83
		b.WriteByte(base83Chars[d])
	}
}

func ipow(b, e int) int {
	r := 1
	for ; e > 0; e-- {
		r *= b
	}
	return r
}

var srgbToLinear [256]float64

func init() {
	for i := range srgbToLinear {
		v := float64(i) / 255
		if v <= 0.04045 {
			srgbToLinear[i] = v / 12.92
		} else {
			srgbToLinear[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
}

func linearToSRGB(v float64) int {
	v = max(0, min(1, v))
	if v <= 0.0031308 {
		return int(v*12.92*255 + 0.5)
	}
	return int((1.055*math.Pow(v, 1/2.4)-0.055)*255 + 0.5)
}

func signPow(v, e float64) float64 { return math.Copysign(math.Pow(math.Abs(v), e), v) }

// blurhash encodes img (small: the cost is pixels x components) with nx x ny
// components (1-9 each).
func blurhash(img image.Image, nx, ny int) string {
	bnd := img.Bounds()
	w, h := bnd.Dx(), bnd.Dy()
	if w == 0 || h == 0 {
		return ""
	}
	// Linear RGB once.
	lin := make([][3]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, b, _ := img.At(bnd.Min.X+x, bnd.Min.Y+y).RGBA()
			lin[y*w+x] = [3]float64{srgbToLinear[r>>8], srgbToLinear[g>>8], srgbToLinear[b>>8]}
		}
	}
	factors := make([][3]float64, 0, nx*ny)
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			norm := 2.0
			if i == 0 && j == 0 {
				norm = 1
			}
			var f [3]float64
			for y := 0; y < h; y++ {
				cy := math.Cos(math.Pi * float64(j) * float64(y) / float64(h))
				for x := 0; x < w; x++ {
					basis := norm * cy * math.Cos(math.Pi*float64(i)*float64(x)/float64(w))
					p := lin[y*w+x]
					f[0] += basis * p[0]
					f[1] += basis * p[1]
					f[2] += basis * p[2]
				}
			}
			scale := 1 / float64(w*h)
			factors = append(factors, [3]float64{f[0] * scale, f[1] * scale, f[2] * scale})
		}
	}
	var b strings.Builder
	base83(&b, (nx-1)+(ny-1)*9, 1)
	maxAC := 1.0
	if len(factors) > 1 {
		actual := 0.0
		for _, f := range factors[1:] {
			actual = max(actual, math.Abs(f[0]), math.Abs(f[1]), math.Abs(f[2]))
		}
		q := int(max(0, min(82, math.Floor(actual*166-0.5))))
		maxAC = float64(q+1) / 166
		base83(&b, q, 1)
	} else {
		base83(&b, 0, 1)
	}
	dc := factors[0]
	base83(&b, linearToSRGB(dc[0])<<16|linearToSRGB(dc[1])<<8|linearToSRGB(dc[2]), 4)
	for _, f := range factors[1:] {
		q := func(v float64) int {
			return int(max(0, min(18, math.Floor(signPow(v/maxAC, 0.5)*9+9.5))))
		}
		base83(&b, q(f[0])*19*19+q(f[1])*19+q(f[2]), 2)
	}
	return b.String()
}
