package http_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/web"
	"golang.org/x/net/html"
)

// withApp serves the web app and renders public pages in its shell, as
// herald serve does.
func withApp(c *hhttp.Config) {
	c.Web = web.Handler()
	c.AppShell = web.Index()
	c.PublicURL = "https://herald.example"
}

// pageMeta is what a test reads from a public page's HTML.
type pageMeta struct {
	lang, title string
	meta        map[string]string // name or property -> content
	links       map[string]string // rel (+ " " + hreflang or type) -> href
	scripts     []string
	text        string // all text nodes, joined
}

func parsePage(t *testing.T, body []byte) pageMeta {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	m := pageMeta{meta: map[string]string{}, links: map[string]string{}}
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
			text.WriteString(" ")
		}
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch n.Data {
			case "html":
				m.lang = attr["lang"]
			case "title":
				if n.FirstChild != nil {
					m.title = n.FirstChild.Data
				}
			case "meta":
				if k := attr["name"] + attr["property"]; k != "" {
					m.meta[k] = attr["content"]
				}
			case "link":
				k := attr["rel"]
				if attr["hreflang"] != "" {
					k += " " + attr["hreflang"]
				} else if attr["type"] != "" && k == "alternate" {
					k += " " + attr["type"]
				}
				m.links[k] = attr["href"]
			case "script":
				m.scripts = append(m.scripts, attr["src"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	m.text = text.String()
	return m
}

func (e *env) publicChannel(owner *user, handle string, listed bool) *herald.Channel {
	e.t.Helper()
	ch, err := owner.CreateChannel(context.Background(), client.ChannelInput{
		Name: "Météo Lyon", Description: "Daily forecasts <b>for</b> Lyon.", Handle: handle,
		Category: "weather", Country: "FR", Language: "fr-FR", Listed: &listed,
	})
	if err != nil {
		e.t.Fatalf("create channel: %v", err)
	}
	return ch
}

func TestPublicChannelPage(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "meteolyon", true)
	e.post(owner, ch.ID, "Sunny <script>alert(1)</script> tomorrow")
	e.post(owner, ch.ID, "Storm warning\nfor the evening")

	for _, path := range []string{"/@meteolyon", "/@MeteoLyon", "/channels/" + ch.ID} {
		r := e.do("GET", path, "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET %s: %d %s", path, r.status, r.header.Get("Content-Type"))
		}
		if bytes.Contains(r.body, []byte("<script>alert")) || bytes.Contains(r.body, []byte("<b>for</b>")) {
			t.Fatalf("GET %s: text not escaped:\n%s", path, r.body)
		}
		p := parsePage(t, r.body)
		want := map[string]string{
			"description":         "Daily forecasts <b>for</b> Lyon.",
			"og:title":            "Météo Lyon (@meteolyon) · Herald",
			"og:type":             "website",
			"og:url":              "https://herald.example/@meteolyon",
			"og:description":      "Daily forecasts <b>for</b> Lyon.",
			"og:locale":           "fr_FR",
			"og:site_name":        "Herald",
			"twitter:card":        "summary",
			"twitter:title":       "Météo Lyon (@meteolyon) · Herald",
			"twitter:description": "Daily forecasts <b>for</b> Lyon.",
		}
		for k, v := range want {
			if p.meta[k] != v {
				t.Errorf("GET %s: meta %s = %q, want %q", path, k, p.meta[k], v)
			}
		}
		if _, ok := p.meta["robots"]; ok {
			t.Errorf("GET %s: a listed channel's page has robots %q", path, p.meta["robots"])
		}
		if p.lang != "fr-FR" || p.title != "Météo Lyon (@meteolyon) · Herald" {
			t.Errorf("GET %s: lang %q title %q", path, p.lang, p.title)
		}
		links := map[string]string{
			"canonical":                       "https://herald.example/@meteolyon",
			"alternate fr-FR":                 "https://herald.example/@meteolyon",
			"alternate application/atom+xml":  "/@meteolyon/feed.atom",
			"alternate application/feed+json": "/@meteolyon/feed.json",
			"stylesheet":                      "/app.css",
		}
		for k, v := range links {
			if p.links[k] != v {
				t.Errorf("GET %s: link %s = %q, want %q", path, k, p.links[k], v)
			}
		}
		if len(p.scripts) != 1 || p.scripts[0] != "/js/app.js" {
			t.Errorf("GET %s: scripts %q, want the app's module only", path, p.scripts)
		}
		for _, s := range []string{"Sunny <script>alert(1)</script> tomorrow", "Storm warning\nfor the evening", "@meteolyon", "0 followers"} {
			if !strings.Contains(p.text, s) {
				t.Errorf("GET %s: page text lacks %q", path, s)
			}
		}
		if strings.Index(p.text, "Storm warning") > strings.Index(p.text, "Sunny") {
			t.Errorf("GET %s: updates not newest first", path)
		}
	}
	// The channel's public signing key is on its page.
	keys, err := e.anon.SigningKeys(context.Background(), ch.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v %v", keys, err)
	}
	if r := e.do("GET", "/@meteolyon", "", nil); !bytes.Contains(r.body, []byte(keys[0].PublicKey)) {
		t.Fatalf("public key %s not on the page", keys[0].PublicKey)
	}
	// The strict CSP still holds: no inline script anywhere.
	r := e.do("GET", "/channels/"+ch.ID, "", nil)
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	if bytes.Contains(r.body, []byte("<script>")) {
		t.Fatalf("inline script on a public page:\n%s", r.body)
	}
	// The app's own pages are untouched.
	if r := e.do("GET", "/channels/new", "", nil); r.status != 200 || !bytes.Contains(r.body, []byte("<title>Herald</title>")) {
		t.Fatalf("/channels/new: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/@meteolyon/nothing", "", nil); r.status != 200 || !bytes.Contains(r.body, []byte("<title>Herald</title>")) {
		t.Fatalf("/@meteolyon/nothing should be the app: %d", r.status)
	}
}

func TestPublicUpdatePage(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "", true)
	u := e.post(owner, ch.ID, "Road closed on the A7\nuntil noon")
	e.post(owner, ch.ID, "Another one")
	path := "/channels/" + ch.ID + "/updates/" + strconv.FormatInt(u.Seq, 10)
	r := e.do("GET", path, "", nil)
	if r.status != 200 {
		t.Fatalf("GET %s: %d", path, r.status)
	}
	p := parsePage(t, r.body)
	if p.meta["og:type"] != "article" || p.meta["og:url"] != "https://herald.example"+path || p.links["canonical"] != "https://herald.example"+path {
		t.Fatalf("update page meta %v links %v", p.meta, p.links)
	}
	if p.title != "Road closed on the A7 · Météo Lyon" {
		t.Fatalf("title %q", p.title)
	}
	if p.meta["description"] != "Road closed on the A7 until noon" {
		t.Fatalf("description %q", p.meta["description"])
	}
	if strings.Contains(p.text, "Another one") || !strings.Contains(p.text, "Road closed") {
		t.Fatalf("update page shows other updates or not this one: %s", p.text)
	}
	// No handle: the channel's page is at /channels/{id}.
	if p.links["alternate application/atom+xml"] != "/channels/"+ch.ID+"/feed.atom" {
		t.Fatalf("feed link %q", p.links["alternate application/atom+xml"])
	}

	// Edits show at once (the cache is invalidated by the write).
	if _, err := owner.EditUpdate(context.Background(), ch.ID, u.ID, "Road open again"); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", path, "", nil); !bytes.Contains(r.body, []byte("Road open again")) || !bytes.Contains(r.body, []byte("edited")) {
		t.Fatalf("edited update not shown: %s", r.body)
	}
	if err := owner.DeleteUpdate(context.Background(), ch.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{path, "/channels/" + ch.ID + "/updates/99", "/channels/" + ch.ID + "/updates/x", "/channels/" + ch.ID + "/updates/-1", "/channels/nosuch/updates/1"} {
		r := e.do("GET", bad, "", nil)
		if r.status != 404 || r.header.Get("X-Robots-Tag") != "noindex" || bytes.Contains(r.body, []byte("Road")) {
			t.Fatalf("GET %s: %d %q", bad, r.status, r.header.Get("X-Robots-Tag"))
		}
	}
}

