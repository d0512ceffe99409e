package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/fold"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
)

// The directory has the SQLite store's semantics exactly: text is folded in
// Go (package fold) both when a channel is indexed and when a query comes in,
// every query word must match a word of the channel, the last one as a
// prefix, and relevance is a tier that depends on the query and the channel
// alone. PostgreSQL's part is only matching: channel_search holds tsvectors
// built here from the folded words (of the name; name and handle; all),
// never parsed by a text search configuration, and queries are tsquery
// values built here from quoted folded words, so no input reaches tsquery
// operators. GIN indexes serve both exact and prefix words.

const (
	secondsPerDay = int64(24 * 60 * 60)
	// maxChanges bounds how much of the change log a page reads.
	maxChanges = 20000
	// keepChanges is how many changes PruneExpired keeps.
	keepChanges = 20000
	// maxLexemeBytes keeps each indexed word under PostgreSQL's 2 KiB limit.
	maxLexemeBytes = 512
)

// dayOf returns the UTC day number of t (days since the Unix epoch).
func dayOf(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - secondsPerDay + 1) / secondsPerDay
	}
	return s / secondsPerDay
}

// searchVectors returns the tsvector literals that index a channel: the
// words of its name, of its name and handle, and of all three with its
// description (channel_search's columns, in that order).
func searchVectors(ch *herald.Channel) []any {
	name := fold.Tokens(ch.Name)
	nameHandle := append(slices.Clone(name), fold.Tokens(ch.Handle)...)
	words := append(slices.Clone(nameHandle), fold.Tokens(ch.Description)...)
	return []any{tsVector(name), tsVector(nameHandle), tsVector(words)}
}

// tsVector returns a tsvector literal of the words, without positions
// (prefix and word matching need none; PostgreSQL removes duplicates).
func tsVector(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteLexeme(w))
	}
	return b.String()
}

// quoteLexeme quotes a word for a tsvector or tsquery literal, cut to
// maxLexemeBytes on a character boundary. Folded words hold only letters
// and digits; quotes and backslashes are escaped all the same.
func quoteLexeme(tok string) string {
	if len(tok) > maxLexemeBytes {
		n := maxLexemeBytes
		for n > 0 && !utf8.RuneStart(tok[n]) {
			n--
		}
		tok = tok[:n]
	}
	tok = strings.ReplaceAll(tok, `\`, `\\`)
	tok = strings.ReplaceAll(tok, `'`, `''`)
	return "'" + tok + "'"
}

// tsQuery returns the tsquery literal "all these words, the last as a prefix".
func tsQuery(tokens []string) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteString(quoteLexeme(t))
		if i == len(tokens)-1 {
			b.WriteString(":*")
		}
	}
	return b.String()
}

// The query, its sort key and its cursor are the SQLite store's, shared
// through package storeutil so both stores agree on them exactly.
type (
	dirCursor = storeutil.DirCursor
	dirRow    = storeutil.DirRow
)

var errInvalidCursor = storeutil.ErrInvalidCursor

// dirQuery is a validated herald.DirectoryQuery.
type dirQuery struct {
	storeutil.DirQuery
}

func parseDirectoryQuery(q herald.DirectoryQuery) (*dirQuery, error) {
	p, err := storeutil.ParseDirectoryQuery(q)
	if err != nil {
		return nil, err
	}
	return &dirQuery{DirQuery: *p}, nil
}

