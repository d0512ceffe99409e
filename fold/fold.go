// Package fold turns text into the form the directory indexes and searches:
// lowercase, without accents, punctuation and symbols turned into spaces. The
// same Go code folds channel text when it is indexed and the user's query
// when it is searched, in every store, so "Météo", "METEO" and "meteo" meet
// on SQLite and PostgreSQL alike.
//
// Folding is idempotent: String(String(s)) == String(s) for every s, so a
// folded word searches for exactly the words it was folded from (FuzzFold
// checks it). That is why every step that can produce a character another
// step would change runs after the decomposition that may produce it: "Ǿ"
// decomposes into "Ø" and an accent, and "Ø" must then become "o".
package fold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Version names the folding String does. It changes whenever String's
// output changes for some input: text folded and stored under another
// version (a search index) must be folded again, or it no longer meets the
// queries, and SQLite's contentless FTS5 index, which deletes a row by its
// folded words, would be left with words it can't delete.
//
// Version 2 (issue 11): idempotent; letters that decomposition or case
// folding produce are folded too ("Ǿ", "ǽ", "ᴭ"), Cherokee keeps one case,
// "ħ" and "ŧ" lose their stroke.
const Version = 2

// letters that Unicode does not decompose into a base letter plus a mark,
// but that French and other Latin-script users type without the mark. Only
// lowercase letters are needed: they are looked up after case folding
// (which also turns the dotless "ı" into "i").
var ligatures = map[rune]string{
	'œ': "oe", 'æ': "ae", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ß': "ss", 'ħ': "h", 'ŧ': "t",
}

// String folds s: compatibility-decomposed (ligatures such as "ﬁ" and
// "ĳ", fullwidth and other compatibility forms become their plain letters),
// nonspacing marks removed, case-folded, the letters above replaced, every
// run of characters that are not letters or digits turned into one space,
// trimmed. Invalid UTF-8 bytes count as separators.
func String(s string) string {
	if isASCII(s) {
		return squash(strings.ToLower(s))
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	d := norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = foldRune(r)
		if l, ok := ligatures[r]; ok {
			b.WriteString(l)
		} else {
			b.WriteRune(r)
		}
	}
	// Recompose what decomposition split and no mark removal touched
	// (Hangul syllables, vowels written in two parts), so each letter is
	// indexed as one character.
	return squash(norm.NFC.String(b.String()))
}

// foldRune maps r to one representative of its case: lowercase of
// uppercase, so that letters whose lowercase has no single uppercase (or the
// reverse) still meet their other forms: "ς", "σ" and "Σ" all become "σ",
// "ẞ" becomes "ß". It is idempotent, unlike golang.org/x/text/cases.Fold,
// which swaps Cherokee upper and lowercase (U+13A0 and U+AB70).
func foldRune(r rune) rune {
	return unicode.ToLower(unicode.ToUpper(r))
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
