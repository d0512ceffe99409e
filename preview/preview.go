// Package preview fetches link previews: a page's title, description, site
// name and image from its Open Graph and HTML metadata. Every fetch goes
// through internal/outbound (no private, loopback or link-local address,
// checked after DNS resolution and on every redirect), http and https only,
// with a time limit, a size limit and a descriptive User-Agent.
package preview

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/outbound"
)

// Defaults of a Fetcher.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultMaxBytes  = 1 << 20
	DefaultUserAgent = "Herald link preview (+https://github.com/heraldhq/herald)"
	maxRedirects     = 3
)

// Config configures a Fetcher.
type Config struct {
	// AllowHosts are hosts that may be fetched at any address, private or
	// loopback included (outbound.Policy.AllowedHosts; tests allow 127.0.0.1).
	AllowHosts []string
	// Lookup replaces DNS (tests).
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// Timeout bounds a whole fetch, redirects and body included (0: 5 s).
	Timeout time.Duration
	// MaxBytes bounds the page's body (0: 1 MB).
	MaxBytes int64
	// UserAgent names the fetcher to the linked site ("": DefaultUserAgent).
	UserAgent string
}

// Fetcher fetches link previews. It is safe for concurrent use.
type Fetcher struct {
	policy    outbound.Policy
	client    *http.Client
	maxBytes  int64
	userAgent string
}

// New returns a Fetcher.
func New(c Config) *Fetcher {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	p := outbound.Policy{AllowedHosts: c.AllowHosts, Lookup: c.Lookup, MaxRedirects: maxRedirects, Timeout: c.Timeout}
	return &Fetcher{policy: p, client: outbound.NewClient(p), maxBytes: c.MaxBytes, userAgent: c.UserAgent}
}

// Why a fetch gives no preview (besides the refusals of internal/outbound
// and network errors).
var (
	ErrTooLarge = errors.New("preview: the page is larger than the limit")
	ErrNotHTML  = errors.New("preview: the page is not HTML")
	ErrNoData   = errors.New("preview: the page has no title or description")
)

// Fetch fetches the page at raw and returns its preview. Nothing is
// returned for a URL the policy refuses, a failed or non-HTML response, a
// page over the size limit, or one without a title or description.
func (f *Fetcher) Fetch(ctx context.Context, raw string) (*herald.LinkPreview, error) {
	if err := f.policy.CheckURL(raw, "http", "https"); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", f.userAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("preview: the page answered %s", resp.Status)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "text/html" && ct != "application/xhtml+xml" {
		return nil, ErrNotHTML
	}
	if resp.ContentLength > f.maxBytes {
		return nil, ErrTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > f.maxBytes {
		return nil, ErrTooLarge
	}
	p := parse(body, resp.Request.URL)
	if p.Title == "" && p.Description == "" {
		return nil, ErrNoData
	}
	p.URL = raw
	return p, nil
}

// parse reads a page's metadata: Open Graph first, <title> and the
// description meta tag as fallbacks. It stops at <body>.
func parse(body []byte, base *url.URL) *herald.LinkPreview {
	var title, ogTitle, desc, ogDesc, site, image, canonical, ogURL string
	z := html.NewTokenizer(bytes.NewReader(body))
	inTitle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return finish(cmp.Or(ogTitle, title), cmp.Or(ogDesc, desc), site, image, cmp.Or(canonical, ogURL), base)
		case html.TextToken:
			if inTitle && title == "" {
				title = string(z.Text())
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if atom.Lookup(name) == atom.Title {
				inTitle = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Body:
				return finish(cmp.Or(ogTitle, title), cmp.Or(ogDesc, desc), site, image, cmp.Or(canonical, ogURL), base)
			case atom.Title:
				inTitle = tt == html.StartTagToken
			case atom.Link:
				var rel, href string
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "rel":
						rel = strings.ToLower(strings.TrimSpace(string(v)))
					case "href":
						href = string(v)
					}
				}
				if rel == "canonical" && canonical == "" {
					canonical = href
				}
			case atom.Meta:
				var key, content string
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "property", "name":
						if key == "" {
							key = strings.ToLower(string(v))
						}
					case "content":
						content = string(v)
					}
				}
				set := func(dst *string) {
					if *dst == "" {
						*dst = content
					}
				}
				switch key {
				case "og:title":
					set(&ogTitle)
				case "og:description":
					set(&ogDesc)
				case "description":
					set(&desc)
				case "og:site_name":
					set(&site)
				case "og:image", "og:image:url", "og:image:secure_url":
					set(&image)
				case "og:url":
					set(&ogURL)
				}
			}
		}
	}
}

func finish(title, desc, site, image, canonical string, base *url.URL) *herald.LinkPreview {
	return &herald.LinkPreview{
		Title:        clean(title, herald.PreviewTitleMaxLen),
		Description:  clean(desc, herald.PreviewDescriptionMaxLen),
		SiteName:     clean(site, herald.PreviewSiteNameMaxLen),
		ImageURL:     absolute(image, base),
		CanonicalURL: absolute(canonical, base),
	}
}

// absolute resolves a page's http(s) link against its address ("" if it
// is none, or too long).
func absolute(ref string, base *url.URL) string {
	if ref = strings.TrimSpace(ref); ref == "" || base == nil {
		return ""
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Host == "" {
		return ""
	}
	u.Fragment = ""
	if s := u.String(); len(s) <= herald.PreviewURLMaxLen && utf8.ValidString(s) && !strings.ContainsAny(s, " \t\n\r") {
		return s
	}
	return ""
}

// clean makes metadata plain one-line text of at most max characters.
func clean(s string, max int) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}
