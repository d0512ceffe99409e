// Package push holds the building blocks of Web Push: VAPID signing (RFC 8292),
// payload encryption with the aes128gcm content coding (RFC 8291, RFC 8188),
// a Sender that posts one push message to a push service (RFC 8030) and
// classifies its answer, and an HTTP client that only reaches push services
// (the SSRF rules). It knows nothing about stores or channels; the delivery
// pipeline composes these. push/pushtest is a push service for tests.
package push
