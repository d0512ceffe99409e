package storeutil

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func TestParseDirectoryQueryNormalizes(t *testing.T) {
	dq, err := ParseDirectoryQuery(herald.DirectoryQuery{Text: "  Café  Crème ", Country: " fr ", Language: " fr "})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dq.Tokens, []string{"cafe", "creme"}) {
		t.Errorf("tokens = %q, want [cafe creme]", dq.Tokens)
	}
	if dq.Country != "FR" || dq.Language != "fr" {
		t.Errorf("country, language = %q, %q; want FR, fr", dq.Country, dq.Language)
	}
	if dq.Sort != herald.SortRelevance {
		t.Errorf("sort with text = %q, want relevance", dq.Sort)
	}
	if dq.Limit != herald.DefaultDirectoryLimit || dq.Cursor != nil {
		t.Errorf("limit, cursor = %d, %v; want default, nil", dq.Limit, dq.Cursor)
	}
}

func TestParseDirectoryQuerySort(t *testing.T) {
	for _, tc := range []struct{ text, sort, want string }{
		{"", "", herald.SortPopular},
		{"news", "", herald.SortRelevance},
		{"", herald.SortRelevance, herald.SortPopular}, // nothing to be relevant to
		{"news", herald.SortNew, herald.SortNew},
		{"", herald.SortActive, herald.SortActive},
	} {
		dq, err := ParseDirectoryQuery(herald.DirectoryQuery{Text: tc.text, Sort: tc.sort})
		if err != nil {
			t.Fatalf("%q/%q: %v", tc.text, tc.sort, err)
		}
		if dq.Sort != tc.want {
			t.Errorf("text %q sort %q: got %q, want %q", tc.text, tc.sort, dq.Sort, tc.want)
		}
	}
}

func TestParseDirectoryQueryBounds(t *testing.T) {
	long := strings.Repeat("ab ", 100) // 300 runes, 100 words
	dq, err := ParseDirectoryQuery(herald.DirectoryQuery{Text: long})
	if err != nil {
		t.Fatal(err)
	}
	if len(dq.Tokens) != MaxQueryTokens {
		t.Errorf("kept %d tokens, want %d", len(dq.Tokens), MaxQueryTokens)
	}
	dq, err = ParseDirectoryQuery(herald.DirectoryQuery{Limit: herald.MaxDirectoryLimit})
	if err != nil || dq.Limit != herald.MaxDirectoryLimit {
		t.Errorf("max limit: %v, %v", dq, err)
	}
}

