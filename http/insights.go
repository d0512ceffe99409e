package http

import (
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/insights"
)

// viewsRequest is the body of POST /api/v1/views.
type viewsRequest struct {
	Updates []string `json:"updates"`
	// Lang is the app's language (a BCP 47 tag); the Accept-Language
	// header's first language when absent. Only a coarse bucket is kept.
	Lang *string `json:"lang"`
}

// handleReportViews counts the caller's views of updates that were on its
// screen. Ids it may not read are ignored: the answer is the same 204
// whatever they are, so it tells nothing about other channels' updates.
func (s *Server) handleReportViews(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	if err := s.rateLimit(s.clientAddr(r), nil, s.limits.viewsAccount, a.ID); err != nil {
		return err
	}
	var req viewsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Updates) == 0 || len(req.Updates) > herald.MaxViewBatch {
		return herald.KindErrorf(herald.EINVALID, "invalid-views", "Field \"updates\" must list 1 to %d update ids.", herald.MaxViewBatch)
	}
	ids := make([]string, 0, len(req.Updates))
	seen := make(map[string]bool, len(req.Updates))
	for _, id := range req.Updates {
		if id == "" || len(id) > maxIDLen {
			return herald.KindErrorf(herald.EINVALID, "invalid-views", "Update ids must be 1 to %d characters.", maxIDLen)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if s.views == nil {
		return herald.KindErrorf(herald.EUNAVAILABLE, "unavailable", "View counting is off on this server.")
	}
	targets, err := s.Store.ViewableUpdates(r.Context(), a.ID, ids)
	if err != nil {
		return err
	}
	lang := r.Header.Get("Accept-Language")
	if req.Lang != nil {
		lang = *req.Lang
	}
	if len(lang) > 256 {
		lang = lang[:256]
	}
	s.views.Record(a.ID, targets, insights.Language(lang))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleChannelInsights answers a channel's insights to its admins.
func (s *Server) handleChannelInsights(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	in, err := s.Store.ChannelInsights(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}
