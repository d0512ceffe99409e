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
