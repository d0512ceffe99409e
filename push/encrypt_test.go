package push

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/push/pushtest"
)

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The example of RFC 8291 section 5 / appendix A (published test data).
const (
	rfcPlaintext = "When I grow up, I want to be a watermelon"
	rfcUAPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
	rfcUAPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	rfcASPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
	rfcSalt      = "DGv6ra1nlYgDCS1FRnbzlw"
	rfcAuth      = "BTBZMqHH6r4Tts7J_aSIgg"
	rfcBody      = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)

func TestEncryptMatchesRFC8291Example(t *testing.T) {
	as, err := ecdh.P256().NewPrivateKey(unb64(t, rfcASPrivate))
	if err != nil {
		t.Fatal(err)
	}
	got, err := encrypt([]byte(rfcPlaintext), unb64(t, rfcUAPublic), unb64(t, rfcAuth), unb64(t, rfcSalt), as)
	if err != nil {
		t.Fatal(err)
	}
	if want := unb64(t, rfcBody); !bytes.Equal(got, want) {
		t.Fatalf("body\n got %s\nwant %s", base64.RawURLEncoding.EncodeToString(got), rfcBody)
	}
	// The independent decryptor opens the RFC's body too.
	ua, err := ecdh.P256().NewPrivateKey(unb64(t, rfcUAPrivate))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := pushtest.Decrypt(unb64(t, rfcBody), ua, unb64(t, rfcAuth))
	if err != nil || string(plain) != rfcPlaintext {
		t.Fatalf("decrypt: %q, %v", plain, err)
	}
}

func TestEncryptRoundTripsEverySize(t *testing.T) {
	sub := pushtest.NewSubscriber()
	sizes := []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 2048, 3000, 3900, MaxPlaintext - 1, MaxPlaintext}
	for n := 0; n <= MaxPlaintext; n += 97 {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		plain := bytes.Repeat([]byte{byte(n)}, n)
		for i := range plain {
			plain[i] ^= byte(i * 7)
		}
		body, err := Encrypt(plain, sub.P256dh(), sub.Auth)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if len(body) != headerLen+n+1+tagLen || len(body) > MaxBodySize {
			t.Fatalf("%d bytes: body of %d bytes", n, len(body))
		}
		got, err := sub.Decrypt(body)
		if err != nil {
			t.Fatalf("%d bytes: decrypt: %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: round trip differs", n)
		}
	}
	if MaxPlaintext != 3993 {
		t.Fatalf("MaxPlaintext = %d, RFC 8291 section 4 says 3993", MaxPlaintext)
	}
}

func TestEncryptUsesFreshKeysEachTime(t *testing.T) {
	sub := pushtest.NewSubscriber()
	a, _ := Encrypt([]byte("same"), sub.P256dh(), sub.Auth)
	b, _ := Encrypt([]byte("same"), sub.P256dh(), sub.Auth)
	if bytes.Equal(a[:saltLen], b[:saltLen]) || bytes.Equal(a[21:headerLen], b[21:headerLen]) || bytes.Equal(a, b) {
		t.Fatal("two encryptions share a salt or an ephemeral key")
	}
}

