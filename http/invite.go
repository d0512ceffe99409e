package http

import (
	"container/list"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/heraldhq/herald"
	qrcode "github.com/skip2/go-qrcode"
)

// handleInvite previews the channel an invite opens, to anyone: the channel
// as the caller sees it, which names no admin (the invite code itself is in
// it only for the channel's own admins).
func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) error {
	viewer, err := s.viewerID(r)
	if err != nil {
		return err
	}
	code, err := inviteCode(r)
	if err != nil {
		return err
	}
	ch, err := s.Store.FindChannelByInvite(r.Context(), viewer, code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

// handleFollowInvite follows the channel an invite opens, listed or not.
func (s *Server) handleFollowInvite(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	code, err := inviteCode(r)
	if err != nil {
		return err
	}
	ch, err := s.Store.FollowByInvite(r.Context(), a.ID, code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

// handleRotateInvite gives a channel a new invite code (admins); the old
// code stops working at once.
func (s *Server) handleRotateInvite(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	code, err := s.Store.RotateInvite(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	s.qr.forget(id)
	return writeJSON(w, http.StatusOK, map[string]string{"invite_code": code, "invite_url": s.inviteURL(r, code)})
}

// QR code sizes in pixels for qr.png (?size=). Rendering costs grow with
// the square of the size (about 20 ms of CPU at 1024); 1024 px prints
// 8.7 cm wide at 300 dpi, and qr.svg scales to any size for free.
const (
	qrMinSize     = 64
	qrMaxSize     = 1024
	qrDefaultSize = 256
)

// handleInviteQR renders the invite link as a QR code, SVG or PNG. Dead
// codes are 404, so a rotated code's old QR image can't be fetched anew:
// the code is looked up on every request, before the cache. Images are
// cached per link, format and size (see qrCache); each rendering, the
// expensive part, counts against the client address's QR rate limit.
func (s *Server) handleInviteQR(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		code, err := inviteCode(r)
		if err != nil {
			return err
		}
		size := 0
		if format == "png" {
			if size, err = qrSize(r); err != nil {
				return err
			}
		}
		ch, err := s.Store.FindChannelByInvite(r.Context(), "", code)
		if err != nil {
			return err
		}
		key := qrKey{url: s.inviteURL(r, code), format: format, size: size}
		body := s.qr.get(key)
		if body == nil {
			if err := s.rateLimit(s.clientAddr(r), s.limits.qrAddr, nil, ""); err != nil {
				return err
			}
			if body, err = renderQR(key); err != nil {
				return err
			}
			s.qr.put(key, ch.ID, body)
		}
		h := w.Header()
		if format == "png" {
			h.Set("Content-Type", "image/png")
		} else {
			h.Set("Content-Type", "image/svg+xml")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		// Codes die on rotation: caches must ask again.
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return nil
	}
}

// qrSize returns the ?size= of qr.png, qrDefaultSize when absent.
func qrSize(r *http.Request) (int, error) {
	v := r.URL.Query().Get("size")
	if v == "" {
		return qrDefaultSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < qrMinSize || n > qrMaxSize {
		return 0, herald.KindErrorf(herald.EINVALID, "invalid-size",
			"size must be a whole number of pixels from %d to %d; qr.svg scales to any size.", qrMinSize, qrMaxSize)
	}
	return n, nil
}

// renderQR draws the QR code of key.url.
func renderQR(key qrKey) ([]byte, error) {
	q, err := qrcode.New(key.url, qrcode.Medium)
	if err != nil {
		// The one way to fail: more than a QR code holds, which takes a
		// Host header of kilobytes when no public URL is set.
		return nil, herald.KindErrorf(herald.EINVALID, "invite-link-too-long", "The invite link is too long for a QR code.")
	}
	if key.format != "png" {
		return qrSVG(q.Bitmap()), nil
	}
	body, err := q.PNG(key.size)
	if err != nil {
		return nil, fmt.Errorf("qr png: %w", err)
	}
	return body, nil
}

// qrCacheBytes bounds the QR image cache: PNGs are 0.5 to 2 KiB and SVGs
// about 5 KiB, so thousands of images fit.
const qrCacheBytes = 4 << 20

// qrKey is what a QR image depends on: the link it encodes (which holds
// the invite code, and the request's host when no public URL is set), the
// format and the PNG size (0 for SVG).
type qrKey struct {
	url, format string
	size        int
}

// qrCache keeps rendered QR images, least recently used first out, within
// a byte budget. It is exact whatever else writes the store: an image
// depends only on its key, and a dead code is refused before the cache is
// read. Rotating a code or deleting a channel on this server drops the
// channel's images at once, so they don't linger until evicted.
type qrCache struct {
	max int64

	mu        sync.Mutex
	bytes     int64
	lru       *list.List // of *qrEntry, most recently used at the front
	entries   map[qrKey]*list.Element
	byChannel map[string][]qrKey
}

type qrEntry struct {
	key     qrKey
	channel string
	body    []byte
}

func newQRCache(maxBytes int64) *qrCache {
	return &qrCache{max: maxBytes, lru: list.New(), entries: map[qrKey]*list.Element{}, byChannel: map[string][]qrKey{}}
}

// cost is what an entry counts against the budget: its image, its key and
// bookkeeping.
func (e *qrEntry) cost() int64 {
	return int64(len(e.body) + 2*len(e.key.url) + len(e.channel) + 128)
}

// get returns the cached image for k, or nil.
func (c *qrCache) get(k qrKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[k]
	if el == nil {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*qrEntry).body
}

// put caches body as k's image, for the given channel; an image larger than
// the whole budget is not kept.
func (c *qrCache) put(k qrKey, channel string, body []byte) {
	e := &qrEntry{key: k, channel: channel, body: body}
	if e.cost() > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[k]; old != nil {
		c.remove(old)
	}
	c.entries[k] = c.lru.PushFront(e)
	c.byChannel[channel] = append(c.byChannel[channel], k)
	c.bytes += e.cost()
	for c.bytes > c.max {
		c.remove(c.lru.Back())
	}
}

// forget drops every image of the channel's links.
func (c *qrCache) forget(channel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := c.byChannel[channel]
	delete(c.byChannel, channel) // before remove, which would edit keys
	for _, k := range keys {
		if el := c.entries[k]; el != nil {
			c.remove(el)
		}
	}
}

// remove drops one entry; c.mu is held.
func (c *qrCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*qrEntry)
	delete(c.entries, e.key)
	c.bytes -= e.cost()
	keys := c.byChannel[e.channel]
	if i := slices.Index(keys, e.key); i >= 0 {
		keys = slices.Delete(keys, i, i+1)
	}
	if len(keys) == 0 {
		delete(c.byChannel, e.channel)
	} else {
		c.byChannel[e.channel] = keys
	}
}

// len returns the number of cached images and their cost.
func (c *qrCache) len() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}

// qrSVG draws a QR bitmap (quiet zone included) as one path of dark runs,
// one module per unit, scaled by the viewer.
func qrSVG(bits [][]bool) []byte {
	n := len(bits)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String())
}

// inviteCode returns the {code} path parameter; impossible codes are 404.
func inviteCode(r *http.Request) (string, error) {
	code := r.PathValue("code")
	if code == "" || len(code) > maxIDLen {
		return "", herald.KindErrorf(herald.ENOTFOUND, "invite-not-found", "Invite not found.")
	}
	return code, nil
}

// inviteURL is the link an invite code is shared as: the web app's page
// /c/{code} under the server's public URL (--public-url). Without one, the
// request's Host is used only when it names the address the request came
// to (or localhost on loopback) or an allowed origin's host: an arbitrary
// Host header never ends up in a link or QR code someone shares; otherwise
// the address the request came to is used.
func (s *Server) inviteURL(r *http.Request, code string) string {
	base := s.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + s.trustedHost(r)
	}
	return strings.TrimRight(base, "/") + "/c/" + code
}

// trustedHost returns r.Host when it is the server's own, else the local
// address of the connection.
func (s *Server) trustedHost(r *http.Request) string {
	for _, o := range s.origins {
		h := o
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			h = u.Host
		}
		if ok, _ := path.Match(strings.ToLower(h), strings.ToLower(r.Host)); ok {
			return r.Host
		}
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil {
		return "localhost"
	}
	la, err := netip.ParseAddrPort(local.String())
	if err != nil {
		return local.String()
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	if port == strconv.Itoa(int(la.Port())) {
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && a.Unmap() == la.Addr().Unmap() {
			return r.Host
		}
		if strings.EqualFold(host, "localhost") && la.Addr().IsLoopback() {
			return r.Host
		}
	}
	return la.String()
}
