package http

import (
	"net/http"

	"github.com/heraldhq/herald"
)

// handleMyManagedChannels lists the channels the caller owns or administers,
// followed or not: the only way back to a channel its admin doesn't follow.
func (s *Server) handleMyManagedChannels(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	chs, err := s.Store.ListManagedChannels(r.Context(), a.ID)
	if err != nil {
		return err
	}
	if chs == nil {
		chs = []*herald.Channel{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Channels []*herald.Channel `json:"channels"`
	}{chs})
}
