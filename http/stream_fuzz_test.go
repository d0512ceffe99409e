package http

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/realtime"
)

// wantClientError fails unless err is a *herald.Error whose code maps to a
// 4xx status.
func wantClientError(t *testing.T, err error) {
	t.Helper()
	var he *herald.Error
	if !errors.As(err, &he) {
		t.Fatalf("error %v (%T) is not a *herald.Error", err, err)
	}
	if st := StatusOf(herald.ErrorCode(err)); st < 400 || st > 499 {
		t.Fatalf("error %v maps to %d, want 4xx", err, st)
	}
}

// FuzzStreamCursor: whatever ?since= and Last-Event-ID hold, the cursor is
// parsed or refused with a 400, never a panic; a parsed cursor survives a
// round trip through its string form.
func FuzzStreamCursor(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""}, {"ch1:4", ""}, {"", "@acc:2,ch1:9"}, {"ch1:-1", ""}, {"bad stream!:1", ""},
		{"a:1,a:2", ""}, {"", ":"}, {"ch:99999999999999999999", ""}, {"é:1", "x"}, {strings.Repeat("a:1,", 50), ""},
	} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], seed[1], true)
	}
	f.Fuzz(func(t *testing.T, since, lastEventID string, ws bool) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/events?since="+url.QueryEscape(since), nil)
		r.Header.Set("Last-Event-ID", lastEventID)
		tr := realtime.TransportSSE
		if ws {
			tr = realtime.TransportWebSocket
		}
		c, err := streamCursor(r, tr)
		if err != nil {
			wantClientError(t, err)
			if herald.ErrorKind(err) != "invalid-cursor" {
				t.Fatalf("kind %q", herald.ErrorKind(err))
			}
			return
		}
		if since == "" && !ws && lastEventID != "" && len(c) == 0 {
			t.Fatalf("Last-Event-ID %q parsed to an empty cursor", lastEventID)
		}
		for stream, seq := range c {
			if stream == "" || seq < 0 {
				t.Fatalf("accepted %q:%d", stream, seq)
			}
		}
		again, err := herald.ParseCursor(c.String())
		if err != nil || again.String() != c.String() || len(again) != len(c) {
			t.Fatalf("round trip of %v: %v, %v", c, again, err)
		}
	})
}

// FuzzWebSocketHandshake: any upgrade request is accepted or refused with a
// 4xx problem; an accepted one is a GET over HTTP/1 naming the upgrade, in
// version 13, with a 16-byte key.
func FuzzWebSocketHandshake(f *testing.F) {
	f.Add("GET", 1, "Upgrade", "websocket", "13", "dGhlIHNhbXBsZSBub25jZQ==")
	f.Add("GET", 1, "keep-alive, Upgrade", "WebSocket", "13", "dGhlIHNhbXBsZSBub25jZQ==")
	f.Add("GET", 2, "Upgrade", "websocket", "13", "dGhlIHNhbXBsZSBub25jZQ==")
	f.Add("POST", 1, "Upgrade", "websocket", "13", "dGhlIHNhbXBsZSBub25jZQ==")
	f.Add("GET", 1, "Upgrade", "websocket", "8", "dGhlIHNhbXBsZSBub25jZQ==")
	f.Add("GET", 1, "Upgrade", "websocket", "13", "short")
	f.Add("GET", 1, ",,,", "", "", "")
	f.Fuzz(func(t *testing.T, method string, major int, connection, upgrade, version, key string) {
		r := &http.Request{Method: method, ProtoMajor: major, Header: http.Header{}}
		r.Header.Set("Connection", connection)
		r.Header.Set("Upgrade", upgrade)
		r.Header.Set("Sec-WebSocket-Version", version)
		r.Header.Set("Sec-WebSocket-Key", key)
		err := checkWebSocketHandshake(r)
		if err != nil {
			wantClientError(t, err)
			return
		}
		if method != http.MethodGet || major != 1 || version != "13" || !headerHasToken(r.Header, "Upgrade", "websocket") || len(key) != 24 {
			t.Fatalf("accepted %s HTTP/%d Connection %q Upgrade %q version %q key %q", method, major, connection, upgrade, version, key)
		}
	})
}

// FuzzStreamToken: the Authorization header, the session cookie and
// ?access_token= either yield a token or a 401; a bearer token is the
// header's second word, trimmed; access_token is read only where allowed.
func FuzzStreamToken(f *testing.F) {
	tok := strings.Repeat("A", tokenLen)
	f.Add("Bearer "+tok, "", "", true)
	f.Add("bearer  "+tok+" ", "", "", false)
	f.Add("", "", tok, true)
	f.Add("", "", tok, false)
	f.Add("Basic dXNlcjpwYXNz", "", "", true)
	f.Add("Bearer", "", "", true)
	f.Add("", tok, "x", true)
	f.Add("Bearer \x00", "", "%zz", true)
	f.Fuzz(func(t *testing.T, authorization, cookie, accessToken string, allowQuery bool) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/events", nil)
		r.URL.RawQuery = "access_token=" + accessToken
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		if cookie != "" {
			r.Header.Set("Cookie", SessionCookie+"="+cookie)
		}
		got, cred, err := requestToken(r, allowQuery)
		if err != nil {
			wantClientError(t, err)
			if herald.ErrorCode(err) != herald.EUNAUTHORIZED {
				t.Fatalf("code %s", herald.ErrorCode(err))
			}
			if authorization == "" {
				t.Fatalf("refused without an Authorization header: %v", err)
			}
			return
		}
		switch cred {
		case credBearer:
			if authorization == "" || got == "" || got != strings.TrimSpace(got) || !strings.Contains(authorization, got) {
				t.Fatalf("bearer token %q from %q", got, authorization)
			}
		case credCookie:
			if authorization != "" || got == "" {
				t.Fatalf("cookie token %q with Authorization %q", got, authorization)
			}
		case credQuery:
			if !allowQuery || authorization != "" || got == "" || got != r.URL.Query().Get("access_token") {
				t.Fatalf("query token %q (allowed %v)", got, allowQuery)
			}
		case credNone:
			if got != "" || authorization != "" || allowQuery && r.URL.Query().Get("access_token") != "" && cookie == "" {
				t.Fatalf("no credential but token %q, Authorization %q", got, authorization)
			}
		}
		// A token that isn't well formed never reaches the store.
		if wellFormedToken(got) && len(got) != tokenLen {
			t.Fatalf("well-formed token of length %d", len(got))
		}
	})
}

// FuzzStreamOrigin: any Origin header is allowed or refused, never a
// panic; a refused one is not the request's own host.
func FuzzStreamOrigin(f *testing.F) {
	for _, o := range []string{"", "https://herald.example", "https://x.trusted.example", "null", "https://evil.example", "http://[::1", "https://a%zz"} {
		f.Add(o, "herald.example")
	}
	s := NewServer(Config{PublicURL: "https://herald.example", AllowedOrigins: []string{"https://app.example.org", "*.trusted.example"}})
	f.Fuzz(func(t *testing.T, origin, host string) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/ws", nil)
		r.Host = host
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		ok := s.streamOriginAllowed(r)
		if origin == "" && !ok {
			t.Fatal("a request without Origin refused")
		}
		if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, host) && !ok {
			t.Fatalf("origin %q refused on its own host %q", origin, host)
		}
	})
}
