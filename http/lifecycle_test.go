package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/realtime"
	"github.com/heraldhq/herald/realtime/stream"
)

// withHub runs the real stream server on the env's store.
func withHub(t *testing.T) *env {
	t.Helper()
	var rt *realtime.Server
	e := newEnv(t, func(c *hhttp.Config) {
		rt = realtime.New(realtime.Config{Events: c.Store})
		t.Cleanup(func() { _ = rt.Close() })
		c.Streams = rt
	})
	e.pub.mu.Lock()
	e.pub.to = rt
	e.pub.mu.Unlock()
	return e
}

// openWS opens a WebSocket stream with token and reads its first cursor.
func openWS(t *testing.T, e *env, token string) *stream.Conn {
	t.Helper()
	s, err := stream.Dial(ctx, e.ts.URL, "ws", stream.Options{Token: token})
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	if ev, err := s.Next(); err != nil || ev.Type != stream.TypeCursor {
		t.Fatalf("first message: %+v, %v", ev, err)
	}
	return s
}

// wantEnded waits up to 2 s for the server to end the stream because its
// session ended.
func wantEnded(t *testing.T, s *stream.Conn) {
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
			t.Fatal("the stream is still open 2 s after its session ended")
		}
		t.Fatalf("stream ended with %v, want a close saying the session ended", err)
	}
}

// wantOpen checks the stream is still served: a post reaches it.
func wantOpen(t *testing.T, e *env, s *stream.Conn, owner *user, chID string) {
	t.Helper()
	text := "still here " + herald.NewID()
	e.post(owner, chID, text)
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		ev, err := s.Next()
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		if ev.Update != nil && ev.Update.Text == text {
			return
		}
	}
}

func (e *env) login(name, pw, ua string) string {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": name, "password": pw})
	r := e.do("POST", "/api/v1/sessions", "", body, "User-Agent", ua)
	if r.status != 201 {
		e.t.Fatalf("login %s: %d %s", name, r.status, r.body)
	}
	var out struct{ Token string }
	_ = json.Unmarshal(r.body, &out)
	return out.Token
}

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"

func TestSessionsListAndRevoke(t *testing.T) {
	e := withHub(t)
	alice := e.signup("alice")
	bob := e.signup("bob")
	ch := e.channel(alice, "Alice news")
	e.clock.Advance(time.Minute)
	other := e.login("alice", "a long enough password", firefox)
	laptop := alice.WithToken(other)

	list, err := alice.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Device != "Firefox on Linux" || list[0].Current || !list[1].Current || list[0].LastSeenOn != "2026-03-01" {
		t.Fatalf("sessions = %+v, want the Firefox one first (not current), then the current one", list)
	}
	// The list says nothing a session list need not: no token, no hash, no User-Agent.
	r := e.do("GET", "/api/v1/me/sessions", alice.Token(), nil)
	for _, leak := range []string{alice.Token(), other, "Gecko", "token"} {
		if bytes.Contains(r.body, []byte(leak)) {
			t.Fatalf("sessions list shows %q: %s", leak, r.body)
		}
	}

	s := openWS(t, e, other)
	keep := openWS(t, e, alice.Token())
	if _, err := laptop.Me(ctx); err != nil { // now in the session cache
		t.Fatal(err)
	}
	wantProblem(t, bob.RevokeSession(ctx, list[0].ID), 404, "session-not-found")
	wantProblem(t, alice.RevokeSession(ctx, "nope"), 404, "session-not-found")
	if err := alice.RevokeSession(ctx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, s)
	_, err = laptop.Me(ctx)
	wantProblem(t, err, 401, "invalid-token")
	wantOpen(t, e, keep, alice, ch.ID)
	if list, _ := alice.Sessions(ctx); len(list) != 1 || !list[0].Current {
		t.Fatalf("after revoking: %+v", list)
	}

	// Logging out ends the session's streams too.
	if err := alice.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, keep)
}

