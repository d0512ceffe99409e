package http

import (
	"net/http"
)

// handleSetPinned pins (PUT) or unpins (DELETE) an update (admins).
func (s *Server) handleSetPinned(pinned bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, cid, uid, err := s.accountAndUpdate(r)
		if err != nil {
			return err
		}
		u, err := s.Store.SetPinned(r.Context(), a.ID, cid, uid, pinned)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, u)
	}
}

// handleListPinned answers a channel's pinned updates (at most
// herald.MaxPinned), most recently pinned first.
func (s *Server) handleListPinned(w http.ResponseWriter, r *http.Request) error {
	viewer, err := s.viewerID(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	us, err := s.Store.ListPinned(r.Context(), viewer, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"updates": us})
}
