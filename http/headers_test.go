package http_test

import (
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "News")
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/healthz", ""},
		{"GET", "/metrics", ""},
		{"GET", "/api/v1/channels/" + ch.ID, ""},
		{"GET", "/api/v1/me", ""},                   // 401
		{"GET", "/api/v1/nope", ""},                 // 404
		{"DELETE", "/api/v1/me", owner.Token()},     // 405
		{"GET", "/", ""},                            // no web app: 404
		{"POST", "/api/v1/channels", owner.Token()}, // 400
	} {
		r := e.do(c.method, c.path, c.token, nil)
		h := r.header
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s %s (%d): headers %v", c.method, c.path, r.status, h)
		}
		if r.status >= 500 {
			t.Errorf("%s %s = %d", c.method, c.path, r.status)
		}
	}
}
