package http

import "net/http"

// handleRemovePreview removes an update's link preview (admins): it is not
// fetched again unless an edit changes the URL.
func (s *Server) handleRemovePreview(w http.ResponseWriter, r *http.Request) error {
	a, cid, uid, err := s.accountAndUpdate(r)
	if err != nil {
		return err
	}
	u, err := s.Store.RemovePreview(r.Context(), a.ID, cid, uid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}
