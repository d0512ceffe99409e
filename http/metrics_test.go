package http_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	hhttp "github.com/heraldhq/herald/http"
)

// /metrics behind a token, or moved to its own listener.
func TestMetricsProtected(t *testing.T) {
	e := newEnv(t, func(c *hhttp.Config) { c.MetricsToken = "metrics-secret" })
	if r := e.do("GET", "/metrics", "", nil); r.status != 401 {
		t.Fatalf("without the token: %d", r.status)
	}
	if r := e.do("GET", "/metrics", "wrong", nil); r.status != 401 {
		t.Fatalf("with a wrong token: %d", r.status)
	}
	if r := e.do("GET", "/metrics", "metrics-secret", nil); r.status != 200 || !strings.Contains(string(r.body), "go_goroutines") {
		t.Fatalf("with the token: %d", r.status)
	}

	e2 := newEnv(t, func(c *hhttp.Config) { c.MetricsElsewhere = true })
	if r := e2.do("GET", "/metrics", "", nil); r.status != 404 {
		t.Fatalf("/metrics on --addr when served elsewhere: %d", r.status)
	}
	ts := httptest.NewServer(e2.srv.MetricsHandler())
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the metrics listener: %v %v", resp, err)
	}
	resp.Body.Close()
}

// With neither a token nor a listener of its own, /metrics answers this
// machine only: a remote client (or a proxy in front) gets 404, whatever
// X-Forwarded-For says.
func TestMetricsLoopbackOnlyByDefault(t *testing.T) {
	e := newEnv(t)
	if r := e.do("GET", "/metrics", "", nil); r.status != 200 {
		t.Fatalf("from loopback: %d", r.status)
	}
	for _, remote := range []string{"203.0.113.7:40000", "[2001:db8::1]:40000", "10.0.0.8:1234"} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", "127.0.0.1")
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != 404 || strings.Contains(w.Body.String(), "go_goroutines") {
			t.Fatalf("from %s: %d", remote, w.Code)
		}
	}
}
