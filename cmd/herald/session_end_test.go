package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/realtime/stream"
)

// Two nodes on PostgreSQL + NATS: logging out, revoking a session or
// changing the password on node A ends that session's open streams on A and
// on B within 2 s, and B (which had the token in its session cache) refuses
// it at once.
func TestScaleoutSessionEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pg := pgSchema(t)
	nu := embeddedNATS(t)
	flags := []string{"--postgres", pg, "--nats", nu, "--rate-limit-exempt", "127.0.0.0/8"}
	a := startServer(t, t.TempDir(), flags...)
	b := startServer(t, t.TempDir(), flags...)
	ctx := context.Background()
	const pw = "a long enough password"
	if _, err := client.New(a.url, "").CreateAccount(ctx, "alice", pw, ""); err != nil {
		t.Fatal(err)
	}
	login := func() string {
		t.Helper()
		s, err := client.New(b.url, "").Login(ctx, "alice", pw)
		if err != nil {
			t.Fatal(err)
		}
		return s.Token
	}
	ended := func(s *stream.Conn, where string) {
		t.Helper()
		_ = s.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			_, err := s.Next()
			if err == nil {
				continue
			}
			var ce *stream.CloseError
			if errors.As(err, &ce) && ce.Reason == "session ended" {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("%s: the stream is still open 2 s after its session ended", where)
			}
			t.Fatalf("%s: stream ended with %v", where, err)
		}
	}
	refused := func(base, tok, where string) {
		t.Helper()
		_, err := client.New(base, tok).Me(ctx)
		var p *client.Problem
		if !errors.As(err, &p) || p.Status != 401 {
			t.Fatalf("%s: GET /me with the ended session = %v, want 401", where, err)
		}
	}

	// Logout on A.
	tok := login()
	onA, onB := openStream(t, a.url, tok, nil), openStream(t, b.url, tok, nil)
	if _, err := client.New(b.url, tok).Me(ctx); err != nil { // cached on B
		t.Fatal(err)
	}
	if err := client.New(a.url, tok).Logout(ctx); err != nil {
		t.Fatal(err)
	}
	ended(onA, "logout, same node")
	ended(onB, "logout, other node")
	refused(b.url, tok, "logout")

	// Revocation from another session, on A.
	tok, other := login(), login()
	onB = openStream(t, b.url, tok, nil)
	if _, err := client.New(b.url, tok).Me(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := client.New(a.url, other).Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(tok))
	id := herald.SessionID(h[:])
	if !slices.ContainsFunc(list, func(s client.SessionInfo) bool { return s.ID == id && !s.Current }) {
		t.Fatalf("sessions = %+v, want %s listed", list, id)
	}
	if err := client.New(a.url, other).RevokeSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	ended(onB, "revocation, other node")
	refused(b.url, tok, "revocation")

	// A password change on A ends the other session on B; its own lives on.
	tok = login()
	onB = openStream(t, b.url, tok, nil)
	if _, err := client.New(b.url, tok).Me(ctx); err != nil {
		t.Fatal(err)
	}
	if err := client.New(a.url, other).ChangePassword(ctx, pw, "a new long password"); err != nil {
		t.Fatal(err)
	}
	ended(onB, "password change, other node")
	refused(b.url, tok, "password change")
	if _, err := client.New(b.url, other).Me(ctx); err != nil {
		t.Fatalf("the session that changed the password: %v", err)
	}
}
