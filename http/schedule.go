package http

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald"
)

// Scheduled updates (issue 15): POST .../updates with "publish_at" answers
// 202 with a scheduled update, which only the channel's admins and keys
// see until the scheduler publishes it.

func (s *Server) scheduleUpdate(w http.ResponseWriter, r *http.Request, actor, channelID string, u *herald.Update, at time.Time) error {
	su := &herald.ScheduledUpdate{Text: u.Text, Poll: u.Poll, Media: u.Media, PublishAt: at}
	answer := keepAnswer(r, http.StatusAccepted, su)
	if err := s.Store.ScheduleUpdate(r.Context(), actor, channelID, su); err != nil {
		return err
	}
	return answer.write(w)
}

// parsePublishAt reads "publish_at": an RFC 3339 time with its offset
// (2026-03-01T18:00:00+01:00). Decoding it as a string first gives a
// problem naming the field instead of a generic "Malformed JSON.". Past
// and too distant times are refused by herald.ValidatePublishAt.
func parsePublishAt(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil || len(v) > 64 {
		return time.Time{}, herald.KindErrorf(herald.EINVALID, "invalid-publish-at",
			"publish_at must be an RFC 3339 time with an offset, e.g. 2026-03-01T18:00:00+01:00 or 2026-03-01T17:00:00Z.")
	}
	return t, nil
}

func (s *Server) handleListScheduled(w http.ResponseWriter, r *http.Request) error {
	actor, id, err := s.channelActor(r, herald.ScopePost)
	if err != nil {
		return err
	}
	list, err := s.Store.ListScheduled(r.Context(), actor, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Scheduled []*herald.ScheduledUpdate `json:"scheduled"`
	}{list})
}

// scheduledActor is channelActor for routes on {id}/scheduled/{sid}.
func (s *Server) scheduledActor(r *http.Request, scope string) (actor, channelID, sid string, err error) {
	actor, channelID, err = s.channelActor(r, scope)
	if err != nil {
		return "", "", "", err
	}
	sid, err = pathID(r, "sid")
	return actor, channelID, sid, err
}

func (s *Server) handleEditScheduled(w http.ResponseWriter, r *http.Request) error {
	actor, id, sid, err := s.scheduledActor(r, herald.ScopeEdit)
	if err != nil {
		return err
	}
	var req struct {
		Text      *string `json:"text"`
		PublishAt *string `json:"publish_at"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var at *time.Time
	if req.PublishAt != nil {
		t, err := parsePublishAt(*req.PublishAt)
		if err != nil {
			return err
		}
		at = &t
	}
	su, err := s.Store.EditScheduled(r.Context(), actor, id, sid, req.Text, at)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, su)
}

func (s *Server) handleCancelScheduled(w http.ResponseWriter, r *http.Request) error {
	actor, id, sid, err := s.scheduledActor(r, herald.ScopeDelete)
	if err != nil {
		return err
	}
	if err := s.Store.CancelScheduled(r.Context(), actor, id, sid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handlePublishScheduled(w http.ResponseWriter, r *http.Request) error {
	actor, id, sid, err := s.scheduledActor(r, herald.ScopePost)
	if err != nil {
		return err
	}
	u, err := s.Store.PublishScheduled(r.Context(), actor, id, sid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, u)
}
