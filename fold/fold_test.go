package fold

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"Météo":                  "meteo",
		"METEO":                  "meteo",
		"Île-de-France":          "ile de france",
		"Trafic Île-de-France":   "trafic ile de france",
		"  Cœur   d'Alène!! ":    "coeur d alene",
		"Straße":                 "strasse",
		"STRAẞE":                 "strasse",
		"Ça va? Très bien.":      "ca va tres bien",
		"météo_lyon":             "meteo lyon",
		"\"NEAR(a b)\" col:x *":  "near a b col x",
		"1,5 °C":                 "1 5 c",
		"ﬁlm":                    "film",
		"Ｍétéo":                  "meteo",
		"Москва":                 "москва",
		"東京 ニュース":                "東京 ニュース",
		"a\xffb":                 "a b",
		"":                       "",
		"!!!":                    "",
		"DROP TABLE channels;--": "drop table channels",

		// Letters that only appear once something is decomposed or
		// case-folded are folded too (issue 11).
		"Ǿrsted":           "orsted", // Ø + acute
		"ǿrsted":           "orsted",
		"Ørsted":           "orsted",
		"ǼRE":              "aere", // Æ + acute
		"Ǣ":                "ae",   // Æ + macron
		"Æsir Œuvre":       "aesir oeuvre",
		"ᴭ":                "ae", // modifier capital AE, compatibility Æ
		"ꟹ":                "oe", // modifier small ligature oe
		"ᶞ":                "d",  // modifier small eth
		"𝚤":                "i",  // mathematical dotless i, compatibility ı
		"ĲSSELMEER":        "ijsselmeer",
		"ĳsselmeer":        "ijsselmeer",
		"Ｐｏｒｔ　ＳＡＩＤ":        "port said", // fullwidth letters and space
		"ｶﾀｶﾅ":             "カタカナ",      // halfwidth katakana
		"Ⅻ ²":              "xii 2",
		"ǅ":                "dz",
		"İstanbul ıspanak": "istanbul ispanak",
		"ΣΟΦΟΣ σοφος":      "σοφοσ σοφοσ",
		"Ꭰ ꭰ":              "ꭰ ꭰ", // Cherokee: one case, either way
		"Ħal Far ŧ":        "hal far t",
		"한국어":              "한국어",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokens(t *testing.T) {
	got := Tokens("Cuisine: l'été à Nice")
	want := []string{"cuisine", "l", "ete", "a", "nice"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Tokens = %q, want %q", got, want)
	}
}

// TestIdempotentEveryRune folds every assigned code point between two
// letters: each single character is a fixed point after one fold. Of the
// large blocks of letters that fold to themselves one character in 64 is
// enough (CJK ideographs, Hangul syllables, Tangut...).
func TestIdempotentEveryRune(t *testing.T) {
	var b strings.Builder
	assigned := []*unicode.RangeTable{unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs, unicode.Cc, unicode.Cf}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) || !unicode.In(r, assigned...) {
			continue
		}
		if unicode.Is(unicode.Lo, r) && r >= 0x3400 && r%64 != 0 {
			continue
		}
		b.Reset()
		b.WriteString("x")
		b.WriteRune(r)
		b.WriteString("y")
		checkFolded(t, b.String())
	}
}

func TestIdempotent(t *testing.T) {
	for _, s := range []string{"Météo Lyon", "Île-de-France", "Œuvre", "ﬁ", "Ǆ", "Ǿrsted", "ǽ", "Ꭰ", "ꭰ",
		"a" + strings.Repeat("\U0001D165", 40), "\u1100\u0300\u1161", "\u0D46\u0301\u0D3E"} {
		checkFolded(t, s)
	}
}

// checkFolded checks the invariants of String(s): folding again changes
// nothing, and the result holds only folded letters, digits and spacing
// marks, separated by single spaces.
func checkFolded(t *testing.T, s string) string {
	t.Helper()
	once := String(s)
	if twice := String(once); twice != once {
		t.Fatalf("String(String(%q)) = %q, String = %q", s, twice, once)
	}
	if !utf8.ValidString(once) || strings.TrimSpace(once) != once || strings.Contains(once, "  ") {
		t.Fatalf("String(%q) = %q: invalid UTF-8 or stray spaces", s, once)
	}
	for _, r := range once {
		if r == ' ' {
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mc, r) {
			t.Fatalf("String(%q) = %q holds %U", s, once, r)
		}
		if _, ok := ligatures[r]; ok || foldRune(r) != r {
			t.Fatalf("String(%q) = %q holds unfolded %U", s, once, r)
		}
	}
	return once
}

// FuzzFoldIdempotent checks that folding is idempotent for any input, and
// that a space separates: folding two texts joined by a space gives their
// folded words joined by a space, so each word is indexed and searched alike
// wherever it stands.
func FuzzFoldIdempotent(f *testing.F) {
	for _, s := range []string{"", "Météo", "Ǿrsted", "ǼRE ĳ ß ẞ", "Ｍétéo ｶﾀｶﾅ", "ﬁlm Ⅻ ²", "Ꭰꭰ", "a\xffb\xe2\x82",
		"\u1100\u0300\u1161", "a" + strings.Repeat("\U0001D165", 40), "\u0345\u0300x", "ΣΟΦΟΣ", "𝚤ᴭꟹ"} {
		f.Add(s, "Lyon")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fa, fb := checkFolded(t, a), checkFolded(t, b)
		checkFolded(t, a+b)
		joined := checkFolded(t, a+" "+b)
		want := strings.Join(strings.Fields(fa+" "+fb), " ")
		if joined != want {
			t.Fatalf("String(%q + \" \" + %q) = %q, want %q", a, b, joined, want)
		}
		if got := Tokens(a); !reflect.DeepEqual(got, strings.Fields(fa)) {
			t.Fatalf("Tokens(%q) = %q, String = %q", a, got, fa)
		}
	})
}

func BenchmarkString(b *testing.B) {
	for b.Loop() {
		String("Trafic Île-de-France : l'état des routes en temps réel, bouchons et travaux")
	}
}
