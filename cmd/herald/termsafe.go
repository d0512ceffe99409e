package main

import (
	"io"
	"strconv"
	"unicode/utf8"
)

// termSafe neutralises terminal control characters on their way to a
// terminal: text from the server (an update, a channel's name, a problem's
// detail) could otherwise carry escape sequences that recolour, retitle or
// rewrite a reader's terminal, or bidirectional overrides that reorder what
// it shows. Every unsafe character is written as the visible escape \uXXXX,
// which inside a JSON string is the same character: --json output stays
// exactly the API's JSON. Newlines and tabs pass; invalid UTF-8 becomes
// U+FFFD.
type termSafe struct{ w io.Writer }

func (t termSafe) Write(p []byte) (int, error) {
	if _, err := t.w.Write(neutralise(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// unsafeRune reports whether a terminal may act on r instead of showing it.
func unsafeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f: // C0, DEL, C1 (0x9b is CSI)
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x061c, r == 0x200e, r == 0x200f:
		return true // bidirectional embeddings, overrides, isolates and marks
	}
	return false
}

func neutralise(p []byte) []byte {
	clean := true
	for i := 0; i < len(p); {
		if c := p[i]; c < utf8.RuneSelf {
			if unsafeRune(rune(c)) {
				clean = false
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError || unsafeRune(r) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return p
	}
	out := make([]byte, 0, len(p)+16)
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			out = utf8.AppendRune(out, utf8.RuneError)
		case unsafeRune(r):
			out = append(out, `\u`...)
			h := strconv.FormatInt(int64(r), 16)
			for n := len(h); n < 4; n++ {
				out = append(out, '0')
			}
			out = append(out, h...)
		default:
			out = append(out, p[i:i+size]...)
		}
		i += size
	}
	return out
}
