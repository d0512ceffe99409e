package http

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald"
)

// sitemapMax bounds the sitemap (the protocol allows 50,000 URLs per file):
// the most recently created listed channels, read a directory page at a time.
const sitemapMax = 5000

// sitemapTTL is how long a built sitemap is served before it is read again.
const sitemapTTL = 10 * time.Minute

// handleRobots lets crawlers in everywhere but the API and invite links,
// and names the sitemap.
func (s *Server) handleRobots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write([]byte("User-agent: *\nDisallow: /api/\nDisallow: /c/\nDisallow: /signin\nDisallow: /signup\nDisallow: /following\nAllow: /\n\nSitemap: " + s.base(r) + "/sitemap.xml\n"))
}

type sitemapURLSet struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// handleSitemap lists listed, live channels (the directory's own filter).
func (s *Server) handleSitemap(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	base := s.base(r)
	key := "sitemap|"
	if s.publicURL == "" {
		key += base
	}
	e := s.public.get(key, now)
	if e == nil {
		set := sitemapURLSet{}
		cursor := ""
		for len(set.URLs) < sitemapMax {
			page, err := s.Store.SearchDirectory(r.Context(), "", herald.DirectoryQuery{Sort: herald.SortNew, Limit: herald.MaxDirectoryLimit, Cursor: cursor})
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			for _, ch := range page.Channels {
				if !ch.Listed {
					continue
				}
				u := sitemapURL{Loc: base + channelPath(ch)}
				if ch.LastUpdateAt != nil {
					u.LastMod = ch.LastUpdateAt.UTC().Format(time.RFC3339)
				}
				set.URLs = append(set.URLs, u)
			}
			if page.NextCursor == "" || len(page.Channels) == 0 {
				break
			}
			cursor = page.NextCursor
		}
		if len(set.URLs) > sitemapMax {
			set.URLs = set.URLs[:sitemapMax]
		}
		out, err := xml.MarshalIndent(set, "", " ")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		body := append([]byte(xml.Header), out...)
		e = &publicEntry{status: http.StatusOK, ctype: "application/xml; charset=utf-8", body: body,
			etag: `"` + strconv.FormatInt(now.UnixNano(), 36) + `"`, lastModified: now, expires: now.Add(sitemapTTL)}
		s.public.put(key, e)
	}
	w.Header().Set("Content-Type", e.ctype)
	w.Header().Set("Cache-Control", "public, max-age=600")
	w.Header().Set("ETag", e.etag)
	http.ServeContent(w, r, "", e.lastModified, bytes.NewReader(e.body))
}