func TestPublicUnlistedAbsent(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "secretwx", false)
	u := e.post(owner, ch.ID, "Secret text")
	seq := strconv.FormatInt(u.Seq, 10)
	paths := []string{"/@secretwx", "/channels/" + ch.ID, "/channels/" + ch.ID + "/updates/" + seq,
		"/channels/" + ch.ID + "/feed.atom", "/channels/" + ch.ID + "/feed.json", "/@secretwx/feed.atom", "/@secretwx/feed.json", "/@nosuchhandle"}
	for _, path := range paths {
		// Even the owner's cookie or token gets no public page: pages are anonymous.
		r := e.do("GET", path, owner.Token(), nil)
		if r.status != 404 || r.header.Get("X-Robots-Tag") != "noindex" {
			t.Fatalf("GET %s: %d, X-Robots-Tag %q", path, r.status, r.header.Get("X-Robots-Tag"))
		}
		if bytes.Contains(r.body, []byte("Secret")) || bytes.Contains(r.body, []byte("secretwx")) || bytes.Contains(r.body, []byte("Météo")) {
			t.Fatalf("GET %s reveals the unlisted channel: %s", path, r.body)
		}
		p := parsePage(t, r.body)
		if p.meta["robots"] != "noindex" || len(p.scripts) != 1 {
			t.Fatalf("GET %s: robots %q scripts %v (the app must still load for followers)", path, p.meta["robots"], p.scripts)
		}
	}
	if r := e.do("GET", "/sitemap.xml", "", nil); bytes.Contains(r.body, []byte(ch.ID)) || bytes.Contains(r.body, []byte("secretwx")) {
		t.Fatalf("sitemap lists an unlisted channel: %s", r.body)
	}
	// Listing it later makes it public at once; unlisting hides it again.
	listed := true
	if _, err := owner.UpdateChannel(context.Background(), ch.ID, client.ChannelPatch{Listed: &listed}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/@secretwx", "", nil); r.status != 200 {
		t.Fatalf("listed channel: %d", r.status)
	}
	listed = false
	if _, err := owner.UpdateChannel(context.Background(), ch.ID, client.ChannelPatch{Listed: &listed}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/@secretwx", "", nil); r.status != 404 {
		t.Fatalf("unlisted again: %d", r.status)
	}
}

