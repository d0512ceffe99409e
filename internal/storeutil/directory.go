// Package storeutil holds the pure-Go rules the SQLite and PostgreSQL
// stores share, so that they differ only in SQL and their behaviour agrees
// exactly: access checks (Relation) and the errors they return, event
// hydration (Hydrate) and the counts events carry, reaction settings,
// directory query validation, sort keys and cursors, and the refusal of
// development-build schemas. It imports only the standard library, herald
// and fold.
package storeutil

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/fold"
)

// MaxQueryTokens bounds how many words a query keeps, and so the match
// expression (FTS5 or tsquery) a store builds from them.
const MaxQueryTokens = 32

// ErrInvalidCursor is returned for a cursor that is malformed or belongs to
// another search.
var ErrInvalidCursor = herald.KindErrorf(herald.EINVALID, "invalid-cursor", "Malformed or foreign directory cursor: start again without it.")

var sortCodes = map[string]byte{herald.SortRelevance: 1, herald.SortPopular: 2, herald.SortActive: 3, herald.SortNew: 4}

// DirQuery is a validated herald.DirectoryQuery.
type DirQuery struct {
	Tokens                      []string // folded words; the last one matches as a prefix
	Category, Country, Language string
	Sort                        string
	Limit                       int
	Cursor                      *DirCursor // nil on the first page
}

// DirCursor is where a walk stands: the change-log position the walk ranks
// at (W), the day whose activity it ranks by, and the last row's sort key.
// Every sort orders by (K1, K2, PK) descending:
//
//	relevance: (tier, followers, pk)
//	popular:   (followers, 0, pk)
//	active:    (updates in the 7 days ending on day, 0, pk)
//	new:       (0, 0, pk), pk growing with creation
type DirCursor struct {
	W, Day     int64
	K1, K2, PK int64
}

// DirRow is one candidate with its sort key.
type DirRow struct{ PK, K1, K2 int64 }

// Before reports whether a sorts ahead of b: (K1, K2, PK) descending.
func (a DirRow) Before(b DirRow) bool {
	if a.K1 != b.K1 {
		return a.K1 > b.K1
	}
	if a.K2 != b.K2 {
		return a.K2 > b.K2
	}
	return a.PK > b.PK
}

// MergeRows adds to rows, in sort order, the rows whose key moved since the
// walk's log position, and returns them all in sort order.
func MergeRows(rows, moved []DirRow) []DirRow {
	rows = append(rows, moved...)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Before(rows[j]) })
	return rows
}

// Unmoved gives the rows whose key changed since the walk's log position
// (rows, filtered in place) the key they had there, changed[pk], so a walk
// keeps one consistent order while channels move; it keeps only those that
// sort after the cursor (all of them on the first page).
func (dq *DirQuery) Unmoved(cur *DirCursor, rows []DirRow, changed map[int64]int64) []DirRow {
	out := rows[:0]
	for _, r := range rows {
		old := changed[r.PK]
		switch dq.Sort {
		case herald.SortRelevance:
			r.K2 = old
		default: // popular, active
			r.K1 = old
		}
		if dq.Cursor == nil || (DirRow{PK: cur.PK, K1: cur.K1, K2: cur.K2}).Before(r) {
			out = append(out, r)
		}
	}
	return out
}

// Cut cuts rows (in sort order, up to Limit+1 of them) to one page, and
// returns it with the cursor of the next page: "" when rows held no more
// than a page. The next page ranks at the same log position and day as cur.
func (dq *DirQuery) Cut(cur *DirCursor, rows []DirRow) ([]DirRow, string) {
	if len(rows) <= dq.Limit {
		return rows, ""
	}
	last := rows[dq.Limit-1]
	next := dq.EncodeCursor(DirCursor{W: cur.W, Day: cur.Day, K1: last.K1, K2: last.K2, PK: last.PK})
	return rows[:dq.Limit], next
}

