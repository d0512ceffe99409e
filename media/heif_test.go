package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// heifSample writes a w x h test photo as a JPEG that exiftool tags with
// GPS, make, model and EXIF orientation 6, encodes it with heif-enc (HEIC,
// or AVIF with avif set) and checks the EXIF went into the HEIF file.
func heifSample(t testing.TB, w, h int, avif bool) string {
	t.Helper()
	return heifSampleOf(t, testPhoto(w, h), avif)
}

// heifSampleOf is heifSample of a given picture.
func heifSampleOf(t testing.TB, img image.Image, avif bool) string {
	t.Helper()
	exiftool := need(t, "exiftool", "libimage-exiftool-perl")
	enc := need(t, "heif-enc", "libheif-examples")
	need(t, "heif-convert", "libheif-examples")
	dir := t.TempDir()
	jpg := writeFile(t, dir, "in.jpg", encode(t, img, jpegEnc))
	if out, err := exec.Command(exiftool, "-overwrite_original", "-GPSLatitude=48.8584", "-GPSLatitudeRef=N",
		"-GPSLongitude=2.2945", "-GPSLongitudeRef=E", "-Make=HeraldCam", "-Model=Spy 3000", "-Orientation#=6", jpg).CombinedOutput(); err != nil {
		t.Fatalf("exiftool write: %v %s", err, out)
	}
	out := dir + "/in.heic"
	args := []string{"-q", "90", jpg, "-o", out}
	if avif {
		out = dir + "/in.avif"
		args = []string{"-A", "-q", "90", jpg, "-o", out}
	}
	if msg, err := exec.Command(enc, args...).CombinedOutput(); err != nil {
		t.Fatalf("heif-enc: %v %s", err, msg)
	}
	// heif-enc copies the JPEG's EXIF into the HEIF file: the sample carries
	// what must be stripped.
	meta, _ := exec.Command(exiftool, "-a", "-G1", out).CombinedOutput()
	for _, s := range []string{"GPS Latitude", "HeraldCam", "Spy 3000"} {
		if !strings.Contains(string(meta), s) {
			t.Fatalf("sample %s lacks %q:\n%s", out, s, meta)
		}
	}
	return out
}

// processHEIF sniffs, decodes and processes a HEIF file as the server does.
func processHEIF(t testing.TB, path string) *Result {
	t.Helper()
	h, err := FindHEIF()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	typ, mime, err := Sniff(f)
	if err != nil || typ != herald.MediaImage || !IsHEIF(mime) {
		t.Fatalf("Sniff = %s %s %v", typ, mime, err)
	}
	tmp := t.TempDir()
	dec, err := h.Decode(context.Background(), f, tmp)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	defer os.Remove(dec)
	// Only the decoded picture is left: heif-convert's own files are gone.
	if left, _ := os.ReadDir(tmp); len(left) != 1 || left[0].Name() != filepath.Base(dec) {
		t.Fatalf("temporary files after Decode: %v (want only %s)", left, dec)
	}
	df, err := os.Open(dec)
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	res, err := Image(context.Background(), df, mime, tmp)
	if err != nil {
		t.Fatalf("Image: %v", err)
	}
	return res
}

// TestHEIFStripsMetadata: HEIC and AVIF photos carrying GPS and camera tags
// come out as JPEGs of the right size without any of them, and their EXIF
// orientation is not applied (HEIF rotates with irot, see TestHEIFRotation).
func TestHEIFStripsMetadata(t *testing.T) {
	exiftool := need(t, "exiftool", "libimage-exiftool-perl")
	for _, avif := range []bool{false, true} {
		name := map[bool]string{false: "heic", true: "avif"}[avif]
		t.Run(name, func(t *testing.T) {
			res := processHEIF(t, heifSample(t, 400, 200, avif))
			defer res.Remove()
			if res.Type != herald.MediaImage || res.MIME != "image/jpeg" || res.Width != 400 || res.Height != 200 || res.Blurhash == "" {
				t.Fatalf("result = %+v", res)
			}
			if got := res.Variants(); strings.Join(got, ",") != "original,1280,320" {
				t.Fatalf("variants = %v", got)
			}
			img := decodeFile(t, file(t, res, "original").Path)
			r, _, b, _ := img.At(50, 100).RGBA()
			r2, _, b2, _ := img.At(350, 100).RGBA()
			if !(r > b && b2 > r2) {
				t.Fatalf("left r=%d b=%d, right r=%d b=%d: picture turned", r>>8, b>>8, r2>>8, b2>>8)
			}
			for _, f := range res.Files {
				meta, err := exec.Command(exiftool, "-a", "-G1", f.Path).CombinedOutput()
				if err != nil {
					t.Fatalf("exiftool read: %v %s", err, meta)
				}
				for _, s := range []string{"GPS", "HeraldCam", "Spy 3000", "Make", "Model", "Orientation"} {
					if strings.Contains(string(meta), s) {
						t.Errorf("%s still has %q:\n%s", f.Variant, s, meta)
					}
				}
			}
		})
	}
}