func TestRobotsAndSitemap(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	e.publicChannel(owner, "alpha", true)
	b := e.publicChannel(owner, "", true)
	r := e.do("GET", "/robots.txt", "", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte("Sitemap: https://herald.example/sitemap.xml")) || !bytes.Contains(r.body, []byte("Disallow: /api/")) {
		t.Fatalf("robots.txt: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/sitemap.xml", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/xml") {
		t.Fatalf("sitemap: %d %s", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{"<loc>https://herald.example/@alpha</loc>", "<loc>https://herald.example/channels/" + b.ID + "</loc>", `xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"`} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Fatalf("sitemap lacks %s:\n%s", want, r.body)
		}
	}
}

func TestPublicPageExpiry(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "expiring", true)
	e.post(owner, ch.ID, "Soon gone")
	if r := e.do("GET", "/@expiring", "", nil); !bytes.Contains(r.body, []byte("Soon gone")) {
		t.Fatal("update missing")
	}
	e.clock.Advance(herald.DefaultRetention + time.Second)
	if r := e.do("GET", "/@expiring", "", nil); r.status != 200 || bytes.Contains(r.body, []byte("Soon gone")) {
		t.Fatalf("expired update still on the page (%d)", r.status)
	}
}

func TestPublicPageNotModified(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "etags", true)
	e.post(owner, ch.ID, "One")
	r := e.do("GET", "/@etags", "", nil)
	etag := r.header.Get("ETag")
	if etag == "" || !strings.HasPrefix(r.header.Get("Cache-Control"), "public") {
		t.Fatalf("ETag %q Cache-Control %q", etag, r.header.Get("Cache-Control"))
	}
	if r := e.do("GET", "/@etags", "", nil, "If-None-Match", etag); r.status != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	e.post(owner, ch.ID, "Two")
	if r := e.do("GET", "/@etags", "", nil, "If-None-Match", etag); r.status != 200 || !bytes.Contains(r.body, []byte("Two")) {
		t.Fatalf("after a post: %d", r.status)
	}
}

