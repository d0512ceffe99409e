package http

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Who may do what, in one place. A request is made by a principal: an
// account (a person's session, which the store authorizes by its role in
// the channel) or a channel API key (issue 15). A key is accepted only by
// the routes that call channelActor, only on its own channel and only with
// the scope the route names; every other route authenticates with
// authenticate, which refuses keys. A key's lookup is cached (keycache.go),
// but every store call made with a key checks in its transaction that the
// key still exists, so a revocation holds at once on every node.

var (
	errKeyNotAllowed = herald.KindErrorf(herald.EFORBIDDEN, "key-not-allowed",
		"API keys may only post, edit and delete updates of their channel and upload its media; sign in as a person for this.")
	errKeyWrongChannel = herald.KindErrorf(herald.EFORBIDDEN, "key-wrong-channel", "This API key belongs to another channel.")
	errKeyHeaderOnly   = herald.KindErrorf(herald.EUNAUTHORIZED, "invalid-token", "Send API keys in the Authorization header only.")
)

// isKeySecret reports whether a presented token is an API key's secret.
func isKeySecret(tok string) bool { return strings.HasPrefix(tok, herald.KeySecretPrefix) }

// keySecretLen is the length of a key secret: the prefix and 32 random
// bytes, base64url.
const keySecretLen = len(herald.KeySecretPrefix) + tokenLen

// newKeySecret returns a fresh key secret and the hash stored for it.
func newKeySecret() (secret string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	secret = herald.KeySecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, hashToken(secret)
}

type keyCtx struct{}

// requestKey returns the API key a request authenticates with, or nil when
// it presents none. The key is remembered in the request's context, which
// withKey hands on, so that one request looks it up once.
func (s *Server) requestKey(r *http.Request) (*herald.ChannelKey, error) {
	if k, ok := r.Context().Value(keyCtx{}).(*herald.ChannelKey); ok {
		return k, nil
	}
	tok, cred, err := requestToken(r, false)
	if err != nil || !isKeySecret(tok) {
		return nil, err
	}
	if cred != credBearer {
		return nil, errKeyHeaderOnly
	}
	if len(tok) != keySecretLen || !wellFormedToken(tok[len(herald.KeySecretPrefix):]) {
		return nil, errBadToken
	}
	hash := hashToken(tok)
	now := s.clock.Now()
	if k := s.keys.get(hash, now); k != nil {
		return k, nil
	}
	k, err := s.Store.FindChannelKey(r.Context(), hash)
	if err != nil {
		if c := herald.ErrorCode(err); c == herald.EUNAUTHORIZED || c == herald.ENOTFOUND {
			return nil, errBadToken
		}
		return nil, err
	}
	s.keys.put(hash, k, now)
	return k, nil
}

func withKey(r *http.Request, k *herald.ChannelKey) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keyCtx{}, k))
}

// principalID returns who makes the request, as the store names actors:
// an account id, herald.KeyActor(key id), or "" for anonymous. It does
// not check what the principal may do.
func (s *Server) principalID(r *http.Request) (string, *http.Request, error) {
	k, err := s.requestKey(r)
	if err != nil {
		return "", r, err
	}
	if k != nil {
		return herald.KeyActor(k.ID), withKey(r, k), nil
	}
	id, err := s.viewerID(r)
	return id, r, err
}

// channelActor authenticates a request on the channel {id} that a key with
// scope may also make, and returns the store's actor id: the account's, or
// the key's when the key belongs to the channel and has the scope.
func (s *Server) channelActor(r *http.Request, scope string) (actorID, channelID string, err error) {
	k, err := s.requestKey(r)
	if err != nil {
		return "", "", err
	}
	if k == nil {
		a, id, err := s.accountAndChannel(r)
		if err != nil {
			return "", "", err
		}
		return a.ID, id, nil
	}
	id, err := pathID(r, "id")
	if err != nil {
		return "", "", err
	}
	if k.ChannelID != id {
		return "", "", errKeyWrongChannel
	}
	if !k.Allows(scope) {
		return "", "", herald.KindErrorf(herald.EFORBIDDEN, "key-scope", "This API key lacks the %q scope.", scope)
	}
	return herald.KeyActor(k.ID), id, nil
}

// resolveHandle rewrites a channel path's "@handle" to the channel's id,
// once, before any handler: every /channels/{id}/... route accepts both.
// An unknown handle is a 404, as an unknown id is.
func (s *Server) resolveHandle(r *http.Request) error {
	v := r.PathValue("id")
	if !strings.HasPrefix(v, "@") {
		return nil
	}
	h := strings.ToLower(v[1:])
	if herald.ValidateHandle(h) != nil {
		return herald.KindErrorf(herald.ENOTFOUND, "channel-not-found", "Channel not found.")
	}
	id, err := s.Store.ChannelIDByHandle(r.Context(), h)
	if err != nil {
		return err
	}
	r.SetPathValue("id", id)
	return nil
}

// updateActor is channelActor for routes on {id}/updates/{uid}.
func (s *Server) updateActor(r *http.Request, scope string) (actorID, channelID, updateID string, err error) {
	actorID, channelID, err = s.channelActor(r, scope)
	if err != nil {
		return "", "", "", err
	}
	updateID, err = pathID(r, "uid")
	if err != nil {
		return "", "", "", err
	}
	return actorID, channelID, updateID, nil
}
