package http

import (
	"context"
	"math"
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/heraldhq/herald/realtime"
)

// Trust and safety (issue 14): reports by anyone signed in, the operator
// API under /api/v1/admin/, and what a channel's admins see of moderation.
// A reporter's identity never leaves the store.

// markSuspended sets ch.Suspended, and reports whether the viewer (not an
// admin of it) must not see its history.
func (s *Server) markSuspended(ctx context.Context, ch *herald.Channel) (withhold bool, err error) {
	susp, err := s.Store.ChannelSuspension(ctx, ch.ID)
	if err != nil || susp == nil {
		return false, err
	}
	ch.Suspended = true
	return ch.Viewer.Role == nil, nil
}

// withheld answers whether a suspended channel's updates are withheld from
// the viewer; it costs one primary-key read for channels not suspended.
func (s *Server) withheld(ctx context.Context, viewer, channelID string) (bool, error) {
	return storeutil.Withheld(ctx, s.Store, viewer, channelID)
}

func (s *Server) handleCreateReport(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	var req struct {
		ChannelID string `json:"channel_id"`
		UpdateID  string `json:"update_id"`
		Reason    string `json:"reason"`
		Comment   string `json:"comment"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.ChannelID == "" || len(req.ChannelID) > maxIDLen || len(req.UpdateID) > maxIDLen {
		return herald.KindErrorf(herald.EINVALID, "invalid-target", "Name the channel (channel_id) and, optionally, the update (update_id).")
	}
	if err := s.rateLimit(s.clientAddr(r), s.limits.reportAddr, s.limits.reportAccount, a.ID); err != nil {
		return err
	}
	rep := &herald.Report{ChannelID: req.ChannelID, UpdateID: req.UpdateID, Reason: req.Reason, Comment: req.Comment}
	if err := s.Store.CreateReport(r.Context(), a.ID, rep); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, struct {
		Report *herald.Report `json:"report"`
	}{rep})
}

// requireOperator authenticates an operator; anyone else gets 404, so the
// operator API does not announce itself.
func (s *Server) requireOperator(r *http.Request) (*herald.Account, error) {
	a, err := s.requireAccount(r)
	if err != nil {
		return nil, err
	}
	ok, err := s.Store.IsOperator(r.Context(), a.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, herald.KindErrorf(herald.ENOTFOUND, "not-found", "Not found.")
	}
	return a, nil
}

// reportTarget is one group of the operator's report queue, with the
// reported content as it is now (nil when gone).
type reportTarget struct {
	herald.ReportGroup
	Channel    *herald.Channel    `json:"channel"`
	Suspension *herald.Suspension `json:"suspension"`
	Update     *herald.Update     `json:"update,omitempty"`
}

func (s *Server) handleReportQueue(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireOperator(r); err != nil {
		return err
	}
	limit, ok, err := queryInt(r, "limit", "invalid-limit", 1, 200)
	if err != nil {
		return err
	}
	if !ok {
		limit = 50
	}
	groups, err := s.Store.OpenReports(r.Context(), int(limit))
	if err != nil {
		return err
	}
	out := make([]reportTarget, 0, len(groups))
	for _, g := range groups {
		t := reportTarget{ReportGroup: g}
		ch, susp, err := s.Store.LookupChannel(r.Context(), g.ChannelID)
		if err != nil && herald.ErrorCode(err) != herald.ENOTFOUND {
			return err
		}
		t.Channel, t.Suspension = ch, susp
		if ch != nil && g.UpdateID != "" {
			t.Update, err = s.Store.LookupUpdate(r.Context(), g.ChannelID, g.UpdateID)
			if err != nil && herald.ErrorCode(err) != herald.ENOTFOUND {
				return err
			}
		}
		out = append(out, t)
	}
	return writeJSON(w, http.StatusOK, struct {
		Targets []reportTarget `json:"targets"`
	}{out})
}

func (s *Server) handleAdminChannel(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireOperator(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ch, susp, err := s.Store.LookupChannel(r.Context(), id)
	if err != nil {
		return err
	}
	ch.Suspended = susp != nil
	return writeJSON(w, http.StatusOK, struct {
		Channel    *herald.Channel    `json:"channel"`
		Suspension *herald.Suspension `json:"suspension"`
	}{ch, susp})
}

// adminAccount is an account as operators look it up.
type adminAccount struct {
	*herald.Account
	CreatedAt string `json:"created_at"`
	Suspended bool   `json:"suspended"`
	Operator  bool   `json:"operator"`
}

func (s *Server) handleAdminAccount(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireOperator(r); err != nil {
		return err
	}
	name := r.PathValue("username")
	if len(name) > herald.UsernameMaxLen {
		return herald.KindErrorf(herald.ENOTFOUND, "account-not-found", "Account not found.")
	}
	a, _, err := s.Store.FindAccountByUsername(r.Context(), name)
	if err != nil {
		return err
	}
	susp, err := s.Store.AccountSuspended(r.Context(), a.ID)
	if err != nil {
		return err
	}
	op, err := s.Store.IsOperator(r.Context(), a.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Account adminAccount `json:"account"`
	}{adminAccount{Account: a, CreatedAt: a.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), Suspended: susp, Operator: op}})
}

func (s *Server) handleAdminAction(w http.ResponseWriter, r *http.Request) error {
	op, err := s.requireOperator(r)
	if err != nil {
		return err
	}
	var req struct {
		Action    string `json:"action"`
		ChannelID string `json:"channel_id"`
		UpdateID  string `json:"update_id"`
		AccountID string `json:"account_id"`
		ReviewID  string `json:"review_id"`
		Reason    string `json:"reason"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	for _, id := range []string{req.ChannelID, req.UpdateID, req.AccountID, req.ReviewID} {
		if len(id) > maxIDLen {
			return herald.KindErrorf(herald.EINVALID, "invalid-target", "Malformed id.")
		}
	}
	e, err := s.Store.Moderate(r.Context(), herald.Moderation{OperatorID: op.ID, Action: req.Action, ChannelID: req.ChannelID,
		UpdateID: req.UpdateID, AccountID: req.AccountID, ReviewID: req.ReviewID, Reason: req.Reason})
	if err != nil {
		return err
	}
	if req.Action == herald.ActionSuspendAccount {
		// Every session and open stream of the account ends, on every node.
		s.endSessions(r, realtime.SessionsEnded{Account: req.AccountID})
	}
	return writeJSON(w, http.StatusOK, struct {
		Audit *herald.AuditEntry `json:"audit"`
	}{e})
}

func (s *Server) handleAuditLog(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireOperator(r); err != nil {
		return err
	}
	limit, ok, err := queryInt(r, "limit", "invalid-limit", 1, 200)
	if err != nil {
		return err
	}
	if !ok {
		limit = 50
	}
	before, _, err := queryInt(r, "before", "invalid-before", 1, math.MaxInt64)
	if err != nil {
		return err
	}
	log, err := s.Store.AuditLog(r.Context(), before, int(limit))
	if err != nil {
		return err
	}
	if log == nil {
		log = []herald.AuditEntry{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Entries []herald.AuditEntry `json:"entries"`
	}{log})
}

func (s *Server) handleAdminReviews(w http.ResponseWriter, r *http.Request) error {
	op, err := s.requireOperator(r)
	if err != nil {
		return err
	}
	list, err := s.Store.Reviews(r.Context(), op.ID, "")
	if err != nil {
		return err
	}
	if list == nil {
		list = []herald.ReviewRequest{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Reviews []herald.ReviewRequest `json:"review_requests"`
	}{list})
}

func (s *Server) handleRequestReview(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
		Text   string `json:"text"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	rr := &herald.ReviewRequest{ChannelID: id, Reason: req.Reason, Text: req.Text}
	if err := s.Store.RequestReview(r.Context(), a.ID, rr); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, struct {
		Review *herald.ReviewRequest `json:"review_request"`
	}{rr})
}

// handleChannelModeration is what a channel's admins see of moderation:
// the suspension, the notices with their reasons, the review requests and
// their outcomes.
func (s *Server) handleChannelModeration(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	notices, err := s.Store.Notices(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	reviews, err := s.Store.Reviews(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	susp, err := s.Store.ChannelSuspension(r.Context(), id)
	if err != nil {
		return err
	}
	if notices == nil {
		notices = []herald.Notice{}
	}
	if reviews == nil {
		reviews = []herald.ReviewRequest{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Suspension *herald.Suspension     `json:"suspension"`
		Notices    []herald.Notice        `json:"notices"`
		Reviews    []herald.ReviewRequest `json:"review_requests"`
	}{susp, notices, reviews})
}
