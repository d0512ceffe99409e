package http

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/heraldhq/herald"
)

// SessionCookie is the name of the web app's session cookie.
const SessionCookie = "herald_session"

// tokenLen is the length of a base64url-encoded 32-byte token.
const tokenLen = 43

// newToken returns a fresh 256-bit token and the hash stored for it.
func newToken() (token string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// wellFormedToken avoids a database lookup for garbage.
func wellFormedToken(t string) bool {
	if len(t) != tokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// credential is how a request authenticated.
type credential int

const (
	credNone credential = iota
	credBearer
	credCookie
	credQuery
)

// requestToken finds the request's token: the Authorization header first,
// then the session cookie, then (only where allowQuery) ?access_token=,
// which EventSource and browser WebSocket clients need because they can't
// set headers.
func requestToken(r *http.Request, allowQuery bool) (string, credential, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", credNone, herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "Authorization must be \"Bearer TOKEN\".")
		}
		return strings.TrimSpace(tok), credBearer, nil
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return c.Value, credCookie, nil
	}
	if allowQuery {
		if t := r.URL.Query().Get("access_token"); t != "" {
			return t, credQuery, nil
		}
	}
	return "", credNone, nil
}

var errUnauthenticated = herald.KindErrorf(herald.EUNAUTHORIZED, "unauthenticated", "Sign in first: send Authorization: Bearer TOKEN.")
var errBadToken = herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "The token is invalid or expired.")

// authenticate returns the request's account, or nil for an anonymous
// request. A presented but invalid token is an error, never anonymous: a
// client with an expired session must learn it. Cookie-authenticated state
// changes must pass the cross-origin check.
func (s *Server) authenticate(r *http.Request, allowQuery bool) (*herald.Account, error) {
	tok, cred, err := requestToken(r, allowQuery)
	if err != nil {
		return nil, err
	}
	if cred == credNone {
		return nil, nil
	}
	if cred == credCookie {
		if err := s.cop.Check(r); err != nil {
			return nil, errCrossOrigin
		}
	}
	if isKeySecret(tok) {
		return nil, errKeyNotAllowed
	}
	if !wellFormedToken(tok) {
		return nil, errBadToken
	}
	hash := sha256.Sum256([]byte(tok))
	now := s.clock.Now()
	if a := s.sessions.get(hash, now); a != nil {
		return a, nil
	}
	a, err := s.Store.FindAccountBySession(r.Context(), hash[:])
	if err != nil {
		if c := herald.ErrorCode(err); c == herald.EUNAUTHORIZED || c == herald.ENOTFOUND {
			return nil, errBadToken
		}
		return nil, err
	}
	s.sessions.put(hash, a, now)
	return a, nil
}

// authenticateStream returns the account of a stream request, which must be
// signed in: a bearer token, the session cookie or ?access_token= (browsers
// can't set headers on EventSource and WebSocket); and the public id of its
// session, whose end ends the stream.
func (s *Server) authenticateStream(r *http.Request) (*herald.Account, string, error) {
	a, err := s.authenticate(r, true)
	if err != nil {
		return nil, "", err
	}
	if a == nil {
		return nil, "", errUnauthenticated
	}
	tok, _, _ := requestToken(r, true)
	return a, herald.SessionID(hashToken(tok)), nil
}

// currentSession returns the token hash of an authenticated request.
func currentSession(r *http.Request) []byte {
	tok, _, _ := requestToken(r, false)
	return hashToken(tok)
}

// requireAccount is authenticate for routes that need an account. A
// write also takes a token from the account's write limit.
func (s *Server) requireAccount(r *http.Request) (*herald.Account, error) {
	a, err := s.authenticate(r, false)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, errUnauthenticated
	}
	if isWrite(r) {
		if err := s.rateLimit(s.clientAddr(r), nil, s.limits.writeAccount, a.ID); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// viewerID returns the caller's account id, or "" when anonymous.
func (s *Server) viewerID(r *http.Request) (string, error) {
	a, err := s.authenticate(r, false)
	if err != nil || a == nil {
		return "", err
	}
	return a.ID, nil
}

// startSession creates a session for a and returns its token. The
// request's User-Agent labels it in the account's sessions list.
func (s *Server) startSession(r *http.Request, a *herald.Account) (string, error) {
	tok, hash := newToken()
	now := s.clock.Now()
	err := s.Store.CreateSession(r.Context(), &herald.Session{
		TokenHash: hash, AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL),
		UserAgent: r.Header.Get("User-Agent"),
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// setSessionCookie hands the web app its session cookie.
func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, tok string) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: tok, Path: "/",
		MaxAge:   int(s.sessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.secureRequest(r),
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureRequest(r),
	})
}

// secureRequest reports whether the client reached us over https.
func (s *Server) secureRequest(r *http.Request) bool {
	if s.secure || r.TLS != nil {
		return true
	}
	return s.fromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func peerAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	peer, ok := peerAddr(r)
	return ok && inPrefixes(peer, s.proxies)
}

// clientAddr returns the client's address: the peer, or, when the peer is a
// trusted proxy, the rightmost X-Forwarded-For entry that is not itself a
// trusted proxy (entries further left are client-controlled).
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	peer, ok := peerAddr(r)
	if !ok {
		return netip.Addr{}
	}
	if !inPrefixes(peer, s.proxies) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !inPrefixes(a, s.proxies) {
			return a
		}
	}
	return peer
}

// ClientAddr returns the client address as the rate limiter sees it.
func (s *Server) ClientAddr(r *http.Request) string {
	a := s.clientAddr(r)
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
