package http

import (
	"net/http"

	"github.com/heraldhq/herald"
)

// maxIDLen bounds path ids before they reach the store; ids are opaque but short.
const maxIDLen = 64

// pathID returns a path parameter, or ENOTFOUND for one no object could have.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if id == "" || len(id) > maxIDLen {
		return "", herald.KindErrorf(herald.ENOTFOUND, "not-found", "Not found.")
	}
	return id, nil
}

// accountAndChannel authenticates the caller, then reads the {id} path value:
// authentication comes first so that anonymous callers learn nothing of ids.
func (s *Server) accountAndChannel(r *http.Request) (*herald.Account, string, error) {
	a, err := s.requireAccount(r)
	if err != nil {
		return nil, "", err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, "", err
	}
	return a, id, nil
}

// accountAndUpdate authenticates the caller, then reads {id} and {uid}.
func (s *Server) accountAndUpdate(r *http.Request) (*herald.Account, string, string, error) {
	a, err := s.requireAccount(r)
	if err != nil {
		return nil, "", "", err
	}
	cid, uid, err := updatePath(r)
	if err != nil {
		return nil, "", "", err
	}
	return a, cid, uid, nil
}

// channelReadOnly lists the channel fields a client sees but may not set.
type channelReadOnly struct {
	ID            readOnly `json:"id"`
	Verified      readOnly `json:"verified"`
	FollowerCount readOnly `json:"follower_count"`
	CreatedAt     readOnly `json:"created_at"`
	LastUpdateAt  readOnly `json:"last_update_at"`
	InviteCode    readOnly `json:"invite_code"`
	Viewer        readOnly `json:"viewer"`
}

func (c channelReadOnly) check() error {
	return refuseReadOnly(map[string]readOnly{
		"id": c.ID, "verified": c.Verified, "follower_count": c.FollowerCount, "created_at": c.CreatedAt,
		"last_update_at": c.LastUpdateAt, "invite_code": c.InviteCode, "viewer": c.Viewer,
	})
}

func (s *Server) handleCreateChannel(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	var req struct {
		Name        string  `json:"name"`
		Description string  `json:"description"`
		Handle      string  `json:"handle"`
		Category    string  `json:"category"`
		Country     string  `json:"country"`
		Language    string  `json:"language"`
		Listed      *bool   `json:"listed"`
		Reactions   *string `json:"reactions"`
		channelReadOnly
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	ch := &herald.Channel{
		Name: req.Name, Description: req.Description, Handle: req.Handle, Category: req.Category,
		Country: req.Country, Language: req.Language, Listed: true,
	}
	if req.Listed != nil {
		ch.Listed = *req.Listed
	}
	if req.Reactions != nil {
		if *req.Reactions == "" {
			return herald.KindErrorf(herald.EINVALID, "invalid-reactions", "Reactions must be \"any\", \"default\" or \"none\".")
		}
		ch.Reactions = *req.Reactions
	}
	if err := s.Store.CreateChannel(r.Context(), a.ID, ch); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ch)
}

func (s *Server) handleGetChannel(w http.ResponseWriter, r *http.Request) error {
	viewer, err := s.viewerID(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ch, err := s.Store.FindChannel(r.Context(), viewer, id)
	if err != nil {
		return err
	}
	if _, err := s.markSuspended(r.Context(), ch); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

func (s *Server) handleUpdateChannel(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	var req struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Handle      *string `json:"handle"`
		Category    *string `json:"category"`
		Country     *string `json:"country"`
		Language    *string `json:"language"`
		Listed      *bool   `json:"listed"`
		Reactions   *string `json:"reactions"`
		channelReadOnly
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	ch, err := s.Store.UpdateChannel(r.Context(), a.ID, id, herald.ChannelPatch{
		Name: req.Name, Description: req.Description, Handle: req.Handle, Category: req.Category,
		Country: req.Country, Language: req.Language, Listed: req.Listed, Reactions: req.Reactions,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

func (s *Server) handleDeleteChannel(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteChannel(r.Context(), a.ID, id); err != nil {
		return err
	}
	s.qr.forget(id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleListAdmins(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	admins, err := s.Store.ListAdmins(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	if admins == nil {
		admins = []herald.Admin{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Admins []herald.Admin `json:"admins"`
	}{admins})
}

func (s *Server) handleAddAdmin(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	var req struct {
		Username string `json:"username"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	admin, err := s.Store.AddAdmin(r.Context(), a.ID, id, req.Username)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, admin)
}

func (s *Server) handleRemoveAdmin(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	accountID, err := pathID(r, "account_id")
	if err != nil {
		return err
	}
	if err := s.Store.RemoveAdmin(r.Context(), a.ID, id, accountID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleTransferOwnership(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	var req struct {
		AccountID string `json:"account_id"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.AccountID == "" || len(req.AccountID) > maxIDLen {
		return herald.KindErrorf(herald.EINVALID, "invalid-account-id", "account_id must name one of the channel's admins.")
	}
	if err := s.Store.TransferOwnership(r.Context(), a.ID, id, req.AccountID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleFollow(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	ch, err := s.Store.Follow(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ch)
}

func (s *Server) handleUnfollow(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	if err := s.Store.Unfollow(r.Context(), a.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleMute(muted bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.requireAccount(r)
		if err != nil {
			return err
		}
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		ch, err := s.Store.SetMuted(r.Context(), a.ID, id, muted)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, ch)
	}
}
