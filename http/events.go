package http

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/realtime"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The stream routes' edge: authentication (bearer, cookie or ?access_token=,
// which EventSource and browser WebSockets need), the resume cursor, the
// WebSocket handshake and the Origin of browser pages, the address the
// per-address stream limit counts. The stream server gets a checked
// realtime.StreamRequest and refuses, if it must, with a *herald.Error
// before the upgrade; every refusal is a problem+json written here.

var (
	errNoStreams        = herald.KindErrorf(herald.EUNAVAILABLE, "streams-unavailable", "Real-time streams are not available on this server.")
	errOriginNotAllowed = herald.KindErrorf(herald.EFORBIDDEN, "origin-not-allowed", "This origin may not open a stream.")
	errWebSocketHTTP2   = herald.KindErrorf(herald.EINVALID, "websocket-handshake", "WebSocket needs an HTTP/1.1 connection.")
	errWebSocketUpgrade = herald.KindErrorf(herald.EINVALID, "websocket-handshake", "This endpoint speaks WebSocket: send GET with Connection: Upgrade and Upgrade: websocket.")
	errWebSocketKey     = herald.KindErrorf(herald.EINVALID, "websocket-handshake", "Missing or malformed Sec-WebSocket-Key.")
	errWebSocketVersion = herald.KindErrorf(herald.EINVALID, "websocket-version", "Only WebSocket version 13 is supported.")
)

// streamRetryAfterSecs is the Retry-After of a stream refused for its
// limits or a shutdown.
const streamRetryAfterSecs = "5"

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	return s.serveStream(w, r, realtime.TransportSSE)
}

func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) error {
	return s.serveStream(w, r, realtime.TransportWebSocket)
}

func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, tr realtime.Transport) error {
	a, session, err := s.authenticateStream(r)
	if err != nil {
		return err
	}
	if s.Streams == nil {
		return errNoStreams
	}
	req, err := s.streamRequest(r, a.ID, tr)
	req.Session = session
	if err == errWebSocketVersion {
		// RFC 6455 4.4: 426 with the versions this server speaks.
		w.Header().Set("Sec-WebSocket-Version", "13")
		writeProblem(w, http.StatusUpgradeRequired, "websocket-version", http.StatusText(http.StatusUpgradeRequired), herald.ErrorMessage(err))
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.Streams.Serve(w, r, req); err != nil {
		if c := herald.ErrorCode(err); c == herald.ERATELIMIT || c == herald.EUNAVAILABLE {
			w.Header().Set("Retry-After", streamRetryAfterSecs)
		}
		return err
	}
	return nil
}

// streamRequest checks an authenticated stream request and types it.
func (s *Server) streamRequest(r *http.Request, accountID string, tr realtime.Transport) (realtime.StreamRequest, error) {
	cursor, err := streamCursor(r, tr)
	if err != nil {
		return realtime.StreamRequest{}, err
	}
	if tr == realtime.TransportWebSocket {
		if err := checkWebSocketHandshake(r); err != nil {
			return realtime.StreamRequest{}, err
		}
		if !s.streamOriginAllowed(r) {
			return realtime.StreamRequest{}, errOriginNotAllowed
		}
	}
	req := realtime.StreamRequest{Account: accountID, Cursor: cursor, Transport: tr}
	// Networks exempt from rate limits (a proxy, a load test on loopback)
	// are exempt from the per-address stream limit too.
	if a := s.clientAddr(r); a.IsValid() && !inPrefixes(a, s.exempt) {
		req.Addr = a.String()
	}
	return req, nil
}

// streamCursor is where the client resumes: ?since=, or for SSE the
// Last-Event-ID header an EventSource sends when it reconnects. An invalid
// cursor is an EINVALID error (400).
func streamCursor(r *http.Request, tr realtime.Transport) (herald.Cursor, error) {
	raw := r.URL.Query().Get("since")
	if tr == realtime.TransportSSE && raw == "" {
		raw = r.Header.Get("Last-Event-ID")
	}
	return herald.ParseCursor(raw)
}

// checkWebSocketHandshake refuses an upgrade request the WebSocket library
// would refuse, so that the refusal is a problem+json and not the library's
// plain text written after hijacking.
func checkWebSocketHandshake(r *http.Request) error {
	if r.ProtoMajor != 1 {
		return errWebSocketHTTP2
	}
	if r.Method != http.MethodGet || !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return errWebSocketUpgrade
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return errWebSocketVersion
	}
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key"))
	if err != nil || len(key) != 16 {
		return errWebSocketKey
	}
	return nil
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// streamOriginAllowed reports whether a browser page at the request's
// Origin may open a WebSocket with the user's credentials: the server's own
// origin (the request's Host, or PublicURL's), or one of AllowedOrigins (an
// origin such as "https://app.example.com", or a host pattern such as
// "*.example.com"). Requests without Origin come from non-browser clients
// and are allowed.
func (s *Server) streamOriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range s.origins { // PublicURL's origin first, then AllowedOrigins
		if strings.Contains(a, "://") {
			if strings.EqualFold(a, origin) {
				return true
			}
			continue
		}
		if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(u.Host)); ok {
			return true
		}
	}
	return false
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	if !s.ready.Load() {
		return herald.KindErrorf(herald.EUNAVAILABLE, "not-ready", "Not ready.")
	}
	return writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"ok"})
}

var metricsHandler = promhttp.Handler()

// MetricsHandler serves /metrics (behind the token if one is set): on
// --addr unless it is served on its own listener.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	return mux
}

var errMetricsToken = herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "/metrics needs its token: Authorization: Bearer TOKEN.")

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metricsTok != "" {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.metricsTok)) != 1 {
			s.writeError(w, r, errMetricsToken)
			return
		}
	}
	metricsHandler.ServeHTTP(w, r)
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metricsOff || (s.metricsTok == "" && !loopbackPeer(r)) {
		// Served elsewhere, or neither elsewhere nor behind a token: then
		// only to this machine (a proxy in front counts as a remote client).
		s.writeError(w, r, herald.KindErrorf(herald.ENOTFOUND, "not-found", "Not found."))
		return
	}
	s.serveMetrics(w, r)
}

// loopbackPeer reports whether the connection itself comes from this
// machine (X-Forwarded-For is not believed here).
func loopbackPeer(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
