package signing

import (
	stded25519 "crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// The signatures are crypto/ed25519's, byte for byte (Ed25519 is
// deterministic), and verify with herald.VerifyUpdate; a changed field
// does not.
func TestSignaturesMatchTheStandardLibrary(t *testing.T) {
	for i := range 200 {
		pub, seed := herald.NewSigningKeyPair()
		keyID := fmt.Sprintf("k%d", i)
		u := &herald.Update{ChannelID: "ch1", Seq: int64(i), Text: fmt.Sprintf("Bulletin %d: 14°C, light rain ☔", i),
			CreatedAt: time.Date(2026, 3, 1, 12, 0, i, 0, time.UTC)}
		if i%3 == 0 {
			u.Media = []herald.Media{{ID: "m1", Alt: "A quay", MIME: "image/jpeg", Size: int64(1000 + i)}}
		}
		SignUpdate(u, keyID, seed)
		want := herald.EncodeKey(stded25519.Sign(stded25519.NewKeyFromSeed(seed), herald.CanonicalUpdate(u)))
		if u.Signature != want || u.KeyID != keyID {
			t.Fatalf("update %d: signature %s, crypto/ed25519 gives %s", i, u.Signature, want)
		}
		keys := []herald.SigningKey{{ID: keyID, Algorithm: herald.SignatureAlgorithm, PublicKey: herald.EncodeKey(pub)}}
		if r := herald.VerifyUpdate(u, keys); r != herald.SignatureValid {
			t.Fatalf("update %d: %s", i, r)
		}
		u.Seq++
		if r := herald.VerifyUpdate(u, keys); r != herald.SignatureInvalid {
			t.Fatalf("update %d with another seq: %s", i, r)
		}
	}
}

// A key id reused with another seed (a new store) is not served from the
// cache of expanded keys.
func TestExpandedKeyFollowsTheSeed(t *testing.T) {
	pub1, seed1 := herald.NewSigningKeyPair()
	pub2, seed2 := herald.NewSigningKeyPair()
	u := &herald.Update{ChannelID: "ch1", Seq: 1, Text: "x", CreatedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	SignUpdate(u, "same", seed1)
	if r := herald.VerifyUpdate(u, []herald.SigningKey{{ID: "same", Algorithm: herald.SignatureAlgorithm, PublicKey: herald.EncodeKey(pub1)}}); r != herald.SignatureValid {
		t.Fatalf("first seed: %s", r)
	}
	SignUpdate(u, "same", seed2)
	if r := herald.VerifyUpdate(u, []herald.SigningKey{{ID: "same", Algorithm: herald.SignatureAlgorithm, PublicKey: herald.EncodeKey(pub2)}}); r != herald.SignatureValid {
		t.Fatalf("second seed under the same id: %s", r)
	}
}

// BenchmarkSignUpdate is what signing adds to each post and edit: the
// canonical form and one Ed25519 signature (the expanded key cached).
// BenchmarkSignUpdateStdlib is the same with crypto/ed25519, for comparison.
func BenchmarkSignUpdate(b *testing.B) {
	_, seed := herald.NewSigningKeyPair()
	u := &herald.Update{ChannelID: "dhadr77ur5rjbul22hxeeq4q6a", Seq: 1234, Text: strings.Repeat("Light rain on the A7, ", 9), CreatedAt: time.Now()}
	for b.Loop() {
		SignUpdate(u, "k1", seed)
	}
}

func BenchmarkSignUpdateStdlib(b *testing.B) {
	_, seed := herald.NewSigningKeyPair()
	key := stded25519.NewKeyFromSeed(seed)
	u := &herald.Update{ChannelID: "dhadr77ur5rjbul22hxeeq4q6a", Seq: 1234, Text: strings.Repeat("Light rain on the A7, ", 9), CreatedAt: time.Now()}
	for b.Loop() {
		u.Signature, u.KeyID = herald.EncodeKey(stded25519.Sign(key, herald.CanonicalUpdate(u))), "k1"
	}
}
