package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/heraldhq/herald/realtime"
)

// The account lifecycle (issue 14): sessions, password, display name,
// export and erasure of one's own account.

// endSessions forgets ended sessions on this node at once, then on every
// node with their open streams (the stream server's signals). A failure to
// signal is logged: other nodes' caches forget within seconds anyway.
func (s *Server) endSessions(r *http.Request, e realtime.SessionsEnded) {
	s.sessions.evictEnded(e)
	if sig, ok := s.Streams.(SessionSignals); ok {
		if err := sig.EndSessions(context.WithoutCancel(r.Context()), e); err != nil {
			s.logger.Error("ending sessions on other nodes failed", "err", err)
		}
	}
}

// sessionView is one session in GET /api/v1/me/sessions.
type sessionView struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt string    `json:"last_seen_on"` // a day: YYYY-MM-DD
	Current    bool      `json:"current"`
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	list, err := s.Store.ListSessions(r.Context(), a.ID)
	if err != nil {
		return err
	}
	cur := herald.SessionID(currentSession(r))
	out := make([]sessionView, 0, len(list))
	for _, si := range list {
		out = append(out, sessionView{ID: si.ID, Device: DeviceLabel(si.UserAgent), CreatedAt: si.CreatedAt,
			LastSeenAt: si.LastSeenAt.Format(time.DateOnly), Current: si.ID == cur})
	}
	return writeJSON(w, http.StatusOK, struct {
		Sessions []sessionView `json:"sessions"`
	}{out})
}

