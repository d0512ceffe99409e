package storetest

// Directory conformance cases (issue 4). Every store must give the same
// answers, so these pin the search semantics down:
//
//   - Text is folded by package fold (case, accents, punctuation) on both
//     sides; every word must match (name, handle or description), the last
//     one as a prefix.
//   - Relevance is a tier, then followers, then creation (newest first):
//     tier 2 when every word is in the name, 1 when every word is in the
//     name or handle, 0 otherwise. It depends on the query and the channel
//     only, never on the rest of the corpus, so pages don't shift.
//   - popular: followers desc; active: updates posted in the 7 days ending
//     today desc; new: newest first. Ties: newest first.
//   - A cursor walk ranks every channel by its key as of the walk's first
//     page: each matching channel comes exactly once even while counts move.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// directoryCases are the directory's conformance cases, by name.
var directoryCases = []struct {
	name string
	fn   func(t *testing.T, h *Harness)
}{
	{"Accents", testDirectoryAccents},
	{"Prefix", testDirectoryPrefix},
	{"Ranking", testDirectoryRanking},
	{"Filters", testDirectoryFilters},
	{"Sorts", testDirectorySorts},
	{"ActiveWindow", testDirectoryActiveWindow},
	{"Invisible", testDirectoryInvisible},
	{"Hostile", testDirectoryHostile},
	{"Invalid", testDirectoryInvalid},
	{"Pages", testDirectoryPages},
	{"StableWalk", testDirectoryStableWalk},
	{"Viewer", testDirectoryViewer},
}

func init() {
	for _, c := range directoryCases {
		register("Directory/"+c.name, c.fn)
	}
}

// dirWorld builds channels and accounts for a case.
type dirWorld struct {
	t     *testing.T
	s     herald.Store
	clock *herald.FakeClock
	owner string
	fans  []string // accounts that follow to make follower counts
	n     int
}

func newDirWorld(t *testing.T, h *Harness) *dirWorld {
	w := &dirWorld{t: t, s: h.Store, clock: h.Clock}
	w.owner = w.account()
	return w
}

func (w *dirWorld) account() string {
	w.t.Helper()
	w.n++
	a := &herald.Account{Username: fmt.Sprintf("dir_user%d", w.n), DisplayName: "Dir"}
	if err := w.s.CreateAccount(context.Background(), a, "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"); err != nil {
		w.t.Fatalf("CreateAccount: %v", err)
	}
	return a.ID
}

// fan returns the i-th follower account, creating accounts as needed.
func (w *dirWorld) fan(i int) string {
	for len(w.fans) <= i {
		w.fans = append(w.fans, w.account())
	}
	return w.fans[i]
}

type chOpt func(*herald.Channel)

func inCategory(c string) chOpt  { return func(ch *herald.Channel) { ch.Category = c } }
func inCountry(c string) chOpt   { return func(ch *herald.Channel) { ch.Country = c } }
func inLanguage(l string) chOpt  { return func(ch *herald.Channel) { ch.Language = l } }
func withHandle(h string) chOpt  { return func(ch *herald.Channel) { ch.Handle = h } }
func unlisted() chOpt            { return func(ch *herald.Channel) { ch.Listed = false } }
func describedAs(d string) chOpt { return func(ch *herald.Channel) { ch.Description = d } }

func (w *dirWorld) channel(name string, opts ...chOpt) *herald.Channel {
	w.t.Helper()
	ch := &herald.Channel{Name: name, Category: "news", Listed: true}
	for _, o := range opts {
		o(ch)
	}
	if err := w.s.CreateChannel(context.Background(), w.owner, ch); err != nil {
		w.t.Fatalf("CreateChannel(%q): %v", name, err)
	}
	// Distinct creation times, so "new" has one right answer.
	w.clock.Advance(time.Second)
	return ch
}

// follow gives ch followers fans[from:to].
func (w *dirWorld) follow(ch *herald.Channel, from, to int) {
	w.t.Helper()
	for i := from; i < to; i++ {
		if _, err := w.s.Follow(context.Background(), w.fan(i), ch.ID); err != nil {
			w.t.Fatalf("Follow: %v", err)
		}
	}
}

func (w *dirWorld) post(ch *herald.Channel, n int) {
	w.t.Helper()
	for i := 0; i < n; i++ {
		if err := w.s.CreateUpdate(context.Background(), w.owner, ch.ID, &herald.Update{Text: fmt.Sprintf("update %d", i)}); err != nil {
			w.t.Fatalf("CreateUpdate: %v", err)
		}
	}
}