func TestParseDirectoryQueryRejects(t *testing.T) {
	for _, tc := range []struct {
		q    herald.DirectoryQuery
		kind string
	}{
		{herald.DirectoryQuery{Category: "nope"}, "invalid-category"},
		{herald.DirectoryQuery{Country: "ZZZ"}, "invalid-country"},
		{herald.DirectoryQuery{Language: "not a tag!"}, "invalid-language"},
		{herald.DirectoryQuery{Sort: "oldest"}, "invalid-sort"},
		{herald.DirectoryQuery{Limit: -1}, "invalid-limit"},
		{herald.DirectoryQuery{Limit: herald.MaxDirectoryLimit + 1}, "invalid-limit"},
		{herald.DirectoryQuery{Cursor: "!!!"}, "invalid-cursor"},
		{herald.DirectoryQuery{Cursor: strings.Repeat("A", 200)}, "invalid-cursor"},
	} {
		_, err := ParseDirectoryQuery(tc.q)
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorKind(err) != tc.kind {
			t.Errorf("%+v: got %v (%s/%s), want %s", tc.q, err, herald.ErrorCode(err), herald.ErrorKind(err), tc.kind)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	q := herald.DirectoryQuery{Text: "jazz", Category: "news", Country: "FR", Language: "fr", Sort: herald.SortPopular, Limit: 5}
	dq, err := ParseDirectoryQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	want := DirCursor{W: 123456789, Day: 20417, K1: 2, K2: 1 << 40, PK: 42}
	q.Cursor = dq.EncodeCursor(want)
	next, err := ParseDirectoryQuery(q)
	if err != nil {
		t.Fatalf("own cursor refused: %v", err)
	}
	if next.Cursor == nil || *next.Cursor != want {
		t.Errorf("cursor = %+v, want %+v", next.Cursor, want)
	}
}

// A cursor only works for the search it came from: any change of sort,
// words or filter makes it foreign.
func TestCursorForeign(t *testing.T) {
	base := herald.DirectoryQuery{Text: "jazz", Category: "news", Country: "FR", Language: "fr", Sort: herald.SortPopular}
	dq, err := ParseDirectoryQuery(base)
	if err != nil {
		t.Fatal(err)
	}
	cur := dq.EncodeCursor(DirCursor{W: 1, Day: 2, K1: 3, K2: 4, PK: 5})
	for name, change := range map[string]func(*herald.DirectoryQuery){
		"sort":     func(q *herald.DirectoryQuery) { q.Sort = herald.SortNew },
		"text":     func(q *herald.DirectoryQuery) { q.Text = "jazzy" },
		"category": func(q *herald.DirectoryQuery) { q.Category = "" },
		"country":  func(q *herald.DirectoryQuery) { q.Country = "BE" },
		"language": func(q *herald.DirectoryQuery) { q.Language = "en" },
	} {
		q := base
		change(&q)
		q.Cursor = cur
		if _, err := ParseDirectoryQuery(q); herald.ErrorKind(err) != "invalid-cursor" {
			t.Errorf("%s changed: got %v, want invalid-cursor", name, err)
		}
	}
	// The limit is not part of the search: a cursor survives a new page size.
	q := base
	q.Limit, q.Cursor = 7, cur
	if _, err := ParseDirectoryQuery(q); err != nil {
		t.Errorf("limit changed: %v", err)
	}
}

func TestCursorMalformed(t *testing.T) {
	dq, err := ParseDirectoryQuery(herald.DirectoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := base64.RawURLEncoding.DecodeString(dq.EncodeCursor(DirCursor{W: 1, Day: 2, K1: 3, K2: 4, PK: 5}))
	enc := base64.RawURLEncoding.EncodeToString
	bad := map[string][]byte{
		"version":      append([]byte{9}, good[1:]...),
		"truncated":    good[:len(good)-1],
		"trailing":     append(slices.Clone(good), 0),
		"short header": good[:5],
		"negative":     append(slices.Clone(good[:len(good)-1]), 1), // zigzag 1 = -1
	}
	for name, b := range bad {
		if _, err := ParseDirectoryQuery(herald.DirectoryQuery{Cursor: enc(b)}); herald.ErrorKind(err) != "invalid-cursor" {
			t.Errorf("%s: got %v, want invalid-cursor", name, err)
		}
	}
}

func TestDirRowBefore(t *testing.T) {
	rows := []DirRow{{PK: 1, K1: 5, K2: 0}, {PK: 3, K1: 7, K2: 1}, {PK: 2, K1: 7, K2: 1}, {PK: 9, K1: 7, K2: 0}}
	slices.SortFunc(rows, func(a, b DirRow) int {
		if a.Before(b) {
			return -1
		}
		if b.Before(a) {
			return 1
		}
		return 0
	})
	want := []DirRow{{PK: 3, K1: 7, K2: 1}, {PK: 2, K1: 7, K2: 1}, {PK: 9, K1: 7, K2: 0}, {PK: 1, K1: 5, K2: 0}}
	if !slices.Equal(rows, want) {
		t.Errorf("order = %v, want %v", rows, want)
	}
	if r := (DirRow{PK: 1, K1: 1, K2: 1}); r.Before(r) {
		t.Error("a row sorts before itself")
	}
}

func TestNeedsUpdate(t *testing.T) {
	for typ, want := range map[string]bool{
		herald.EventUpdateCreated: true, herald.EventUpdateEdited: true,
		herald.EventUpdateReactions: true, herald.EventUpdatePoll: true,
		herald.EventChannelUpdated: false, herald.EventChannelFollowed: false,
	} {
		if got := NeedsUpdate(typ); got != want {
			t.Errorf("NeedsUpdate(%q) = %v, want %v", typ, got, want)
		}
	}
}

func TestCountsOf(t *testing.T) {
	u := &herald.Update{
		Reactions: map[string]int64{"👍": 3, "🎉": 1},
		Poll:      &herald.Poll{Options: []herald.PollOption{{Text: "a", Votes: 2}, {Text: "b", Votes: 0}}, Voters: 2},
	}
	r := CountsOf(u, herald.EventUpdateReactions)
	if r.Votes != nil || r.Voters != nil || len(r.Reactions) != 2 || r.Reactions["👍"] != 3 {
		t.Errorf("reactions counts = %+v", r)
	}
	r.Reactions["👍"] = 99 // a copy: the update is not changed through the event
	if u.Reactions["👍"] != 3 {
		t.Error("CountsOf shares the update's reaction map")
	}
	p := CountsOf(u, herald.EventUpdatePoll)
	if !slices.Equal(p.Votes, []int64{2, 0}) || p.Voters == nil || *p.Voters != 2 || p.Reactions != nil {
		t.Errorf("poll counts = %+v", p)
	}
	// An update without a poll still yields votes: [] on the wire, not null.
	empty := CountsOf(&herald.Update{}, herald.EventUpdatePoll)
	b, err := json.Marshal(empty)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Votes == nil || empty.Voters != nil || string(b) != `{"votes":[]}` {
		t.Errorf("poll counts without a poll = %+v (%s)", empty, b)
	}
}

func TestMergeRowsAndCut(t *testing.T) {
	dq, err := ParseDirectoryQuery(herald.DirectoryQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	rows := MergeRows([]DirRow{{PK: 4, K1: 9}, {PK: 1, K1: 3}}, []DirRow{{PK: 7, K1: 5}})
	want := []DirRow{{PK: 4, K1: 9}, {PK: 7, K1: 5}, {PK: 1, K1: 3}}
	if !slices.Equal(rows, want) {
		t.Fatalf("merged = %v, want %v", rows, want)
	}
	cur := &DirCursor{W: 11, Day: 12}
	page, next := dq.Cut(cur, rows)
	if !slices.Equal(page, want[:2]) || next == "" {
		t.Fatalf("cut = %v, %q; want first two rows and a cursor", page, next)
	}
	again, err := ParseDirectoryQuery(herald.DirectoryQuery{Limit: 2, Cursor: next})
	if err != nil {
		t.Fatal(err)
	}
	// The next page resumes after the page's last row, at the same log
	// position and day.
	if w := (DirCursor{W: 11, Day: 12, K1: 5, PK: 7}); *again.Cursor != w {
		t.Errorf("next cursor = %+v, want %+v", *again.Cursor, w)
	}
	if page, next := dq.Cut(cur, want[:2]); len(page) != 2 || next != "" {
		t.Errorf("last page: %v, %q; want both rows and no cursor", page, next)
	}
}

func TestUnmoved(t *testing.T) {
	changed := map[int64]int64{1: 10, 2: 3}
	rows := func() []DirRow { return []DirRow{{PK: 1, K1: 2, K2: 50}, {PK: 2, K1: 2, K2: 70}} }
	pop, err := ParseDirectoryQuery(herald.DirectoryQuery{Sort: herald.SortPopular})
	if err != nil {
		t.Fatal(err)
	}
	// First page: every row is kept, ranked by its old follower count.
	if got, want := pop.Unmoved(&DirCursor{}, rows(), changed), []DirRow{{PK: 1, K1: 10, K2: 50}, {PK: 2, K1: 3, K2: 70}}; !slices.Equal(got, want) {
		t.Errorf("popular = %v, want %v", got, want)
	}
	// Relevance keeps the tier and takes the old followers as K2.
	rel, err := ParseDirectoryQuery(herald.DirectoryQuery{Text: "x", Sort: herald.SortRelevance})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rel.Unmoved(&DirCursor{}, rows(), changed), []DirRow{{PK: 1, K1: 2, K2: 10}, {PK: 2, K1: 2, K2: 3}}; !slices.Equal(got, want) {
		t.Errorf("relevance = %v, want %v", got, want)
	}
	// Past the first page only rows after the cursor's key remain.
	cur := DirCursor{K1: 5, PK: 9}
	pop.Cursor = &cur
	if got, want := pop.Unmoved(&cur, rows(), changed), []DirRow{{PK: 2, K1: 3, K2: 70}}; !slices.Equal(got, want) {
		t.Errorf("after cursor = %v, want %v", got, want)
	}
}
