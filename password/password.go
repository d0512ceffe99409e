// Package password hashes and verifies account passwords with argon2id,
// storing them as PHC strings ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are OWASP's recommended argon2id settings (m=19 MiB, t=2, p=1).
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestParams are cheap settings for tests, where thousands of hashes would
// otherwise dominate the run time. Never use them in production.
var TestParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrMalformed is returned for a stored hash that is not a valid PHC argon2id string.
var ErrMalformed = errors.New("password: malformed hash")

// Hasher hashes with fixed parameters and bounds how many hashes run at once,
// because each holds Params.Memory of RAM: a burst of logins must not
// exhaust memory.
type Hasher struct {
	params Params
	sem    chan struct{}
	dummy  string
}

// NewHasher returns a Hasher using p.
func NewHasher(p Params) *Hasher {
	h := &Hasher{params: p, sem: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	// A hash of a random password, verified against when the username is
	// unknown, so that "no such user" costs the same as "wrong password".
	d, err := h.Hash(rand.Text())
	if err != nil {
		panic(err)
	}
	h.dummy = d
	return h
}

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := h.derive(password, salt, h.params)
	return encode(h.params, salt, key), nil
}

// encode returns the PHC string of a derived key.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches the PHC string encoded, in
// constant time with respect to the password.
func (h *Hasher) Verify(password, encoded string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := h.derive(password, salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// VerifyDummy does the work of a Verify against a hash that matches no
// password. Call it when the account does not exist.
func (h *Hasher) VerifyDummy(password string) {
	_, _ = h.Verify(password, h.dummy)
}

func (h *Hasher) derive(password string, salt []byte, p Params) []byte {
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// decode parses "$argon2id$v=19$m=M,t=T,p=P$salt$key", exactly as encode
// writes it: numbers in decimal without sign or leading zeros, salt and key
// in unpadded base64 without line breaks. Anything else is ErrMalformed, so
// that encode(decode(s)) == s for every accepted s.
func decode(s string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformed
	}
	m, rest, ok1 := strings.Cut(parts[3], ",")
	t, th, ok2 := strings.Cut(rest, ",")
	mem, ok3 := field(m, "m=", 32)
	tm, ok4 := field(t, "t=", 32)
	threads, ok5 := field(th, "p=", 8)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return p, nil, nil, ErrMalformed
	}
	p.Memory, p.Time, p.Threads = uint32(mem), uint32(tm), uint8(threads)
	// Bounds keep a tampered hash from costing unbounded memory or time.
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 {
		return p, nil, nil, ErrMalformed
	}
	salt, ok := b64(parts[4])
	if !ok || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	key, ok := b64(parts[5])
	if !ok || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// field parses "name=N", N a canonical decimal of at most bits bits.
func field(s, name string, bits int) (uint64, bool) {
	v, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, bits)
	return n, err == nil && strconv.FormatUint(n, 10) == v
}

// b64 decodes canonical unpadded base64 (the decoder alone would skip line
// breaks and ignore stray low bits).
func b64(s string) ([]byte, bool) {
	b, err := base64.RawStdEncoding.DecodeString(s)
	return b, err == nil && base64.RawStdEncoding.EncodeToString(b) == s
}
