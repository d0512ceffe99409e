package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/fold"
	"github.com/heraldhq/herald/internal/storeutil"
	msqlite "modernc.org/sqlite"
)

// The triggers of migrations/0001_initial.sql index channels with
// herald_fold(), so the index is kept in step inside every transaction that
// writes a channel, whichever code writes it. Functions registered with the
// driver exist on every connection it opens afterwards; init runs before Open.
func init() {
	if err := msqlite.RegisterDeterministicScalarFunction("herald_fold", 1, foldSQL); err != nil {
		panic(err)
	}
	if err := msqlite.RegisterDeterministicScalarFunction("herald_fts_rowid", 2, ftsRowidSQL); err != nil {
		panic(err)
	}
}

func ftsRowidSQL(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	followers, ok1 := args[0].(int64)
	pk, ok2 := args[1].(int64)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("herald_fts_rowid(%T, %T): want integers", args[0], args[1])
	}
	return ftsRowid(followers, pk), nil
}

// pkMask extracts channels.pk from a directory_fts rowid.
const pkMask = 1<<32 - 1

// ftsRowid is a listed channel's rowid in directory_fts: its follower
// bucket above its pk, so FTS5's rowid order is (roughly) popularity order.
// See migrations/0001_initial.sql.
func ftsRowid(followers, pk int64) int64 { return followerBucket(followers)<<32 | pk }

// followerBucket is monotonic in f: exact below 64, then 8 buckets per
// doubling (about 9% wide). Integer-only, so every build agrees.
func followerBucket(f int64) int64 {
	if f < 64 {
		return max(f, 0)
	}
	e := int64(bits.Len64(uint64(f))) - 1 // floor(log2 f), >= 6
	return 64 + (e-6)*8 + (f>>(e-3) - 8)
}

func foldSQL(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	switch v := args[0].(type) {
	case nil:
		return "", nil
	case string:
		return fold.String(v), nil
	case []byte:
		return fold.String(string(v)), nil
	default:
		return fold.String(fmt.Sprint(v)), nil
	}
}

const (
	nanosPerDay = int64(24 * time.Hour)
	// maxChanges bounds how much of the change log a page reads (the log
	// itself keeps 20,000 rows, see migrations/0001_initial.sql).
	maxChanges = 20000
)

// The query, its sort key and its cursor are shared with the PostgreSQL
// store through package storeutil so both stores agree on them exactly.
type (
	dirCursor = storeutil.DirCursor
	dirRow    = storeutil.DirRow
)

var errInvalidCursor = storeutil.ErrInvalidCursor

// dirQuery is a validated herald.DirectoryQuery.
type dirQuery struct {
	storeutil.DirQuery
	lastTerms []string // the index terms the last word begins, when looked up
}

func parseDirectoryQuery(q herald.DirectoryQuery) (*dirQuery, error) {
	p, err := storeutil.ParseDirectoryQuery(q)
	if err != nil {
		return nil, err
	}
	return &dirQuery{DirQuery: *p}, nil
}

// ftsQuery turns folded tokens into an FTS5 expression that can only mean
// "all these words, the last as a prefix": each token is quoted (fold leaves
// only letters and digits, and any '"' would be doubled anyway), so no input
// reaches FTS5's operators, column filters or NEAR.
//
// last, when set, replaces the last token's prefix with the exact terms it
// begins (see expandPrefix).
func ftsQuery(tokens []string, columns string, last ...string) string {
	var b strings.Builder
	if columns != "" {
		b.WriteString("{" + columns + "} : (")
	}
	for i, t := range tokens {
		if i > 0 {
			b.WriteString(" AND ")
		}
		if i == len(tokens)-1 && len(last) > 0 {
			b.WriteByte('(')
			for j, term := range last {
				if j > 0 {
					b.WriteString(" OR ")
				}
				b.WriteString(`"` + strings.ReplaceAll(term, `"`, `""`) + `"`)
			}
			b.WriteByte(')')
			continue
		}
		b.WriteString(`"` + strings.ReplaceAll(t, `"`, `""`) + `"`)
		if i == len(tokens)-1 {
			b.WriteByte('*')
		}
	}
	if columns != "" {
		b.WriteByte(')')
	}
	return b.String()
}

