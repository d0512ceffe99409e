package http

import (
	"net/http"
)

// handleSigningKeys answers a channel's public signing keys to whoever may
// see the channel (anyone, for a listed one): the current key first, then
// retired keys still covering live updates.
func (s *Server) handleSigningKeys(w http.ResponseWriter, r *http.Request) error {
	viewer, err := s.viewerID(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	keys, err := s.Store.SigningKeys(r.Context(), viewer, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"channel_id": id, "keys": keys})
}

// handleRotateSigningKey retires the channel's key and makes a new one (admins).
func (s *Server) handleRotateSigningKey(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	k, err := s.Store.RotateSigningKey(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, k)
}
