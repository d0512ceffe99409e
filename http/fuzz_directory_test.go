package http_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/fold"
)

// dirPage is GET /api/v1/directory's answer, as much as the fuzz needs.
type dirPage struct {
	Channels []struct {
		ID, Name   string
		InviteCode string `json:"invite_code"`
	}
	NextCursor string `json:"next_cursor"`
}

// newDirectoryEnv is a fuzzEnv with listed channels of assorted names,
// categories, countries and languages, followed by 0 to 3 accounts, and
// unlisted channels (named "Hidden ...") that the directory must never show.
func newDirectoryEnv(f *testing.F) *fuzzEnv {
	e := newFuzzEnv(f)
	owner, _ := e.signup(f, "dir_owner")
	var fans []string
	for i := range 3 {
		tok, _ := e.signup(f, fmt.Sprint("dir_fan", i))
		fans = append(fans, tok)
	}
	words := []string{"Météo", "Ǿrsted", "Trafic", "Île-de-France", "Cœur", "Straße", "Москва", "東京", "ﬁlm", "Ｍétéo", "Lyon", "news"}
	cats := []string{"weather", "traffic", "news", "cooking"}
	countries := []string{"FR", "DE", "JP", ""}
	langs := []string{"fr", "de", "ja", ""}
	for i := range 24 {
		listed := i%6 != 5
		name := words[i%len(words)] + " " + words[(i*5+1)%len(words)]
		if !listed {
			name = "Hidden " + name
		}
		var ch struct{ ID string }
		e.must(f, "POST", "/api/v1/channels", owner, fmt.Sprintf(`{"name":%q,"description":%q,"category":%q,"country":%q,"language":%q,"listed":%v}`,
			name, words[(i*7+3)%len(words)], cats[i%len(cats)], countries[i%len(countries)], langs[i%len(langs)], listed), &ch)
		followers := i % 4
		if !listed {
			followers = 0 // followed through an invite only
		}
		for _, fan := range fans[:followers] {
			e.must(f, "PUT", "/api/v1/channels/"+ch.ID+"/follow", fan, "", nil)
		}
	}
	return e
}

