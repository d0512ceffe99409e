package herald

import (
	"crypto/rand"
	"encoding/base32"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random, opaque id for an account, channel or update: 16
// random bytes in lowercase base32 (26 characters). It never starts with
// '@', so a channel id can name the channel's event stream.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return idEncoding.EncodeToString(b[:])
}

// NewInviteCode returns a random, unguessable invite code (80 bits, 16
// characters), unrelated to the channel's id.
func NewInviteCode() string {
	var b [10]byte
	rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}
