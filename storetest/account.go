package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func init() {
	register("Account/CreateAndFind", testAccountCreateAndFind)
	register("Account/Sessions", testAccountSessions)
}

func testAccountCreateAndFind(t *testing.T, h *Harness) {
	s := h.Store
	a := &herald.Account{Username: "alice", DisplayName: "Alice"}
	NoErr(t, s.CreateAccount(h.Ctx, a, "phc-hash"), "CreateAccount")
	if a.ID == "" || !a.CreatedAt.Equal(Start) {
		t.Fatalf("account = %+v, want an id and CreatedAt %v", a, Start)
	}
	if len(a.ID) < 20 || strings.ToLower(a.ID) != a.ID {
		t.Fatalf("id %q: want an opaque lowercase random id", a.ID)
	}
	b := &herald.Account{Username: "alice", DisplayName: "Other"}
	WantKind(t, s.CreateAccount(h.Ctx, b, "x"), herald.ECONFLICT, "username-taken", "duplicate username")

	got, hash, err := s.FindAccountByUsername(h.Ctx, "alice")
	NoErr(t, err, "FindAccountByUsername")
	if got.ID != a.ID || got.DisplayName != "Alice" || hash != "phc-hash" {
		t.Fatalf("FindAccountByUsername = %+v %q", got, hash)
	}
	got, err = s.FindAccountByID(h.Ctx, a.ID)
	NoErr(t, err, "FindAccountByID")
	if got.Username != "alice" || !got.CreatedAt.Equal(Start) {
		t.Fatalf("FindAccountByID = %+v", got)
	}
	_, _, err = s.FindAccountByUsername(h.Ctx, "nobody")
	WantCode(t, err, herald.ENOTFOUND, "unknown username")
	_, err = s.FindAccountByID(h.Ctx, "nope")
	WantCode(t, err, herald.ENOTFOUND, "unknown id")

	c := h.Account("bob")
	if c.ID == a.ID {
		t.Fatal("two accounts share an id")
	}
}

func testAccountSessions(t *testing.T, h *Harness) {
	s := h.Store
	a := h.Account("alice")
	live := &herald.Session{TokenHash: []byte("hash-live-0123456789"), AccountID: a.ID, CreatedAt: Start, ExpiresAt: Start.Add(time.Hour)}
	NoErr(t, s.CreateSession(h.Ctx, live), "CreateSession")
	got, err := s.FindAccountBySession(h.Ctx, live.TokenHash)
	NoErr(t, err, "FindAccountBySession")
	if got.ID != a.ID || got.Username != a.Username {
		t.Fatalf("session account = %+v, want %+v", got, a)
	}
	_, err = s.FindAccountBySession(h.Ctx, []byte("unknown"))
	WantCode(t, err, herald.EUNAUTHORIZED, "unknown token")

	h.Clock.Advance(time.Hour)
	_, err = s.FindAccountBySession(h.Ctx, live.TokenHash)
	WantCode(t, err, herald.EUNAUTHORIZED, "expired session")

	other := &herald.Session{TokenHash: []byte("hash-other-0123456789"), AccountID: a.ID, CreatedAt: h.Clock.Now(), ExpiresAt: h.Clock.Now().Add(time.Hour)}
	NoErr(t, s.CreateSession(h.Ctx, other), "CreateSession 2")
	_, err = s.FindAccountBySession(h.Ctx, other.TokenHash)
	NoErr(t, err, "second session")
	NoErr(t, s.DeleteSession(h.Ctx, other.TokenHash), "DeleteSession")
	_, err = s.FindAccountBySession(h.Ctx, other.TokenHash)
	WantCode(t, err, herald.EUNAUTHORIZED, "deleted session")
	NoErr(t, s.DeleteSession(h.Ctx, []byte("never-existed")), "DeleteSession unknown")
}
