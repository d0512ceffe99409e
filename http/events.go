package http

import (
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var errNoStreams = herald.KindErrorf(herald.EUNAVAILABLE, "streams-unavailable", "Real-time streams are not available on this server.")

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Authenticate(r)
	if err != nil {
		return err
	}
	if s.Streams == nil {
		return errNoStreams
	}
	s.Streams.ServeSSE(w, r, a.ID, s.ClientAddr(r))
	return nil
}

func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) error {
	a, err := s.Authenticate(r)
	if err != nil {
		return err
	}
	if s.Streams == nil {
		return errNoStreams
	}
	s.Streams.ServeWebSocket(w, r, a.ID, s.ClientAddr(r))
	return nil
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