// ParseDirectoryQuery validates and normalizes q: text cut to herald.MaxQueryLen and
// folded into at most MaxQueryTokens words, country upper-cased, the default
// sort chosen, the limit clamped and the cursor checked against the rest.
func ParseDirectoryQuery(q herald.DirectoryQuery) (*DirQuery, error) {
	dq := &DirQuery{}
	text := q.Text
	if utf8.RuneCountInString(text) > herald.MaxQueryLen {
		text = string([]rune(text)[:herald.MaxQueryLen])
	}
	dq.Tokens = fold.Tokens(text)
	if len(dq.Tokens) > MaxQueryTokens {
		dq.Tokens = dq.Tokens[:MaxQueryTokens]
	}
	if q.Category != "" && !herald.IsCategory(q.Category) {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-category", "Unknown category. See GET /api/v1/categories.")
	}
	dq.Category = q.Category
	if c := strings.ToUpper(strings.TrimSpace(q.Country)); c != "" {
		if !herald.IsCountry(c) {
			return nil, herald.KindErrorf(herald.EINVALID, "invalid-country", "Country must be an ISO 3166-1 alpha-2 code.")
		}
		dq.Country = c
	}
	if l := strings.TrimSpace(q.Language); l != "" {
		if !herald.IsLanguageTag(l) {
			return nil, herald.KindErrorf(herald.EINVALID, "invalid-language", "Language must be a BCP 47 tag such as \"fr\".")
		}
		dq.Language = l
	}
	switch q.Sort {
	case "":
		dq.Sort = herald.SortPopular
		if len(dq.Tokens) > 0 {
			dq.Sort = herald.SortRelevance
		}
	case herald.SortRelevance, herald.SortPopular, herald.SortActive, herald.SortNew:
		dq.Sort = q.Sort
		if dq.Sort == herald.SortRelevance && len(dq.Tokens) == 0 {
			// Nothing to be relevant to: every tier is equal, so rank by size.
			dq.Sort = herald.SortPopular
		}
	default:
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-sort", "sort must be relevance, popular, active or new.")
	}
	limit, err := herald.ClampLimit(q.Limit, herald.DefaultDirectoryLimit, herald.MaxDirectoryLimit)
	if err != nil {
		return nil, err
	}
	dq.Limit = limit
	if q.Cursor != "" {
		if dq.Cursor, err = dq.decodeCursor(q.Cursor); err != nil {
			return nil, err
		}
	}
	return dq, nil
}

// fingerprint ties a cursor to the search it came from, so a cursor replayed
// against other filters is refused instead of silently skipping channels.
func (dq *DirQuery) fingerprint() uint32 {
	h := fnv.New32a()
	for _, s := range []string{dq.Sort, strings.Join(dq.Tokens, " "), dq.Category, dq.Country, dq.Language} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

const cursorVersion = 1

// maxCursorLen bounds what decodeCursor will read (an encoded cursor is
// at most 6 bytes of header and 5 varints, well under it).
const maxCursorLen = 128

// EncodeCursor returns the opaque cursor of c for this search.
func (dq *DirQuery) EncodeCursor(c DirCursor) string {
	b := []byte{cursorVersion, sortCodes[dq.Sort]}
	b = binary.BigEndian.AppendUint32(b, dq.fingerprint())
	for _, v := range []int64{c.W, c.Day, c.K1, c.K2, c.PK} {
		b = binary.AppendVarint(b, v)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (dq *DirQuery) decodeCursor(s string) (*DirCursor, error) {
	if len(s) > maxCursorLen {
		return nil, ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 6 || b[0] != cursorVersion || b[1] != sortCodes[dq.Sort] ||
		binary.BigEndian.Uint32(b[2:6]) != dq.fingerprint() {
		return nil, ErrInvalidCursor
	}
	b = b[6:]
	var v [5]int64
	for i := range v {
		x, n := binary.Varint(b)
		if n <= 0 || x < 0 {
			return nil, ErrInvalidCursor
		}
		v[i], b = x, b[n:]
	}
	if len(b) != 0 {
		return nil, ErrInvalidCursor
	}
	return &DirCursor{W: v[0], Day: v[1], K1: v[2], K2: v[3], PK: v[4]}, nil
}