// maxPrefixTerms bounds a prefix's expansion; past it FTS5's own prefix
// handling is cheaper than a long OR.
const maxPrefixTerms = 64

// expandPrefix looks up the index terms the last token begins, when the
// prefix index (1-3 characters) does not already serve it. Only plain ASCII
// tokens are expanded: for them the Go fold and FTS5's tokenizer agree on
// what a term is, so the expansion matches exactly what "tok"* would.
func (dq *dirQuery) expandPrefix(ctx context.Context, tx *dirTx) error {
	if len(dq.Tokens) == 0 {
		return nil
	}
	tok := dq.Tokens[len(dq.Tokens)-1]
	if len(tok) <= 3 || !isPlainASCII(tok) {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT term FROM directory_vocab WHERE term >= ? AND term < ? LIMIT ?`,
		tok, tok+"\xff", maxPrefixTerms+1)
	if err != nil {
		return err
	}
	defer rows.Close()
	var terms []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		terms = append(terms, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(terms) >= 1 && len(terms) <= maxPrefixTerms {
		dq.lastTerms = terms
	}
	return nil
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// fts is the query's FTS5 expression over columns ("" for all).
func (dq *dirQuery) fts(columns string) string { return ftsQuery(dq.Tokens, columns, dq.lastTerms...) }

// SearchDirectory returns one page of listed channels matching q.
//
// Relevance is a tier that depends on the query and the channel alone (2:
// every word in the name, 1: in the name or handle, 0: somewhere, the
// description included), then followers. bm25 is deliberately not used: it
// depends on corpus-wide statistics, so every channel created or edited
// would reshuffle results under a client's cursor.
func (db *DB) SearchDirectory(ctx context.Context, viewerID string, q herald.DirectoryQuery) (*herald.DirectoryPage, error) {
	dq, err := parseDirectoryQuery(q)
	if err != nil {
		return nil, err
	}
	page := &herald.DirectoryPage{Channels: []*herald.Channel{}}
	cache := db.dirCache()
	var missed []string
	defer func() {
		if len(missed) > 0 {
			cache.prepare(ctx, missed) // after the transaction: see stmtCache
		}
	}()
	err = db.read(ctx, func(stx *sql.Tx, now time.Time) error {
		tx := &dirTx{tx: stx, cache: cache}
		defer func() { missed = tx.missed }()
		cur := dq.Cursor
		if cur == nil {
			cur = &dirCursor{Day: now.UnixNano() / nanosPerDay}
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM directory_changes`).Scan(&cur.W); err != nil {
				return err
			}
		}
		changed, err := dq.changes(ctx, tx, cur)
		if err != nil {
			return err
		}
		if err := dq.expandPrefix(ctx, tx); err != nil {
			return err
		}
		need := dq.Limit + 1
		rows, err := dq.candidates(ctx, tx, cur, changed, need)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			moved, err := dq.changedRows(ctx, tx, cur, changed)
			if err != nil {
				return err
			}
			rows = storeutil.MergeRows(rows, moved)
		}
		rows, page.NextCursor = dq.Cut(cur, rows)
		page.Channels, err = hydrateDirectory(ctx, tx, now, viewerID, rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// changes returns the sort keys, as of the walk's log position, of the
// channels whose key changed since: their old value per pk.
func (dq *dirQuery) changes(ctx context.Context, tx *dirTx, cur *dirCursor) (map[int64]int64, error) {
	var kind int
	switch dq.Sort {
	case herald.SortNew:
		return nil, nil // pk never changes
	case herald.SortActive:
		kind = 1
	}
	rows, err := tx.QueryContext(ctx, `SELECT channel_pk, old_value FROM directory_changes
		WHERE id > ? AND kind = ? AND day = ? ORDER BY id LIMIT ?`, cur.W, kind, kindDay(kind, cur.Day), maxChanges)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var pk, old int64
		if err := rows.Scan(&pk, &old); err != nil {
			return nil, err
		}
		if _, seen := out[pk]; !seen { // the first change holds the value as of w
			out[pk] = old
		}
	}
	return out, rows.Err()
}

