package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald"
)

// Public pages: listed, live channels rendered on the server so that they
// read without JavaScript, are indexed, and show a card wherever a link is
// shared. Each page is the web app's own index.html (Config.AppShell) with
// its <title> replaced by the page's meta tags and its <main> filled, so
// when scripts run the app takes over at the same URL.
//
// Pages and feeds are anonymous and shared by everyone: they are cached
// (publicCache) so that a viral link costs no store read.

//go:embed public/*.tmpl
var publicTemplates embed.FS

// publicTTL bounds how long a cached public page or feed lives. On a single
// node the page cache's versions also invalidate it at once on any write to
// the channel; in a cluster this is the staleness bound.
const publicTTL = 10 * time.Second

// publicUpdatesPerPage is the updates a channel page shows (one store page).
const publicUpdatesPerPage = 20

// fallbackShell is used when no web app is served (API-only servers).
const fallbackShell = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald</title>
</head>
<body>
<main id="main" tabindex="-1"></main>
</body>
</html>
`

// parseShell turns the app's index.html into the page template: the
// document's language, its <title> and the contents of <main> become the
// page's. A shell missing one of those markers falls back to a plain one.
func parseShell(shell []byte) *template.Template {
	t, err := shellTemplate(string(shell))
	if err != nil {
		t, err = shellTemplate(fallbackShell)
	}
	if err != nil {
		panic("http: public page templates: " + err.Error()) // compiled in: a build bug
	}
	return t
}

func shellTemplate(s string) (*template.Template, error) {
	const htmlTag, titleTag, mainOpen = `<html lang="en">`, `<title>Herald</title>`, `<main id="main" tabindex="-1">`
	i := strings.Index(s, mainOpen)
	j := strings.Index(s, "</main>")
	if strings.Contains(s, "{{") || !strings.Contains(s, htmlTag) || !strings.Contains(s, titleTag) || i < 0 || j < i {
		return nil, errBadShell
	}
	s = s[:i+len(mainOpen)] + "\n{{template \"main\" .}}" + s[j:]
	s = strings.Replace(s, htmlTag, `<html lang="{{or .Lang "en"}}">`, 1)
	s = strings.Replace(s, titleTag, `{{template "head" .}}`, 1)
	t, err := template.New("page").Parse(s)
	if err != nil {
		return nil, err
	}
	return t.ParseFS(publicTemplates, "public/*.tmpl")
}

var errBadShell = herald.Errorf(herald.EINTERNAL, "the web app's index.html lacks the markers public pages need")

// publicPage is what the page template renders.
type publicPage struct {
	Lang, Locale string
	Title        string
	Description  string
	Canonical    string
	OGType       string
	// Image is the og:image (absolute): the update's first image on its
	// page, else the channel's avatar; empty when it has neither.
	Image       string
	NoIndex     bool
	NotFound    bool
	Channel     *herald.Channel
	ChannelPath string // "/@handle" or "/channels/{id}"
	Feeds       string // where feed.atom and feed.json are
	Updates     []publicUpdate
	Single      bool   // an update's permalink page
	Older       string // the next (older) page, if any
	// Keys are the channel's public signing keys (docs/signatures.md).
	Keys []herald.SigningKey
	// Pinned are the channel's pinned updates, shown first on its first page.
	Pinned []publicUpdate
}

type publicUpdate struct {
	Seq     int64
	Text    string
	URL     string
	Created time.Time
	Edited  *time.Time
	Poll    *herald.Poll
	Preview *herald.LinkPreview // shown as a card; its image is served from /media
}

// publicEntry is a rendered public page or feed.
type publicEntry struct {
	status       int
	ctype        string
	body         []byte
	etag         string
	lastModified time.Time
	channel      string // whose versions invalidate it ("" for none)
	version      uint64 // the channel's version in publicCache when read
	global       uint64
	expires      time.Time
	updateIDs    []string // the updates it shows, counted as anonymous loads
}

// anonymousViews is what the insights counter offers for public pages and
// feeds: one load of each update shown to someone not signed in.
type anonymousViews interface {
	RecordAnonymous(updateIDs []string)
}

// countLoad counts a served page's or feed's updates in insights (GET
// only: a HEAD shows nothing).
func (s *Server) countLoad(r *http.Request, e *publicEntry) {
	if a, ok := s.views.(anonymousViews); ok && len(e.updateIDs) > 0 && r.Method == http.MethodGet {
		a.RecordAnonymous(e.updateIDs)
	}
}

// publicCache holds rendered public pages and feeds, shared by everyone.
// Like pageCache, every write request through this server bumps the
// version of the channel it names (all channels when none), so a page is
// never stale after a write here; writes on other nodes of a cluster show
// within publicTTL.
type publicCache struct {
	mu       sync.RWMutex
	entries  map[string]*publicEntry
	bytes    int64
	versions map[string]uint64
	global   uint64
}

// version returns the versions to tag an entry with; read before the store.
func (c *publicCache) version(channel string) (uint64, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.versions[channel], c.global
}

// bump invalidates the pages of channel (or of every channel when "").
func (c *publicCache) bump(channel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if channel == "" || len(c.versions) >= maxVersionedChannels {
		c.global++
		if len(c.versions) >= maxVersionedChannels {
			clear(c.versions)
		}
		return
	}
	c.versions[channel]++
}

const publicCacheBytes = 32 << 20

func (c *publicCache) get(key string, now time.Time) *publicEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.entries[key]
	if e == nil || !now.Before(e.expires) {
		return nil
	}
	if e.channel != "" && (e.version != c.versions[e.channel] || e.global != c.global) {
		return nil
	}
	return e
}

func (c *publicCache) put(key string, e *publicEntry) {
	n := int64(len(e.body) + len(key))
	if n > publicCacheBytes/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[key]; old != nil {
		c.bytes -= int64(len(old.body) + len(key))
	}
	if c.bytes+n > publicCacheBytes {
		clear(c.entries) // rare: the budget holds thousands of pages
		c.bytes = 0
	}
	c.entries[key] = e
	c.bytes += n
}

// publicRoutes registers the public pages, feeds, robots.txt and the
// sitemap. They are not API routes (not in the OpenAPI document); /@{handle}
// is dispatched by the catch-all (ServeMux wildcards are whole segments).
func (s *Server) publicRoutes() {
	s.mux.HandleFunc("GET /channels/{id}", s.publicHandler(pageChannel))
	s.mux.HandleFunc("GET /channels/{id}/updates/{seq}", s.publicHandler(pageUpdate))
	s.mux.HandleFunc("GET /channels/{id}/feed.atom", s.publicHandler(feedAtom))
	s.mux.HandleFunc("GET /channels/{id}/feed.json", s.publicHandler(feedJSON))
	s.mux.HandleFunc("GET /robots.txt", s.handleRobots)
	s.mux.HandleFunc("GET /sitemap.xml", s.handleSitemap)
}

type publicKind int

const (
	pageChannel publicKind = iota
	pageUpdate
	feedAtom
	feedJSON
)

// servePublicAt serves /@{handle}, /@{handle}/feed.atom and
// /@{handle}/feed.json; it reports false for any other path.
func (s *Server) servePublicAt(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/@")
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	handle, file, _ := strings.Cut(rest, "/")
	kind := pageChannel
	switch file {
	case "":
	case "feed.atom":
		kind = feedAtom
	case "feed.json":
		kind = feedJSON
	default:
		return false
	}
	s.servePublic(w, r, kind, "", handle)
	return true
}

func (s *Server) publicHandler(kind publicKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if kind == pageChannel && id == "new" && s.web != nil {
			s.web.ServeHTTP(w, r) // the app's "new channel" page
			return
		}
		s.servePublic(w, r, kind, id, "")
	}
}

// base is the absolute URL pages link to: the configured public URL, or
// the request's own origin when none is configured.
func (s *Server) base(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) servePublic(w http.ResponseWriter, r *http.Request, kind publicKind, id, handle string) {
	now := s.clock.Now()
	base := s.base(r)
	var seq, before int64
	var err error
	if kind == pageUpdate {
		seq, err = strconv.ParseInt(r.PathValue("seq"), 10, 64)
		if err != nil || seq < 1 {
			s.writePublic(w, r, s.notFoundPage(base))
			return
		}
	}
	if kind == pageChannel {
		if b := r.URL.Query().Get("before"); b != "" {
			before, err = strconv.ParseInt(b, 10, 64)
			if err != nil || before < 1 {
				before = 0
			}
		}
	}
	if len(id) > maxIDLen || len(handle) > herald.HandleMaxLen {
		s.writePublic(w, r, s.notFoundPage(base))
		return
	}
	key := strconv.Itoa(int(kind)) + "|" + id + "|" + strings.ToLower(handle) + "|" + strconv.FormatInt(seq, 10) + "|" + strconv.FormatInt(before, 10)
	if s.publicURL == "" {
		key += "|" + base // pages name their own origin: never serve one host's page to another
	}
	if e := s.public.get(key, now); e != nil {
		s.countLoad(r, e)
		s.writePublic(w, r, e)
		return
	}
	e, err := s.renderPublic(r.Context(), kind, id, handle, seq, before, base, now)
	if err != nil {
		if herald.ErrorCode(err) == herald.ENOTFOUND {
			s.writePublic(w, r, s.notFoundPage(base))
			return
		}
		if errors.Is(err, errPublicGone) {
			gone := *s.notFoundPage(base)
			gone.status = http.StatusGone
			s.writePublic(w, r, &gone)
			return
		}
		s.writeError(w, r, err)
		return
	}
	if before == 0 {
		// Older pages are read rarely and their ?before= is the client's
		// choice: caching them would let anyone evict the hot pages.
		s.public.put(key, e)
	}
	s.countLoad(r, e)
	s.writePublic(w, r, e)
}

// renderPublic reads the channel and one page of its updates, and renders.
func (s *Server) renderPublic(ctx context.Context, kind publicKind, id, handle string, seq, before int64, base string, now time.Time) (*publicEntry, error) {
	// Versions are read before the store so a write racing the read leaves
	// an entry that is already stale.
	var v, g uint64
	if id != "" {
		v, g = s.public.version(id)
	}
	var ch *herald.Channel
	var err error
	if handle != "" {
		ch, err = s.Store.FindChannelByHandle(ctx, "", handle)
		if err == nil {
			v, g = s.public.version(ch.ID)
			// Read again under the versions just taken.
			ch, err = s.Store.FindChannel(ctx, "", ch.ID)
		}
	} else {
		ch, err = s.Store.FindChannel(ctx, "", id)
	}
	if err != nil {
		if herald.ErrorCode(err) == herald.ENOTFOUND && s.suspended(ctx, id, handle) {
			return nil, errPublicGone
		}
		return nil, err
	}
	if !ch.Listed {
		if s.suspended(ctx, ch.ID, "") {
			return nil, errPublicGone
		}
		// Anonymous readers can't see unlisted channels; this is a second lock.
		return nil, herald.KindErrorf(herald.ENOTFOUND, "not-found", "Not found.")
	}
	limit := publicUpdatesPerPage
	switch kind {
	case pageUpdate:
		before, limit = seq+1, 1
	case feedAtom, feedJSON:
		before, limit = 0, feedEntries
	}
	list, err := s.Store.ListUpdates(ctx, "", ch.ID, before, limit)
	if err != nil {
		return nil, err
	}
	if kind == pageUpdate && (len(list) == 0 || list[0].Seq != seq) {
		return nil, herald.KindErrorf(herald.ENOTFOUND, "not-found", "Not found.")
	}
	e := &publicEntry{status: http.StatusOK, channel: ch.ID, version: v, global: g, expires: now.Add(publicTTL)}
	for _, u := range list {
		e.updateIDs = append(e.updateIDs, u.ID)
		// No entry outlives an update it shows.
		if u.ExpiresAt.Before(e.expires) {
			e.expires = u.ExpiresAt
		}
		if t := updatedAt(u); t.After(e.lastModified) {
			e.lastModified = t
		}
	}
	if e.lastModified.IsZero() {
		e.lastModified = ch.CreatedAt
	}
	var keys []herald.SigningKey
	var pinned []*herald.Update
	if kind == pageChannel || kind == pageUpdate {
		if keys, err = s.Store.SigningKeys(ctx, "", ch.ID); err != nil {
			return nil, err
		}
	}
	if kind == pageChannel && before == 0 {
		if pinned, err = s.Store.ListPinned(ctx, "", ch.ID); err != nil {
			return nil, err
		}
		for _, u := range pinned {
			if u.ExpiresAt.Before(e.expires) {
				e.expires = u.ExpiresAt
			}
		}
	}
	var body []byte
	switch kind {
	case feedAtom:
		e.ctype = "application/atom+xml; charset=utf-8"
		body, err = renderAtom(ch, list, base)
	case feedJSON:
		e.ctype = "application/feed+json; charset=utf-8"
		body, err = renderJSONFeed(ch, list, base)
	default:
		e.ctype = "text/html; charset=utf-8"
		body, err = s.renderPage(kind, ch, list, pinned, keys, before, base)
	}
	if err != nil {
		return nil, err
	}
	e.body = body
	sum := sha256.Sum256(body)
	e.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	return e, nil
}

// updatedAt is when an update last changed.
func updatedAt(u *herald.Update) time.Time {
	if u.EditedAt != nil {
		return *u.EditedAt
	}
	return u.CreatedAt
}

// channelPath is the channel's public path: its handle when it has one.
func channelPath(ch *herald.Channel) string {
	if ch.Handle != "" {
		return "/@" + ch.Handle
	}
	return "/channels/" + url.PathEscape(ch.ID)
}

func permalinkPath(ch *herald.Channel, seq int64) string {
	return "/channels/" + url.PathEscape(ch.ID) + "/updates/" + strconv.FormatInt(seq, 10)
}

func (s *Server) renderPage(kind publicKind, ch *herald.Channel, list, pinned []*herald.Update, keys []herald.SigningKey, before int64, base string) ([]byte, error) {
	p := publicPage{
		Keys:        keys,
		Lang:        ch.Language,
		Locale:      ogLocale(ch.Language),
		Channel:     ch,
		ChannelPath: channelPath(ch),
		OGType:      "website",
	}
	p.Feeds = p.ChannelPath
	title := ch.Name
	if ch.Handle != "" {
		title += " (@" + ch.Handle + ")"
	}
	view := func(u *herald.Update) publicUpdate {
		return publicUpdate{Seq: u.Seq, Text: u.Text, URL: permalinkPath(ch, u.Seq), Created: u.CreatedAt.UTC(), Edited: utcPtr(u.EditedAt), Poll: u.Poll, Preview: u.LinkPreview}
	}
	for _, u := range list {
		p.Updates = append(p.Updates, view(u))
	}
	for _, u := range pinned {
		p.Pinned = append(p.Pinned, view(u))
	}
	if ch.AvatarURL != "" {
		p.Image = base + ch.AvatarURL
	}
	switch kind {
	case pageUpdate:
		if img := firstImage(list[0], base); img != "" {
			p.Image = img
		}
		p.Single, p.OGType = true, "article"
		p.Title = firstLine(updateTitle(list[0]), 70) + " · " + title
		p.Description = summary(list[0].Text)
		p.Canonical = base + permalinkPath(ch, list[0].Seq)
	default:
		p.Title = title + " · Herald"
		p.Description = summary(ch.Description)
		if p.Description == "" {
			p.Description = ch.Name + " on Herald"
		}
		p.Canonical = base + p.ChannelPath
		if before > 0 {
			p.Canonical += "?before=" + strconv.FormatInt(before, 10)
		}
		if len(list) == publicUpdatesPerPage {
			p.Older = p.ChannelPath + "?before=" + strconv.FormatInt(list[len(list)-1].Seq, 10)
		}
	}
	var b bytes.Buffer
	if err := s.pageTemplate.Execute(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// suspended reports whether operators suspended the channel named by id or
// handle. Suspension unlists a channel, so anonymous reads no longer find
// it: its public pages and feeds then say it is gone (410), not that it
// never existed.
func (s *Server) suspended(ctx context.Context, id, handle string) bool {
	if handle != "" {
		var err error
		if id, err = s.Store.ChannelIDByHandle(ctx, strings.ToLower(handle)); err != nil {
			return false
		}
	}
	susp, err := s.Store.ChannelSuspension(ctx, id)
	return err == nil && susp != nil
}

// errPublicGone is a suspended channel's answer: 410 Gone, never indexed.
var errPublicGone = errors.New("http: the channel is suspended")

// notFoundPage answers unknown, unlisted and deleted channels alike: 404,
// never indexed, with the app's shell so a follower's app still opens an
// unlisted channel at this URL.
func (s *Server) notFoundPage(string) *publicEntry {
	s.notFoundOnce.Do(func() {
		var b bytes.Buffer
		if err := s.pageTemplate.Execute(&b, publicPage{Title: "Not found · Herald", Description: "Not found.", NoIndex: true, NotFound: true}); err != nil {
			panic("http: rendering the not-found page: " + err.Error())
		}
		s.notFound = &publicEntry{status: http.StatusNotFound, ctype: "text/html; charset=utf-8", body: b.Bytes()}
	})
	return s.notFound
}

func (s *Server) writePublic(w http.ResponseWriter, r *http.Request, e *publicEntry) {
	h := w.Header()
	h.Set("Content-Type", e.ctype)
	if e.status != http.StatusOK {
		h.Set("X-Robots-Tag", "noindex")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(e.status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(e.body)
		}
		return
	}
	// Anyone may store it, but must revalidate (a cheap 304 from this
	// server's cache): an edit, a pin or a deletion shows at once.
	h.Set("Cache-Control", "public, no-cache")
	h.Set("ETag", e.etag)
	http.ServeContent(w, r, "", e.lastModified, bytes.NewReader(e.body))
}

// summary is a meta description: the text's first 200 characters on one line.
func summary(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	return truncateRunes(text, 200)
}

// firstLine is a title taken from an update's text.
func firstLine(text string, max int) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	return truncateRunes(strings.Join(strings.Fields(line), " "), max)
}

func truncateRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ogLocale turns a BCP 47 tag into Open Graph's language_TERRITORY form.
func ogLocale(tag string) string {
	lang, region, _ := strings.Cut(tag, "-")
	if lang == "" || len(lang) > 3 {
		return ""
	}
	if len(region) == 2 {
		return strings.ToLower(lang) + "_" + strings.ToUpper(region)
	}
	return strings.ToLower(lang)
}
