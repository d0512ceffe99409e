package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
	"github.com/heraldhq/herald/password"
	"github.com/heraldhq/herald/sqlite"
)

// fuzzEnv is an API server on a real SQLite store, answering in process
// (no sockets, so a fuzz iteration costs a few store calls).
type fuzzEnv struct {
	srv *hhttp.Server
	n   int
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	clock := herald.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "herald.db"), herald.StoreConfig{Clock: clock})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	return &fuzzEnv{srv: hhttp.NewServer(hhttp.Config{Store: db, Clock: clock, Hasher: password.NewHasher(password.TestParams), Push: testPush})}
}

// serve answers one request; path and query are used as they are, unescaped.
func (e *fuzzEnv) serve(method, path, query, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = path, "", query
	req.RequestURI = ""
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// must answers a setup request that has to succeed, decoding its JSON.
func (e *fuzzEnv) must(tb testing.TB, method, path, token, body string, out any) {
	tb.Helper()
	rec := e.serve(method, path, "", token, body)
	if rec.Code >= 300 {
		tb.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			tb.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// signup creates an account and returns its token and id.
func (e *fuzzEnv) signup(tb testing.TB, name string) (token, id string) {
	var s struct {
		Token   string
		Account struct{ ID string }
	}
	e.must(tb, "POST", "/api/v1/accounts", "", `{"username":"`+name+`","password":"a long enough password"}`, &s)
	return s.Token, s.Account.ID
}

// checkAnswer asserts what every API answer must be: never a 5xx; an error
// is an RFC 9457 problem whose status is the response's; a JSON success is
// valid JSON.
func checkAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	ct := rec.Header().Get("Content-Type")
	if rec.Code >= 500 {
		t.Fatalf("%s: %d %s", what, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var p hhttp.Problem
		if ct != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil ||
			p.Status != rec.Code || !strings.HasPrefix(p.Type, hhttp.ProblemTypeBase) || p.Title == "" {
			t.Fatalf("%s: %d without a problem (%s): %s", what, rec.Code, ct, rec.Body)
		}
		return
	}
	if strings.HasPrefix(ct, "application/json") && !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s: %d with invalid JSON: %s", what, rec.Code, rec.Body)
	}
}

// notJSONRoutes are the registered routes FuzzBodies leaves out, each for
// its reason; every other route in routes.go is fuzzed, new ones included.
var notJSONRoutes = map[string]string{
	"GET /metrics":       "Prometheus text, no input",
	"GET /api/v1/events": "a stream (fuzzed with the stream code)",
	"GET /api/v1/ws":     "a stream (fuzzed with the stream code)",
}

// fuzzRoutes returns the routes FuzzBodies sends to, in registration order.
func fuzzRoutes(tb testing.TB, srv *hhttp.Server) []string {
	var routes []string
	all := srv.Patterns()
	for p := range notJSONRoutes {
		if !slices.Contains(all, p) {
			tb.Fatalf("notJSONRoutes names %q, which routes.go no longer registers", p)
		}
	}
	for _, p := range all {
		if _, skip := notJSONRoutes[p]; !skip {
			routes = append(routes, p)
		}
	}
	return routes
}

// FuzzBodies sends arbitrary bodies, query strings and last path
// parameters to every JSON route of routes.go (picked by the first
// argument), signed in as the owner of a fresh channel with one update: the
// answer is always a success or a 4xx problem, never a 5xx or a panic. In a body, $fan stands for another
// account's id and $fanname for its username, so the fuzzer can reach the
// admin and ownership paths.
func FuzzBodies(f *testing.F) {
	e := newFuzzEnv(f)
	owner, _ := e.signup(f, "fuzz_owner")
	_, fanID := e.signup(f, "fuzz_fan")
	routes := fuzzRoutes(f, e.srv)
	if len(routes) < 30 {
		f.Fatalf("only %d routes to fuzz: %q", len(routes), routes)
	}

	valid := map[string]string{
		"POST /api/v1/accounts":                            `{"username":"someone","password":"a long enough password","display_name":"S"}`,
		"POST /api/v1/sessions":                            `{"username":"fuzz_owner","password":"a long enough password"}`,
		"POST /api/v1/channels":                            `{"name":"Météo","category":"weather","country":"FR","language":"fr","listed":false,"reactions":"any"}`,
		"PATCH /api/v1/channels/{id}":                      `{"name":"Ǿrsted","description":null,"handle":"orsted","reactions":"none"}`,
		"POST /api/v1/channels/{id}/admins":                `{"username":"$fanname"}`,
		"POST /api/v1/channels/{id}/owner":                 `{"account_id":"$fan"}`,
		"POST /api/v1/channels/{id}/updates":               `{"text":"hi","poll":{"question":"q","options":["a","b"],"multiple":true}}`,
		"PATCH /api/v1/channels/{id}/updates/{uid}":        `{"text":"edited"}`,
		"PUT /api/v1/channels/{id}/updates/{uid}/reaction": `{"emoji":"❤"}`,
		"PUT /api/v1/channels/{id}/updates/{uid}/vote":     `{"options":[0]}`,
		"GET /api/v1/channels/{id}/updates":                ``,
		"GET /api/v1/directory":                            ``,
	}
	queries := map[string]string{
		"GET /api/v1/channels/{id}/updates": "before=2&limit=1",
		"GET /api/v1/directory":             "q=m%C3%A9t&sort=new&limit=2",
		"GET /api/v1/invites/{code}/qr.png": "size=64",
	}
	generic := []string{"", "{}", "[]", "null", "{", `{"x":1}`, "{\"text\":\"\xff\"}", `{"text":"a"} x`, `"\u0000"`,
		`{"name":null,"text":1e999}`, `{"options":[-1,99999999999]}`, `{"emoji":"👍👍"}`, `{"username":"` + strings.Repeat("a", 300) + `"}`}
	params := []string{"", "nope", strings.Repeat("z", 200), "%00", "a b", "é", "..", "x/y", "$fan"}
	for i, route := range routes {
		f.Add(uint8(i), valid[route], queries[route], "")
		f.Add(uint8(i), generic[i%len(generic)], "", params[i%len(params)])
		f.Add(uint8(i), generic[(i+5)%len(generic)], "limit=x&before=-1&size=99999", "")
	}

	f.Fuzz(func(t *testing.T, pick uint8, body, query, param string) {
		route := routes[int(pick)%len(routes)]
		method, pattern, _ := strings.Cut(route, " ")
		token := owner
		var ch struct {
			ID         string `json:"id"`
			InviteCode string `json:"invite_code"`
		}
		var up struct {
			ID string `json:"id"`
		}
		e.n++
		e.must(t, "POST", "/api/v1/channels", owner, fmt.Sprintf(`{"name":"Fuzz %d","category":"news"}`, e.n), &ch)
		e.must(t, "POST", "/api/v1/channels/"+ch.ID+"/updates", owner, `{"text":"hello","poll":{"question":"q","options":["a","b"]}}`, &up)
		switch {
		case strings.Contains(pattern, "{account_id}"), strings.HasSuffix(pattern, "/owner"):
			e.must(t, "POST", "/api/v1/channels/"+ch.ID+"/admins", owner, `{"username":"fuzz_fan"}`, nil)
		case strings.HasSuffix(pattern, "/mute"):
			e.must(t, "PUT", "/api/v1/channels/"+ch.ID+"/follow", owner, "", nil)
		}
		if route == "DELETE /api/v1/sessions/current" {
			// A session of its own, so the next iterations stay signed in.
			var s struct{ Token string }
			e.must(t, "POST", "/api/v1/sessions", "", `{"username":"fuzz_owner","password":"a long enough password"}`, &s)
			token = s.Token
		}
		if param != "" {
			// The fuzzer's own value for the route's last path parameter.
			if i := strings.LastIndex(pattern, "{"); i >= 0 {
				j := i + strings.Index(pattern[i:], "}")
				pattern = pattern[:i] + strings.ReplaceAll(param, "$fan", fanID) + pattern[j+1:]
			}
		}
		path := strings.NewReplacer("{id}", ch.ID, "{uid}", up.ID, "{account_id}", fanID, "{code}", ch.InviteCode).Replace(pattern)
		body = strings.NewReplacer("$fanname", "fuzz_fan", "$fan", fanID).Replace(body)
		rec := e.serve(method, path, query, token, body)
		checkAnswer(t, fmt.Sprintf("%s %q ?%s %q", route, path, query, body), rec)
	})
}
