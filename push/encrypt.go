package push

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"

	"github.com/heraldhq/herald"
)

// Sizes of the aes128gcm body (RFC 8188 section 2.1, RFC 8291 section 4).
const (
	// RecordSize is the rs of the one record Encrypt writes.
	RecordSize = 4096
	saltLen    = 16
	keyLen     = 65 // an uncompressed P-256 point
	authLen    = 16
	tagLen     = 16
	headerLen  = saltLen + 4 + 1 + keyLen // 86
	// MaxBodySize is what every push service must accept (RFC 8030 section 7.2).
	MaxBodySize = 4096
	// MaxPlaintext is the largest payload that fits one record of a body of
	// MaxBodySize: 4096 - 86 (header) - 16 (tag) - 1 (padding delimiter).
	MaxPlaintext = MaxBodySize - headerLen - tagLen - 1 // 3993
)

// Encrypt encrypts plaintext for the subscription whose public key (p256dh,
// a 65-byte uncompressed P-256 point) and authentication secret (16 bytes)
// the browser gave. The result is the request body, aes128gcm coded: a header
// holding a fresh salt, rs = 4096 and a fresh ephemeral server public key,
// then one record.
func Encrypt(plaintext, p256dh, auth []byte) ([]byte, error) {
	var salt [saltLen]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, err
	}
	ephemeral, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return encrypt(plaintext, p256dh, auth, salt[:], ephemeral)
}

// encrypt is Encrypt with the salt and the server's key pair given, so the
// RFC 8291 example can be reproduced byte for byte.
func encrypt(plaintext, p256dh, auth, salt []byte, as *ecdh.PrivateKey) ([]byte, error) {
	if len(p256dh) != keyLen || p256dh[0] != 4 {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-push-key",
			"The subscription's p256dh key must be a 65-byte uncompressed P-256 point.")
	}
	ua, err := ecdh.P256().NewPublicKey(p256dh)
	if err != nil {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-push-key",
			"The subscription's p256dh key is not a point on P-256.")
	}
	if len(auth) != authLen {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-push-auth",
			"The subscription's auth secret must be 16 bytes.")
	}
	if len(plaintext) > MaxPlaintext {
		return nil, herald.KindErrorf(herald.ETOOLARGE, "push-payload-too-large",
			"A push payload holds at most %d bytes; this one has %d.", MaxPlaintext, len(plaintext))
	}
	secret, err := as.ECDH(ua)
	if err != nil {
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-push-key",
			"The subscription's p256dh key cannot be used.")
	}
	asPub := as.PublicKey().Bytes()
	cek, nonce, err := deriveKeys(secret, auth, salt, p256dh, asPub)
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

	body := make([]byte, headerLen, headerLen+len(plaintext)+1+tagLen)
	copy(body, salt)
	binary.BigEndian.PutUint32(body[saltLen:], RecordSize)
	body[saltLen+4] = keyLen
	copy(body[saltLen+5:], asPub)
	// The record: plaintext, then the delimiter 0x02 (last record), no padding.
	record := append(body[headerLen:], plaintext...)
	record = append(record, 2)
	return gcm.Seal(body, nonce, record, nil), nil
}

// deriveKeys is the key schedule of RFC 8291 section 3.4 and RFC 8188
// section 2.2: the content-encryption key and the nonce of record 0. Every
// HKDF here is one extract and one expand of at most 32 bytes, that is
// HMAC-SHA-256 twice; hmacSHA256 computes it on the stack, since with the
// standard library's HMAC and HKDF this schedule made 40 of Encrypt's 61
// allocations.
func deriveKeys(ecdhSecret, auth, salt, uaPub, asPub []byte) (cek, nonce []byte, err error) {
	// PRK_key = HKDF-Extract(auth, ecdh_secret)
	// IKM = HKDF-Expand(PRK_key, "WebPush: info" || 0x00 || ua_public || as_public, 32)
	prkKey := hmacSHA256(auth, ecdhSecret)
	ikm := hmacSHA256(prkKey[:], []byte("WebPush: info\x00"), uaPub, asPub, []byte{1})
	// PRK = HKDF-Extract(salt, IKM); CEK and NONCE expanded from it.
	prk := hmacSHA256(salt, ikm[:])
	c := hmacSHA256(prk[:], []byte("Content-Encoding: aes128gcm\x00\x01"))
	n := hmacSHA256(prk[:], []byte("Content-Encoding: nonce\x00\x01"))
	keys := make([]byte, 16+12)
	copy(keys, c[:16])
	copy(keys[16:], n[:12])
	return keys[:16:16], keys[16:], nil
}

// hmacSHA256 returns HMAC-SHA-256 (RFC 2104) of the concatenated msg under
// key. Keys here are at most 32 bytes and messages at most 160: both fit
// buffers on the stack.
func hmacSHA256(key []byte, msg ...[]byte) [sha256.Size]byte {
	const block = 64
	var in [block + 160]byte // key XOR ipad, then the message
	var out [block + sha256.Size]byte
	total := 0
	for _, m := range msg {
		total += len(m)
	}
	if len(key) > block || total > len(in)-block {
		panic("push: HMAC key or message longer than its buffer")
	}
	copy(in[:], key)
	copy(out[:], key)
	for i := range block {
		in[i] ^= 0x36
		out[i] ^= 0x5c
	}
	n := block
	for _, m := range msg {
		n += copy(in[n:], m)
	}
	inner := sha256.Sum256(in[:n])
	copy(out[block:], inner[:])
	return sha256.Sum256(out[:])
}
