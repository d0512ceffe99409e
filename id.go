package herald

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash"
	"io"
	"sync"
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

// IDDeriver derives ids like NewID's from parts, with an HMAC under its
// key: the same parts give the same id, and without the key an id is as
// unguessable as a random one. A store names the update a keyed post
// creates this way, so that finding a retry's update is the lookup by id
// every post already makes.
type IDDeriver struct{ pool sync.Pool }

// NewIDDeriver returns a deriver under key.
func NewIDDeriver(key []byte) *IDDeriver {
	key = bytes.Clone(key)
	d := &IDDeriver{}
	d.pool.New = func() any { return hmac.New(sha256.New, key) }
	return d
}

// ID returns the id of parts.
func (d *IDDeriver) ID(parts ...string) string {
	m := d.pool.Get().(hash.Hash)
	defer d.pool.Put(m)
	m.Reset()
	var n [4]byte
	for _, p := range parts {
		// Length-prefixed, so that no two lists of parts hash alike.
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		io.WriteString(m, p)
	}
	var sum [sha256.Size]byte
	return idEncoding.EncodeToString(m.Sum(sum[:0])[:16])
}