func (w *dirWorld) search(q herald.DirectoryQuery) *herald.DirectoryPage {
	w.t.Helper()
	p, err := w.s.SearchDirectory(context.Background(), "", q)
	if err != nil {
		w.t.Fatalf("SearchDirectory(%+v): %v", q, err)
	}
	return p
}

// names runs q and returns the names of the first page, in order.
func (w *dirWorld) names(q herald.DirectoryQuery) []string {
	w.t.Helper()
	var out []string
	for _, c := range w.search(q).Channels {
		out = append(out, c.Name)
	}
	return out
}

func (w *dirWorld) expect(q herald.DirectoryQuery, want ...string) {
	w.t.Helper()
	got := w.names(q)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		w.t.Errorf("search %+v = %q, want %q", q, got, want)
	}
}

func (w *dirWorld) expectContains(q herald.DirectoryQuery, name string) {
	w.t.Helper()
	for _, n := range w.names(q) {
		if n == name {
			return
		}
	}
	w.t.Errorf("search %+v: %q missing", q, name)
}

func text(s string) herald.DirectoryQuery { return herald.DirectoryQuery{Text: s} }

func testDirectoryAccents(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	w.channel("Météo Lyon", inCategory("weather"), describedAs("Prévisions pour la métropole."))
	w.channel("Trafic Île-de-France", inCategory("traffic"), describedAs("Bouchons, travaux, accidents."))
	w.channel("Daily Tech News", inCategory("technology"))
	w.channel("Straße & Œuvres", inCategory("lifestyle"))

	for _, q := range []string{"meteo", "METEO", "Météo", "MÉTÉO", "météo lyon", "lyon meteo", "meteo, lyon!", "metropole", "previsions"} {
		w.expect(text(q), "Météo Lyon")
	}
	for _, q := range []string{"ile de france", "Île-de-France", "ILE-DE-FRANCE", "trafic ile", "ile-de-france trafic", "bouchons"} {
		w.expect(text(q), "Trafic Île-de-France")
	}
	w.expect(text("strasse oeuvres"), "Straße & Œuvres")
	w.expect(text("meteo paris"))
	w.expect(text("xyzzy"))
}

func testDirectoryPrefix(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	w.channel("Cuisine du Sud-Ouest", inCategory("cooking"))
	w.channel("Curling Club", inCategory("sports"))
	w.channel("Lyon Actus", withHandle("lyon_actus"))

	for _, q := range []string{"c", "cu", "cuis", "Cuisi", "cuisine", "cuisine du sud-o", "sud cuis"} {
		w.expectContains(text(q), "Cuisine du Sud-Ouest")
	}
	w.expect(text("cuis"), "Cuisine du Sud-Ouest")
	// Only the last word is a prefix: "cuis" alone is not a word of the name.
	w.expect(text("cuis sud"))
	w.expect(text("lyon_act"), "Lyon Actus")
	w.expect(text("cuisines"))
}

func testDirectoryRanking(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	small := w.channel("Météo Paris", inCategory("weather"))
	big := w.channel("Météo Lyon", inCategory("weather"))
	desc := w.channel("Lyon Actus", describedAs("La météo et les infos de Lyon."))
	handle := w.channel("Bretagne Ciel", withHandle("meteo_bzh"), inCategory("weather"))
	w.follow(small, 0, 2)
	w.follow(big, 0, 5)
	w.follow(desc, 0, 9) // biggest, but only its description matches
	w.follow(handle, 0, 7)

	// Every word in the name first (bigger first), then name-or-handle, then
	// description-only matches, however big.
	w.expect(text("meteo"), "Météo Lyon", "Météo Paris", "Bretagne Ciel", "Lyon Actus")
	w.expect(herald.DirectoryQuery{Text: "meteo", Sort: herald.SortRelevance}, "Météo Lyon", "Météo Paris", "Bretagne Ciel", "Lyon Actus")
	w.expect(text("lyon"), "Lyon Actus", "Météo Lyon")
	// With other sorts, the text only filters.
	w.expect(herald.DirectoryQuery{Text: "meteo", Sort: herald.SortPopular}, "Lyon Actus", "Bretagne Ciel", "Météo Lyon", "Météo Paris")
	w.expect(herald.DirectoryQuery{Text: "meteo", Sort: herald.SortNew}, "Bretagne Ciel", "Lyon Actus", "Météo Lyon", "Météo Paris")
	// Without text, relevance means size.
	w.expect(herald.DirectoryQuery{Sort: herald.SortRelevance}, "Lyon Actus", "Bretagne Ciel", "Météo Lyon", "Météo Paris")
	// Follower counts are shown.
	if cs := w.search(text("meteo lyon")).Channels; len(cs) != 2 || cs[0].Name != "Météo Lyon" || cs[0].FollowerCount != 5 || cs[1].FollowerCount != 9 {
		t.Errorf("search \"meteo lyon\" = %+v, want Météo Lyon (5 followers) then Lyon Actus (9)", cs)
	}
}

