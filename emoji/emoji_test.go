package emoji_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/emoji"
)

// readHexLines reads a file of emoji written one per line as hex code points.
func readHexLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		var b strings.Builder
		for _, h := range strings.Fields(line) {
			cp, err := strconv.ParseUint(h, 16, 32)
			if err != nil {
				t.Fatalf("%s: bad line %q", path, line)
			}
			b.WriteRune(rune(cp))
		}
		out = append(out, b.String())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func strip(s string) string { return strings.ReplaceAll(s, "\uFE0F", "") }

func TestAllFullyQualifiedAreFixedPoints(t *testing.T) {
	all := emoji.All()
	if len(all) != 3953 {
		t.Fatalf("All() has %d emoji, want the 3953 RGI emoji of Unicode 17.0", len(all))
	}
	seen := map[string]bool{}
	for _, e := range all {
		if seen[e] {
			t.Errorf("duplicate %q", e)
		}
		seen[e] = true
		got, err := emoji.Normalize(e)
		if err != nil || got != e {
			t.Errorf("Normalize(%q [% x]) = %q, %v; want itself", e, e, got, err)
		}
	}
}

// Every entry of emoji-test.txt, whatever its qualification status, is one
// emoji and normalizes to the fully-qualified entry it is a variant of.
func TestEveryEmojiTestEntry(t *testing.T) {
	set := map[string]bool{}
	for _, e := range emoji.All() {
		set[e] = true
	}
	entries := readHexLines(t, "testdata/emoji-test.txt")
	if len(entries) != 5225 {
		t.Fatalf("testdata has %d entries, want 5225", len(entries))
	}
	variants := 0
	for _, e := range entries {
		got, err := emoji.Normalize(e)
		if err != nil {
			t.Errorf("Normalize(%q [% x]): %v", e, e, err)
			continue
		}
		if !set[got] {
			t.Errorf("Normalize(%q) = %q, not fully qualified", e, got)
		}
		if strip(got) != strip(e) {
			t.Errorf("Normalize(%q) = %q, a different emoji", e, got)
		}
		if got != e {
			variants++
		}
	}
	// emoji-test.txt 17.0 lists 1272 minimally-qualified or unqualified entries.
	if variants != 1272 {
		t.Errorf("%d entries were rewritten, want 1272", variants)
	}
}