func TestPublicOlderPages(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "paged", true)
	for i := 1; i <= 21; i++ {
		e.post(owner, ch.ID, "Bulletin number "+strconv.Itoa(i)+".")
	}
	r := e.do("GET", "/@paged", "", nil)
	if bytes.Contains(r.body, []byte("Bulletin number 1.")) || !bytes.Contains(r.body, []byte("Bulletin number 21.")) {
		t.Fatal("first page should hold updates 21 to 2")
	}
	if !bytes.Contains(r.body, []byte(`href="/@paged?before=2" rel="next"`)) {
		t.Fatalf("no link to older updates:\n%s", r.body)
	}
	r = e.do("GET", "/@paged?before=2", "", nil)
	p := parsePage(t, r.body)
	if r.status != 200 || !strings.Contains(p.text, "Bulletin number 1.") || strings.Contains(p.text, "Bulletin number 2.") {
		t.Fatalf("older page: %d %s", r.status, p.text)
	}
	if p.links["canonical"] != "https://herald.example/@paged?before=2" {
		t.Fatalf("older page canonical %q", p.links["canonical"])
	}
	if r := e.do("GET", "/@paged?before=nonsense", "", nil); r.status != 200 || !bytes.Contains(r.body, []byte("Bulletin number 21.")) {
		t.Fatalf("bad before: %d", r.status)
	}
}

// loadCounter records what public pages count as anonymous loads.
type loadCounter struct {
	mu  sync.Mutex
	ids []string
}

func (c *loadCounter) Record(string, []herald.ViewTarget, string) {}

func (c *loadCounter) RecordAnonymous(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, ids...)
}

func (c *loadCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.ids
	c.ids = nil
	return ids
}

func TestPublicLoadsCounted(t *testing.T) {
	counter := &loadCounter{}
	e := newEnv(t, withApp, func(c *hhttp.Config) { c.Views = counter })
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "counted", true)
	a := e.post(owner, ch.ID, "One")
	b := e.post(owner, ch.ID, "Two")
	for range 2 { // rendered, then from the cache
		e.do("GET", "/@counted", "", nil)
		if got := counter.take(); len(got) != 2 || got[0] != b.ID || got[1] != a.ID {
			t.Fatalf("page load counted %v, want [%s %s]", got, b.ID, a.ID)
		}
	}
	e.do("GET", "/channels/"+ch.ID+"/updates/"+strconv.FormatInt(a.Seq, 10), "", nil)
	if got := counter.take(); len(got) != 1 || got[0] != a.ID {
		t.Fatalf("permalink counted %v", got)
	}
	e.do("GET", "/@counted/feed.json", "", nil)
	if got := counter.take(); len(got) != 2 {
		t.Fatalf("feed counted %v", got)
	}
	e.do("HEAD", "/@counted", "", nil)
	e.do("GET", "/@nosuch", "", nil)
	if got := counter.take(); len(got) != 0 {
		t.Fatalf("HEAD or a 404 counted %v", got)
	}
}

// A suspended channel's public pages and feeds answer 410 Gone (never
// indexed, nothing of it shown); lifting the suspension brings them back.
func TestPublicSuspendedGone(t *testing.T) {
	e := newEnv(t, withApp)
	owner := e.signup("owner")
	ch := e.publicChannel(owner, "bankwx", true)
	u := e.post(owner, ch.ID, "Send your password here")
	seq := strconv.FormatInt(u.Seq, 10)
	paths := []string{"/@bankwx", "/channels/" + ch.ID, "/channels/" + ch.ID + "/updates/" + seq,
		"/channels/" + ch.ID + "/feed.atom", "/channels/" + ch.ID + "/feed.json", "/@bankwx/feed.json"}
	for _, path := range paths {
		if r := e.do("GET", path, "", nil); r.status != 200 {
			t.Fatalf("GET %s before: %d", path, r.status)
		}
	}
	op := e.operator("operator_oz")
	if r := e.act(op, map[string]string{"action": "suspend_channel", "channel_id": ch.ID, "reason": "impersonates a bank"}); r.status != 200 {
		t.Fatalf("suspend: %d %s", r.status, r.body)
	}
	for _, path := range paths {
		r := e.do("GET", path, "", nil)
		if r.status != 410 || r.header.Get("X-Robots-Tag") != "noindex" || bytes.Contains(r.body, []byte("password")) {
			t.Fatalf("GET %s suspended: %d %q", path, r.status, r.header.Get("X-Robots-Tag"))
		}
	}
	if r := e.act(op, map[string]string{"action": "lift_channel", "channel_id": ch.ID, "reason": "verified owner"}); r.status != 200 {
		t.Fatalf("lift: %d %s", r.status, r.body)
	}
	listed := true
	if _, err := owner.UpdateChannel(context.Background(), ch.ID, client.ChannelPatch{Listed: &listed}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/@bankwx", "", nil); r.status != 200 {
		t.Fatalf("after lifting: %d", r.status)
	}
}