func kindDay(kind int, day int64) int64 {
	if kind == 0 {
		return 0
	}
	return day
}

// where is a growing WHERE clause with its arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

func pkList(m map[int64]int64) string {
	pks := make([]int64, 0, len(m))
	for pk := range m {
		pks = append(pks, pk)
	}
	b, _ := json.Marshal(pks)
	return string(b)
}

// filters adds the listed/category/country/language conditions on c.
func (dq *dirQuery) filters(w *where) { dq.filterOn(w, "") }

// pkFilters restricts c to a JSON list of pks, read by primary key: the
// filters are written +col so that SQLite can't prefer a filter index and
// scan every listed channel checking each against the list.
func (dq *dirQuery) pkFilters(w *where, pks string) {
	w.add("c.pk IN (SELECT value FROM json_each(?))", pks)
	dq.filterOn(w, "+")
}

func (dq *dirQuery) filterOn(w *where, plus string) {
	w.add(plus + "c.listed = 1")
	if dq.Category != "" {
		w.add(plus+"c.category = ?", dq.Category)
	}
	if dq.Country != "" {
		w.add(plus+"c.country = ?", dq.Country)
	}
	if dq.Language != "" {
		w.add(plus+"c.language = ?", dq.Language)
	}
}

// candidates returns up to need channels after the cursor, in order, among
// those whose sort key did not change during the walk (their current key is
// their key as of the walk's start).
func (dq *dirQuery) candidates(ctx context.Context, tx *dirTx, cur *dirCursor, changed map[int64]int64, need int) ([]dirRow, error) {
	first := dq.Cursor == nil
	var w where
	exclude := func(col string) {
		if len(changed) > 0 {
			w.add(col+" NOT IN (SELECT value FROM json_each(?))", pkList(changed))
		}
	}
	if len(dq.Tokens) > 0 {
		switch dq.Sort {
		case herald.SortRelevance, herald.SortPopular:
			return dq.rankedText(ctx, tx, cur, changed, need)
		case herald.SortNew:
			return dq.newestText(ctx, tx, cur, need)
		case herald.SortActive:
			return dq.activeText(ctx, tx, cur, changed, need)
		}
		return nil, fmt.Errorf("directory: unexpected sort %q", dq.Sort)
	}
	switch dq.Sort {
	case herald.SortPopular:
		dq.filters(&w)
		if !first {
			w.add("(c.follower_count, c.pk) < (?, ?)", cur.K1, cur.PK)
		}
		exclude("c.pk")
		return queryRows(ctx, tx, `SELECT c.pk, c.follower_count, 0 FROM channels c WHERE `+w.String()+
			` ORDER BY c.follower_count DESC, c.pk DESC LIMIT ?`, append(w.args, need)...)
	case herald.SortNew:
		dq.filters(&w)
		if !first {
			w.add("c.pk < ?", cur.PK)
		}
		return queryRows(ctx, tx, `SELECT c.pk, 0, 0 FROM channels c WHERE `+w.String()+
			` ORDER BY c.pk DESC LIMIT ?`, append(w.args, need)...)
	case herald.SortActive:
		// Channels active in the window, from the activity index; then the
		// quiet ones, newest first. Neither reads more than a page of rows
		// beyond what the filters skip.
		var out []dirRow
		if first || cur.K1 > 0 {
			w.add("a.day = ?", cur.Day)
			dq.filters(&w)
			if !first {
				w.add("(a.n, a.channel_pk) < (?, ?)", cur.K1, cur.PK)
			}
			exclude("a.channel_pk")
			rows, err := queryRows(ctx, tx, `SELECT a.channel_pk, a.n, 0 FROM directory_activity a
				JOIN channels c ON c.pk = a.channel_pk WHERE `+w.String()+
				` ORDER BY a.n DESC, a.channel_pk DESC LIMIT ?`, append(w.args, need)...)
			if err != nil {
				return nil, err
			}
			out = rows
		}
		if len(out) >= need {
			return out, nil
		}
		w = where{}
		dq.filters(&w)
		w.add("NOT EXISTS (SELECT 1 FROM directory_activity a WHERE a.channel_pk = c.pk AND a.day = ?)", cur.Day)
		if !first && cur.K1 == 0 {
			w.add("c.pk < ?", cur.PK)
		}
		exclude("c.pk")
		rows, err := queryRows(ctx, tx, `SELECT c.pk, 0, 0 FROM channels c WHERE `+w.String()+
			` ORDER BY c.pk DESC LIMIT ?`, append(w.args, need-len(out))...)
		return append(out, rows...), err
	}
	return nil, fmt.Errorf("directory: unexpected sort %q", dq.Sort)
}