func TestNormalizeValid(t *testing.T) {
	tests := []struct{ in, want string }{
		// Plain emoji with default emoji presentation.
		{"👍", "👍"}, {"😂", "😂"}, {"😮", "😮"}, {"😢", "😢"}, {"🙏", "🙏"}, {"🎉", "🎉"},
		{"🦄", "🦄"}, {"🫠", "🫠"}, {"🥲", "🥲"},
		// VS-16 variants: with and without count as one.
		{"❤", "❤️"}, {"❤️", "❤️"}, {"☺", "☺️"}, {"☺️", "☺️"}, {"✌", "✌️"}, {"©", "©️"},
		{"™", "™️"}, {"⚠", "⚠️"}, {"☀", "☀️"}, {"♻", "♻️"}, {"✔", "✔️"},
		// A redundant VS-16 after an emoji-presentation character renders the same.
		{"👍\uFE0F", "👍"}, {"😂\uFE0F", "😂"},
		// Skin tones.
		{"👍🏻", "👍🏻"}, {"👍🏽", "👍🏽"}, {"👋🏿", "👋🏿"}, {"✌🏼", "✌🏼"}, {"🤞🏾", "🤞🏾"},
		// Components on their own (emoji-test.txt "component" status).
		{"🏻", "🏻"}, {"🏿", "🏿"}, {"🦰", "🦰"}, {"🦱", "🦱"}, {"🦳", "🦳"}, {"🦲", "🦲"},
		// ZWJ sequences.
		{"👨‍👩‍👧‍👦", "👨‍👩‍👧‍👦"}, {"👩‍❤️‍👨", "👩‍❤️‍👨"}, {"👩‍❤‍👨", "👩‍❤️‍👨"},
		{"🏳️‍🌈", "🏳️‍🌈"}, {"🏳‍🌈", "🏳️‍🌈"}, {"🏳️‍⚧️", "🏳️‍⚧️"}, {"🏳‍⚧", "🏳️‍⚧️"},
		{"🧑‍💻", "🧑‍💻"}, {"👩🏽‍🚀", "👩🏽‍🚀"}, {"🐻‍❄️", "🐻‍❄️"}, {"🐻‍❄", "🐻‍❄️"},
		{"👁️‍🗨️", "👁️‍🗨️"}, {"👁‍🗨", "👁️‍🗨️"}, {"👁️‍🗨", "👁️‍🗨️"}, {"👁‍🗨️", "👁️‍🗨️"},
		{"🧑🏻‍🤝‍🧑🏿", "🧑🏻‍🤝‍🧑🏿"}, {"❤️‍🔥", "❤️‍🔥"}, {"❤‍🔥", "❤️‍🔥"}, {"😶‍🌫️", "😶‍🌫️"},
		{"🏃‍♀️", "🏃‍♀️"}, {"🏃‍♀", "🏃‍♀️"}, {"🏃🏽‍♂️", "🏃🏽‍♂️"}, {"🏃🏽‍♂", "🏃🏽‍♂️"},
		// Flags.
		{"🇫🇷", "🇫🇷"}, {"🇺🇸", "🇺🇸"}, {"🇯🇵", "🇯🇵"}, {"🇺🇳", "🇺🇳"}, {"🇪🇺", "🇪🇺"},
		// Keycaps.
		{"#️⃣", "#️⃣"}, {"#⃣", "#️⃣"}, {"*️⃣", "*️⃣"}, {"0️⃣", "0️⃣"}, {"9⃣", "9️⃣"}, {"🔟", "🔟"},
		// Tag sequences (subdivision flags).
		{"🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"}, {"🏴󠁧󠁢󠁥󠁮󠁧󠁿", "🏴󠁧󠁢󠁥󠁮󠁧󠁿"}, {"🏴󠁧󠁢󠁷󠁬󠁳󠁿", "🏴󠁧󠁢󠁷󠁬󠁳󠁿"},
	}
	for _, tt := range tests {
		got, err := emoji.Normalize(tt.in)
		if err != nil {
			t.Errorf("Normalize(%q [% x]): %v", tt.in, tt.in, err)
		} else if got != tt.want {
			t.Errorf("Normalize(%q) = %q [% x], want %q [% x]", tt.in, got, got, tt.want, tt.want)
		}
	}
}

func TestDefaultReactionsAreCanonical(t *testing.T) {
	for _, e := range herald.DefaultReactions {
		got, err := emoji.Normalize(e)
		if err != nil || got != e {
			t.Errorf("default reaction %q normalizes to %q, %v", e, got, err)
		}
	}
}

