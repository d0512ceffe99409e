package http

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/password"
)

// fuzzStore accepts every write: the fuzzer probes the HTTP edge only.
type fuzzStore struct{ herald.Store }

func (fuzzStore) FindAccountBySession(context.Context, []byte) (*herald.Account, error) {
	return &herald.Account{ID: "acc", Username: "alice"}, nil
}
func (fuzzStore) CreateUpdate(_ context.Context, _, channelID string, u *herald.Update) error {
	u.ID, u.ChannelID, u.Seq = "u1", channelID, 1
	return nil
}
func (fuzzStore) CreateChannel(_ context.Context, _ string, ch *herald.Channel) error {
	ch.ID = "c1"
	return nil
}
func (fuzzStore) UpdateChannel(_ context.Context, _, _ string, p herald.ChannelPatch) (*herald.Channel, error) {
	ch := &herald.Channel{Name: "x", Category: "news"}
	return ch, p.Apply(ch)
}

// FuzzBodies sends arbitrary bodies to routes that decode JSON: the answer
// is always a success or a 4xx problem, never a 5xx or a panic.
func FuzzBodies(f *testing.F) {
	for _, seed := range []string{
		`{"text":"hi"}`, `{"text":"hi","poll":{"question":"q","options":["a","b"],"multiple":true}}`,
		`{"name":"n","category":"news","listed":false}`, `{"name":null}`, `[]`, `{`, "{\"text\":\"\xff\"}",
		`{"text":"a"} x`, `{"poll":{"options":[1]}}`, `{"reactions":""}`, `{"verified":true}`, `"\u0000"`,
	} {
		f.Add(seed)
	}
	s := NewServer(Config{Store: fuzzStore{}, Hasher: password.NewHasher(password.TestParams)})
	tok := strings.Repeat("a", tokenLen)
	f.Fuzz(func(t *testing.T, body string) {
		for _, target := range []struct{ method, path string }{
			{"POST", "/api/v1/channels/c1/updates"},
			{"POST", "/api/v1/channels"},
			{"PATCH", "/api/v1/channels/c1"},
		} {
			req := httptest.NewRequest(target.method, target.path, bytes.NewReader([]byte(body)))
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q = %d %s", target.method, target.path, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s %s %q = %d without a problem", target.method, target.path, body, rec.Code)
			}
		}
	})
}
