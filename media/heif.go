package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// HEIF decodes HEIC/HEIF and AVIF photos with libheif's heif-convert
// program (Go has no decoder, Debian 12's ffmpeg 5.1 reads no HEIF image
// items). It is run as an external program, never linked in. The decoded
// picture is a temporary JPEG (PNG when the photo has an alpha plane) that
// then goes through the normal image pipeline, so none of the photo's
// EXIF, GPS or XMP survives (heif-convert copies EXIF into its output; the
// pipeline re-encodes the pixels and never reads it).
type HEIF struct {
	Convert string
	Shell   string // sets the memory limit, then execs Convert
	// MemoryKB bounds heif-convert's address space (ulimit -v): a file
	// whose boxes understate its picture can't make it allocate more.
	MemoryKB int
}

// HEIFTimeout bounds one heif-convert run (a 12-megapixel photo takes
// about 0.8 s of CPU).
const HEIFTimeout = 30 * time.Second

// HEIFMemoryKB is FindHEIF's MemoryKB. A 12-megapixel photo peaks at 82 MB
// of RSS; 60 MP, the most accepted, should need about five times that
// (estimated, not measured).
const HEIFMemoryKB = 2 << 20

// FindHEIF finds heif-convert (Debian: libheif-examples) and sh on PATH.
func FindHEIF() (*HEIF, error) {
	p, err := exec.LookPath("heif-convert")
	if err != nil {
		return nil, err
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil, err
	}
	return &HEIF{Convert: p, Shell: sh, MemoryKB: HEIFMemoryKB}, nil
}

// IsHEIF reports whether a sniffed MIME type needs a HEIF decoder.
func IsHEIF(mime string) bool {
	switch mime {
	case "image/heic", "image/heic-sequence", "image/heif", "image/heif-sequence", "image/avif":
		return true
	}
	return false
}

// ErrHEIFUnsupported is the refusal when no decoder is installed. Refused,
// not kept as a document: a photo stored as-is would keep its location and
// camera metadata.
func ErrHEIFUnsupported(mime string) error {
	return herald.KindErrorf(herald.EINVALID, "media-unsupported",
		"%s images are not supported by this server: send a JPEG, PNG, WebP or GIF (phones can export one).",
		strings.ToUpper(strings.TrimPrefix(strings.TrimSuffix(mime, "-sequence"), "image/")))
}

// heifMetaLimit bounds the meta box read (a phone's is a few kilobytes:
// the pictures, EXIF and thumbnails are in mdat).
const heifMetaLimit = 1 << 20

// readMetaBox finds the top-level meta box, wherever it is among the
// others (most writers put it before mdat, not all), and returns it whole.
func readMetaBox(r io.ReaderAt) ([]byte, bool) {
	var off int64
	hdr := make([]byte, 16)
	for range 32 { // a HEIF file has a handful of top-level boxes
		n, _ := r.ReadAt(hdr, off)
		if n < 8 {
			return nil, false
		}
		size, hdrLen := int64(binary.BigEndian.Uint32(hdr)), int64(8)
		if size == 1 {
			if n < 16 {
				return nil, false
			}
			size, hdrLen = int64(binary.BigEndian.Uint64(hdr[8:])), 16
		}
		if string(hdr[4:8]) == "meta" {
			if size == 0 { // to the end of the file
				size = heifMetaLimit
			} else if size < hdrLen || size > heifMetaLimit {
				return nil, false
			}
			buf := make([]byte, size)
			n, _ := r.ReadAt(buf, off)
			return buf[:n], n >= int(hdrLen)
		}
		if size < hdrLen { // 0 (to the end) or malformed: no meta after it
			return nil, false
		}
		off += size
	}
	return nil, false
}