func directoryQuery(q, sort, category, country, language, limit, cursor string) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": q, "sort": sort, "category": category, "country": country, "language": language, "limit": limit, "cursor": cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// FuzzDirectory fuzzes the directory's query and cursor through the API
// and the SQLite store: any query is a page or a 400 problem; a page holds
// listed channels only, at most limit of them; following next_cursor gives
// the next page, never a channel twice; a query folded beforehand finds
// the same channels.
func FuzzDirectory(f *testing.F) {
	e := newDirectoryEnv(f)
	// Real cursors, and cursors slightly wrong, as seeds.
	var cursors []string
	for _, sort := range []string{"", "popular", "new", "active", "relevance"} {
		rec := e.serve("GET", "/api/v1/directory", directoryQuery("", sort, "", "", "", "2", ""), "", "")
		var p dirPage
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.NextCursor == "" {
			f.Fatalf("sort=%s: %d %s", sort, rec.Code, rec.Body)
		}
		cursors = append(cursors, p.NextCursor)
	}
	for i, seed := range [][6]string{
		{"meteo", "", "", "", "", ""}, {"orsted", "relevance", "", "", "", "1"}, {"Ǿrsted", "", "weather", "fr", "fr", "3"},
		{"ile de fr", "new", "", "", "", "2"}, {"\"NEAR(a b)\" col:x * OR -", "", "", "", "", ""}, {"東京", "active", "", "JP", "ja", ""},
		{"", "popular", "nope", "", "", ""}, {"", "", "", "XX", "", ""}, {"", "", "", "", "not a tag!", ""}, {"", "", "", "", "", "0"},
		{"", "", "", "", "", "1000"}, {"", "", "", "", "", "x"}, {strings.Repeat("météo ", 100), "", "", "", "", ""}, {"\xff\x00", "bogus", "", "", "", ""},
		{"hidden", "", "", "", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], "")
		if i < len(cursors) {
			f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], cursors[i])
		}
	}
	for _, c := range cursors {
		f.Add("", "", "", "", "", "2", c[:len(c)-1])
		f.Add("", "new", "", "", "", "2", c+"A")
		f.Add("", "popular", "", "", "", "2", strings.ToUpper(c))
	}

	f.Fuzz(func(t *testing.T, q, sort, category, country, language, limit, cursor string) {
		get := func(q, cursor string) (dirPage, bool) {
			query := directoryQuery(q, sort, category, country, language, limit, cursor)
			rec := e.serve("GET", "/api/v1/directory", query, "", "")
			checkAnswer(t, "directory ?"+query, rec)
			var p dirPage
			if rec.Code != 200 {
				if rec.Code != 400 {
					t.Fatalf("directory ?%s: %d %s", query, rec.Code, rec.Body)
				}
				return p, false
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("directory ?%s: %v", query, err)
			}
			max := herald.DefaultDirectoryLimit
			if limit != "" {
				fmt.Sscan(limit, &max) // a limit that does not parse was a 400
			}
			if len(p.Channels) > max {
				t.Fatalf("directory ?%s: %d channels, limit %d", query, len(p.Channels), max)
			}
			for _, c := range p.Channels {
				if strings.HasPrefix(c.Name, "Hidden") || c.InviteCode != "" {
					t.Fatalf("directory ?%s shows %+v", query, c)
				}
			}
			return p, true
		}
		p, ok := get(q, cursor)
		if !ok {
			return
		}
		seen := map[string]bool{}
		for page := 0; ; page++ {
			for _, c := range p.Channels {
				if seen[c.ID] {
					t.Fatalf("q=%q cursor=%q: %s shown twice", q, cursor, c.Name)
				}
				seen[c.ID] = true
			}
			if p.NextCursor == "" || page == 4 {
				break
			}
			if p, ok = get(q, p.NextCursor); !ok {
				t.Fatalf("q=%q: the directory's own cursor refused", q)
			}
		}
		if cursor == "" {
			first, _ := get(q, "")
			folded, ok := get(fold.String(q), "")
			if !ok || !slices.Equal(ids(first), ids(folded)) {
				t.Fatalf("q=%q finds %v, folded %q finds %v", q, ids(first), fold.String(q), ids(folded))
			}
		}
	})
}

func ids(p dirPage) []string {
	var out []string
	for _, c := range p.Channels {
		out = append(out, c.ID)
	}
	return out
}

// TestDirectoryFindsDecomposedLetters: letters that only appear once a
// character is decomposed are folded at indexing as at search (issue 11).
func TestDirectoryFindsDecomposedLetters(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("decomp_owner")
	for _, name := range []string{"Ǿrsted Énergie", "ǼSIR Saga", "ĲSSELMEER Nieuws", "Ｔｏｋｙｏ Ｗｅａｔｈｅｒ"} {
		e.channel(owner, name)
	}
	for q, want := range map[string]string{
		"orsted": "Ǿrsted Énergie", "Ørsted": "Ǿrsted Énergie", "ǿrsted energie": "Ǿrsted Énergie",
		"aesir": "ǼSIR Saga", "æsir": "ǼSIR Saga", "ijsselmeer": "ĲSSELMEER Nieuws", "tokyo weather": "Ｔｏｋｙｏ Ｗｅａｔｈｅｒ",
	} {
		r := e.do("GET", "/api/v1/directory?"+url.Values{"q": {q}}.Encode(), "", nil)
		var p dirPage
		if r.status != 200 || json.Unmarshal(r.body, &p) != nil {
			t.Fatalf("q=%q: %d %s", q, r.status, r.body)
		}
		if len(p.Channels) != 1 || p.Channels[0].Name != want {
			t.Errorf("q=%q finds %+v, want %q", q, p.Channels, want)
		}
	}
}
