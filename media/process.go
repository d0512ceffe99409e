package media

import (
	"bufio"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	"github.com/heraldhq/herald"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decoder only: variants are JPEG or PNG
)

// Image sizes.
const (
	FullSize       = 2048 // longest side of the "original" variant
	LargeSize      = 1280
	SmallSize      = 320
	MaxImagePixels = 60_000_000 // refused beyond: decoding would take too much memory
	blurhashSide   = 32
	jpegQuality    = 85
)

// File is one processed rendition waiting in a temporary file.
type File struct {
	Variant string
	Path    string
	MIME    string
	Size    int64
}

// Result is what processing found and made. Its files are temporary: the
// caller stores them and calls Remove.
type Result struct {
	Type     string
	MIME     string
	Width    int
	Height   int
	Duration float64
	Blurhash string
	Files    []File
}

// Remove deletes the result's temporary files.
func (r *Result) Remove() {
	for _, f := range r.Files {
		os.Remove(f.Path)
	}
}

// Variants lists the result's variant names.
func (r *Result) Variants() []string {
	out := make([]string, len(r.Files))
	for i, f := range r.Files {
		out[i] = f.Variant
	}
	return out
}

// Sniff recognises a file's type from its bytes, never from its name or
// declared type: the herald.Media* type and MIME type. Anything not a
// supported image, video or audio format is a document.
func Sniff(f io.ReaderAt) (typ, mime string, err error) {
	head := make([]byte, 3072)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return "", "", err
	}
	mt := mimetype.Detect(head[:n])
	mime = mt.String()
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		mime = mime[:i]
	}
	switch mime {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return herald.MediaImage, mime, nil
	case "video/mp4", "video/webm", "video/quicktime":
		return herald.MediaVideo, mime, nil
	case "audio/ogg", "audio/mpeg", "audio/aac", "audio/x-m4a", "audio/mp4", "audio/opus", "audio/webm", "audio/wav", "audio/x-wav", "audio/flac":
		return herald.MediaAudio, mime, nil
	case "application/ogg":
		return herald.MediaAudio, "audio/ogg", nil
	case "image/heic", "image/heic-sequence", "image/heif", "image/heif-sequence", "image/avif":
		// Decoded by HEIF.Decode when heif-convert is installed, refused
		// otherwise (ErrHEIFUnsupported), never kept as a document.
		return herald.MediaImage, mime, nil
	}
	return herald.MediaDocument, documentMIME(mime), nil
}

// documentMIME keeps the sniffed type of a document, except types a
// browser would run or render as a page: those become opaque bytes.
func documentMIME(mime string) string {
	switch {
	case strings.Contains(mime, "html"), strings.Contains(mime, "xml"), strings.Contains(mime, "svg"),
		strings.Contains(mime, "javascript"), strings.HasPrefix(mime, "text/"):
		if mime == "text/plain" {
			return mime
		}
		return "application/octet-stream"
	}
	return mime
}

// Image decodes an image, applies its EXIF orientation, and writes the
// renditions without any of its metadata (EXIF, GPS, XMP, ICC, comments
// are never copied: the pixels are re-encoded): "original" (at most
// FullSize on its longest side; PNG if it has transparency, an animated GIF
// stays an animated GIF), "1280" and "320" (JPEG), plus a blurhash.
func Image(ctx context.Context, src *os.File, mime, tmpDir string) (*Result, error) {
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bufio.NewReader(src))
	if err != nil {
		return nil, errBadImage
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, errImageTooLarge
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	res := &Result{Type: herald.MediaImage}
	ok := false
	defer func() {
		if !ok {
			res.Remove()
		}
	}()
	var img image.Image
	if mime == "image/gif" {
		g, err := gif.DecodeAll(bufio.NewReader(src))
		if err != nil || len(g.Image) == 0 {
			return nil, errBadImage
		}
		if len(g.Image) > 1 {
			// Animated: the frames are re-encoded (comments and
			// application extensions other than looping are dropped).
			f, err := writeTemp(tmpDir, "original", "image/gif", func(w io.Writer) error {
				return gif.EncodeAll(w, &gif.GIF{Image: g.Image, Delay: g.Delay, LoopCount: g.LoopCount, Disposal: g.Disposal, Config: g.Config})
			})
			if err != nil {
				return nil, err
			}
			res.Files = append(res.Files, f)
			res.MIME, res.Width, res.Height = "image/gif", g.Config.Width, g.Config.Height
		}
		img = g.Image[0]
	} else {
		img, _, err = image.Decode(bufio.NewReader(src))
		if err != nil {
			return nil, errBadImage
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	orientation := 1
	if mime == "image/jpeg" {
		orientation = jpegOrientation(src)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if orientation >= 5 { // rotated a quarter turn
		w, h = h, w
	}
	opaque := isOpaque(img)
	fw, fh := fit(w, h, FullSize)
	if orientation >= 5 {
		fw, fh = fh, fw
	}
	full := orient(scale(img, fw, fh, opaque), orientation)
	fb := full.Bounds()
	if len(res.Files) == 0 { // not an animated GIF
		res.Width, res.Height = fb.Dx(), fb.Dy()
		enc, mimeOut := encodeJPEG(full), "image/jpeg"
		if !opaque {
			enc, mimeOut = func(w io.Writer) error { return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, full) }, "image/png"
		}
		f, err := writeTemp(tmpDir, "original", mimeOut, enc)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, f)
		res.MIME = mimeOut
	}
	prev := full
	for _, side := range []int{LargeSize, SmallSize} {
		vw, vh := fit(fb.Dx(), fb.Dy(), side)
		v := scale(prev, vw, vh, true)
		name := "1280"
		if side == SmallSize {
			name = "320"
		}
		f, err := writeTemp(tmpDir, name, "image/jpeg", encodeJPEG(v))
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, f)
		prev = v
	}
	bw, bh := fit(fb.Dx(), fb.Dy(), blurhashSide)
	res.Blurhash = blurhash(scale(prev, bw, bh, true), 4, 3)
	ok = true
	return res, nil
}