// TestHEIFRotation: a HEIC whose irot box says "a quarter turn
// anticlockwise" comes out turned, once: its EXIF orientation 6 (a
// clockwise turn, which HEIF readers must ignore) is not applied on top.
func TestHEIFRotation(t *testing.T) {
	p := heifSample(t, 400, 200, false)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// heif-enc writes no irot: the pixi property (16 bytes) becomes one, the
	// angle in its first byte (parsers skip the rest of a box).
	i := bytes.Index(b, []byte("pixi"))
	if i < 4 || binary.BigEndian.Uint32(b[i-4:]) != 16 {
		t.Fatalf("no 16-byte pixi box in the sample")
	}
	copy(b[i:], "irot\x01\x00\x00\x00\x00\x00\x00\x00")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	res := processHEIF(t, p)
	defer res.Remove()
	if res.Width != 200 || res.Height != 400 {
		t.Fatalf("size = %dx%d, want 200x400", res.Width, res.Height)
	}
	img := decodeFile(t, file(t, res, "original").Path)
	// Red was the left half; turned anticlockwise it is the bottom half.
	r, _, bl, _ := img.At(100, 50).RGBA()
	r2, _, b2, _ := img.At(100, 350).RGBA()
	if !(bl > r && r2 > b2) {
		t.Fatalf("top r=%d b=%d, bottom r=%d b=%d: not turned anticlockwise", r>>8, bl>>8, r2>>8, b2>>8)
	}
}

// TestHEIFMirror: an imir box is applied: axis 1 mirrors left and right,
// axis 0 top and bottom (libheif 1.15's reading of the field).
func TestHEIFMirror(t *testing.T) {
	// Red top-left quadrant, the rest blue.
	img := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			c := color.RGBA{30, 30, 200, 255}
			if x < 100 && y < 50 {
				c = color.RGBA{200, 30, 30, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	for axis, red := range map[byte]image.Point{1: {150, 25}, 0: {50, 75}} {
		p := heifSampleOf(t, img, false)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, []byte("pixi"))
		if i < 4 || binary.BigEndian.Uint32(b[i-4:]) != 16 {
			t.Fatalf("no 16-byte pixi box in the sample")
		}
		copy(b[i:], "imir"+string([]byte{axis})+"\x00\x00\x00\x00\x00\x00\x00")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		res := processHEIF(t, p)
		out := decodeFile(t, file(t, res, "original").Path)
		res.Remove()
		if out.Bounds().Dx() != 200 || out.Bounds().Dy() != 100 {
			t.Fatalf("axis %d: size %v", axis, out.Bounds())
		}
		for _, pt := range []image.Point{{50, 25}, {150, 25}, {50, 75}, {150, 75}} {
			r, _, bl, _ := out.At(pt.X, pt.Y).RGBA()
			if (r > bl) != (pt == red) {
				t.Errorf("axis %d: at %v r=%d b=%d, want red only at %v", axis, pt, r>>8, bl>>8, red)
			}
		}
	}
}

// TestHEIFAlpha: a HEIC with an alpha plane is decoded through PNG and keeps
// its transparency in the original.
func TestHEIFAlpha(t *testing.T) {
	enc := need(t, "heif-enc", "libheif-examples")
	need(t, "heif-convert", "libheif-examples")
	dir := t.TempDir()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.SetNRGBA(x, y, color.NRGBA{30, 200, 30, uint8(x * 4)})
		}
	}
	src := writeFile(t, dir, "a.png", encode(t, img, pngEnc))
	if msg, err := exec.Command(enc, "-q", "90", src, "-o", dir+"/a.heic").CombinedOutput(); err != nil {
		t.Fatalf("heif-enc: %v %s", err, msg)
	}
	res := processHEIF(t, dir+"/a.heic")
	defer res.Remove()
	if res.MIME != "image/png" || res.Width != 64 || res.Height != 48 {
		t.Fatalf("result = %+v", res)
	}
	if _, _, _, a := decodeFile(t, file(t, res, "original").Path).At(0, 10).RGBA(); a>>8 > 40 {
		t.Fatalf("left edge alpha = %d, want transparent", a>>8)
	}
}

// TestHEIFSeveralImages: of a file with two top-level images (heif-convert
// then writes one file per image), the first is processed and no other
// decoded file is left behind.
func TestHEIFSeveralImages(t *testing.T) {
	enc := need(t, "heif-enc", "libheif-examples")
	need(t, "heif-convert", "libheif-examples")
	dir := t.TempDir()
	a := writeFile(t, dir, "a.jpg", encode(t, testPhoto(320, 160), jpegEnc))
	b := writeFile(t, dir, "b.jpg", encode(t, testPhoto(64, 64), jpegEnc))
	if msg, err := exec.Command(enc, "-q", "80", a, b, "-o", dir+"/two.heic").CombinedOutput(); err != nil {
		t.Fatalf("heif-enc: %v %s", err, msg)
	}
	res := processHEIF(t, dir+"/two.heic")
	defer res.Remove()
	if res.Width != 320 || res.Height != 160 {
		t.Fatalf("size = %dx%d, want the first image's 320x160", res.Width, res.Height)
	}
}

