package http

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// PushConfig is what the Web Push routes need. The zero value turns them
// off: the key route answers 503 and subscriptions are refused.
type PushConfig struct {
	// PublicKey is the VAPID public key, base64url (push.Signer.PublicKey):
	// browsers subscribe with it as their applicationServerKey.
	PublicKey string
	// ValidateEndpoint refuses push endpoints the server must not post to
	// (push.Policy.ValidateEndpoint: the SSRF rules); nil refuses none.
	ValidateEndpoint func(endpoint string) error
}

var errNoPush = herald.KindErrorf(herald.EUNAVAILABLE, "push-unavailable", "Web Push is not enabled on this server.")

// handlePushKey answers the VAPID public key; no authentication, so the
// web app can read it before asking the browser for a subscription.
func (s *Server) handlePushKey(w http.ResponseWriter, r *http.Request) error {
	if s.push.PublicKey == "" {
		return errNoPush
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	return writeJSON(w, http.StatusOK, struct {
		PublicKey string `json:"public_key"`
	}{s.push.PublicKey})
}

// decodePushKey reads a browser's key: base64url as PushSubscription.toJSON
// gives it, with or without padding (standard base64 also accepted).
func decodePushKey(v, kind, what string) ([]byte, error) {
	v = strings.TrimRight(v, "=")
	if len(v) > 256 {
		return nil, herald.KindErrorf(herald.EINVALID, kind, "The subscription's %s is too long.", what)
	}
	v = strings.NewReplacer("+", "-", "/", "_").Replace(v)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, herald.KindErrorf(herald.EINVALID, kind, "The subscription's %s is not base64url.", what)
	}
	return b, nil
}

// handleSubscribePush registers (or refreshes) one of the caller's devices:
// 201 when new, 200 when the endpoint was already the caller's.
func (s *Server) handleSubscribePush(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	if s.push.PublicKey == "" {
		return errNoPush
	}
	var req struct {
		Endpoint string `json:"endpoint"`
		// Browsers' PushSubscription.toJSON() also has expirationTime.
		ExpirationTime *float64 `json:"expirationTime"`
		Keys           struct {
			P256DH string `json:"p256dh"`
			Auth   string `json:"auth"`
		} `json:"keys"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p256dh, err := decodePushKey(req.Keys.P256DH, "push-key-invalid", "p256dh key")
	if err != nil {
		return err
	}
	auth, err := decodePushKey(req.Keys.Auth, "push-auth-invalid", "auth secret")
	if err != nil {
		return err
	}
	sub := herald.PushSubscription{Endpoint: req.Endpoint, P256DH: p256dh, Auth: auth}
	// Shape first (the store checks it again), then whether we may post there.
	if err := herald.ValidatePushSubscription(sub); err != nil {
		return err
	}
	if s.push.ValidateEndpoint != nil {
		if err := s.push.ValidateEndpoint(req.Endpoint); err != nil {
			if herald.ErrorCode(err) == herald.EINVALID {
				return err
			}
			return herald.KindErrorf(herald.EINVALID, "push-endpoint-refused", "The push endpoint is refused.")
		}
	}
	saved, created, err := s.Store.SavePushSubscription(r.Context(), a.ID, sub)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, saved)
}

func (s *Server) handleListPush(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	subs, err := s.Store.PushSubscriptions(r.Context(), a.ID)
	if err != nil {
		return err
	}
	if subs == nil {
		subs = []herald.PushSubscription{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Subscriptions []herald.PushSubscription `json:"subscriptions"`
	}{subs})
}

func (s *Server) handleDeletePush(w http.ResponseWriter, r *http.Request) error {
	a, err := s.requireAccount(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Store.DeletePushSubscription(r.Context(), a.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
