package herald

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// Web Push limits, checked once by every store (ValidatePushSubscription).
const (
	// MaxPushEndpointLen bounds a push service URL (bytes). Real endpoints
	// are a few hundred bytes.
	MaxPushEndpointLen = 2048
	// PushP256DHLen is the length of a subscription's public key: an
	// uncompressed P-256 point (0x04 || X || Y), RFC 8291.
	PushP256DHLen = 65
	// PushAuthLen is the length of a subscription's authentication secret.
	PushAuthLen = 16
	// MaxPushSubscriptions bounds the devices one account can register.
	MaxPushSubscriptions = 50
	// DefaultPushTargetsLimit and MaxPushTargetsLimit clamp a PushTargets page.
	DefaultPushTargetsLimit = 100
	MaxPushTargetsLimit     = 1000
)

// PushSubscription is one browser's Web Push subscription: where to send
// (Endpoint, a push service URL) and the keys that encrypt a payload for it
// (RFC 8291). An endpoint belongs to one device and one account at a time.
//
// Only the owner ever sees a subscription, through their own device list:
// the JSON form carries id, endpoint (so a browser can recognise itself in
// the list) and times. The keys and the account id never leave the server
// (json:"-"): the browser that made the subscription has them already, and
// nothing else needs them.
type PushSubscription struct {
	ID        string    `json:"id"`
	AccountID string    `json:"-"`
	Endpoint  string    `json:"endpoint"`
	P256DH    []byte    `json:"-"`
	Auth      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ValidatePushSubscription checks a subscription's endpoint and keys: an
// https URL with a host and no credentials, at most MaxPushEndpointLen
// bytes; p256dh an uncompressed P-256 point (65 bytes starting 0x04); auth
// exactly 16 bytes. Whether the endpoint's host may be contacted (SSRF
// rules) is decided by package push, not here. EINVALID with kinds
// push-endpoint-invalid, push-key-invalid, push-auth-invalid.
func ValidatePushSubscription(s PushSubscription) error {
	if err := validatePushEndpoint(s.Endpoint); err != nil {
		return err
	}
	if len(s.P256DH) != PushP256DHLen || s.P256DH[0] != 0x04 {
		return KindErrorf(EINVALID, "push-key-invalid", "The subscription's p256dh key must be an uncompressed P-256 point (65 bytes starting 0x04).")
	}
	if len(s.Auth) != PushAuthLen {
		return KindErrorf(EINVALID, "push-auth-invalid", "The subscription's auth secret must be 16 bytes.")
	}
	return nil
}

func validatePushEndpoint(endpoint string) error {
	bad := KindErrorf(EINVALID, "push-endpoint-invalid", "The push endpoint must be an https URL of at most %d bytes.", MaxPushEndpointLen)
	if !strings.HasPrefix(endpoint, "https://") || len(endpoint) > MaxPushEndpointLen {
		return bad
	}
	for i := 0; i < len(endpoint); i++ {
		if c := endpoint[i]; c <= ' ' || c >= 0x7f {
			return bad
		}
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Opaque != "" || u.Fragment != "" || strings.HasSuffix(u.Host, ":") {
		return bad
	}
	return nil
}

// ErrTooManyPushSubscriptions is the ECONFLICT a store returns when an
// account would pass MaxPushSubscriptions devices.
var ErrTooManyPushSubscriptions = KindErrorf(ECONFLICT, "too-many-devices", "This account already has %d devices receiving notifications; remove one first.", MaxPushSubscriptions)

// ErrPushSubscriptionNotFound is the ENOTFOUND for a device id that is not
// the caller's (absent or someone else's: the two are not told apart).
var ErrPushSubscriptionNotFound = KindErrorf(ENOTFOUND, "push-subscription-not-found", "No such device.")

// ErrInvalidPushCursor is the EINVALID for a malformed PushTargets cursor.
var ErrInvalidPushCursor = KindErrorf(EINVALID, "invalid-cursor", "Malformed cursor.")

// ClampPushTargetsLimit returns limit within [1, MaxPushTargetsLimit],
// DefaultPushTargetsLimit for zero or less.
func ClampPushTargetsLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPushTargetsLimit
	case limit > MaxPushTargetsLimit:
		return MaxPushTargetsLimit
	}
	return limit
}

// PushStore keeps the server's VAPID key and the accounts' push
// subscriptions.
type PushStore interface {
	// PushVAPIDKey returns the server's VAPID private key. On the first call
	// it calls generate and stores the result, atomically: callers racing on
	// several nodes all get the one key that was stored first (the others'
	// generated keys are dropped). The key is opaque bytes to the store.
	PushVAPIDKey(ctx context.Context, generate func() ([]byte, error)) ([]byte, error)
	// SavePushSubscription validates s (ValidatePushSubscription) and stores
	// it for accountID, one row per endpoint. Saving an endpoint the account
	// already has updates its keys (created false, same id). Saving an
	// endpoint another account has moves it: the old row is deleted and a
	// new one, with a new id, created for accountID (created true), so
	// nothing links the browser's two owners. ECONFLICT
	// (ErrTooManyPushSubscriptions) past MaxPushSubscriptions devices;
	// ENOTFOUND for an unknown account.
	SavePushSubscription(ctx context.Context, accountID string, s PushSubscription) (PushSubscription, bool, error)
	// PushSubscriptions returns the account's own devices, oldest first.
	PushSubscriptions(ctx context.Context, accountID string) ([]PushSubscription, error)
	// DeletePushSubscription deletes one of the account's devices;
	// ErrPushSubscriptionNotFound if it is absent or someone else's.
	DeletePushSubscription(ctx context.Context, accountID, id string) error
	// DeletePushSubscriptionByEndpoint deletes the subscription of an
	// endpoint, whoever owns it (the push service said it is gone: 404 or
	// 410). Deleting an unknown endpoint is not an error.
	DeletePushSubscriptionByEndpoint(ctx context.Context, endpoint string) error
	// PushTargets returns one page of the devices of the accounts that
	// follow channelID and have not muted it, in a stable order (account id,
	// then subscription id), after the opaque cursor after ("" starts), at
	// most limit (ClampPushTargetsLimit). next is "" on the last page. It is
	// the only read of who follows a channel: its result and its cursors
	// never leave the server. An unknown channel has no targets.
	// ErrInvalidPushCursor for a malformed cursor.
	PushTargets(ctx context.Context, channelID, after string, limit int) (targets []PushSubscription, next string, err error)
}

// PushCursor encodes a PushTargets position (stores share the format).
func PushCursor(accountID, subscriptionID string) string {
	return accountID + "." + subscriptionID
}

// ParsePushCursor decodes a PushTargets cursor; "" is the start (both
// parts empty). ErrInvalidPushCursor if malformed.
func ParsePushCursor(c string) (accountID, subscriptionID string, err error) {
	if c == "" {
		return "", "", nil
	}
	a, s, ok := strings.Cut(c, ".")
	if !ok || a == "" || s == "" || len(c) > 200 || strings.Contains(s, ".") {
		return "", "", ErrInvalidPushCursor
	}
	return a, s, nil
}
