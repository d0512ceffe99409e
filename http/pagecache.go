package http

import (
	"net/http"
	"sync"
	"time"
)

// pageCache keeps encoded answers of GET .../updates (a channel's pages,
// per viewer) so that clients polling a feed cost neither a store read nor
// an encoding. It is exact only when every write goes through this server:
// each non-GET API request bumps the version of the channel in its path
// (or a global version when it names none) before its answer is written,
// and an entry is served only while the versions it was read under are
// current. So it is for a single node (SQLite); a cluster leaves it off.
//
// Entries are per viewer (the page holds the viewer's own reactions and
// votes, and unlisted channels are visible to followers only), never shared.
type pageCache struct {
	maxBytes int64
	maxTTL   time.Duration

	mu       sync.RWMutex
	global   uint64
	versions map[string]uint64
	entries  map[pageKey]*pageEntry
	bytes    int64
}

type pageKey struct {
	viewer, channel string
	before          int64
	limit           int
}

type pageEntry struct {
	body            []byte
	version, global uint64
	expires         time.Time
}

// maxVersionedChannels bounds the version map; past it, everything is
// invalidated at once and the map starts over.
const maxVersionedChannels = 1 << 20

func newPageCache(maxBytes int64) *pageCache {
	return &pageCache{
		maxBytes: maxBytes,
		maxTTL:   time.Minute, // a safety net: no entry outlives a minute
		versions: map[string]uint64{},
		entries:  map[pageKey]*pageEntry{},
	}
}

// get returns a current entry's body, or nil.
func (c *pageCache) get(k pageKey, now time.Time) []byte {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.entries[k]
	if e == nil || e.version != c.versions[k.channel] || e.global != c.global || !now.Before(e.expires) {
		return nil
	}
	return e.body
}

// version returns the versions to tag an entry with; call it before
// reading the store.
func (c *pageCache) version(channel string) (uint64, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.versions[channel], c.global
}

// put stores body read under versions (v, g), valid until expires.
func (c *pageCache) put(k pageKey, body []byte, v, g uint64, now, expires time.Time) {
	if n := int64(len(body)); n > c.maxBytes/16 {
		return // one huge page must not evict everything
	}
	if max := now.Add(c.maxTTL); expires.After(max) {
		expires = max
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != c.versions[k.channel] || g != c.global {
		return // already stale
	}
	if old := c.entries[k]; old != nil {
		c.bytes -= int64(len(old.body))
	}
	if c.bytes+int64(len(body)) > c.maxBytes {
		c.evict(now)
	}
	c.entries[k] = &pageEntry{body: body, version: v, global: g, expires: expires}
	c.bytes += int64(len(body))
}

// evict drops stale entries, then everything if still over budget.
func (c *pageCache) evict(now time.Time) {
	for k, e := range c.entries {
		if e.version != c.versions[k.channel] || e.global != c.global || !now.Before(e.expires) {
			delete(c.entries, k)
			c.bytes -= int64(len(e.body))
		}
	}
	if c.bytes > c.maxBytes/2 {
		clear(c.entries)
		c.bytes = 0
	}
}

// bump invalidates the pages of channel (or of every channel when "").
func (c *pageCache) bump(channel string) {
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

// bumpWriter bumps the cache before the first byte of a write request's
// answer leaves, so a client that got its 201 never reads a page cached
// before its write.
type bumpWriter struct {
	http.ResponseWriter
	bump   func()
	bumped bool
}

func (w *bumpWriter) do() {
	if !w.bumped {
		w.bumped = true
		w.bump()
	}
}

func (w *bumpWriter) WriteHeader(status int) { w.do(); w.ResponseWriter.WriteHeader(status) }

func (w *bumpWriter) Write(b []byte) (int, error) { w.do(); return w.ResponseWriter.Write(b) }

func (w *bumpWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// InvalidatePages drops every cached page, public pages and feeds
// included: for writes that don't go through the API (the scheduler
// publishing updates, link previews arriving).
func (s *Server) InvalidatePages() {
	if s.pages != nil {
		s.pages.bump("")
	}
	if s.public != nil {
		s.public.bump("")
	}
}
