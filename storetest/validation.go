package storetest

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func init() {
	register("Validation/Account", testValidationAccount)
	register("Validation/Reaction", testValidationReaction)
	register("Validation/Update", testValidationUpdate)
}

// Stores are the one layer that validates input (see herald.Store): the HTTP
// handlers pass it on as decoded. These cases reach the store directly.

func testValidationAccount(t *testing.T, h *Harness) {
	s := h.Store
	WantKind(t, s.CreateAccount(h.Ctx, &herald.Account{Username: "Bad Name", DisplayName: "x"}, "h"), herald.EINVALID, "invalid-username", "username")
	WantKind(t, s.CreateAccount(h.Ctx, &herald.Account{Username: "ctrl", DisplayName: "a\x01b"}, "h"), herald.EINVALID, "invalid-display-name", "control character")
	long := strings.Repeat("é", herald.DisplayNameMaxLen+1)
	WantKind(t, s.CreateAccount(h.Ctx, &herald.Account{Username: "long", DisplayName: long}, "h"), herald.EINVALID, "invalid-display-name", "too long")
	a := &herald.Account{Username: "blank", DisplayName: "   "}
	NoErr(t, s.CreateAccount(h.Ctx, a, "h"), "blank display name")
	b := &herald.Account{Username: "trimmed", DisplayName: "  Trim Me  "}
	NoErr(t, s.CreateAccount(h.Ctx, b, "h"), "trimmed display name")
	for _, tc := range []struct{ id, want string }{{a.ID, "blank"}, {b.ID, "Trim Me"}} {
		got, err := s.FindAccountByID(h.Ctx, tc.id)
		NoErr(t, err, "FindAccountByID")
		if got.DisplayName != tc.want {
			t.Errorf("stored display name = %q, want %q", got.DisplayName, tc.want)
		}
	}
}

func testValidationReaction(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	u := h.Post(owner, ch, "hello")
	for _, bad := range []string{"", "a", "👍👍", " 👍", "👍 ok"} {
		_, err := s.SetReaction(h.Ctx, f.ID, ch.ID, u.ID, bad)
		WantKind(t, err, herald.EINVALID, "invalid-emoji", "SetReaction "+bad)
	}
	// The unqualified heart is stored in its canonical form: one count.
	got, err := s.SetReaction(h.Ctx, f.ID, ch.ID, u.ID, "\u2764")
	NoErr(t, err, "SetReaction unqualified heart")
	wantReactions(t, got, map[string]int64{"\u2764\ufe0f": 1}, "canonical heart")
	if got.Viewer.Reaction == nil || *got.Viewer.Reaction != "\u2764\ufe0f" {
		t.Fatalf("viewer reaction = %v, want the canonical heart", got.Viewer.Reaction)
	}
}

func testValidationUpdate(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	WantKind(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, &herald.Update{Text: "   "}), herald.EINVALID, "invalid-text", "blank text")
	u := &herald.Update{Text: "  hi  ", Poll: &herald.Poll{Question: " Q ", Options: []herald.PollOption{{Text: " a "}, {Text: "b"}}}}
	NoErr(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, u), "CreateUpdate")
	if u.Text != "hi" || u.Poll.Question != "Q" || u.Poll.Options[0].Text != "a" {
		t.Fatalf("not normalized: %q %q %q", u.Text, u.Poll.Question, u.Poll.Options[0].Text)
	}
	bad := &herald.Update{Text: "x", Poll: &herald.Poll{Question: "Q", Options: make([]herald.PollOption, herald.PollMaxOptions+1)}}
	WantKind(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, bad), herald.EINVALID, "invalid-poll", "too many options")
	_, err := s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "")
	WantKind(t, err, herald.EINVALID, "invalid-text", "EditUpdate empty")
	got, err := s.EditUpdate(h.Ctx, owner.ID, ch.ID, u.ID, "  edited ")
	NoErr(t, err, "EditUpdate")
	if got.Text != "edited" {
		t.Fatalf("edited text = %q, want trimmed", got.Text)
	}
}

func init() { register("Validation/AddAdmin", testValidationAddAdmin) }

func testValidationAddAdmin(t *testing.T, h *Harness) {
	owner := h.Account("owner")
	ch := h.Channel(owner)
	_, err := h.Store.AddAdmin(h.Ctx, owner.ID, ch.ID, "Not Valid!")
	WantKind(t, err, herald.EINVALID, "invalid-username", "malformed username")
	_, err = h.Store.AddAdmin(h.Ctx, owner.ID, ch.ID, "nobody_here")
	WantCode(t, err, herald.ENOTFOUND, "unknown username")
}
