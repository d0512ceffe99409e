package herald

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// TestCanonicalUpdate pins the exact bytes signatures cover: the web app's
// verifier and docs/signatures.md describe the same form.
func TestCanonicalUpdate(t *testing.T) {
	created := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	edited := created.Add(90 * time.Second)
	u := &Update{ChannelID: "ch1", Seq: 42, Text: "a\"b\\c\n\t\x01\x1f\u2028é</script>😀", CreatedAt: created}
	want := `{"channel_id":"ch1","created_at":"2026-03-01T11:00:00.123Z","edited_at":null,"media":[],"poll":null,"seq":42,` +
		`"text":"a\"b\\c\n\t\u0001\u001f` + "\u2028é</script>😀" + `","v":1}`
	if got := string(CanonicalUpdate(u)); got != want {
		t.Fatalf("canonical form\n got %s\nwant %s", got, want)
	}
	u.EditedAt = &edited
	u.Poll = &Poll{Question: "Q?", Multiple: true, Options: []PollOption{{Text: "x", Votes: 3}, {Text: "y"}}, Voters: 3}
	want = `{"channel_id":"ch1","created_at":"2026-03-01T11:00:00.123Z","edited_at":"2026-03-01T11:01:30.123Z","media":[],` +
		`"poll":{"multiple":true,"options":["x","y"],"question":"Q?"},"seq":42,"text":"a\"b\\c\n\t\u0001\u001f` + "\u2028é</script>😀" + `","v":1}`
	if got := string(CanonicalUpdate(u)); got != want {
		t.Fatalf("canonical form with poll\n got %s\nwant %s", got, want)
	}
	// Attachments: id, alt text, type and size, in order (URLs, sizes in
	// pixels and the like are not signed).
	p := &Update{ChannelID: "ch1", Seq: 43, Text: "Quays", CreatedAt: created,
		Media: []Media{{ID: "m1", Alt: "The \"north\" quay", MIME: "image/jpeg", Size: 48213, Width: 640, URL: "/media/m1/original"}, {ID: "m2", MIME: "video/mp4", Size: 9}}}
	want = `{"channel_id":"ch1","created_at":"2026-03-01T11:00:00.123Z","edited_at":null,"media":[{"alt":"The \"north\" quay","id":"m1","mime":"image/jpeg","size":48213},` +
		`{"alt":"","id":"m2","mime":"video/mp4","size":9}],"poll":null,"seq":43,"text":"Quays","v":1}`
	if got := string(CanonicalUpdate(p)); got != want {
		t.Fatalf("canonical form with media\n got %s\nwant %s", got, want)
	}
	// Counts, reactions and expiry are not signed.
	before := string(CanonicalUpdate(u))
	u.Poll.Options[0].Votes, u.Poll.Voters, u.Reactions, u.ExpiresAt = 99, 99, map[string]int64{"👍": 1}, created
	if string(CanonicalUpdate(u)) != before {
		t.Fatal("counts changed the canonical form")
	}
}

func TestSignAndVerify(t *testing.T) {
	pub, seed := NewSigningKeyPair()
	keys := []SigningKey{{ID: "k1", Algorithm: SignatureAlgorithm, PublicKey: EncodeKey(pub)}}
	u := &Update{ChannelID: "ch1", Seq: 1, Text: "Hello", CreatedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	signWithStdlib(u, "k1", seed)
	if r := VerifyUpdate(u, keys); r != SignatureValid {
		t.Fatalf("fresh signature: %s", r)
	}
	c := *u
	c.Text = "Hellp"
	if r := VerifyUpdate(&c, keys); r != SignatureInvalid {
		t.Fatalf("changed text: %s", r)
	}
	c = *u
	c.Signature = "not base64!"
	if r := VerifyUpdate(&c, keys); r != SignatureInvalid {
		t.Fatalf("garbage signature: %s", r)
	}
	c = *u
	c.Signature = ""
	if r := VerifyUpdate(&c, keys); r != SignatureInvalid {
		t.Fatalf("no signature: %s", r)
	}
	c = *u
	c.KeyID = "k2"
	if r := VerifyUpdate(&c, keys); r != SignatureUnknownKey {
		t.Fatalf("unknown key: %s", r)
	}
}

// signWithStdlib signs as package signing does, with crypto/ed25519.
func signWithStdlib(u *Update, keyID string, seed []byte) {
	u.Signature, u.KeyID = EncodeKey(ed25519.Sign(ed25519.NewKeyFromSeed(seed), CanonicalUpdate(u))), keyID
}
