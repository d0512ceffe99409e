package herald

import (
	"crypto/ed25519"
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

// Signed updates. Every update a store writes carries an Ed25519 signature
// by its channel's current key over CanonicalUpdate, so a copy of it (from
// the API, a feed, a screenshot's source, a forward) can be checked against
// the channel's public keys. It proves the channel's server signed it, not
// which admin typed it (docs/signatures.md).

// SignatureAlgorithm is the only algorithm channels sign with.
const SignatureAlgorithm = "Ed25519"

// SigningKey is one of a channel's public signing keys. The current key has
// no RetiredAt; retired ones are kept while updates they signed may live.
type SigningKey struct {
	ID        string `json:"id"`
	Algorithm string `json:"algorithm"`
	// PublicKey is the 32-byte Ed25519 public key, base64url without padding.
	PublicKey string     `json:"public_key"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at"`
}

// b64 is the encoding of keys and signatures: base64url without padding.
var b64 = base64.RawURLEncoding

// NewSigningKeyPair returns a fresh key pair's public key and the private
// key's 32-byte seed, which is all a store keeps.
func NewSigningKeyPair() (public, seed []byte) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic("herald: crypto/rand failed: " + err.Error()) // never on supported systems
	}
	return pub, priv.Seed()
}

// EncodeKey is a public key or signature as the API shows it.
func EncodeKey(b []byte) string { return b64.EncodeToString(b) }

// Results of VerifyUpdate.
const (
	SignatureValid      = "valid"
	SignatureInvalid    = "invalid"
	SignatureUnknownKey = "unknown key"
)

// VerifyUpdate checks u's signature against keys (a channel's published
// keys) and returns SignatureValid, SignatureInvalid (no or a bad
// signature, or a malformed key) or SignatureUnknownKey (signed by a key
// not among keys: another channel's, or one not published).
func VerifyUpdate(u *Update, keys []SigningKey) string {
	if u.Signature == "" || u.KeyID == "" {
		return SignatureInvalid
	}
	for _, k := range keys {
		if k.ID != u.KeyID {
			continue
		}
		pub, err := b64.DecodeString(k.PublicKey)
		sig, err2 := b64.DecodeString(u.Signature)
		if err != nil || err2 != nil || len(pub) != ed25519.PublicKeySize || k.Algorithm != SignatureAlgorithm {
			return SignatureInvalid
		}
		if ed25519.Verify(pub, CanonicalUpdate(u), sig) {
			return SignatureValid
		}
		return SignatureInvalid
	}
	return SignatureUnknownKey
}

// CanonicalUpdate is the byte string an update's signature covers: the
// RFC 8785 (JCS) serialization of
//
//	{"channel_id": string, "created_at": time, "edited_at": time or null,
//	 "media": [{"alt": string, "id": string, "mime": string, "size": integer}, ...],
//	 "poll": null or {"multiple": bool,
//	 "options": [string, ...], "question": string}, "seq": integer,
//	 "text": string, "v": 1}
//
// where a time is RFC 3339 in UTC with exactly three fractional digits
// (milliseconds, truncated): what JavaScript's Date.toISOString gives, and
// exact on every store. Counts, reactions and expiry are not signed: they
// change without the channel saying anything new; nor is the link preview,
// which the server fetched from the linked site. Each attachment is
// signed by its id (the server never changes the file behind an id), its
// alt text, type and size, in the update's order. Members are written in JCS order (sorted keys) and
// strings escaped as JCS says; integers are below 2^53.
func CanonicalUpdate(u *Update) []byte {
	b := make([]byte, 0, len(u.Text)+256)
	b = append(b, `{"channel_id":`...)
	b = jcsString(b, u.ChannelID)
	b = append(b, `,"created_at":`...)
	b = jcsString(b, canonicalTime(u.CreatedAt))
	b = append(b, `,"edited_at":`...)
	if u.EditedAt != nil {
		b = jcsString(b, canonicalTime(*u.EditedAt))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"media":[`...)
	for i, m := range u.Media {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"alt":`...)
		b = jcsString(b, m.Alt)
		b = append(b, `,"id":`...)
		b = jcsString(b, m.ID)
		b = append(b, `,"mime":`...)
		b = jcsString(b, m.MIME)
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, m.Size, 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	b = append(b, `,"poll":`...)
	if p := u.Poll; p != nil {
		b = append(b, `{"multiple":`...)
		b = strconv.AppendBool(b, p.Multiple)
		b = append(b, `,"options":[`...)
		for i, o := range p.Options {
			if i > 0 {
				b = append(b, ',')
			}
			b = jcsString(b, o.Text)
		}
		b = append(b, `],"question":`...)
		b = jcsString(b, p.Question)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, u.Seq, 10)
	b = append(b, `,"text":`...)
	b = jcsString(b, u.Text)
	b = append(b, `,"v":1}`...)
	return b
}

// canonicalTime is t in UTC, RFC 3339 with milliseconds (truncated).
func canonicalTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// jcsString appends s as RFC 8785 serializes a string (ECMAScript's
// JSON.stringify): quotation mark and reverse solidus escaped, control
// characters as \b \t \n \f \r or \u00xx (lowercase hex), everything else
// as is. Invalid UTF-8 (never stored) becomes U+FFFD.
func jcsString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}
