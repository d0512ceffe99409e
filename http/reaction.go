package http

import (
	"net/http"

	"github.com/heraldhq/herald"
)

// reactionRequest is the body of PUT .../reaction.
type reactionRequest struct {
	Emoji *string `json:"emoji"`
}

// voteRequest is the body of PUT .../vote.
type voteRequest struct {
	Options *[]int `json:"options"`
}

// handleSetReaction sets the caller's one reaction to an update, replacing
// any earlier one. The store validates and normalizes the emoji, so "❤" and
// "❤️" count as one.
func (s *Server) handleSetReaction(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	var req reactionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Emoji == nil {
		return herald.KindErrorf(herald.EINVALID, "invalid-emoji", "Field \"emoji\" is required (remove a reaction with DELETE).")
	}
	cid, uid, err := updatePath(r)
	if err != nil {
		return err
	}
	u, err := s.Store.SetReaction(r.Context(), a.ID, cid, uid, *req.Emoji)
	if err != nil {
		return err
	}
	return writeUpdate(w, u)
}

// handleRemoveReaction removes the caller's reaction; removing none is fine.
func (s *Server) handleRemoveReaction(w http.ResponseWriter, r *http.Request) error {
	a, cid, uid, err := s.accountAndUpdate(r)
	if err != nil {
		return err
	}
	u, err := s.Store.RemoveReaction(r.Context(), a.ID, cid, uid)
	if err != nil {
		return err
	}
	return writeUpdate(w, u)
}

// handleVote sets the caller's vote in an update's poll, replacing any
// earlier one. Indexes are checked against the poll by the store, inside the
// transaction that reads it.
func (s *Server) handleVote(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	var req voteRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Options == nil {
		return herald.KindErrorf(herald.EINVALID, "invalid-vote", "Field \"options\" is required (retract a vote with DELETE).")
	}
	opts := *req.Options
	// Cheap checks that need no poll; they also bound the work the store does.
	if len(opts) == 0 {
		return herald.KindErrorf(herald.EINVALID, "invalid-vote", "Choose at least one option (retract a vote with DELETE).")
	}
	if len(opts) > herald.PollMaxOptions {
		return herald.KindErrorf(herald.EINVALID, "invalid-vote", "A poll has at most %d options.", herald.PollMaxOptions)
	}
	for _, i := range opts {
		if i < 0 || i >= herald.PollMaxOptions {
			return herald.KindErrorf(herald.EINVALID, "invalid-vote", "Option %d does not exist.", i)
		}
	}
	cid, uid, err := updatePath(r)
	if err != nil {
		return err
	}
	u, err := s.Store.Vote(r.Context(), a.ID, cid, uid, opts)
	if err != nil {
		return err
	}
	return writeUpdate(w, u)
}

// handleRetractVote removes the caller's vote; retracting none is fine.
func (s *Server) handleRetractVote(w http.ResponseWriter, r *http.Request) error {
	a, cid, uid, err := s.accountAndUpdate(r)
	if err != nil {
		return err
	}
	u, err := s.Store.RetractVote(r.Context(), a.ID, cid, uid)
	if err != nil {
		return err
	}
	return writeUpdate(w, u)
}

// writeUpdate answers 200 with an update, with empty (not null) counts and
// votes so clients need no null checks.
func writeUpdate(w http.ResponseWriter, u *herald.Update) error {
	if u.Reactions == nil {
		u.Reactions = map[string]int64{}
	}
	if u.Viewer.Votes == nil {
		u.Viewer.Votes = []int{}
	}
	return writeJSON(w, http.StatusOK, u)
}

// updatePath returns the channel and update ids of an update's route.
func updatePath(r *http.Request) (channelID, updateID string, err error) {
	if channelID, err = pathID(r, "id"); err != nil {
		return "", "", err
	}
	if updateID, err = pathID(r, "uid"); err != nil {
		return "", "", err
	}
	return channelID, updateID, nil
}