func TestNormalizeInvalid(t *testing.T) {
	invalid := []string{
		"", " ", "  ", "\t", "\n", "\u00a0", "\u3000",
		"a", "abc", "A", "1", "#", "*", "12", "#1", "é", "ü", "中", "😀😀", "👍👍", "❤️❤️",
		"👍 ", " 👍", "\t👍", "👍\n", "a👍", "👍a", "hello 👋", ":)", ":thumbsup:", "<3",
		"🇫", "🇫🇷🇫🇷", "🇦🇦", "🇿🇿", "🇫🇷🇩", "🇺", // lone or unknown regional indicators
		"\uFE0F", "\uFE0F👍", "👍\uFE0F\uFE0F", "❤\uFE0F\uFE0F", "❤\uFE0E", "☺\uFE0E", // stray selectors, text style
		"\u200D", "👍\u200D", "\u200D👍", "👨\u200D👩\u200D👧\u200D👦\u200D", "👨\u200D\u200D👩", "👨\u200D👩\u200D👧\u200D👦👨", "👨👩👧👦", // joiners
		"👍🏽🏽", "🏽👍", "👍🏽\uFE0F", "✌️🏼", "a🏽", "🍕🏽", // modifiers in the wrong place or on a non-base
		"🏴󠁧󠁢󠁳󠁣󠁴", "🏴󠁿", "🏴󠁺󠁺󠁺󠁺󠁿", "󠁧󠁢󠁳󠁣󠁴󠁿", // tag sequences: no terminator, empty, unknown, no base
		"⃣", "#\uFE0F", "a⃣", "10⃣", // keycap pieces
		"😀\u0301", "e\u0301", "\u0301", // combining marks
		"\xff", "\xf0\x9f\x91", "👍\xff", "\x00", "👍\x00", // bad UTF-8, NUL
		"\U0001FAFF", "\U0001FFFD", // unassigned pictographic code points
		strings.Repeat("👍", 20), strings.Repeat("a", 1000),
	}
	for _, s := range invalid {
		got, err := emoji.Normalize(s)
		if err == nil {
			t.Errorf("Normalize(%q [% x]) = %q, want an error", s, s, got)
			continue
		}
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorKind(err) != "invalid-emoji" {
			t.Errorf("Normalize(%q): error %v, want EINVALID invalid-emoji", s, err)
		}
		if got != "" {
			t.Errorf("Normalize(%q) returned %q with its error", s, got)
		}
	}
}

// Two emoji joined by the same code points as any RGI emoji, side by side,
// are never one emoji.
func TestPairsAreRejected(t *testing.T) {
	all := emoji.All()
	for i := 0; i < len(all); i += 37 {
		for j := 0; j < len(all); j += 211 {
			s := all[i] + all[j]
			if got, err := emoji.Normalize(s); err == nil {
				// Two regional indicators make a flag; no RGI emoji is
				// itself one regional indicator, so this cannot happen.
				t.Errorf("Normalize(%q + %q) = %q, want an error", all[i], all[j], got)
			}
		}
	}
}

// FuzzNormalize: any input is either one RGI emoji, returned in its
// fully-qualified form (a fixed point, the same code points but VS-16), or
// an invalid-emoji problem and nothing else.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"👍", "❤", "❤️", "👨‍👩‍👧‍👦", "🇫🇷", "#⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "abc", "", "👍🏽", "\uFE0F", "\xff",
		"👍\uFE0F", "✌\uFE0F🏼", "👨‍👩‍👧‍👦‍", "🇫🇷🇩", strings.Repeat("👍", 20)} {
		f.Add(s)
	}
	set := map[string]bool{}
	for _, e := range emoji.All() {
		set[e] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := emoji.Normalize(s)
		if emoji.IsEmoji(s) != (err == nil) {
			t.Fatalf("IsEmoji(%q) disagrees with Normalize: %v", s, err)
		}
		if err != nil {
			if got != "" || herald.ErrorCode(err) != herald.EINVALID || herald.ErrorKind(err) != "invalid-emoji" {
				t.Fatalf("Normalize(%q) = %q, %v", s, got, err)
			}
			return
		}
		if !set[got] || !utf8.ValidString(s) {
			t.Fatalf("Normalize(%q) = %q, not an RGI emoji", s, got)
		}
		if strip(got) != strip(s) {
			t.Fatalf("Normalize(%q) = %q, a different emoji", s, got)
		}
		if again, err := emoji.Normalize(got); err != nil || again != got {
			t.Fatalf("Normalize not idempotent on %q: %q, %v", got, again, err)
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	in := []string{"👍", "❤", "👨‍👩‍👧‍👦", "🇫🇷", "abc"}
	for i := 0; b.Loop(); i++ {
		emoji.Normalize(in[i%len(in)])
	}
}
