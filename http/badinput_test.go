package http_test

import (
	"bytes"
	"strings"
	"testing"

	hhttp "github.com/heraldhq/herald/http"
)

// TestBadInput throws malformed bodies, queries and ids at every route that
// takes them: each must get a 4xx problem with the right kind, never a 5xx.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("owner")
	ch := e.channel(owner, "News")
	u := e.post(owner, ch.ID, "hello")
	tok := owner.Token()

	bodyRoutes := []struct{ method, path string }{
		{"POST", "/api/v1/accounts"},
		{"POST", "/api/v1/sessions"},
		{"POST", "/api/v1/channels"},
		{"PATCH", "/api/v1/channels/" + ch.ID},
		{"POST", "/api/v1/channels/" + ch.ID + "/admins"},
		{"POST", "/api/v1/channels/" + ch.ID + "/owner"},
		{"POST", "/api/v1/channels/" + ch.ID + "/updates"},
		{"PATCH", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID},
		{"PUT", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID + "/reaction"},
		{"PUT", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID + "/vote"},
	}
	bodies := []struct {
		name, body, kind string
		status           int
	}{
		{"empty", ``, "invalid-json", 400},
		{"whitespace", "  \n", "invalid-json", 400},
		{"truncated", `{"text":`, "invalid-json", 400},
		{"garbage", `hello`, "invalid-json", 400},
		{"single quotes", `{'text':'x'}`, "invalid-json", 400},
		{"invalid utf8", "{\"text\":\"caf\xe9\"}", "invalid-utf8", 400},
		{"invalid utf8 key", "{\"te\xffxt\":\"x\"}", "invalid-utf8", 400},
		{"unknown field", `{"zzz_unknown":1}`, "unknown-field", 400},
		{"array", `[]`, "wrong-type", 400},
		{"string", `"text"`, "wrong-type", 400},
		{"number", `42`, "wrong-type", 400},
		{"trailing data", `{} {}`, "trailing-data", 400},
		{"trailing garbage", `{}x`, "trailing-data", 400},
		{"too large", `{"text":"` + strings.Repeat("a", hhttp.MaxBodyBytes) + `"}`, "body-too-large", 413},
	}
	for _, rt := range bodyRoutes {
		for _, b := range bodies {
			r := e.do(rt.method, rt.path, tok, []byte(b.body))
			if r.status != b.status {
				t.Errorf("%s %s [%s] = %d %s, want %d", rt.method, rt.path, b.name, r.status, trim(r.body), b.status)
				continue
			}
			if p := r.problem(t); p.Type != hhttp.ProblemTypeBase+b.kind {
				t.Errorf("%s %s [%s] type = %s, want %s", rt.method, rt.path, b.name, p.Type, b.kind)
			}
		}
	}

	// Exactly 1 MiB is accepted by the decoder (then refused by validation,
	// not by size); 1 MiB + 1 is refused.
	pad := func(n int) []byte {
		b := []byte(`{"text":"`)
		b = append(b, bytes.Repeat([]byte("a"), n-len(b)-2)...)
		return append(b, `"}`...)
	}
	if r := e.do("POST", "/api/v1/channels/"+ch.ID+"/updates", tok, pad(hhttp.MaxBodyBytes)); r.status != 400 || r.problem(t).Type != hhttp.ProblemTypeBase+"text-too-long" {
		t.Errorf("1 MiB body = %d %s", r.status, trim(r.body))
	}
	if r := e.do("POST", "/api/v1/channels/"+ch.ID+"/updates", tok, pad(hhttp.MaxBodyBytes+1)); r.status != 413 {
		t.Errorf("1 MiB + 1 body = %d %s", r.status, trim(r.body))
	}

	// Wrong types, field by field.
	typed := []struct{ method, path, body string }{
		{"POST", "/api/v1/accounts", `{"username":5,"password":"a long enough password"}`},
		{"POST", "/api/v1/accounts", `{"username":"zed","password":["a"]}`},
		{"POST", "/api/v1/sessions", `{"username":"owner","password":true}`},
		{"POST", "/api/v1/channels", `{"name":"x","category":"news","listed":"yes"}`},
		{"POST", "/api/v1/channels", `{"name":{"en":"x"},"category":"news"}`},
		{"PATCH", "/api/v1/channels/" + ch.ID, `{"listed":1}`},
		{"POST", "/api/v1/channels/" + ch.ID + "/updates", `{"text":1}`},
		{"POST", "/api/v1/channels/" + ch.ID + "/updates", `{"text":"x","poll":{"question":"q","options":[1,2]}}`},
		{"POST", "/api/v1/channels/" + ch.ID + "/updates", `{"text":"x","poll":{"question":"q","options":["a","b"],"multiple":"no"}}`},
		{"POST", "/api/v1/channels/" + ch.ID + "/updates", `{"text":"x","poll":"yes"}`},
		{"PATCH", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID, `{"text":null}`},
		{"PUT", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID + "/vote", `{"options":"0"}`},
		{"PUT", "/api/v1/channels/" + ch.ID + "/updates/" + u.ID + "/vote", `{"options":[0.5]}`},
	}
	for _, c := range typed {
		r := e.do(c.method, c.path, tok, []byte(c.body))
		if r.status != 400 {
			t.Errorf("%s %s %s = %d %s, want 400", c.method, c.path, c.body, r.status, trim(r.body))
			continue
		}
		r.problem(t)
	}
	// Unknown nested fields are refused too.
	r := e.do("POST", "/api/v1/channels/"+ch.ID+"/updates", tok, []byte(`{"text":"x","poll":{"question":"q","options":["a","b"],"anonymous":false}}`))
	if r.status != 400 || r.problem(t).Type != hhttp.ProblemTypeBase+"unknown-field" {
		t.Errorf("unknown poll field = %d %s", r.status, trim(r.body))
	}
	// Strings with NUL or control characters.
	r = e.do("POST", "/api/v1/channels", tok, []byte(`{"name":"a\u0000b","category":"news"}`))
	if r.status != 400 {
		t.Errorf("NUL in name = %d %s", r.status, trim(r.body))
	}
	r = e.do("POST", "/api/v1/channels/"+ch.ID+"/updates", tok, []byte(`{"text":"a\u0000b"}`))
	if r.status != 400 {
		t.Errorf("NUL in text = %d %s", r.status, trim(r.body))
	}

	// Query parameters.
	list := "/api/v1/channels/" + ch.ID + "/updates"
	for _, q := range []struct{ query, kind string }{
		{"limit=0", "invalid-limit"}, {"limit=101", "invalid-limit"}, {"limit=-1", "invalid-limit"},
		{"limit=abc", "invalid-limit"}, {"limit=1e3", "invalid-limit"}, {"limit=%20", "invalid-limit"},
		{"limit=99999999999999999999999", "invalid-limit"},
		{"before=abc", "invalid-before"}, {"before=0", "invalid-before"}, {"before=-5", "invalid-before"},
		{"before=1.5", "invalid-before"}, {"before=99999999999999999999999", "invalid-before"},
	} {
		r := e.do("GET", list+"?"+q.query, tok, nil)
		if r.status != 400 || r.problem(t).Type != hhttp.ProblemTypeBase+q.kind {
			t.Errorf("GET ?%s = %d %s", q.query, r.status, trim(r.body))
		}
	}
	for _, q := range []string{"limit=1", "limit=100", "before=1", "before=9223372036854775807"} {
		if r := e.do("GET", list+"?"+q, tok, nil); r.status != 200 {
			t.Errorf("GET ?%s = %d %s", q, r.status, trim(r.body))
		}
	}

	// Bad ids: absent, too long, odd bytes. Always 404, never 5xx.
	for _, id := range []string{"nope", strings.Repeat("x", 65), strings.Repeat("x", 5000), "%00", "%FF%FE", "caf%C3%A9", "a%2Fb", "'%20OR%201=1--"} {
		for _, p := range []string{
			"/api/v1/channels/" + id,
			"/api/v1/channels/" + id + "/updates",
			"/api/v1/channels/" + ch.ID + "/updates/" + id,
		} {
			r := e.do("GET", p, tok, nil)
			if r.status != 404 {
				t.Errorf("GET %s = %d %s", trim([]byte(p)), r.status, trim(r.body))
				continue
			}
			r.problem(t)
		}
		r := e.do("PUT", "/api/v1/channels/"+id+"/follow", tok, nil)
		if r.status != 404 {
			t.Errorf("PUT follow %s = %d", trim([]byte(id)), r.status)
		}
		r = e.do("DELETE", "/api/v1/channels/"+ch.ID+"/admins/"+id, tok, nil)
		if r.status < 400 || r.status >= 500 {
			t.Errorf("DELETE admin %s = %d", trim([]byte(id)), r.status)
		}
	}
}

func trim(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
