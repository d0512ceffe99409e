package http

import (
	"encoding/json"
	"math"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald"
)

// pollInput is a poll as a client creates it: options are plain strings.
type pollInput struct {
	Question string   `json:"question"`
	Options  []string `json:"options"`
	Multiple bool     `json:"multiple"`
}

func (s *Server) handleCreateUpdate(w http.ResponseWriter, r *http.Request) error {
	actor, id, err := s.channelActor(r, herald.ScopePost)
	if err != nil {
		return err
	}
	if err := s.rateLimit(s.clientAddr(r), s.limits.postAddr, s.limits.postAccount, actor); err != nil {
		return err
	}
	var req struct {
		Text      string            `json:"text"`
		Poll      *pollInput        `json:"poll"`
		PublishAt *string           `json:"publish_at"` // parsed here, for a problem naming it
		Media     []herald.MediaRef `json:"media"`
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if plainTextBody(r, body) {
		if !utf8.Valid(body) {
			return herald.KindErrorf(herald.EINVALID, "invalid-utf8", "Request body must be valid UTF-8.")
		}
		req.Text = string(body)
	} else if err := decodeJSONBytes(body, &req); err != nil {
		return err
	}
	if len(req.Media) > herald.MaxUpdateMedia {
		return herald.KindErrorf(herald.EINVALID, "too-many-media", "An update has at most %d media.", herald.MaxUpdateMedia)
	}
	// The store normalizes and validates the text, the poll and the media.
	u := &herald.Update{Text: req.Text}
	for _, m := range req.Media {
		u.Media = append(u.Media, herald.Media{ID: m.ID, Alt: m.Alt})
	}
	if req.Poll != nil {
		p := &herald.Poll{Question: req.Poll.Question, Multiple: req.Poll.Multiple}
		for _, o := range req.Poll.Options {
			p.Options = append(p.Options, herald.PollOption{Text: o})
		}
		u.Poll = p
	}
	if u.Poll != nil && len(u.Media) > 0 {
		return herald.ErrPollWithMedia
	}
	if req.PublishAt != nil {
		at, err := parsePublishAt(*req.PublishAt)
		if err != nil {
			return err
		}
		return s.scheduleUpdate(w, r, actor, id, u, at)
	}
	answer := keepAnswer(r, http.StatusCreated, u)
	if err := s.Store.CreateUpdate(r.Context(), actor, id, u); err != nil {
		return err
	}
	return answer.write(w)
}

func (s *Server) handleListUpdates(w http.ResponseWriter, r *http.Request) error {
	viewer, err := s.viewerID(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit, ok, err := queryInt(r, "limit", "invalid-limit", 1, herald.MaxUpdatesLimit)
	if err != nil {
		return err
	}
	if !ok {
		limit = herald.DefaultUpdatesLimit
	}
	before, _, err := queryInt(r, "before", "invalid-before", 1, math.MaxInt64)
	if err != nil {
		return err
	}
	// A suspended channel's history is withheld from all but its admins:
	// followers see the notice (suspended: true) instead.
	if hide, err := s.withheld(r.Context(), viewer, id); err != nil {
		return err
	} else if hide {
		return writeJSON(w, http.StatusOK, struct {
			Updates   []*herald.Update `json:"updates"`
			Suspended bool             `json:"suspended"`
		}{[]*herald.Update{}, true})
	}
	var key pageKey
	var v, g uint64
	if s.pages != nil {
		key = pageKey{viewer: viewer, channel: id, before: before, limit: int(limit)}
		if body := s.pages.get(key, s.clock.Now()); body != nil {
			writeBody(w, http.StatusOK, body)
			return nil
		}
		v, g = s.pages.version(id) // before the read: see pageCache
	}
	us, err := s.Store.ListUpdates(r.Context(), viewer, id, before, int(limit))
	if err != nil {
		return err
	}
	if us == nil {
		us = []*herald.Update{}
	}
	page := struct {
		Updates []*herald.Update `json:"updates"`
	}{us}
	if s.pages == nil {
		return writeJSON(w, http.StatusOK, page)
	}
	body, err := json.Marshal(page)
	if err != nil {
		return err
	}
	body = append(body, '\n')
	// Valid until its oldest update expires (pages are newest first).
	expires := s.clock.Now().Add(time.Hour)
	if n := len(us); n > 0 && us[n-1].ExpiresAt.Before(expires) {
		expires = us[n-1].ExpiresAt
	}
	s.pages.put(key, body, v, g, s.clock.Now(), expires)
	writeBody(w, http.StatusOK, body)
	return nil
}

func (s *Server) handleGetUpdate(w http.ResponseWriter, r *http.Request) error {
	viewer, err := s.viewerID(r)
	if err != nil {
		return err
	}
	cid, uid, err := updatePath(r)
	if err != nil {
		return err
	}
	if hide, err := s.withheld(r.Context(), viewer, cid); err != nil {
		return err
	} else if hide {
		return herald.ErrChannelSuspended
	}
	u, err := s.Store.FindUpdate(r.Context(), viewer, cid, uid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleEditUpdate(w http.ResponseWriter, r *http.Request) error {
	actor, cid, uid, err := s.updateActor(r, herald.ScopeEdit)
	if err != nil {
		return err
	}
	var req struct {
		Text  *string           `json:"text"`
		Media []herald.MediaRef `json:"media"` // new alt texts
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Text == nil && req.Media == nil {
		return herald.KindErrorf(herald.EINVALID, "invalid-text", "Send a new text, new alt texts (\"media\": [{\"id\", \"alt\"}]), or both.")
	}
	if len(req.Media) > herald.MaxUpdateMedia {
		return herald.KindErrorf(herald.EINVALID, "too-many-media", "An update has at most %d media.", herald.MaxUpdateMedia)
	}
	var u *herald.Update
	if req.Media != nil {
		if u, err = s.Store.SetMediaAlt(r.Context(), actor, cid, uid, req.Media); err != nil {
			return err
		}
	}
	if req.Text != nil {
		if u, err = s.Store.EditUpdate(r.Context(), actor, cid, uid, *req.Text); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleDeleteUpdate(w http.ResponseWriter, r *http.Request) error {
	actor, cid, uid, err := s.updateActor(r, herald.ScopeDelete)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteUpdate(r.Context(), actor, cid, uid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
