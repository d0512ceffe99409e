// Package pushtest is the push-service side of Web Push for tests and
// benchmarks: subscriptions with their private keys, a decryptor for RFC 8291
// bodies, and an RFC 8030 push service (httptest, HTTP/2 over TLS) that
// checks each request's VAPID token before decrypting and recording it.
package pushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Subscriber is a browser's side of one push subscription.
type Subscriber struct {
	Key  *ecdh.PrivateKey
	Auth []byte // 16 bytes
}

// NewSubscriber makes a fresh key pair and auth secret.
func NewSubscriber() *Subscriber {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // never: the system's random source failed
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return &Subscriber{Key: k, Auth: auth}
}

// P256dh returns the subscription's public key, as keys.p256dh carries it.
func (s *Subscriber) P256dh() []byte { return s.Key.PublicKey().Bytes() }

// Decrypt opens an aes128gcm body (RFC 8188) encrypted for this subscriber
// with the Web Push key schedule (RFC 8291). It is written independently of
// package push, from the RFCs, so the two check each other; it accepts
// several records, as a user agent must.
func (s *Subscriber) Decrypt(body []byte) ([]byte, error) {
	return Decrypt(body, s.Key, s.Auth)
}

// Decrypt opens body with the subscription's private key and auth secret.
func Decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("pushtest: body shorter than the aes128gcm header")
	}
	salt := body[:16]
	rs := binary.BigEndian.Uint32(body[16:20])
	idlen := int(body[20])
	if rs < 18 {
		return nil, fmt.Errorf("pushtest: record size %d too small", rs)
	}
	if len(body) < 21+idlen {
		return nil, errors.New("pushtest: body shorter than its key id")
	}
	asPub := body[21 : 21+idlen]
	as, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, fmt.Errorf("pushtest: key id is not a P-256 point: %w", err)
	}
	secret, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	// RFC 8291 section 3.3-3.4.
	prkKey, err := hkdf.Extract(sha256.New, secret, auth)
	if err != nil {
		return nil, err
	}
	keyInfo := append(append([]byte("WebPush: info\x00"), ua.PublicKey().Bytes()...), asPub...)
	ikm, err := hkdf.Expand(sha256.New, prkKey, string(keyInfo), 32)
	if err != nil {
		return nil, err
	}
	// RFC 8188 section 2.2-2.3.
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	baseNonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	rest := body[21+idlen:]
	if len(rest) == 0 {
		return nil, errors.New("pushtest: no record")
	}
	var out []byte
	for seq := uint64(0); len(rest) > 0; seq++ {
		n := min(int(rs), len(rest))
		rec := rest[:n]
		rest = rest[n:]
		nonce := make([]byte, 12)
		copy(nonce, baseNonce)
		for i := range 8 { // XOR the record sequence number into the last 8 bytes
			nonce[11-i] ^= byte(seq >> (8 * i))
		}
		plain, err := gcm.Open(nil, nonce, rec, nil)
		if err != nil {
			return nil, fmt.Errorf("pushtest: record %d: %w", seq, err)
		}
		// Strip the padding: zeros, then the delimiter (1, or 2 on the last record).
		i := len(plain) - 1
		for i >= 0 && plain[i] == 0 {
			i--
		}
		if i < 0 {
			return nil, fmt.Errorf("pushtest: record %d has no delimiter", seq)
		}
		last := len(rest) == 0
		if (last && plain[i] != 2) || (!last && plain[i] != 1) {
			return nil, fmt.Errorf("pushtest: record %d has delimiter %d", seq, plain[i])
		}
		out = append(out, plain[:i]...)
	}
	return out, nil
}