func testDirectoryFilters(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	w.channel("Météo Lyon", inCategory("weather"), inCountry("FR"), inLanguage("fr"))
	w.channel("Météo Genève", inCategory("weather"), inCountry("CH"), inLanguage("fr"))
	w.channel("Weather Boston", inCategory("weather"), inCountry("US"), inLanguage("en"))
	w.channel("Trafic Lyon", inCategory("traffic"), inCountry("FR"), inLanguage("fr"))
	w.channel("Sans pays", inCategory("news"))

	q := func(cat, country, lang string) herald.DirectoryQuery {
		return herald.DirectoryQuery{Category: cat, Country: country, Language: lang, Sort: herald.SortNew}
	}
	w.expect(q("weather", "", ""), "Weather Boston", "Météo Genève", "Météo Lyon")
	w.expect(q("", "FR", ""), "Trafic Lyon", "Météo Lyon")
	w.expect(q("", "fr", ""), "Trafic Lyon", "Météo Lyon") // country codes are case-insensitive
	w.expect(q("", "", "fr"), "Trafic Lyon", "Météo Genève", "Météo Lyon")
	w.expect(q("weather", "FR", ""), "Météo Lyon")
	w.expect(q("weather", "", "fr"), "Météo Genève", "Météo Lyon")
	w.expect(q("weather", "FR", "fr"), "Météo Lyon")
	w.expect(q("weather", "FR", "en"))
	w.expect(q("music", "", ""))
	w.expect(herald.DirectoryQuery{Text: "lyon", Country: "FR", Category: "traffic"}, "Trafic Lyon")
	w.expect(herald.DirectoryQuery{Text: "meteo", Language: "fr", Sort: herald.SortNew}, "Météo Genève", "Météo Lyon")
	w.expect(herald.DirectoryQuery{Text: "meteo", Country: "US"})
}

func testDirectorySorts(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	a := w.channel("Alpha", describedAs("Radio station."))
	b := w.channel("Bravo", describedAs("Radio station."))
	c := w.channel("Charlie", describedAs("Radio station."))
	w.follow(a, 0, 3)
	w.follow(c, 0, 1)
	w.post(b, 3)
	w.post(a, 1)

	w.expect(herald.DirectoryQuery{}, "Alpha", "Charlie", "Bravo") // popular by default
	w.expect(herald.DirectoryQuery{Sort: herald.SortPopular}, "Alpha", "Charlie", "Bravo")
	w.expect(herald.DirectoryQuery{Sort: herald.SortNew}, "Charlie", "Bravo", "Alpha")
	w.expect(herald.DirectoryQuery{Sort: herald.SortActive}, "Bravo", "Alpha", "Charlie")
	w.expect(herald.DirectoryQuery{Text: "radio", Sort: herald.SortActive}, "Bravo", "Alpha", "Charlie")
	w.expect(herald.DirectoryQuery{Text: "alpha", Sort: herald.SortActive}, "Alpha")
}

func testDirectoryActiveWindow(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	old := w.channel("Old Busy")
	recent := w.channel("Recent Calm")
	quiet := w.channel("Quiet")
	w.post(old, 5)
	w.clock.Advance(8 * 24 * time.Hour)
	w.post(recent, 1)
	// Old Busy's five posts are more than 7 days old: they no longer count.
	w.expect(herald.DirectoryQuery{Sort: herald.SortActive}, "Recent Calm", "Quiet", "Old Busy")
	w.clock.Advance(3 * 24 * time.Hour)
	w.post(quiet, 2)
	w.expect(herald.DirectoryQuery{Sort: herald.SortActive}, "Quiet", "Recent Calm", "Old Busy")
	w.clock.Advance(5 * 24 * time.Hour) // recent's post is now 8 days old
	w.post(old, 1)
	w.expect(herald.DirectoryQuery{Sort: herald.SortActive}, "Quiet", "Old Busy", "Recent Calm")
}

