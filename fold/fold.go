// Package fold turns text into the form the directory indexes and searches:
// lowercase, without accents, punctuation and symbols turned into spaces. The
// same Go code folds channel text when it is indexed and the user's query
// when it is searched, in every store, so "Météo", "METEO" and "meteo" meet
// on SQLite and PostgreSQL alike.
package fold

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// letters that Unicode does not decompose into a base letter plus a mark,
// but that French and other Latin-script users type without the mark.
var ligatures = map[rune]string{
	'œ': "oe", 'Œ': "oe", 'æ': "ae", 'Æ': "ae", 'ø': "o", 'Ø': "o",
	'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d",
	'þ': "th", 'Þ': "th", 'ı': "i", 'ß': "ss",
}

// A transform.Transformer keeps state, so each call takes one from a pool.
var pool = sync.Pool{New: func() any {
	return transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), norm.NFC)
}}

// String folds s: compatibility-decomposed, marks removed, case-folded,
// every run of characters that are not letters or digits turned into one
// space, trimmed. Invalid UTF-8 bytes count as separators.
func String(s string) string {
	if isASCII(s) {
		return squash(strings.ToLower(s))
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if l, ok := ligatures[r]; ok {
			b.WriteString(l)
		} else if r == utf8.RuneError {
			b.WriteByte(' ')
		} else {
			b.WriteRune(r)
		}
	}
	t := pool.Get().(transform.Transformer)
	out, _, err := transform.String(t, b.String())
	pool.Put(t)
	if err != nil {
		// Can't happen with valid input; fall back to a plain lowercase fold.
		out = strings.ToLower(b.String())
	}
	return squash(out)
}

// Tokens returns the words of s once folded.
func Tokens(s string) []string {
	return strings.Fields(String(s))
}

// squash replaces each run of non-letters/digits with a single space and
// trims both ends.
func squash(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
