package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestProblemDecoding(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/me":
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("User-Agent") != "test-agent" {
				t.Errorf("headers %v", r.Header)
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"type":"https://herald.example/problems/rate-limited","title":"Too many requests","status":429,"detail":"Slow down."}`))
		default:
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
		}
	}))
	defer ts.Close()
	c := New(ts.URL+"/", "tok", WithUserAgent("test-agent"))
	_, err := c.Me(context.Background())
	var p *Problem
	if !errors.As(err, &p) || p.Status != 429 || p.Kind() != "rate-limited" || p.Detail != "Slow down." || p.RetryAfter != 7*time.Second {
		t.Fatalf("err = %#v", err)
	}
	if !IsStatus(err, 429) || KindOf(err) != "rate-limited" || err.Error() != "herald: 429 Too many requests: Slow down." {
		t.Fatalf("helpers: %v %q %q", IsStatus(err, 429), KindOf(err), err.Error())
	}
	// A non-JSON error (a proxy's page) still becomes a Problem with the status.
	_, err = c.GetChannel(context.Background(), "x")
	if !IsStatus(err, 502) || KindOf(err) != "" {
		t.Fatalf("502: %#v", err)
	}
	if c.WithToken("other").Token() != "other" || c.Token() != "tok" {
		t.Fatal("WithToken must copy")
	}
}