func testDirectoryInvisible(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	ctx := context.Background()
	w.channel("Météo Publique", inCategory("weather"))
	hidden := w.channel("Météo Secrète", inCategory("weather"), unlisted())
	gone := w.channel("Météo Disparue", inCategory("weather"))
	for i := 0; i < 4; i++ { // followers don't make it listed
		if _, err := w.s.FollowByInvite(ctx, w.fan(i), hidden.InviteCode); err != nil {
			t.Fatal(err)
		}
	}
	w.follow(gone, 0, 2)

	all := herald.DirectoryQuery{Sort: herald.SortNew}
	w.expect(text("meteo"), "Météo Disparue", "Météo Publique")
	w.expect(text("secrete"))
	if err := w.s.DeleteChannel(ctx, w.owner, gone.ID); err != nil {
		t.Fatal(err)
	}
	w.expect(text("meteo"), "Météo Publique")
	w.expect(text("disparue"))
	w.expect(all, "Météo Publique")
	w.expect(herald.DirectoryQuery{Sort: herald.SortActive}, "Météo Publique")

	// Listing and unlisting take effect at once, and so do renames.
	yes, no := true, false
	if _, err := w.s.UpdateChannel(ctx, w.owner, hidden.ID, herald.ChannelPatch{Listed: &yes}); err != nil {
		t.Fatal(err)
	}
	w.expect(text("secrete"), "Météo Secrète")
	w.expect(all, "Météo Secrète", "Météo Publique")
	name := "Vélo Secret"
	if _, err := w.s.UpdateChannel(ctx, w.owner, hidden.ID, herald.ChannelPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	w.expect(text("velo"), "Vélo Secret")
	w.expect(text("meteo secrete"))
	if _, err := w.s.UpdateChannel(ctx, w.owner, hidden.ID, herald.ChannelPatch{Listed: &no}); err != nil {
		t.Fatal(err)
	}
	w.expect(text("velo"))
	w.expect(all, "Météo Publique")
	w.expect(herald.DirectoryQuery{Sort: herald.SortPopular}, "Météo Publique")
}

func testDirectoryHostile(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	w.channel("Météo Lyon", inCategory("weather"))
	rnd := rand.New(rand.NewPCG(1, 2))
	var random strings.Builder
	for random.Len() < 20000 {
		random.WriteRune(rune(rnd.IntN(0x2FFFF)))
	}
	hostile := []string{
		`"`, `""`, `"meteo`, `meteo"`, `*`, `**`, `meteo*`, `*meteo`, `NEAR(meteo lyon)`, `NEAR(meteo, 2)`,
		`name:meteo`, `{name}: meteo`, `{name handle} : lyon`, `meteo AND lyon`, `meteo OR`, `NOT meteo`,
		`meteo NOT lyon`, `(meteo`, `meteo)`, `^meteo`, `-meteo`, `+meteo`, `meteo:`, `:`, `'`,
		`'; DROP TABLE channels; --`, `" OR 1=1 --`, `%`, `_`, `\`, "\x00", "meteo\x00lyon", "\xff\xfe",
		"🙂", "👍🏽 meteo", strings.Repeat("a", 5000), strings.Repeat("meteo ", 1000), strings.Repeat("é", 5000),
		strings.Repeat("x ", 3000), strings.Repeat(`"*`, 2500), random.String(),
	}
	for _, s := range hostile {
		for _, sort := range []string{"", herald.SortPopular, herald.SortActive, herald.SortNew} {
			if _, err := w.s.SearchDirectory(context.Background(), "", herald.DirectoryQuery{Text: s, Sort: sort, Category: "weather"}); err != nil {
				t.Errorf("SearchDirectory(%.40q, sort %q): %v", s, sort, err)
			}
		}
	}
	// Syntax is taken as words: the channel is still found through it.
	for _, s := range []string{`meteo*`, `"meteo"`, `"meteo lyon"`, `(meteo)`, `^meteo`, `-meteo`, `meteo:`, `'meteo'`, `meteo -lyon`} {
		w.expectContains(text(s), "Météo Lyon")
	}
	// Queries are truncated, not refused: 1,000 repeats of a word still match.
	w.expect(text(strings.Repeat("meteo ", 1000)), "Météo Lyon")
	w.expect(text("meteo"), "Météo Lyon") // and the store still works
}

func testDirectoryInvalid(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	for i := 0; i < 3; i++ {
		w.channel(fmt.Sprintf("Chan %d", i))
	}
	popular := w.search(herald.DirectoryQuery{Limit: 1})
	if popular.NextCursor == "" {
		t.Fatal("no next cursor")
	}
	cases := []struct {
		q    herald.DirectoryQuery
		kind string
	}{
		{herald.DirectoryQuery{Sort: "loudest"}, "invalid-sort"},
		{herald.DirectoryQuery{Sort: "POPULAR"}, "invalid-sort"},
		{herald.DirectoryQuery{Category: "gossip"}, "invalid-category"},
		{herald.DirectoryQuery{Category: "News"}, "invalid-category"},
		{herald.DirectoryQuery{Country: "XX"}, "invalid-country"},
		{herald.DirectoryQuery{Country: "FRA"}, "invalid-country"},
		{herald.DirectoryQuery{Language: "fr_FR!"}, "invalid-language"},
		{herald.DirectoryQuery{Limit: -1}, "invalid-limit"},
		{herald.DirectoryQuery{Limit: herald.MaxDirectoryLimit + 1}, "invalid-limit"},
		{herald.DirectoryQuery{Cursor: "garbage"}, "invalid-cursor"},
		{herald.DirectoryQuery{Cursor: "!!!"}, "invalid-cursor"},
		{herald.DirectoryQuery{Cursor: strings.Repeat("A", 5000)}, "invalid-cursor"},
		{herald.DirectoryQuery{Cursor: popular.NextCursor[:len(popular.NextCursor)-2]}, "invalid-cursor"},
		{herald.DirectoryQuery{Cursor: popular.NextCursor + "AA"}, "invalid-cursor"},
		// A cursor belongs to its search: other sorts or filters refuse it.
		{herald.DirectoryQuery{Cursor: popular.NextCursor, Sort: herald.SortNew}, "invalid-cursor"},
		{herald.DirectoryQuery{Cursor: popular.NextCursor, Category: "news"}, "invalid-cursor"},
		{herald.DirectoryQuery{Cursor: popular.NextCursor, Text: "chan"}, "invalid-cursor"},
	}
	for _, c := range cases {
		_, err := w.s.SearchDirectory(context.Background(), "", c.q)
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorKind(err) != c.kind {
			t.Errorf("SearchDirectory(%+v) = %v, want %s/%s", c.q, err, herald.EINVALID, c.kind)
		}
	}
	// The same cursor with its own search works, with another limit too.
	if _, err := w.s.SearchDirectory(context.Background(), "", herald.DirectoryQuery{Cursor: popular.NextCursor, Limit: 50}); err != nil {
		t.Errorf("valid cursor: %v", err)
	}
}

func testDirectoryPages(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	for i := 0; i < 25; i++ {
		w.channel(fmt.Sprintf("Page %02d", i))
	}
	p := w.search(herald.DirectoryQuery{})
	if len(p.Channels) != herald.DefaultDirectoryLimit {
		t.Errorf("default page = %d channels, want %d", len(p.Channels), herald.DefaultDirectoryLimit)
	}
	p = w.search(herald.DirectoryQuery{Limit: 25})
	if len(p.Channels) != 25 || p.NextCursor != "" {
		t.Errorf("exact last page: %d channels, next %q; want 25 and no cursor", len(p.Channels), p.NextCursor)
	}
	p = w.search(herald.DirectoryQuery{Limit: 24})
	if len(p.Channels) != 24 || p.NextCursor == "" {
		t.Fatalf("page of 24: %d channels, next %q", len(p.Channels), p.NextCursor)
	}
	p = w.search(herald.DirectoryQuery{Limit: 24, Cursor: p.NextCursor})
	if len(p.Channels) != 1 || p.Channels[0].Name != "Page 00" || p.NextCursor != "" {
		t.Errorf("last page = %d channels, next %q", len(p.Channels), p.NextCursor)
	}
	if p := w.search(text("nothing matches")); p.Channels == nil || len(p.Channels) != 0 || p.NextCursor != "" {
		t.Errorf("empty result = %+v, want an empty, non-nil list", p)
	}
}

// walk pages through q with a small limit, calling between() after every
// page, and returns the ids in order.
func (w *dirWorld) walk(q herald.DirectoryQuery, between func()) []string {
	w.t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			w.t.Fatal("walk does not end")
		}
		p := w.search(q)
		if len(p.Channels) > q.Limit {
			w.t.Fatalf("page of %d channels with limit %d", len(p.Channels), q.Limit)
		}
		for _, c := range p.Channels {
			ids = append(ids, c.ID)
		}
		if p.NextCursor == "" {
			return ids
		}
		q.Cursor = p.NextCursor
		between()
	}
}

