package http

import (
	"math"
	"net/http"

	"github.com/heraldhq/herald"
)

// pollInput is a poll as a client creates it: options are plain strings.
type pollInput struct {
	Question string   `json:"question"`
	Options  []string `json:"options"`
	Multiple bool     `json:"multiple"`
}

func (s *Server) handleCreateUpdate(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.rateLimit(s.clientAddr(r), s.limits.postAddr, s.limits.postAccount, a.ID); err != nil {
		return err
	}
	var req struct {
		Text string     `json:"text"`
		Poll *pollInput `json:"poll"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	text, err := herald.NormalizeUpdateText(req.Text)
	if err != nil {
		return err
	}
	u := &herald.Update{Text: text}
	if req.Poll != nil {
		p := &herald.Poll{Question: req.Poll.Question, Multiple: req.Poll.Multiple}
		if len(req.Poll.Options) > herald.PollMaxOptions {
			return herald.KindErrorf(herald.EINVALID, "invalid-poll", "A poll has %d to %d options.", herald.PollMinOptions, herald.PollMaxOptions)
		}
		for _, o := range req.Poll.Options {
			p.Options = append(p.Options, herald.PollOption{Text: o})
		}
		if err := p.Normalize(); err != nil {
			return err
		}
		u.Poll = p
	}
	if err := s.Store.CreateUpdate(r.Context(), a.ID, id, u); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, u)
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
	us, err := s.Store.ListUpdates(r.Context(), viewer, id, before, int(limit))
	if err != nil {
		return err
	}
	if us == nil {
		us = []*herald.Update{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Updates []*herald.Update `json:"updates"`
	}{us})
}

func (s *Server) handleGetUpdate(w http.ResponseWriter, r *http.Request) error {
	viewer, err := s.viewerID(r)
	if err != nil {
		return err
	}
	cid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := pathID(r, "uid")
	if err != nil {
		return err
	}
	u, err := s.Store.FindUpdate(r.Context(), viewer, cid, uid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleEditUpdate(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	cid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := pathID(r, "uid")
	if err != nil {
		return err
	}
	var req struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	text, err := herald.NormalizeUpdateText(req.Text)
	if err != nil {
		return err
	}
	u, err := s.Store.EditUpdate(r.Context(), a.ID, cid, uid, text)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleDeleteUpdate(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	cid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := pathID(r, "uid")
	if err != nil {
		return err
	}
	if err := s.Store.DeleteUpdate(r.Context(), a.ID, cid, uid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
