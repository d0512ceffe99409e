package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Signing/Updates", testSignedUpdates)
	register("Signing/Rotation", testSigningRotation)
}

// wantValid checks that u verifies against keys.
func wantValid(t *testing.T, u *herald.Update, keys []herald.SigningKey, what string) {
	t.Helper()
	if got := herald.VerifyUpdate(u, keys); got != herald.SignatureValid {
		t.Fatalf("%s: signature %q (key %q, sig %q), want valid", what, got, u.KeyID, u.Signature)
	}
}

func testSignedUpdates(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	other := h.Channel(owner)
	keys, err := s.SigningKeys(h.Ctx, "", ch.ID)
	NoErr(t, err, "SigningKeys (anonymous, listed)")
	if len(keys) != 1 || keys[0].RetiredAt != nil || keys[0].Algorithm != herald.SignatureAlgorithm || len(keys[0].PublicKey) != 43 {
		t.Fatalf("a new channel's keys: %s", JSON(t, keys))
	}
	otherKeys, err := s.SigningKeys(h.Ctx, "", other.ID)
	NoErr(t, err, "SigningKeys (other)")
	if otherKeys[0].ID == keys[0].ID || otherKeys[0].PublicKey == keys[0].PublicKey {
		t.Fatal("two channels share a key")
	}

	h.Events.Take()
	u := h.Post(owner, ch, "Flood warning: the Rhône rises \"fast\"\n\ttonight ✓")
	if u.KeyID != keys[0].ID {
		t.Fatalf("signed by %q, want the channel's key %q", u.KeyID, keys[0].ID)
	}
	wantValid(t, u, keys, "posted update")
	// Every read carries the same signature, and it verifies: the signed
	// values survive the store's round trip (time precision included).
	got, err := s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	NoErr(t, err, "FindUpdate")
	if got.Signature != u.Signature {
		t.Fatalf("read signature %q, posted %q", got.Signature, u.Signature)
	}
	wantValid(t, got, keys, "read update")
	list, err := s.ListUpdates(h.Ctx, "", ch.ID, 0, 10)
	NoErr(t, err, "ListUpdates")
	wantValid(t, list[0], keys, "listed update")
	evs := h.Events.Stream(ch.ID)
	if len(evs) != 1 || evs[0].Update == nil {
		t.Fatalf("events: %s", JSON(t, evs))
	}
	wantValid(t, evs[0].Update, keys, "update.created event")
	hist, _, err := s.EventsAfter(h.Ctx, ch.ID, 0, 10)
	NoErr(t, err, "EventsAfter")
	wantValid(t, hist[len(hist)-1].Update, keys, "hydrated history event")

	// Tampering: one character, the seq, the time, the channel.
	bad := *got
	bad.Text = "Flood warning: the Rhône rises \"fast\"\n\ttonight ✗"
	if r := herald.VerifyUpdate(&bad, keys); r != herald.SignatureInvalid {
		t.Fatalf("one character changed: %q", r)
	}
	bad = *got
	bad.Seq++
	if r := herald.VerifyUpdate(&bad, keys); r != herald.SignatureInvalid {
		t.Fatalf("seq changed: %q", r)
	}
	bad = *got
	bad.CreatedAt = bad.CreatedAt.Add(time.Millisecond)
	if r := herald.VerifyUpdate(&bad, keys); r != herald.SignatureInvalid {
		t.Fatalf("created_at changed: %q", r)
	}
	bad = *got
	bad.ChannelID = other.ID
	if r := herald.VerifyUpdate(&bad, keys); r != herald.SignatureInvalid {
		t.Fatalf("channel changed: %q", r)
	}
	if r := herald.VerifyUpdate(got, otherKeys); r != herald.SignatureUnknownKey {
		t.Fatalf("against another channel's keys: %q", r)
	}
	// Another channel's key under this key's id does not verify either.
	forged := []herald.SigningKey{otherKeys[0]}
	forged[0].ID = got.KeyID
	if r := herald.VerifyUpdate(got, forged); r != herald.SignatureInvalid {
		t.Fatalf("another channel's public key: %q", r)
	}

	// An edit is signed again, its time included.
	h.Clock.Advance(time.Minute)
	edited, err := s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "Flood warning lifted")
	NoErr(t, err, "EditUpdate")
	if edited.Signature == u.Signature || edited.EditedAt == nil {
		t.Fatal("edit kept the old signature")
	}
	wantValid(t, edited, keys, "edited update")
	got, err = s.FindUpdate(h.Ctx, "", ch.ID, u.ID)
	NoErr(t, err, "FindUpdate after edit")
	wantValid(t, got, keys, "edited update read back")
	bad = *got
	bad.EditedAt = nil
	if r := herald.VerifyUpdate(&bad, keys); r != herald.SignatureInvalid {
		t.Fatalf("edit time dropped: %q", r)
	}

	// Polls: the question and option texts are signed, counts are not.
	p := h.PostPoll(owner, ch, false, "Yes", "No")
	wantValid(t, p, keys, "poll")
	voter := h.Follower(ch)
	_, err = s.Vote(h.Ctx, voter.ID, ch.ID, p.ID, []int{0})
	NoErr(t, err, "Vote")
	got, err = s.FindUpdate(h.Ctx, "", ch.ID, p.ID)
	NoErr(t, err, "FindUpdate poll")
	wantValid(t, got, keys, "poll after a vote")
	got.Poll.Options[1].Text = "Maybe"
	if r := herald.VerifyUpdate(got, keys); r != herald.SignatureInvalid {
		t.Fatalf("option changed: %q", r)
	}

	// Attachments are signed by id, alt text, type and size, in order.
	a, b := h.Upload(owner, ch, 1234), h.Upload(owner, ch, 99)
	withMedia := &herald.Update{Text: "Two photos of the quays", Media: []herald.Media{{ID: a.ID, Alt: "North quay"}, {ID: b.ID}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, withMedia), "CreateUpdate with media")
	wantValid(t, withMedia, keys, "update with media")
	got, err = s.FindUpdate(h.Ctx, "", ch.ID, withMedia.ID)
	NoErr(t, err, "FindUpdate with media")
	wantValid(t, got, keys, "update with media read back")
	for name, tamper := range map[string]func(u *herald.Update){
		"alt text changed":   func(u *herald.Update) { u.Media[0].Alt = "South quay" },
		"another file":       func(u *herald.Update) { u.Media[1].ID = a.ID },
		"size changed":       func(u *herald.Update) { u.Media[0].Size++ },
		"order swapped":      func(u *herald.Update) { u.Media[0], u.Media[1] = u.Media[1], u.Media[0] },
		"attachment dropped": func(u *herald.Update) { u.Media = u.Media[:1] },
		"all media stripped": func(u *herald.Update) { u.Media = nil },
	} {
		bad := *got
		bad.Media = append([]herald.Media(nil), got.Media...)
		tamper(&bad)
		if r := herald.VerifyUpdate(&bad, keys); r != herald.SignatureInvalid {
			t.Fatalf("%s: %q", name, r)
		}
	}
	h.Clock.Advance(time.Minute)
	editedMedia, err := s.EditUpdate(h.Ctx, owner.ID, ch.ID, withMedia.ID, "")
	NoErr(t, err, "EditUpdate of an update with media, text cleared")
	wantValid(t, editedMedia, keys, "edited update with media")

	// Unlisted channels' keys are for those who may read it.
	hidden := h.Channel(owner, Unlisted)
	_, err = s.SigningKeys(h.Ctx, "", hidden.ID)
	WantCode(t, err, herald.ENOTFOUND, "SigningKeys of an unlisted channel, anonymous")
	_, err = s.SigningKeys(h.Ctx, h.Follower(hidden).ID, hidden.ID)
	NoErr(t, err, "SigningKeys of an unlisted channel, follower")
}