func testDirectoryStableWalk(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(4, 2))
	const nFans = 12
	var chans []*herald.Channel
	want := map[string]bool{}
	following := map[[2]int]bool{}
	for i := 0; i < 30; i++ {
		name := fmt.Sprintf("Radio %c%d", 'A'+i%26, i)
		if i%3 == 0 {
			name = fmt.Sprintf("Radio Météo %d", i) // a higher relevance tier
		}
		ch := w.channel(name, inCategory("music"))
		chans = append(chans, ch)
		want[ch.ID] = true
		k := rnd.IntN(nFans)
		w.follow(ch, 0, k)
		for f := 0; f < k; f++ {
			following[[2]int{i, f}] = true
		}
		w.post(ch, rnd.IntN(3))
	}
	w.channel("Radio Elsewhere", inCategory("news")) // filtered out
	// Between pages, follower counts and activity move a lot, mostly
	// pushing channels across the walk's position in both directions.
	churn := func() {
		for k := 0; k < 8; k++ {
			i, f := rnd.IntN(len(chans)), rnd.IntN(nFans)
			key := [2]int{i, f}
			if following[key] {
				if err := w.s.Unfollow(ctx, w.fan(f), chans[i].ID); err != nil {
					t.Fatal(err)
				}
			} else if _, err := w.s.Follow(ctx, w.fan(f), chans[i].ID); err != nil {
				t.Fatal(err)
			}
			following[key] = !following[key]
		}
		w.post(chans[rnd.IntN(len(chans))], 1+rnd.IntN(3))
	}
	for _, q := range []herald.DirectoryQuery{
		{Category: "music", Limit: 3},
		{Category: "music", Limit: 4, Sort: herald.SortActive},
		{Category: "music", Limit: 2, Sort: herald.SortNew},
		{Text: "radio", Category: "music", Limit: 3},
		{Text: "radio", Category: "music", Limit: 5, Sort: herald.SortPopular},
		{Text: "radio", Category: "music", Limit: 3, Sort: herald.SortActive},
		{Text: "rad", Category: "music", Limit: 1},
	} {
		ids := w.walk(q, churn)
		seen := map[string]int{}
		for _, id := range ids {
			seen[id]++
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("walk %+v: channel %s returned %d times", q, id, n)
			}
			if !want[id] {
				t.Errorf("walk %+v: channel %s does not match", q, id)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("walk %+v: %d channels, want %d", q, len(seen), len(want))
		}
	}
}