func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if len(id) > 64 {
		return storeutil.ErrSessionNotFound
	}
	hash, err := s.Store.DeleteAccountSession(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	var h [32]byte
	copy(h[:], hash)
	s.sessions.evict(h)
	s.endSessions(r, realtime.SessionsEnded{Account: a.ID, Session: id})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var errWrongPassword = herald.KindErrorf(herald.EFORBIDDEN, "wrong-password", "The current password is wrong.")

// checkPassword verifies the account's password, under the login limits
// (per address and per username), so it is no way around them.
func (s *Server) checkPassword(r *http.Request, a *herald.Account, pw string) error {
	if len(pw) > herald.PasswordMaxLen {
		return errWrongPassword
	}
	if err := s.loginLimit(r, a.Username); err != nil {
		return err
	}
	_, hash, err := s.Store.FindAccountByUsername(r.Context(), a.Username)
	if err != nil {
		return err
	}
	ok, err := s.hasher.Verify(pw, hash)
	if err != nil {
		return err
	}
	if !ok {
		return errWrongPassword
	}
	return nil
}

func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := herald.ValidatePassword(req.New); err != nil {
		return err
	}
	if err := s.checkPassword(r, a, req.Current); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(req.New)
	if err != nil {
		return err
	}
	keep := currentSession(r)
	if err := s.Store.ChangePassword(r.Context(), a.ID, hash, keep); err != nil {
		return err
	}
	s.endSessions(r, realtime.SessionsEnded{Account: a.ID, Keep: herald.SessionID(keep)})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleUpdateMe(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	var req struct {
		DisplayName *string  `json:"display_name"`
		ID          readOnly `json:"id"`
		Username    readOnly `json:"username"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := refuseReadOnly(map[string]readOnly{"id": req.ID, "username": req.Username}); err != nil {
		return err
	}
	if req.DisplayName != nil {
		if a, err = s.Store.SetDisplayName(r.Context(), a.ID, *req.DisplayName); err != nil {
			return err
		}
		// Every cached copy of the account has the old name.
		s.endSessionsCacheOnly(a.ID)
	}
	return writeJSON(w, http.StatusOK, struct {
		Account *herald.Account `json:"account"`
	}{a})
}

// endSessionsCacheOnly forgets the account's cached sessions on this node
// (they are read again, with the account's new state).
func (s *Server) endSessionsCacheOnly(accountID string) {
	s.sessions.evictEnded(realtime.SessionsEnded{Account: accountID})
}

// ownedChannelsProblem is the 409 of an erasure that would delete channels
// not confirmed: it lists them (RFC 9457 extension member "channels").
type ownedChannelsProblem struct {
	Problem
	Channels []ownedChannel `json:"channels"`
}

type ownedChannel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) handleDeleteMe(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	var req struct {
		Password       string   `json:"password"`
		DeleteChannels []string `json:"delete_channels"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.DeleteChannels) > 1000 {
		return herald.KindErrorf(herald.EINVALID, "invalid-body", "Too many channels listed.")
	}
	if err := s.checkPassword(r, a, req.Password); err != nil {
		return err
	}
	err = storeutil.EraseAccount(r.Context(), s.Store, a.ID, req.DeleteChannels)
	if herald.ErrorKind(err) == herald.ErrorKind(storeutil.ErrConfirmChannels) {
		alone, lerr := storeutil.SoleOwnedChannels(r.Context(), s.Store, a.ID)
		if lerr != nil {
			return lerr
		}
		p := ownedChannelsProblem{Problem: Problem{Type: ProblemTypeBase + herald.ErrorKind(err), Title: "Conflict",
			Status: http.StatusConflict, Detail: herald.ErrorMessage(err)}, Channels: []ownedChannel{}}
		for _, ch := range alone {
			p.Channels = append(p.Channels, ownedChannel{ID: ch.ID, Name: ch.Name})
		}
		b, _ := json.Marshal(p)
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write(append(b, '\n'))
		return nil
	}
	if err != nil {
		return err
	}
	s.endSessions(r, realtime.SessionsEnded{Account: a.ID})
	if _, cred, _ := requestToken(r, false); cred == credCookie {
		s.clearSessionCookie(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// accountExport is GET /api/v1/me/export: everything Herald holds about
// the person.
type accountExport struct {
	Format   string    `json:"format"`
	Exported time.Time `json:"exported_at"`
	Account  struct {
		ID          string    `json:"id"`
		Username    string    `json:"username"`
		DisplayName string    `json:"display_name"`
		CreatedAt   time.Time `json:"created_at"`
	} `json:"account"`
	Followed     []exportFollow       `json:"followed_channels"`
	Managed      []exportManaged      `json:"managed_channels"`
	Interactions []herald.Interaction `json:"reactions_and_votes"`
	Sessions     []sessionView        `json:"sessions"`
	PushDevices  []exportPush         `json:"push_devices"`
}

type exportFollow struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Muted bool   `json:"muted"`
}

type exportManaged struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

type exportPush struct {
	ID        string    `json:"id"`
	Endpoint  string    `json:"endpoint"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var ex accountExport
	ex.Format, ex.Exported = "herald-account-export/1", s.clock.Now().UTC()
	ex.Account.ID, ex.Account.Username, ex.Account.DisplayName, ex.Account.CreatedAt = a.ID, a.Username, a.DisplayName, a.CreatedAt
	full, err := s.Store.FindAccountByID(ctx, a.ID)
	if err != nil {
		return err
	}
	ex.Account.CreatedAt = full.CreatedAt.UTC()
	followed, err := s.Store.ListFollowedChannels(ctx, a.ID)
	if err != nil {
		return err
	}
	ex.Followed = []exportFollow{}
	for _, ch := range followed {
		ex.Followed = append(ex.Followed, exportFollow{ID: ch.ID, Name: ch.Name, Muted: ch.Viewer.Muted})
	}
	managed, err := s.Store.ListManagedChannels(ctx, a.ID)
	if err != nil {
		return err
	}
	ex.Managed = []exportManaged{}
	for _, ch := range managed {
		m := exportManaged{ID: ch.ID, Name: ch.Name}
		if ch.Viewer.Role != nil {
			m.Role = *ch.Viewer.Role
		}
		ex.Managed = append(ex.Managed, m)
	}
	if ex.Interactions, err = s.Store.ListInteractions(ctx, a.ID); err != nil {
		return err
	}
	if ex.Interactions == nil {
		ex.Interactions = []herald.Interaction{}
	}
	sessions, err := s.Store.ListSessions(ctx, a.ID)
	if err != nil {
		return err
	}
	cur := herald.SessionID(currentSession(r))
	ex.Sessions = []sessionView{}
	for _, si := range sessions {
		ex.Sessions = append(ex.Sessions, sessionView{ID: si.ID, Device: DeviceLabel(si.UserAgent), CreatedAt: si.CreatedAt,
			LastSeenAt: si.LastSeenAt.Format(time.DateOnly), Current: si.ID == cur})
	}
	push, err := s.Store.PushSubscriptions(ctx, a.ID)
	if err != nil {
		return err
	}
	ex.PushDevices = []exportPush{}
	for _, p := range push {
		ex.PushDevices = append(ex.PushDevices, exportPush{ID: p.ID, Endpoint: p.Endpoint, CreatedAt: p.CreatedAt})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="herald-`+a.Username+`.json"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// DeviceLabel names a session's device from its User-Agent ("Firefox on
// Linux"), or "Unknown device".
func DeviceLabel(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go client"}, {"herald", "Herald CLI"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"}, {"FreeBSD", "FreeBSD"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return system
	}
	if len(ua) > 40 {
		ua = ua[:40]
	}
	return strings.ToValidUTF8(ua, "")
}