func TestChangePasswordAndName(t *testing.T) {
	e := withHub(t)
	alice := e.signup("alice")
	ch := e.channel(alice, "Alice news")
	phone := alice.WithToken(e.login("alice", "a long enough password", firefox))
	s := openWS(t, e, phone.Token())
	mine := openWS(t, e, alice.Token())

	wantProblem(t, alice.ChangePassword(ctx, "wrong password!", "another long password"), 403, "wrong-password")
	wantProblem(t, alice.ChangePassword(ctx, "a long enough password", "short"), 400, "invalid-password")
	if err := alice.ChangePassword(ctx, "a long enough password", "another long password"); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, s)
	_, err := phone.Me(ctx)
	wantProblem(t, err, 401, "invalid-token")
	wantOpen(t, e, mine, alice, ch.ID)
	_, err = e.anon.Login(ctx, "alice", "a long enough password")
	wantProblem(t, err, 401, "invalid-credentials")
	if _, err := e.anon.Login(ctx, "alice", "another long password"); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}

	a, err := alice.SetDisplayName(ctx, "  Alice Liddell ")
	if err != nil || a.DisplayName != "Alice Liddell" {
		t.Fatalf("SetDisplayName = %+v, %v", a, err)
	}
	if me, _ := alice.Me(ctx); me.DisplayName != "Alice Liddell" {
		t.Fatalf("GET /me after the change: %+v", me)
	}
	_, err = alice.SetDisplayName(ctx, strings.Repeat("x", 65))
	wantProblem(t, err, 400, "invalid-display-name")
	if r := e.do("PATCH", "/api/v1/me", alice.Token(), []byte(`{"username":"mallory"}`)); r.status != 400 {
		t.Fatalf("PATCH username: %d %s", r.status, r.body)
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	alice := e.signup("alice")
	bob := e.signup("bob")
	ch := e.channel(owner, "Weather")
	mine := e.channel(alice, "Alice's own")
	for _, u := range []*user{alice, bob} {
		if _, err := u.Follow(ctx, ch.ID); err != nil {
			t.Fatal(err)
		}
	}
	up := e.post(owner, ch.ID, "Sunny")
	if _, err := alice.React(ctx, ch.ID, up.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.React(ctx, ch.ID, up.ID, "❤️"); err != nil {
		t.Fatal(err)
	}
	raw, err := alice.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Account  struct{ Username string }
		Followed []struct{ ID string }       `json:"followed_channels"`
		Managed  []struct{ ID, Role string } `json:"managed_channels"`
		Its      []herald.Interaction        `json:"reactions_and_votes"`
		Sessions []client.SessionInfo
		Push     []any `json:"push_devices"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Account.Username != "alice" || len(ex.Followed) != 1 || ex.Followed[0].ID != ch.ID ||
		len(ex.Managed) != 1 || ex.Managed[0].ID != mine.ID || ex.Managed[0].Role != "owner" ||
		len(ex.Its) != 1 || ex.Its[0].Reaction != "👍" || len(ex.Sessions) != 1 || ex.Push == nil {
		t.Fatalf("export = %s", raw)
	}
	// Nothing of anyone else.
	for _, leak := range []string{"bob", bob.account.ID, "❤", owner.account.ID} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Fatalf("export names %q: %s", leak, raw)
		}
	}
	r := e.do("GET", "/api/v1/me/export", alice.Token(), nil)
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if r := e.do("GET", "/api/v1/me/export", "", nil); r.status != 401 {
		t.Fatalf("anonymous export: %d", r.status)
	}
}

func TestDeleteAccount(t *testing.T) {
	e := withHub(t)
	owner := e.signup("owner")
	const name, display = "zebulon_erasable", "Zebulon Quixotic Display"
	s0, err := e.anon.CreateAccount(ctx, name, "a long enough password", display)
	if err != nil {
		t.Fatal(err)
	}
	z := &user{Client: e.anon.WithToken(s0.Token), account: s0.Account}
	ch := e.channel(owner, "Weather")
	alone := e.channel(z, "Zebulon Lonely Channel")
	if _, err := z.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	up := e.post(owner, ch.ID, "Sunny")
	if _, err := z.React(ctx, ch.ID, up.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	st := openWS(t, e, z.Token())
	if left := dataContaining(t, e.dir, name, display); len(left) < 2 {
		t.Fatalf("before the erasure the data directory holds only %v: the check below would prove nothing", left)
	}

	wantProblem(t, z.DeleteAccount(ctx, "wrong password!", nil), 403, "wrong-password")
	r := e.do("DELETE", "/api/v1/me", z.Token(), []byte(`{"password":"a long enough password"}`))
	if r.status != 409 {
		t.Fatalf("delete without confirming: %d %s", r.status, r.body)
	}
	var p struct {
		hhttp.Problem
		Channels []struct{ ID, Name string } `json:"channels"`
	}
	_ = json.Unmarshal(r.body, &p)
	if r.problem(t).Type != hhttp.ProblemTypeBase+"confirm-channels" || len(p.Channels) != 1 || p.Channels[0].ID != alone.ID || p.Channels[0].Name != alone.Name {
		t.Fatalf("409 = %s, want the channel owned alone listed", r.body)
	}
	if _, err := z.Me(ctx); err != nil {
		t.Fatalf("a refused deletion deleted: %v", err)
	}

	if err := z.DeleteAccount(ctx, "a long enough password", []string{alone.ID}); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, st)
	_, err = z.Me(ctx)
	wantProblem(t, err, 401, "invalid-token")
	_, err = e.anon.Login(ctx, name, "a long enough password")
	wantProblem(t, err, 401, "invalid-credentials")
	_, err = owner.GetChannel(ctx, alone.ID)
	wantProblem(t, err, 404, "")
	got, err := owner.GetChannel(ctx, ch.ID)
	if err != nil || got.FollowerCount != 0 {
		t.Fatalf("followers after the erasure = %+v, %v", got, err)
	}
	u, err := owner.GetUpdate(ctx, ch.ID, up.ID)
	if err != nil || len(u.Reactions) != 0 {
		t.Fatalf("reactions after the erasure = %v, %v", u.Reactions, err)
	}

	// Nothing of it is readable from the data directory within 60 s (the
	// erasure's checkpoint comes within a second or so; 60 s is the promise).
	dir := e.dir
	deadline := time.Now().Add(60 * time.Second)
	for {
		left := dataContaining(t, dir, name, display, alone.Name)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("60 s after the erasure the data directory still holds %v", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dataContaining returns "file: word" for each file of dir holding a word.
func dataContaining(t *testing.T, dir string, words ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		if en.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		for _, w := range words {
			if bytes.Contains(b, []byte(w)) {
				out = append(out, en.Name()+": "+w)
			}
		}
	}
	return out
}