func TestEncryptRefusesTooLargePayload(t *testing.T) {
	sub := pushtest.NewSubscriber()
	for _, n := range []int{MaxPlaintext + 1, 4096, 1 << 20} {
		_, err := Encrypt(make([]byte, n), sub.P256dh(), sub.Auth)
		if herald.ErrorCode(err) != herald.ETOOLARGE || herald.ErrorKind(err) != "push-payload-too-large" {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
}

func TestDecryptFailsWithWrongAuthOrTampering(t *testing.T) {
	sub := pushtest.NewSubscriber()
	body, err := Encrypt([]byte("the bridge is closed"), sub.P256dh(), sub.Auth)
	if err != nil {
		t.Fatal(err)
	}
	wrong := append([]byte(nil), sub.Auth...)
	wrong[0] ^= 1
	if _, err := pushtest.Decrypt(body, sub.Key, wrong); err == nil {
		t.Fatal("decrypted with the wrong auth secret")
	}
	other := pushtest.NewSubscriber()
	if _, err := pushtest.Decrypt(body, other.Key, sub.Auth); err == nil {
		t.Fatal("decrypted with another subscription's key")
	}
	// The salt and the key id feed the key schedule, and every byte of the
	// record (ciphertext and tag) is authenticated. (rs is not: it only says
	// where records split, and one short record splits nowhere.)
	positions := []int{0, 8, 15, 21, 30, 60, 85}
	for i := headerLen; i < len(body); i++ {
		positions = append(positions, i)
	}
	for _, i := range positions {
		bad := append([]byte(nil), body...)
		bad[i] ^= 0x40
		if plain, err := sub.Decrypt(bad); err == nil {
			t.Fatalf("byte %d flipped: decrypted %q", i, plain)
		}
	}
	if _, err := sub.Decrypt(body[:len(body)-1]); err == nil {
		t.Fatal("truncated body decrypted")
	}
}

func TestEncryptRefusesBadKeys(t *testing.T) {
	sub := pushtest.NewSubscriber()
	good := sub.P256dh()
	offCurve := append([]byte(nil), good...)
	offCurve[64] ^= 1
	compressed := append([]byte{2 | good[64]&1}, good[1:33]...)
	infinity := make([]byte, 65)
	infinity[0] = 4
	notUncompressed := append([]byte(nil), good...)
	notUncompressed[0] = 5
	keys := map[string][]byte{
		"nil": nil, "short": good[:64], "long": append(append([]byte(nil), good...), 0),
		"off the curve": offCurve, "compressed": compressed, "zeros": infinity, "wrong prefix": notUncompressed,
	}
	for name, k := range keys {
		_, err := Encrypt([]byte("x"), k, sub.Auth)
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorKind(err) != "invalid-push-key" {
			t.Errorf("p256dh %s: %v", name, err)
		}
	}
	for _, n := range []int{0, 15, 17, 32} {
		_, err := Encrypt([]byte("x"), good, make([]byte, n))
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorKind(err) != "invalid-push-auth" {
			t.Errorf("auth of %d bytes: %v", n, err)
		}
	}
}

func FuzzEncrypt(f *testing.F) {
	sub := pushtest.NewSubscriber()
	f.Add([]byte("hello"), sub.P256dh(), sub.Auth)
	f.Add([]byte{}, []byte{4}, []byte{})
	f.Add(make([]byte, MaxPlaintext+1), sub.P256dh(), sub.Auth)
	f.Add([]byte("x"), make([]byte, 65), make([]byte, 16))
	f.Fuzz(func(t *testing.T, plain, p256dh, auth []byte) {
		body, err := Encrypt(plain, p256dh, auth)
		if err != nil {
			var he *herald.Error
			if !errors.As(err, &he) || (he.Code != herald.EINVALID && he.Code != herald.ETOOLARGE) {
				t.Fatalf("error is not an invalid herald.Error: %v", err)
			}
			return
		}
		if _, perr := ecdh.P256().NewPublicKey(p256dh); perr != nil || len(auth) != 16 || len(plain) > MaxPlaintext {
			t.Fatalf("accepted p256dh %x auth %x (%d bytes of payload)", p256dh, auth, len(plain))
		}
		if len(body) != headerLen+len(plain)+1+tagLen {
			t.Fatalf("body of %d bytes for %d", len(body), len(plain))
		}
		// With the fuzzed payload and the real subscription, it round-trips.
		body, err = Encrypt(plain, sub.P256dh(), sub.Auth)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sub.Decrypt(body)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecryptNeverPanics(f *testing.F) {
	sub := pushtest.NewSubscriber()
	body, _ := Encrypt([]byte("seed"), sub.P256dh(), sub.Auth)
	f.Add(body)
	f.Add([]byte{})
	f.Add(make([]byte, 21))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = sub.Decrypt(body)
	})
}