// TestHEIFMemoryLimit: heif-convert runs under its address-space limit
// (a limit too small for it to start makes the decode fail).
func TestHEIFMemoryLimit(t *testing.T) {
	p := heifSample(t, 64, 48, false)
	h, err := FindHEIF()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h.MemoryKB = 4 << 10
	if _, err := h.Decode(context.Background(), f, t.TempDir()); herald.ErrorKind(err) != "invalid-image" {
		t.Fatalf("Decode under 4 MB = %v, want invalid-image", err)
	}
	h.MemoryKB = HEIFMemoryKB
	dec, err := h.Decode(context.Background(), f, t.TempDir())
	if err != nil {
		t.Fatalf("Decode under the default limit: %v", err)
	}
	os.Remove(dec)
}

// box is an ISO BMFF box.
func box(typ string, body ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(bytes.Join(body, nil))))
	return append(append(b, typ...), bytes.Join(body, nil)...)
}

func ispe(w, h uint32) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 4), w)
	return box("ispe", binary.BigEndian.AppendUint32(b, h))
}

// TestHEIFRefusesBeforeDecoding: an oversized picture (read from its ispe
// boxes) and a file without any are refused without running heif-convert
// (here a path that does not exist: running it would be another error).
func TestHEIFRefusesBeforeDecoding(t *testing.T) {
	h := &HEIF{Convert: "/nonexistent/heif-convert", Shell: "/nonexistent/sh"}
	ftyp := box("ftyp", []byte("heic\x00\x00\x00\x00mif1heic"))
	fullBox := make([]byte, 4)
	for _, c := range []struct {
		name, kind string
		file       []byte
	}{
		{"huge", "image-too-large", append(ftyp, box("meta", fullBox, box("iprp", box("ipco", ispe(512, 512), ispe(10000, 8000))))...)},
		{"huge, 64-bit box size", "image-too-large", append(ftyp, box64("meta", fullBox, box("iprp", box("ipco", ispe(9000, 8000))))...)},
		{"no ispe", "invalid-image", heicHead("heic")},
		{"huge, meta after 2 MB of mdat", "image-too-large", append(append(ftyp, box("mdat", make([]byte, 2<<20))...), box("meta", fullBox, box("iprp", box("ipco", ispe(10000, 8000))))...)},
		{"meta over 1 MB", "invalid-image", append(ftyp, box("meta", fullBox, box("iprp", box("ipco", ispe(10000, 8000))), box("free", make([]byte, 1<<20)))...)},
		{"no meta", "invalid-image", append(ftyp, box("mdat", make([]byte, 64))...)},
		{"truncated", "invalid-image", append(ftyp, box("meta", fullBox, box("iprp", box("ipco", ispe(10000, 8000))))[:40]...)},
	} {
		f, err := os.CreateTemp(t.TempDir(), "h")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(c.file)
		_, err = h.Decode(context.Background(), f, t.TempDir())
		f.Close()
		if herald.ErrorKind(err) != c.kind {
			t.Errorf("%s: Decode = %v, want %s", c.name, err, c.kind)
		}
	}
	// A small one: its size and alpha plane are read.
	small := append(ftyp, box("meta", fullBox, box("iprp", box("ipco", ispe(64, 48),
		box("auxC", fullBox, []byte("urn:mpeg:hevc:2015:auxid:1\x00")), ispe(32, 24))))...)
	if info, ok := readHEIFInfo(small); !ok || info.pixels != 64*48 || !info.alpha {
		t.Fatalf("readHEIFInfo = %+v %v", info, ok)
	}
	if info, ok := readHEIFInfo(append(ftyp, box("meta", fullBox, box("iprp", box("ipco", ispe(64, 48))))...)); !ok || info.alpha {
		t.Fatalf("readHEIFInfo without auxC = %+v %v", info, ok)
	}
}

// box64 is a box with a 64-bit size.
func box64(typ string, body ...[]byte) []byte {
	all := bytes.Join(body, nil)
	b := append(binary.BigEndian.AppendUint32(nil, 1), typ...)
	return append(binary.BigEndian.AppendUint64(b, uint64(16+len(all))), all...)
}

// TestFindHEIFWithoutTheProgram: with no heif-convert on PATH there is no
// decoder (the server then refuses HEIC/AVIF with media-unsupported).
func TestFindHEIFWithoutTheProgram(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if h, err := FindHEIF(); err == nil || h != nil {
		t.Fatalf("FindHEIF = %v, %v; want an error", h, err)
	}
}
