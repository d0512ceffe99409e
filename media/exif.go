package media

import (
	"encoding/binary"
	"io"
)

// jpegOrientation returns the EXIF orientation (1-8) of a JPEG from its
// first bytes, 1 when absent or unreadable. Only this tag is read: every
// other piece of metadata is dropped by re-encoding.
func jpegOrientation(r io.ReaderAt) int {
	buf := make([]byte, 128<<10)
	n, _ := r.ReadAt(buf, 0)
	buf = buf[:n]
	if len(buf) < 4 || buf[0] != 0xFF || buf[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(buf); {
		if buf[i] != 0xFF {
			return 1
		}
		marker := buf[i+1]
		if marker == 0xD8 || marker >= 0xD0 && marker <= 0xD7 || marker == 0x01 || marker == 0xFF {
			i++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // image data: no EXIF before it
			return 1
		}
		size := int(binary.BigEndian.Uint16(buf[i+2:]))
		seg := buf[i+4 : min(len(buf), i+2+size)]
		if marker == 0xE1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + size
	}
	return 1
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}
