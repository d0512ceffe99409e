package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// need returns the path of a command the test needs: it skips without it,
// unless HERALD_REQUIRE_SERVICES=1 (CI), where its absence is a failure.
func need(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is required (HERALD_REQUIRE_SERVICES=1): apt-get install -y %s", name, pkg)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// testPhoto is a w x h picture: left half red, right half blue.
func testPhoto(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{200, 30, 30, 255}
			if x >= w/2 {
				c = color.RGBA{30, 30, 200, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func encode(t testing.TB, img image.Image, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegEnc(b *bytes.Buffer, img image.Image) error { return jpeg.Encode(b, img, nil) }
func pngEnc(b *bytes.Buffer, img image.Image) error  { return png.Encode(b, img) }

func process(t testing.TB, path string) *Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	typ, mime, err := Sniff(f)
	if err != nil || typ != herald.MediaImage {
		t.Fatalf("Sniff = %s %s %v", typ, mime, err)
	}
	res, err := Image(context.Background(), f, mime, t.TempDir())
	if err != nil {
		t.Fatalf("Image: %v", err)
	}
	return res
}

func file(t testing.TB, res *Result, variant string) File {
	t.Helper()
	for _, f := range res.Files {
		if f.Variant == variant {
			return f
		}
	}
	t.Fatalf("no variant %s in %+v", variant, res.Files)
	return File{}
}

func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestImageStripsMetadata: a JPEG carrying GPS, camera, XMP and a comment
// comes out of every rendition without any of them (exiftool reads each).
func TestImageStripsMetadata(t *testing.T) {
	exiftool := need(t, "exiftool", "libimage-exiftool-perl")
	dir := t.TempDir()
	p := writeFile(t, dir, "photo.jpg", encode(t, testPhoto(1600, 1200), jpegEnc))
	out, err := exec.Command(exiftool, "-overwrite_original",
		"-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E",
		"-Make=SecretCam", "-Model=Spy 3000", "-SerialNumber=SN123456", "-Artist=Jane Doe",
		"-XMP-dc:Creator=Jane Doe", "-Comment=home address", p).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool write: %v %s", err, out)
	}
	before, _ := exec.Command(exiftool, "-a", "-G1", p).CombinedOutput()
	for _, want := range []string{"GPS Latitude", "SecretCam", "SN123456", "Jane Doe", "home address"} {
		if !bytes.Contains(before, []byte(want)) {
			t.Fatalf("the test photo lacks %q:\n%s", want, before)
		}
	}
	res := process(t, p)
	defer res.Remove()
	if res.Width != 1600 || res.Height != 1200 || res.MIME != "image/jpeg" || len(res.Blurhash) != 28 {
		t.Fatalf("result = %+v", res)
	}
	for _, f := range res.Files {
		meta, err := exec.Command(exiftool, "-a", "-G1", f.Path).CombinedOutput()
		if err != nil {
			t.Fatalf("exiftool read: %v %s", err, meta)
		}
		for _, bad := range []string{"GPS", "SecretCam", "Spy 3000", "SN123456", "Jane Doe", "home address"} {
			if bytes.Contains(meta, []byte(bad)) {
				t.Errorf("variant %s still carries %q:\n%s", f.Variant, bad, meta)
			}
		}
		// Only what describes the file itself: no EXIF, XMP, ICC or comment group.
		for _, line := range strings.Split(strings.TrimSpace(string(meta)), "\n") {
			group, _, _ := strings.Cut(strings.TrimPrefix(line, "["), "]")
			switch group {
			case "ExifTool", "System", "File", "Composite", "JFIF":
			default:
				t.Errorf("variant %s has metadata group %s: %s", f.Variant, group, line)
			}
		}
		// The file is a plain JPEG a browser shows.
		if img := decodeFile(t, f.Path); img.Bounds().Dx() == 0 {
			t.Errorf("variant %s is empty", f.Variant)
		}
	}
	if b := decodeFile(t, file(t, res, "320").Path).Bounds(); b.Dx() != 320 || b.Dy() != 240 {
		t.Fatalf("320 variant is %v", b)
	}
	if b := decodeFile(t, file(t, res, "1280").Path).Bounds(); b.Dx() != 1280 || b.Dy() != 960 {
		t.Fatalf("1280 variant is %v", b)
	}
}

// TestImageOrientation: a photo whose EXIF says "rotate 90° clockwise"
// (orientation 6) is turned upright, and the tag itself is gone.
func TestImageOrientation(t *testing.T) {
	exiftool := need(t, "exiftool", "libimage-exiftool-perl")
	dir := t.TempDir()
	p := writeFile(t, dir, "rot.jpg", encode(t, testPhoto(400, 200), jpegEnc))
	if out, err := exec.Command(exiftool, "-overwrite_original", "-Orientation#=6", p).CombinedOutput(); err != nil {
		t.Fatalf("exiftool: %v %s", err, out)
	}
	res := process(t, p)
	defer res.Remove()
	if res.Width != 200 || res.Height != 400 {
		t.Fatalf("oriented size = %dx%d, want 200x400", res.Width, res.Height)
	}
	img := decodeFile(t, file(t, res, "original").Path)
	// Red was the left half; turned clockwise it is the top half.
	r, _, b, _ := img.At(100, 50).RGBA()
	r2, _, b2, _ := img.At(100, 350).RGBA()
	if !(r > b && b2 > r2) {
		t.Fatalf("top pixel r=%d b=%d, bottom r=%d b=%d: not rotated clockwise", r>>8, b>>8, r2>>8, b2>>8)
	}
	meta, _ := exec.Command(exiftool, "-Orientation", file(t, res, "original").Path).CombinedOutput()
	if strings.Contains(string(meta), "Rotate") {
		t.Fatalf("orientation tag kept: %s", meta)
	}
}

func TestImageFormats(t *testing.T) {
	dir := t.TempDir()
	// A transparent PNG keeps its transparency in the original.
	trans := image.NewNRGBA(image.Rect(0, 0, 50, 40))
	trans.SetNRGBA(1, 1, color.NRGBA{255, 0, 0, 255})
	res := process(t, writeFile(t, dir, "t.png", encode(t, trans, pngEnc)))
	if res.MIME != "image/png" || file(t, res, "original").MIME != "image/png" || res.Width != 50 {
		t.Fatalf("transparent PNG = %+v", res)
	}
	res.Remove()
	// An animated GIF stays animated.
	pal := color.Palette{color.Black, color.White}
	frames := []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 30, 20), pal), image.NewPaletted(image.Rect(0, 0, 30, 20), pal)}
	frames[1].SetColorIndex(3, 3, 1)
	var gb bytes.Buffer
	if err := gif.EncodeAll(&gb, &gif.GIF{Image: frames, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	res = process(t, writeFile(t, dir, "a.gif", gb.Bytes()))
	defer res.Remove()
	of, err := os.Open(file(t, res, "original").Path)
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	g, err := gif.DecodeAll(of)
	if err != nil || len(g.Image) != 2 || res.MIME != "image/gif" || res.Width != 30 || file(t, res, "320").MIME != "image/jpeg" {
		t.Fatalf("animated GIF: %d frames, %v, %+v", len(g.Image), err, res)
	}
}

func TestSniffIgnoresNames(t *testing.T) {
	for _, c := range []struct {
		data     string
		typ, mim string
	}{
		{"<!DOCTYPE html><html><script>alert(1)</script></html>", herald.MediaDocument, "application/octet-stream"},
		{"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>", herald.MediaDocument, "application/octet-stream"},
		{"%PDF-1.4\n%âãÏÓ\n1 0 obj\n", herald.MediaDocument, "application/pdf"},
		{"just words", herald.MediaDocument, "text/plain"},
		{"\x89PNG\r\n\x1a\n", herald.MediaImage, "image/png"},
	} {
		typ, mime, err := Sniff(strings.NewReader(c.data))
		if err != nil || typ != c.typ || mime != c.mim {
			t.Errorf("Sniff(%.20q) = %s %s %v, want %s %s", c.data, typ, mime, err, c.typ, c.mim)
		}
	}
}

func TestImageRefusesGarbageAndBombs(t *testing.T) {
	dir := t.TempDir()
	f, _ := os.Open(writeFile(t, dir, "bad.png", []byte("\x89PNG\r\n\x1a\nnot really")))
	defer f.Close()
	if _, err := Image(context.Background(), f, "image/png", dir); herald.ErrorKind(err) != "invalid-image" {
		t.Fatalf("garbage PNG: %v", err)
	}
	// A PNG header claiming 100,000 x 100,000 pixels is refused before decoding.
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	copy(data[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(data[29:33], crc32.ChecksumIEEE(data[12:29]))
	f2, _ := os.Open(writeFile(t, dir, "bomb.png", data))
	defer f2.Close()
	if _, err := Image(context.Background(), f2, "image/png", dir); herald.ErrorCode(err) != herald.ETOOLARGE {
		t.Fatalf("bomb: %v", err)
	}
}

func TestBlurhashOfAFlatImage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	// 4x3 components (size flag), the average colour white (DC), 11 AC pairs.
	h := blurhash(img, 4, 3)
	if len(h) != 28 || h[:1] != encode83(3+2*9, 1) || h[2:6] != encode83(0xFFFFFF, 4) {
		t.Fatalf("blurhash = %q", h)
	}
	// Red left, blue right: the average is between them, and differs.
	if h2 := blurhash(testPhoto(16, 16), 4, 3); h2[2:6] == h[2:6] || len(h2) != 28 {
		t.Fatalf("blurhash of a two-colour image = %q", h2)
	}
}

func encode83(v, n int) string {
	var b strings.Builder
	base83(&b, v, n)
	return b.String()
}

// heicHead is the start of an iPhone HEIC photo: an ISO BMFF ftyp box with
// the heic brand, then the meta box where its EXIF and GPS items live.
func heicHead(brand string) []byte {
	b := []byte("\x00\x00\x00\x18ftyp" + brand + "\x00\x00\x00\x00mif1" + brand)
	b = append(b, "\x00\x00\x00\x28meta\x00\x00\x00\x00\x00\x00\x00\x21hdlr\x00\x00\x00\x00\x00\x00\x00\x00pict"...)
	return append(b, make([]byte, 64)...)
}

// TestSniffHEIC: HEIC and AVIF photos are images (decoded by heif-convert
// when installed), never documents that would keep their metadata; the
// refusal without a decoder names the type.
func TestSniffHEIC(t *testing.T) {
	for brand, want := range map[string]struct{ mime, name string }{
		"heic": {"image/heic", "HEIC"}, "heix": {"image/heic", "HEIC"}, "avif": {"image/avif", "AVIF"}} {
		typ, mime, err := Sniff(bytes.NewReader(heicHead(brand)))
		if err != nil || typ != herald.MediaImage || mime != want.mime || !IsHEIF(mime) {
			t.Errorf("Sniff(%s) = %s %s %v, want image %s", brand, typ, mime, err, want.mime)
		}
		err = ErrHEIFUnsupported(mime)
		if herald.ErrorKind(err) != "media-unsupported" || !strings.Contains(err.Error(), want.name+" images are not supported") {
			t.Errorf("ErrHEIFUnsupported(%s) = %v, want media-unsupported naming %s", mime, err, want.name)
		}
	}
	if IsHEIF("image/jpeg") {
		t.Error("IsHEIF(image/jpeg)")
	}
}
