// Package emoji decides whether a string is exactly one emoji as Unicode
// defines it, and gives every emoji one canonical spelling.
//
// The accepted set is Unicode's RGI emoji: the fully-qualified and component
// entries of emoji-test.txt (Unicode 17.0), which covers skin tones, ZWJ
// sequences, flags, keycaps and tag sequences. The list is data generated from
// Unicode's emoji data files as packaged on npm by node-unicode-data (see
// internal/gen) and embedded in rgi.txt.
//
// Variation selector 16 (U+FE0F) asks for emoji presentation. Many emoji are
// commonly typed without it ("❤" for "❤️", "#⃣" for "#️⃣"); they render the
// same, so reaction counts must treat them as one. Normalize ignores VS-16 when
// matching and returns the fully-qualified form.
package emoji

//go:generate sh internal/gen/gen.sh

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/heraldhq/herald"
)

//go:embed rgi.txt
var rgiData string

const (
	vs16 = '\uFE0F' // emoji presentation selector
	zwj  = '\u200D' // zero width joiner
	// maxLen bounds the input in bytes: the longest RGI emoji (a family with
	// skin tones) is 10 code points, 35 bytes. Longer input is refused before
	// any work is done.
	maxLen = 64
)

var (
	loadOnce sync.Once
	// canonical maps an emoji with every VS-16 removed to its fully-qualified form.
	canonical map[string]string
	// vs16Base holds the code points a VS-16 may follow: the characters of
	// emoji, not the joiners, modifiers, keycap marks or tags around them.
	vs16Base map[rune]bool
	// all is every fully-qualified emoji, in Unicode's order.
	all []string
)

func load() {
	canonical = make(map[string]string, 4096)
	vs16Base = make(map[rune]bool, 1500)
	for _, line := range strings.Split(rgiData, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		var b strings.Builder
		for _, h := range strings.Fields(line) {
			cp, err := strconv.ParseUint(h, 16, 32)
			if err != nil {
				panic("emoji: corrupt rgi.txt: " + line) // embedded data; a build-time bug
			}
			r := rune(cp)
			b.WriteRune(r)
			if !noVS16(r) {
				vs16Base[r] = true
			}
		}
		e := b.String()
		all = append(all, e)
		canonical[strip(e)] = e
	}
}

// noVS16 reports whether r is a code point that a VS-16 never follows.
func noVS16(r rune) bool {
	switch {
	case r == vs16, r == zwj, r == '\u20E3': // keycap mark
		return true
	case isModifier(r):
		return true
	case r >= 0x1F1E6 && r <= 0x1F1FF: // regional indicators (flags)
		return true
	case r >= 0xE0020 && r <= 0xE007F: // tags (subdivision flags)
		return true
	}
	return false
}

// isModifier reports whether r is a skin tone modifier.
func isModifier(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }

// strip removes every VS-16 from s.
func strip(s string) string {
	if !strings.ContainsRune(s, vs16) {
		return s
	}
	return strings.ReplaceAll(s, string(vs16), "")
}

// Normalize returns the fully-qualified form of s if s is exactly one emoji,
// with or without VS-16 where Unicode's fully-qualified form has one. Anything
// else (empty input, text, whitespace, two emoji, an emoji with text, a
// sequence Unicode does not recommend such as an unknown flag) is an EINVALID
// error of kind "invalid-emoji".
func Normalize(s string) (string, error) {
	loadOnce.Do(load)
	if s == "" {
		return "", invalid("Emoji must not be empty.")
	}
	if len(s) > maxLen || !utf8.ValidString(s) {
		return "", invalid("Reaction must be exactly one emoji.")
	}
	// A VS-16 counts only where it selects emoji presentation of the
	// character before it; anywhere else (first, doubled, after a joiner
	// or modifier, between a base and its skin tone) it makes a string that
	// is not an emoji.
	prev := rune(-1)
	for _, r := range s {
		if r == vs16 && (prev < 0 || !vs16Base[prev]) || prev == vs16 && isModifier(r) {
			return "", invalid("Reaction must be exactly one emoji.")
		}
		prev = r
	}
	e, ok := canonical[strip(s)]
	if !ok {
		return "", invalid("Reaction must be exactly one emoji.")
	}
	return e, nil
}

// IsEmoji reports whether s is exactly one emoji (see Normalize).
func IsEmoji(s string) bool {
	_, err := Normalize(s)
	return err == nil
}

// All returns every fully-qualified emoji in Unicode's order. The slice is
// shared: callers must not modify it.
func All() []string {
	loadOnce.Do(load)
	return all
}

func invalid(msg string) error {
	return herald.KindErrorf(herald.EINVALID, "invalid-emoji", "%s", msg)
}
