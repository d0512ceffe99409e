// Package webhook delivers a channel's public events to the https URLs its
// admins registered, signed as Standard Webhooks do
// (https://www.standardwebhooks.com), and gives receivers Verify to check
// what they get.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretBytes is the size of a signing secret: 256 random bits.
const secretBytes = 32

// NewSecret returns a new signing secret: as shown to the admin once
// ("whsec_" + base64), and as the HMAC key the store keeps.
func NewSecret() (shown string, key []byte) {
	key = make([]byte, secretBytes)
	_, _ = rand.Read(key) // crypto/rand never fails on supported platforms
	return herald.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key), key
}

// ParseSecret returns the HMAC key of a secret shown by NewSecret.
func ParseSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, herald.WebhookSecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook: malformed secret (want whsec_ followed by base64)")
	}
	return key, nil
}

// Sign returns the webhook-signature value for a message: "v1," and the
// base64 HMAC-SHA256, under key, of "id.timestamp.body" (timestamp in Unix
// seconds).
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Tolerance is how far a message's timestamp may be from the receiver's
// clock: older messages are refused as possible replays.
const Tolerance = 5 * time.Minute

// Verification errors.
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrTimestamp      = errors.New("webhook: timestamp too old or too new")
	ErrSignature      = errors.New("webhook: no valid signature")
)

// Verify checks a received message as a receiver must: the headers are
// present, the timestamp is within Tolerance of now, and one of the
// space-separated signatures is the v1 HMAC of the exact body under secret
// ("whsec_..."). Compare in constant time; only then parse the body.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	want := []byte(Sign(key, id, sec, body))
	for _, sig := range strings.Fields(sigs) {
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return ErrSignature
}