// textPKs returns the pks of the channels matching the text, read from the
// index alone (no join), for the sorts FTS order can't serve (new, active).
func (dq *dirQuery) textPKs(ctx context.Context, tx *dirTx, changed map[int64]int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT rowid FROM directory_fts WHERE directory_fts MATCH ?`, dq.fts(""))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pks []int64
	for rows.Next() {
		var rowid int64
		if err := rows.Scan(&rowid); err != nil {
			return nil, err
		}
		if pk := rowid & pkMask; !hasKey(changed, pk) {
			pks = append(pks, pk)
		}
	}
	return pks, rows.Err()
}

func hasKey(m map[int64]int64, k int64) bool { _, ok := m[k]; return ok }

func pkSet(pks []int64) map[int64]bool {
	m := make(map[int64]bool, len(pks))
	for _, pk := range pks {
		m[pk] = true
	}
	return m
}

// filterPKs returns, in the given order, the pks (ranked) that pass the
// filters (and cond), reading channels in growing chunks until it has need.
func (dq *dirQuery) filterPKs(ctx context.Context, tx *dirTx, ranked []dirRow, need int, cond string, condArgs ...any) ([]dirRow, error) {
	var out []dirRow
	chunk := max(2*need, 64)
	for len(ranked) > 0 && len(out) < need {
		n := min(chunk, len(ranked))
		part := ranked[:n]
		ranked = ranked[n:]
		ids := make([]int64, n)
		for i, r := range part {
			ids[i] = r.PK
		}
		b, _ := json.Marshal(ids)
		var w where
		dq.pkFilters(&w, string(b))
		if cond != "" {
			w.add(cond, condArgs...)
		}
		ok, err := queryRows(ctx, tx, `SELECT c.pk, 0, 0 FROM channels c WHERE `+w.String(), w.args...)
		if err != nil {
			return nil, err
		}
		pass := make(map[int64]bool, len(ok))
		for _, r := range ok {
			pass[r.PK] = true
		}
		for _, r := range part {
			if pass[r.PK] {
				out = append(out, r)
			}
		}
		chunk *= 4 // filters that reject much get bigger chunks
	}
	if len(out) > need {
		out = out[:need]
	}
	return out, nil
}

// newestText serves sort=new with text: matching pks, newest first.
func (dq *dirQuery) newestText(ctx context.Context, tx *dirTx, cur *dirCursor, need int) ([]dirRow, error) {
	pks, err := dq.textPKs(ctx, tx, nil)
	if err != nil {
		return nil, err
	}
	return dq.filterPKs(ctx, tx, quietTail(pks, dq.Cursor != nil, cur.PK), need, "")
}

// quietTail returns pks below `below` (all when !bounded), newest first.
func quietTail(pks []int64, bounded bool, below int64) []dirRow {
	out := make([]dirRow, 0, len(pks))
	for _, pk := range pks {
		if !bounded || pk < below {
			out = append(out, dirRow{PK: pk})
		}
	}
	slices.SortFunc(out, func(a, b dirRow) int { return cmp.Compare(b.PK, a.PK) })
	return out
}

// activeText serves sort=active with text: the day's active channels in
// rank order that match, then the quiet matches, newest first.
func (dq *dirQuery) activeText(ctx context.Context, tx *dirTx, cur *dirCursor, changed map[int64]int64, need int) ([]dirRow, error) {
	pkList, err := dq.textPKs(ctx, tx, changed)
	if err != nil {
		return nil, err
	}
	pks := pkSet(pkList)
	first := dq.Cursor == nil
	var out []dirRow
	if first || cur.K1 > 0 {
		var w where
		w.add("day = ?", cur.Day)
		if !first {
			w.add("(n, channel_pk) < (?, ?)", cur.K1, cur.PK)
		}
		rows, err := tx.QueryContext(ctx, `SELECT channel_pk, n FROM directory_activity WHERE `+w.String()+
			` ORDER BY n DESC, channel_pk DESC`, w.args...)
		if err != nil {
			return nil, err
		}
		var ranked []dirRow
		for rows.Next() {
			var r dirRow
			if err := rows.Scan(&r.PK, &r.K1); err != nil {
				rows.Close()
				return nil, err
			}
			if pks[r.PK] {
				ranked = append(ranked, r)
				if len(ranked) >= 4*need { // enough to fill a page unless filters reject most
					break
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if out, err = dq.filterPKs(ctx, tx, ranked, need, ""); err != nil {
			return nil, err
		}
		if len(out) < need && len(ranked) >= 4*need {
			// The filters rejected most of them: rank every active match.
			return dq.activeTextAll(ctx, tx, cur, pkList, pks, need)
		}
	}
	if len(out) >= need {
		return out, nil
	}
	tail, err := dq.filterPKs(ctx, tx, quietTail(pkList, !first && cur.K1 == 0, cur.PK), need-len(out),
		"NOT EXISTS (SELECT 1 FROM directory_activity a WHERE a.channel_pk = c.pk AND a.day = ?)", cur.Day)
	return append(out, tail...), err
}

// activeTextAll is activeText without the early stop, for filters that
// reject most matches.
func (dq *dirQuery) activeTextAll(ctx context.Context, tx *dirTx, cur *dirCursor, pkList []int64, pks map[int64]bool, need int) ([]dirRow, error) {
	first := dq.Cursor == nil
	var w where
	w.add("a.day = ?", cur.Day)
	if !first {
		w.add("(a.n, a.channel_pk) < (?, ?)", cur.K1, cur.PK)
	}
	dq.filters(&w)
	rows, err := tx.QueryContext(ctx, `SELECT a.channel_pk, a.n FROM directory_activity a JOIN channels c ON c.pk = a.channel_pk
		WHERE `+w.String()+` ORDER BY a.n DESC, a.channel_pk DESC`, w.args...)
	if err != nil {
		return nil, err
	}
	var out []dirRow
	for rows.Next() && len(out) < need {
		var r dirRow
		if err := rows.Scan(&r.PK, &r.K1); err != nil {
			rows.Close()
			return nil, err
		}
		if pks[r.PK] {
			out = append(out, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) >= need {
		return out, err
	}
	tail, err := dq.filterPKs(ctx, tx, quietTail(pkList, false, 0), need-len(out),
		"NOT EXISTS (SELECT 1 FROM directory_activity a WHERE a.channel_pk = c.pk AND a.day = ?)", cur.Day)
	return append(out, tail...), err
}

// tierExprs are the FTS expressions of relevance tiers 2, 1 and 0: every
// word in the name; in the name or handle but not all in the name; only
// with the description. They partition the matches.
func (dq *dirQuery) tierExprs() [3]string {
	all, name, nameHandle := dq.fts(""), dq.fts("name"), dq.fts("name handle")
	return [3]string{
		"(" + all + ") NOT (" + nameHandle + ")",
		"(" + nameHandle + ") NOT (" + name + ")",
		name,
	}
}

// rankedText serves relevance and popular with text: FTS5 hands matches
// over most-followed bucket first, so a page reads about a page of rows.
func (dq *dirQuery) rankedText(ctx context.Context, tx *dirTx, cur *dirCursor, changed map[int64]int64, need int) ([]dirRow, error) {
	var after *dirRow
	if dq.Cursor != nil {
		after = &dirRow{K1: cur.K1, K2: cur.K2, PK: cur.PK}
	}
	if dq.Sort == herald.SortPopular {
		return dq.scanRanked(ctx, tx, dq.fts(""), -1, after, changed, need)
	}
	exprs := dq.tierExprs()
	tier := int64(2)
	if after != nil {
		if tier = after.K1; tier < 0 || tier > 2 {
			return nil, errInvalidCursor
		}
	}
	var out []dirRow
	for ; tier >= 0 && len(out) < need; tier-- {
		rows, err := dq.scanRanked(ctx, tx, exprs[tier], tier, after, changed, need-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		after = nil // lower tiers come whole
	}
	return out, nil
}

// key is a text match's sort key: (tier, followers) for relevance,
// (followers, 0) for popular (tier < 0).
func textKey(tier, followers, pk int64) dirRow {
	if tier < 0 {
		return dirRow{PK: pk, K1: followers}
	}
	return dirRow{PK: pk, K1: tier, K2: followers}
}

// scanRanked returns up to need matches of expr after `after`, by
// (followers, pk) descending, among channels whose key did not change
// during the walk. It reads matches in FTS rowid order (bucket, pk) and
// stops once it has need rows and has finished their last bucket.
func (dq *dirQuery) scanRanked(ctx context.Context, tx *dirTx, expr string, tier int64, after *dirRow, changed map[int64]int64, need int) ([]dirRow, error) {
	var w where
	w.add("directory_fts MATCH ?", expr)
	if after != nil {
		followers := after.K1
		if tier >= 0 {
			followers = after.K2
		}
		// From the top of the cursor's bucket: its other rows may come after it.
		w.add("directory_fts.rowid < ?", (followerBucket(followers)+1)<<32)
	}
	dq.filters(&w)
	if len(changed) > 0 {
		w.add("c.pk NOT IN (SELECT value FROM json_each(?))", pkList(changed))
	}
	query := `SELECT directory_fts.rowid, c.pk, c.follower_count FROM directory_fts
		JOIN channels c ON c.pk = (directory_fts.rowid & 4294967295)
		WHERE ` + w.String() + ` ORDER BY directory_fts.rowid DESC`
	if traceDirectory != nil {
		traceDirectory(query, w.args)
	}
	rows, err := tx.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dirRow
	boundary := int64(-1)
	for rows.Next() {
		var rowid, pk, followers int64
		if err := rows.Scan(&rowid, &pk, &followers); err != nil {
			return nil, err
		}
		bucket := rowid >> 32
		if boundary >= 0 && bucket < boundary {
			break
		}
		r := textKey(tier, followers, pk)
		if after != nil && !after.Before(r) {
			continue
		}
		out = append(out, r)
		if len(out) == need && boundary < 0 {
			boundary = bucket
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	if len(out) > need {
		out = out[:need]
	}
	return out, nil
}

// changedText returns the changed channels that match the text, with their
// tier. Keys are current; the caller substitutes the values as of the walk's
// start. It reads match rowids from the index alone, once per expression,
// within the changed channels' rowid range: a rowid lookup per channel
// would make FTS5 expand the last word's prefix again for each.
func (dq *dirQuery) changedText(ctx context.Context, tx *dirTx, changed map[int64]int64) ([]dirRow, error) {
	var w where
	dq.pkFilters(&w, pkList(changed))
	cands, err := queryRows(ctx, tx, `SELECT c.pk, c.follower_count, 0 FROM channels c WHERE `+w.String(), w.args...)
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	want := make(map[int64]dirRow, len(cands)) // by current FTS rowid
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, c := range cands {
		id := ftsRowid(c.K1, c.PK)
		want[id] = c
		lo, hi = min(lo, id), max(hi, id)
	}
	matching := func(expr string) (map[int64]bool, error) {
		rows, err := tx.QueryContext(ctx, `SELECT rowid FROM directory_fts WHERE directory_fts MATCH ? AND rowid BETWEEN ? AND ?`, expr, lo, hi)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			if _, ok := want[id]; ok {
				out[id] = true
			}
		}
		return out, rows.Err()
	}
	all, err := matching(dq.fts(""))
	if err != nil || len(all) == 0 {
		return nil, err
	}
	var name, nameHandle map[int64]bool
	if dq.Sort == herald.SortRelevance {
		if name, err = matching(dq.fts("name")); err != nil {
			return nil, err
		}
		if nameHandle, err = matching(dq.fts("name handle")); err != nil {
			return nil, err
		}
	}
	out := make([]dirRow, 0, len(all))
	for id := range all {
		c := want[id]
		tier := int64(-1)
		if dq.Sort == herald.SortRelevance {
			switch {
			case name[id]:
				tier = 2
			case nameHandle[id]:
				tier = 1
			default:
				tier = 0
			}
		}
		out = append(out, textKey(tier, c.K1, c.PK))
	}
	return out, nil
}

// changedRows returns the channels whose key changed during the walk, still
// matching, ranked by their key as of the walk's start, after the cursor.
func (dq *dirQuery) changedRows(ctx context.Context, tx *dirTx, cur *dirCursor, changed map[int64]int64) ([]dirRow, error) {
	var rows []dirRow
	var err error
	if len(dq.Tokens) > 0 {
		rows, err = dq.changedText(ctx, tx, changed)
	} else {
		var w where
		dq.pkFilters(&w, pkList(changed))
		rows, err = queryRows(ctx, tx, `SELECT c.pk, 0, 0 FROM channels c WHERE `+w.String(), w.args...)
	}
	if err != nil {
		return nil, err
	}
	return dq.Unmoved(cur, rows, changed), nil
}

// dirCaches holds each store's cache of directory statements, apart from
// the store's own: searches build a few hundred filter/sort variants, which
// must not crowd the hot statements of the rest of the store out of it.
var dirCaches sync.Map // *DB -> *stmtCache

func (db *DB) dirCache() *stmtCache {
	if c, ok := dirCaches.Load(db); ok {
		return c.(*stmtCache)
	}
	c, _ := dirCaches.LoadOrStore(db, newStmtCache(db.r))
	return c.(*stmtCache)
}

// dirTx is a search's read transaction, with cached statements (parsing the
// dynamic SQL again on every request cost as much as running it).
type dirTx = cachedTx

// traceDirectory, when set (by tests), sees every ranking query, so their
// plans can be checked.
var traceDirectory func(query string, args []any)

func queryRows(ctx context.Context, tx *dirTx, query string, args ...any) ([]dirRow, error) {
	if traceDirectory != nil {
		traceDirectory(query, args)
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dirRow
	for rows.Next() {
		var r dirRow
		if err := rows.Scan(&r.PK, &r.K1, &r.K2); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// hydrateDirectory reads the page's channels, as viewerID sees them, in rank order.
func hydrateDirectory(ctx context.Context, tx *dirTx, now time.Time, viewerID string, ranked []dirRow) ([]*herald.Channel, error) {
	out := make([]*herald.Channel, 0, len(ranked))
	if len(ranked) == 0 {
		return out, nil
	}
	pks := make([]int64, len(ranked))
	for i, r := range ranked {
		pks[i] = r.PK
	}
	list, _ := json.Marshal(pks)
	rows, err := tx.QueryContext(ctx, channelSelect+`WHERE c.pk IN (SELECT value FROM json_each(?3))`, nanos(now), viewerID, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byPK := make(map[int64]*herald.Channel, len(ranked))
	for rows.Next() {
		r, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		byPK[r.pk] = r.view()
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, pk := range pks {
		if c, ok := byPK[pk]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}