// SearchDirectory returns one page of listed channels matching q.
//
// Relevance is a tier that depends on the query and the channel alone (2:
// every word in the name, 1: in the name or handle, 0: somewhere, the
// description included), then followers. ts_rank is deliberately not used:
// like bm25 on SQLite it would make the order (and cursors) depend on more
// than the channel itself.
func (db *DB) SearchDirectory(ctx context.Context, viewerID string, q herald.DirectoryQuery) (*herald.DirectoryPage, error) {
	dq, err := parseDirectoryQuery(q)
	if err != nil {
		return nil, err
	}
	page := &herald.DirectoryPage{Channels: []*herald.Channel{}}
	err = db.read(ctx, func(t *tx) error {
		// Parallel workers only add latency to a page of 21 rows.
		var w int64
		if err := t.QueryRow(ctx, `SELECT set_config('max_parallel_workers_per_gather', '0', true),
			(SELECT coalesce(max(id), 0) FROM directory_changes)`).Scan(nil, &w); err != nil {
			return err
		}
		cur := dq.Cursor
		if cur == nil {
			cur = &dirCursor{Day: dayOf(t.now), W: w}
		}
		changed, err := dq.changes(ctx, t, cur)
		if err != nil {
			return err
		}
		need := dq.Limit + 1
		rows, err := dq.candidates(ctx, t, cur, changed, need)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			moved, err := dq.changedRows(ctx, t, cur, changed)
			if err != nil {
				return err
			}
			rows = storeutil.MergeRows(rows, moved)
		}
		rows, page.NextCursor = dq.Cut(cur, rows)
		page.Channels, err = hydrateDirectory(ctx, t, viewerID, rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// changes returns the sort keys, as of the walk's log position, of the
// channels whose key changed since: their old value per pk.
func (dq *dirQuery) changes(ctx context.Context, t *tx, cur *dirCursor) (map[int64]int64, error) {
	kind, day := 0, int64(0)
	switch dq.Sort {
	case herald.SortNew:
		return nil, nil // pk never changes
	case herald.SortActive:
		kind, day = 1, cur.Day
	}
	rows, err := t.Query(ctx, `SELECT channel_pk, old_value FROM directory_changes
		WHERE kind = $1 AND day = $2 AND id > $3 ORDER BY id LIMIT $4`, kind, day, cur.W, maxChanges)
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

// where is a growing WHERE clause with its numbered arguments.
type where struct {
	conds []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

func pkList(m map[int64]int64) []int64 {
	pks := make([]int64, 0, len(m))
	for pk := range m {
		pks = append(pks, pk)
	}
	return pks
}

// filters adds the listed/category/country/language conditions on c.
func (dq *dirQuery) filters(w *where) {
	w.add("c.listed")
	if dq.Category != "" {
		w.add("c.category = " + w.arg(dq.Category))
	}
	if dq.Country != "" {
		w.add("c.country = " + w.arg(dq.Country))
	}
	if dq.Language != "" {
		w.add("c.language = " + w.arg(dq.Language))
	}
}

// candidates returns up to need channels after the cursor, in order, among
// those whose sort key did not change during the walk (their current key is
// their key as of the walk's start).
func (dq *dirQuery) candidates(ctx context.Context, t *tx, cur *dirCursor, changed map[int64]int64, need int) ([]dirRow, error) {
	if len(dq.Tokens) > 0 {
		return dq.textRows(ctx, t, cur, changed, false, need)
	}
	first := dq.Cursor == nil
	var w where
	exclude := func(col string) {
		if len(changed) > 0 {
			w.add("NOT (" + col + " = ANY(" + w.arg(pkList(changed)) + "))")
		}
	}
	switch dq.Sort {
	case herald.SortPopular:
		dq.filters(&w)
		if !first {
			w.add("(c.follower_count, c.pk) < (" + w.arg(cur.K1) + ", " + w.arg(cur.PK) + ")")
		}
		exclude("c.pk")
		return queryRows(ctx, t, `SELECT c.pk, c.follower_count, 0 FROM channels c WHERE `+w.String()+
			` ORDER BY c.follower_count DESC, c.pk DESC LIMIT `+w.arg(need), w.args...)
	case herald.SortNew:
		dq.filters(&w)
		if !first {
			w.add("c.pk < " + w.arg(cur.PK))
		}
		return queryRows(ctx, t, `SELECT c.pk, 0, 0 FROM channels c WHERE `+w.String()+
			` ORDER BY c.pk DESC LIMIT `+w.arg(need), w.args...)
	case herald.SortActive:
		// Channels active in the window, from the activity index; then the
		// quiet ones, newest first.
		var out []dirRow
		if first || cur.K1 > 0 {
			w.add("a.day = " + w.arg(cur.Day))
			dq.filters(&w)
			if !first {
				w.add("(a.n, a.channel_pk) < (" + w.arg(cur.K1) + ", " + w.arg(cur.PK) + ")")
			}
			exclude("a.channel_pk")
			rows, err := queryRows(ctx, t, `SELECT a.channel_pk, a.n, 0 FROM directory_activity a
				JOIN channels c ON c.pk = a.channel_pk WHERE `+w.String()+
				` ORDER BY a.n DESC, a.channel_pk DESC LIMIT `+w.arg(need), w.args...)
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
		w.add("NOT EXISTS (SELECT 1 FROM directory_activity a WHERE a.channel_pk = c.pk AND a.day = " + w.arg(cur.Day) + ")")
		if !first && cur.K1 == 0 {
			w.add("c.pk < " + w.arg(cur.PK))
		}
		exclude("c.pk")
		rows, err := queryRows(ctx, t, `SELECT c.pk, 0, 0 FROM channels c WHERE `+w.String()+
			` ORDER BY c.pk DESC LIMIT `+w.arg(need-len(out)), w.args...)
		return append(out, rows...), err
	}
	return nil, fmt.Errorf("directory: unexpected sort %q", dq.Sort)
}

// textRows ranks the channels matching the text. With only=true it returns
// the changed channels (any position); otherwise up to need unchanged ones
// after the cursor.
func (dq *dirQuery) textRows(ctx context.Context, t *tx, cur *dirCursor, changed map[int64]int64, only bool, need int) ([]dirRow, error) {
	if dq.Sort == herald.SortRelevance && !only {
		return dq.relevanceRows(ctx, t, cur, changed, need)
	}
	var w where
	var k1, k2 string
	switch dq.Sort {
	case herald.SortRelevance:
		q := w.arg(tsQuery(dq.Tokens))
		k1 = `(s.name @@ ` + q + `::tsquery)::int + (s.name_handle @@ ` + q + `::tsquery)::int`
		k2 = "c.follower_count"
	case herald.SortPopular:
		k1, k2 = "c.follower_count", "0"
	case herald.SortActive:
		k1 = "coalesce((SELECT a.n FROM directory_activity a WHERE a.channel_pk = c.pk AND a.day = " + w.arg(cur.Day) + "), 0)"
		k2 = "0"
	case herald.SortNew:
		k1, k2 = "0", "0"
	}
	w.add("s.words @@ " + w.arg(tsQuery(dq.Tokens)) + "::tsquery")
	dq.filters(&w)
	if len(changed) > 0 {
		cond := "c.pk = ANY(" + w.arg(pkList(changed)) + ")"
		if !only {
			cond = "NOT " + cond
		}
		w.add(cond)
	}
	inner := `SELECT c.pk AS pk, ` + k1 + ` AS k1, ` + k2 + ` AS k2
		FROM channel_search s JOIN channels c ON c.pk = s.pk WHERE ` + w.String()
	if only {
		return queryRows(ctx, t, inner, w.args...)
	}
	outer := `SELECT pk, k1, k2 FROM (` + inner + `) x`
	if dq.Cursor != nil {
		outer += ` WHERE (k1, k2, pk) < (` + w.arg(cur.K1) + `::bigint, ` + w.arg(cur.K2) + `::bigint, ` + w.arg(cur.PK) + `::bigint)`
	}
	outer += ` ORDER BY k1 DESC, k2 DESC, pk DESC LIMIT ` + w.arg(need)
	return queryRows(ctx, t, outer, w.args...)
}

// walkCap is how many of the most-followed channels a tier examines first,
// and denseMatches how many matches make a tier "common": worth walking the
// followers index further for, rather than sorting them all.
const (
	walkCap      = 300
	denseMatches = 1000
)

// relevanceRows returns up to need unchanged channels after the cursor in
// relevance order, one tier at a time, best first. Within a tier the order
// is by followers. A common word is answered by walking the followers index
// and keeping the channels that match (a page fills after a few hundred
// rows, without ranking thousands of matches); a rare one by listing its
// matches from the tier's GIN index and sorting them. Which is which is
// measured, not estimated: the planner's guess for a word it has no
// statistics about (say, one found only in descriptions, for the name tier)
// once had it walk every channel (220 ms on 100,000). So each tier walks
// the walkCap most-followed channels first (a common word is done there),
// then counts its matches in the GIN index up to denseMatches and walks on
// or sorts accordingly.
func (dq *dirQuery) relevanceRows(ctx context.Context, t *tx, cur *dirCursor, changed map[int64]int64, need int) ([]dirRow, error) {
	if dq.Cursor != nil && cur.K1 > 2 {
		return nil, errInvalidCursor
	}
	var out []dirRow
	for tier := int64(2); tier >= 0 && len(out) < need; tier-- {
		if dq.Cursor != nil && tier > cur.K1 {
			continue
		}
		// The match's arguments come first, so that the count query
		// takes a prefix of them.
		var w where
		q := w.arg(tsQuery(dq.Tokens)) + "::tsquery"
		var m []string // the tier's match conditions on s
		switch tier {
		case 2:
			m = []string{"s.name @@ " + q}
		case 1:
			m = []string{"s.name_handle @@ " + q, "NOT s.name @@ " + q}
		case 0:
			m = []string{"s.words @@ " + q, "NOT s.name_handle @@ " + q}
		}
		if len(changed) > 0 {
			m = append(m, "NOT (s.pk = ANY("+w.arg(pkList(changed))+"))")
		}
		match := strings.Join(m, " AND ")
		nMatch := len(w.args)
		dq.filters(&w) // conditions on the channel: filters and cursor
		if dq.Cursor != nil && tier == cur.K1 {
			w.add("(c.follower_count, c.pk) < (" + w.arg(cur.K2) + ", " + w.arg(cur.PK) + ")")
		}
		k1 := strconv.FormatInt(tier, 10)
		want := need - len(out)
		limit := w.arg(want)
		// The common case first: the most-followed walkCap channels hold a
		// page of matches.
		rows, err := queryRows(ctx, t, `SELECT c.pk, `+k1+`, c.follower_count
			FROM (SELECT c.pk, c.follower_count FROM channels c WHERE `+w.String()+`
				ORDER BY c.follower_count DESC, c.pk DESC LIMIT `+strconv.Itoa(walkCap)+`) c
			CROSS JOIN LATERAL (SELECT 1 FROM channel_search s WHERE s.pk = c.pk AND `+match+` LIMIT 1) hit
			ORDER BY c.follower_count DESC, c.pk DESC LIMIT `+limit, w.args...)
		if err != nil {
			return nil, err
		}
		if len(rows) == want {
			out = append(out, rows...)
			continue
		}
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM channel_search s WHERE `+match+`
			LIMIT `+strconv.Itoa(denseMatches)+`) x`, w.args[:nMatch]...).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		// Many matches: walk the followers index; LATERAL ... LIMIT 1 keeps
		// it a nested loop that probes each channel's words by primary key,
		// in order, and stops when the page is full.
		query := `SELECT c.pk, ` + k1 + `, c.follower_count FROM channels c
			CROSS JOIN LATERAL (SELECT 1 FROM channel_search s WHERE s.pk = c.pk AND ` + match + ` LIMIT 1) hit
			WHERE ` + w.String() + ` ORDER BY c.follower_count DESC, c.pk DESC LIMIT ` + limit
		if n < denseMatches {
			// MATERIALIZED: the few matches come from the GIN index,
			// whatever the planner would estimate for walking instead.
			query = `WITH s AS MATERIALIZED (SELECT s.pk FROM channel_search s WHERE ` + match + `)
				SELECT c.pk, ` + k1 + `, c.follower_count FROM s JOIN channels c ON c.pk = s.pk
				WHERE ` + w.String() + ` ORDER BY c.follower_count DESC, c.pk DESC LIMIT ` + limit
		}
		if rows, err = queryRows(ctx, t, query, w.args...); err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// changedRows returns the channels whose key changed during the walk, still
// matching, ranked by their key as of the walk's start, after the cursor.
func (dq *dirQuery) changedRows(ctx context.Context, t *tx, cur *dirCursor, changed map[int64]int64) ([]dirRow, error) {
	var rows []dirRow
	var err error
	if len(dq.Tokens) > 0 {
		rows, err = dq.textRows(ctx, t, cur, changed, true, 0)
	} else {
		var w where
		dq.filters(&w)
		w.add("c.pk = ANY(" + w.arg(pkList(changed)) + ")")
		rows, err = queryRows(ctx, t, `SELECT c.pk, 0, 0 FROM channels c WHERE `+w.String(), w.args...)
	}
	if err != nil {
		return nil, err
	}
	return dq.Unmoved(cur, rows, changed), nil
}

func queryRows(ctx context.Context, t *tx, query string, args ...any) ([]dirRow, error) {
	rows, err := t.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (dirRow, error) {
		var d dirRow
		err := r.Scan(&d.PK, &d.K1, &d.K2)
		return d, err
	})
}

// hydrateDirectory reads the page's channels, as viewerID sees them, in rank order.
func hydrateDirectory(ctx context.Context, t *tx, viewerID string, ranked []dirRow) ([]*herald.Channel, error) {
	out := make([]*herald.Channel, 0, len(ranked))
	if len(ranked) == 0 {
		return out, nil
	}
	pks := make([]int64, len(ranked))
	for i, r := range ranked {
		pks[i] = r.PK
	}
	rows, err := t.Query(ctx, `SELECT `+channelCols+` FROM `+channelFrom+` WHERE c.pk = ANY($3)`, viewerID, t.now, pks)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*chanRow, error) { return scanChannel(r) })
	if err != nil {
		return nil, err
	}
	byPK := make(map[int64]*herald.Channel, len(list))
	for _, r := range list {
		byPK[r.pk] = r.view()
	}
	for _, pk := range pks {
		if c, ok := byPK[pk]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}