func testDirectoryViewer(t *testing.T, h *Harness) {
	w := newDirWorld(t, h)
	ctx := context.Background()
	mine := w.channel("Mine")
	me := w.owner
	w.owner = w.account()
	other := w.channel("Other")
	w.owner = me
	fan := w.fan(0)
	w.follow(other, 0, 1)

	page, err := w.s.SearchDirectory(ctx, w.owner, herald.DirectoryQuery{Sort: herald.SortNew})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Channels) != 2 {
		t.Fatalf("%d channels", len(page.Channels))
	}
	o, m := page.Channels[0], page.Channels[1]
	if m.ID != mine.ID || m.Viewer.Role == nil || *m.Viewer.Role != herald.RoleOwner || m.InviteCode == "" {
		t.Errorf("owner's view of own channel: %+v", m)
	}
	if o.ID != other.ID || o.Viewer.Role != nil || o.Viewer.Following {
		t.Errorf("owner's view of another's channel: %+v", o)
	}
	page, err = w.s.SearchDirectory(ctx, fan, herald.DirectoryQuery{Sort: herald.SortNew})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Channels {
		if c.InviteCode != "" || c.Viewer.Role != nil {
			t.Errorf("follower sees admin data: %+v", c)
		}
		if c.Viewer.Following != (c.ID == other.ID) {
			t.Errorf("following = %v for %s", c.Viewer.Following, c.Name)
		}
	}
	page, err = w.s.SearchDirectory(ctx, "", herald.DirectoryQuery{Sort: herald.SortNew})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Channels {
		if c.InviteCode != "" || c.Viewer.Role != nil || c.Viewer.Following {
			t.Errorf("anonymous sees %+v", c)
		}
	}
}