// Decode writes the picture of a HEIF/AVIF file (of several top-level
// images, the first) to a temporary file in tmpDir, rotated and mirrored as its irot/imir boxes say (libheif applies
// them; EXIF orientation is ignored, as the HEIF format wants). Its size is
// read from the file's ispe boxes first, so an oversized picture is refused
// before anything is decoded. The caller removes the returned file.
func (h *HEIF) Decode(ctx context.Context, src *os.File, tmpDir string) (string, error) {
	meta, ok := readMetaBox(src)
	if !ok {
		return "", errBadImage
	}
	info, ok := readHEIFInfo(meta)
	if !ok {
		return "", errBadImage
	}
	if info.pixels > MaxImagePixels {
		return "", errImageTooLarge
	}
	ext := ".jpg"
	if info.alpha {
		ext = ".png"
	}
	// A directory of its own: a file with several top-level images is
	// written as picture-1, picture-2... (all of them carry the EXIF).
	dir, err := os.MkdirTemp(tmpDir, "herald-heif-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	tctx, cancel := context.WithTimeout(ctx, HEIFTimeout)
	defer cancel()
	limit := fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, h.MemoryKB)
	if err := exec.CommandContext(tctx, h.Shell, "-c", limit, h.Convert, "--quiet", "-q", "95", src.Name(), filepath.Join(dir, "picture"+ext)).Run(); err != nil {
		if err := ctx.Err(); err != nil { // the request is gone
			return "", err
		}
		if tctx.Err() != nil {
			return "", herald.KindErrorf(herald.EINVALID, "invalid-image", "The image took too long to decode.")
		}
		return "", errBadImage
	}
	out, err := os.CreateTemp(tmpDir, "herald-heif-*"+ext)
	if err != nil {
		return "", err
	}
	out.Close()
	// The first top-level image of several: phones write the primary first.
	for _, name := range []string{"picture" + ext, "picture-1" + ext} {
		if err := os.Rename(filepath.Join(dir, name), out.Name()); err == nil {
			return out.Name(), nil
		}
	}
	os.Remove(out.Name())
	return "", errBadImage
}

var errImageTooLarge = herald.KindErrorf(herald.ETOOLARGE, "image-too-large", "Images may have at most %d megapixels.", MaxImagePixels/1_000_000)

// heifInfo is what the boxes of a HEIF file tell before decoding.
type heifInfo struct {
	pixels int64 // the largest ispe (image spatial extents) of any item
	alpha  bool  // an auxiliary alpha plane is declared
}

// readHEIFInfo walks the ISO BMFF boxes ftyp -> meta -> iprp -> ipco and
// reads every ispe and auxC property. The largest ispe bounds every item
// (a grid's primary item declares the whole picture), so it is the
// conservative pixel count; a file without one is invalid (ispe is
// mandatory for image items).
func readHEIFInfo(b []byte) (heifInfo, bool) {
	var info heifInfo
	meta, ok := findBox(b, "meta")
	if !ok || len(meta) < 4 {
		return info, false
	}
	iprp, ok := findBox(meta[4:], "iprp") // meta is a full box
	if !ok {
		return info, false
	}
	ipco, ok := findBox(iprp, "ipco")
	if !ok {
		return info, false
	}
	found := false
	walkBoxes(ipco, func(typ string, body []byte) {
		switch typ {
		case "ispe":
			if len(body) >= 12 {
				w, h := binary.BigEndian.Uint32(body[4:]), binary.BigEndian.Uint32(body[8:])
				if p := int64(w) * int64(h); p > info.pixels {
					info.pixels = p
				}
				found = w > 0 && h > 0 || found
			}
		case "auxC":
			// HEVC's and AV1's alpha auxiliary types.
			if bytes.Contains(body, []byte("auxid:1\x00")) || bytes.Contains(body, []byte(":auxiliary:alpha")) {
				info.alpha = true
			}
		}
	})
	return info, found
}

// findBox returns the body of the first box of a type among siblings.
func findBox(b []byte, want string) (body []byte, ok bool) {
	walkBoxes(b, func(typ string, bb []byte) {
		if !ok && typ == want {
			body, ok = bb, true
		}
	})
	return body, ok
}

// walkBoxes calls fn with the type and body of each box in b, stopping at
// the first malformed or truncated one.
func walkBoxes(b []byte, fn func(typ string, body []byte)) {
	for len(b) >= 8 {
		size := uint64(binary.BigEndian.Uint32(b))
		typ, hdr := string(b[4:8]), uint64(8)
		switch size {
		case 0: // to the end
			size = uint64(len(b))
		case 1: // 64-bit size
			if len(b) < 16 {
				return
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return
		}
		fn(typ, b[hdr:size])
		b = b[size:]
	}
}