var errBadImage = herald.KindErrorf(herald.EINVALID, "invalid-image", "The image could not be decoded.")

// fit returns w x h scaled down (never up) so that its longest side is at most side.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, int(int64(h)*int64(side)/int64(w)))
	}
	return max(1, int(int64(w)*int64(side)/int64(h))), side
}

func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// scale resamples img to w x h; flatten puts it on white (for JPEG). A
// large reduction halves with a 2x2 box filter first (cheap, no aliasing),
// then interpolates bilinearly over the last factor below two: about a
// tenth of the CPU of a full-support kernel on a 12-megapixel photo.
func scale(img image.Image, w, h int, flatten bool) *image.RGBA {
	b := img.Bounds()
	if b.Dx() >= 2*w && b.Dy() >= 2*h {
		rgba := toRGBA(img)
		for rgba.Bounds().Dx() >= 2*w && rgba.Bounds().Dy() >= 2*h {
			rgba = halve(rgba)
		}
		img, b = rgba, rgba.Bounds()
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	op := draw.Src
	if flatten {
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		op = draw.Over
	}
	if b.Dx() == w && b.Dy() == h {
		draw.Draw(dst, dst.Bounds(), img, b.Min, op)
		return dst
	}
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, op, nil)
	return dst
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	b := img.Bounds()
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Bounds(), img, b.Min, draw.Src)
	return r
}

// halve averages 2x2 blocks (premultiplied RGBA, so edges of transparent
// areas don't darken).
func halve(src *image.RGBA) *image.RGBA {
	w, h := src.Rect.Dx()/2, src.Rect.Dy()/2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		r0 := src.Pix[(2*y)*src.Stride:]
		r1 := src.Pix[(2*y+1)*src.Stride:]
		d := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			i := 8 * x
			for c := 0; c < 4; c++ {
				d[4*x+c] = uint8((uint32(r0[i+c]) + uint32(r0[i+4+c]) + uint32(r1[i+c]) + uint32(r1[i+4+c]) + 2) >> 2)
			}
		}
	}
	return dst
}

// orient applies an EXIF orientation (1-8) to img.
func orient(img *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			si, di := img.PixOffset(x, y), dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return dst
}

func encodeJPEG(img image.Image) func(io.Writer) error {
	return func(w io.Writer) error { return jpeg.Encode(w, img, &jpeg.Options{Quality: jpegQuality}) }
}

// writeTemp writes one rendition to a temporary file.
func writeTemp(dir, variant, mime string, write func(io.Writer) error) (File, error) {
	f, err := os.CreateTemp(dir, "herald-media-*")
	if err != nil {
		return File{}, err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return File{}, err
	}
	return File{Variant: variant, Path: f.Name(), MIME: mime, Size: size}, nil
}

// Document keeps a file as it is: the upload itself is the "original".
func Document(src *os.File, mime string, size int64) *Result {
	return &Result{Type: herald.MediaDocument, MIME: mime, Files: []File{{Variant: "original", Path: src.Name(), MIME: mime, Size: size}}}
}

// Avatar sizes.
const (
	AvatarSize      = 512
	AvatarSmallSize = 128
)

// Avatar makes a channel picture of an image: its centre cropped square,
// oriented, re-encoded without metadata as "original" (at most 512 px) and
// "128" (JPEG on white).
func Avatar(ctx context.Context, src *os.File, mime, tmpDir string) (*Result, error) {
	full, err := Image(ctx, src, mime, tmpDir)
	if err != nil {
		return nil, err
	}
	defer full.Remove()
	// Crop from the largest opaque rendition: "1280" (never animated).
	var large string
	for _, f := range full.Files {
		if f.Variant == "1280" {
			large = f.Path
		}
	}
	lf, err := os.Open(large)
	if err != nil {
		return nil, err
	}
	img, err := jpeg.Decode(bufio.NewReader(lf))
	lf.Close()
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	square := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.Draw(square, square.Bounds(), img, image.Pt(x0, y0), draw.Src)
	res := &Result{Type: herald.MediaImage, MIME: "image/jpeg", Blurhash: full.Blurhash}
	for _, v := range []struct {
		name string
		size int
	}{{"original", AvatarSize}, {"128", AvatarSmallSize}} {
		s := min(side, v.size)
		f, err := writeTemp(tmpDir, v.name, "image/jpeg", encodeJPEG(scale(square, s, s, true)))
		if err != nil {
			res.Remove()
			return nil, err
		}
		res.Files = append(res.Files, f)
		if v.name == "original" {
			res.Width, res.Height = s, s
		}
	}
	return res, nil
}