func testSigningRotation(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	old := h.Post(owner, ch, "Signed by the first key")
	follower := h.Follower(ch)
	_, err := s.RotateSigningKey(h.Ctx, follower.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "RotateSigningKey by a follower")
	_, err = s.RotateSigningKey(h.Ctx, "", ch.ID)
	if err == nil {
		t.Fatal("anonymous rotation accepted")
	}

	h.Clock.Advance(time.Hour)
	k, err := s.RotateSigningKey(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "RotateSigningKey")
	if k.ID == old.KeyID || k.RetiredAt != nil {
		t.Fatalf("new key %s", JSON(t, k))
	}
	keys, err := s.SigningKeys(h.Ctx, "", ch.ID)
	NoErr(t, err, "SigningKeys after rotation")
	if len(keys) != 2 || keys[0].ID != k.ID || keys[1].ID != old.KeyID || keys[1].RetiredAt == nil || !keys[1].RetiredAt.Equal(h.Clock.Now()) {
		t.Fatalf("keys after rotation: %s", JSON(t, keys))
	}
	// The old update still verifies; new ones use the new key.
	got, err := s.FindUpdate(h.Ctx, "", ch.ID, old.ID)
	NoErr(t, err, "FindUpdate")
	wantValid(t, got, keys, "update signed before the rotation")
	fresh := h.Post(owner, ch, "Signed by the second key")
	if fresh.KeyID != k.ID {
		t.Fatalf("new update signed by %q, want %q", fresh.KeyID, k.ID)
	}
	wantValid(t, fresh, keys, "update signed after the rotation")
	// Only the current key is enough for the new one, not for the old one.
	if r := herald.VerifyUpdate(got, keys[:1]); r != herald.SignatureUnknownKey {
		t.Fatalf("old update against the current key only: %q", r)
	}

	// Once everything the old key signed has expired, the key goes too.
	h.Clock.Advance(h.Config.Retention)
	_, err = s.PruneExpired(h.Ctx)
	NoErr(t, err, "PruneExpired")
	keys, err = s.SigningKeys(h.Ctx, "", ch.ID)
	NoErr(t, err, "SigningKeys after the retention")
	if len(keys) != 1 || keys[0].ID != k.ID {
		t.Fatalf("keys after the retention: %s", JSON(t, keys))
	}
}
