package http

import (
	"crypto/sha256"
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/realtime"
)

// accountResponse is what account creation and login return.
type accountResponse struct {
	Account *herald.Account `json:"account"`
	Token   string          `json:"token"`
}

func (s *Server) handleCreateAccount(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Username    string   `json:"username"`
		Password    string   `json:"password"`
		DisplayName string   `json:"display_name"`
		Cookie      bool     `json:"cookie"`
		ID          readOnly `json:"id"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := refuseReadOnly(map[string]readOnly{"id": req.ID}); err != nil {
		return err
	}
	if req.Cookie {
		if err := s.cop.Check(r); err != nil {
			return errCrossOrigin
		}
	}
	if err := s.rateLimit(s.clientAddr(r), s.limits.signupAddr, nil, ""); err != nil {
		return err
	}
	// The store validates the username and display name; the password
	// never reaches it (only its hash does), so it is checked here.
	if err := herald.ValidatePassword(req.Password); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(req.Password)
	if err != nil {
		return err
	}
	a := &herald.Account{Username: req.Username, DisplayName: req.DisplayName}
	if err := s.Store.CreateAccount(r.Context(), a, hash); err != nil {
		return err
	}
	tok, err := s.startSession(r, a)
	if err != nil {
		return err
	}
	if req.Cookie {
		s.setSessionCookie(w, r, tok)
	}
	return writeJSON(w, http.StatusCreated, accountResponse{Account: a, Token: tok})
}

var errBadCredentials = herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-credentials", "Wrong username or password.")

func (s *Server) handleCreateSession(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Cookie   bool   `json:"cookie"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Cookie {
		if err := s.cop.Check(r); err != nil {
			return errCrossOrigin
		}
	}
	if len(req.Username) > herald.UsernameMaxLen || len(req.Password) > herald.PasswordMaxLen {
		return errBadCredentials
	}
	if err := s.loginLimit(r, req.Username); err != nil {
		return err
	}
	a, hash, err := s.Store.FindAccountByUsername(r.Context(), req.Username)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		// Same work as a wrong password, so timing doesn't reveal which
		// usernames exist.
		s.hasher.VerifyDummy(req.Password)
		return errBadCredentials
	} else if err != nil {
		return err
	}
	ok, err := s.hasher.Verify(req.Password, hash)
	if err != nil {
		return err
	}
	if !ok {
		return errBadCredentials
	}
	// Only the right password learns that the account is suspended.
	if susp, err := s.Store.AccountSuspended(r.Context(), a.ID); err != nil {
		return err
	} else if susp {
		return herald.ErrAccountSuspended
	}
	tok, err := s.startSession(r, a)
	if err != nil {
		return err
	}
	if req.Cookie {
		s.setSessionCookie(w, r, tok)
	}
	return writeJSON(w, http.StatusCreated, accountResponse{Account: a, Token: tok})
}

func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request) error {
	tok, cred, err := requestToken(r, false)
	if err != nil {
		return err
	}
	if cred == credNone {
		return errUnauthenticated
	}
	if cred == credCookie {
		if err := s.cop.Check(r); err != nil {
			return errCrossOrigin
		}
	}
	// An unknown or expired token is still a 401, so a client learns its
	// token was already dead; the cookie is cleared either way.
	a, err := s.requireAccount(r)
	if err != nil {
		if cred == credCookie {
			s.clearSessionCookie(w, r)
		}
		return err
	}
	hash := sha256.Sum256([]byte(tok))
	s.sessions.evict(hash)
	if err := s.Store.DeleteSession(r.Context(), hash[:]); err != nil {
		return err
	}
	// Again: a concurrent request may have cached it between the two; and
	// on every node, with the session's open streams.
	s.endSessions(r, realtime.SessionsEnded{Account: a.ID, Session: herald.SessionID(hash[:])})
	if cred == credCookie {
		s.clearSessionCookie(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	op, err := s.Store.IsOperator(r.Context(), a.ID)
	if err != nil {
		return err
	}
	// operator tells the web app to offer the console (the API checks
	// anyway).
	return writeJSON(w, http.StatusOK, struct {
		Account struct {
			*herald.Account
			Operator bool `json:"operator,omitempty"`
		} `json:"account"`
	}{struct {
		*herald.Account
		Operator bool `json:"operator,omitempty"`
	}{a, op}})
}

func (s *Server) handleMyChannels(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	chs, err := s.Store.ListFollowedChannels(r.Context(), a.ID)
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
