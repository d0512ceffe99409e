package http

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
	return writeJSON(w, http.StatusOK, map[string]string{"invite_code": code, "invite_url": s.inviteURL(r, code)})
}

// QR code sizes in pixels for qr.png (?size=).
const (
	qrMinSize     = 64
	qrMaxSize     = 2048
	qrDefaultSize = 256
)

// handleInviteQR renders the invite link as a QR code, SVG or PNG. Dead
// codes are 404, so a rotated code's old QR image can't be fetched anew.
func (s *Server) handleInviteQR(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		code, err := inviteCode(r)
		if err != nil {
			return err
		}
		size, ok, err := queryInt(r, "size", "invalid-size", qrMinSize, qrMaxSize)
		if err != nil {
			return err
		}
		if !ok {
			size = qrDefaultSize
		}
		if _, err := s.Store.FindChannelByInvite(r.Context(), "", code); err != nil {
			return err
		}
		q, err := qrcode.New(s.inviteURL(r, code), qrcode.Medium)
		if err != nil {
			return fmt.Errorf("qr: %w", err)
		}
		var body []byte
		var ctype string
		switch format {
		case "png":
			if body, err = q.PNG(int(size)); err != nil {
				return fmt.Errorf("qr png: %w", err)
			}
			ctype = "image/png"
		default:
			body, ctype = qrSVG(q.Bitmap()), "image/svg+xml"
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		// Codes die on rotation: caches must ask again.
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return nil
	}
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
// /c/{code} under the server's public URL (--public-url), or under the
// address the request came to when none is configured.
func (s *Server) inviteURL(r *http.Request, code string) string {
	base := s.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimRight(base, "/") + "/c/" + code
}
