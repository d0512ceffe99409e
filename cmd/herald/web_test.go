package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// `herald serve` serves the web app at "/" beside the API, with the API's
// security headers, and app routes like /c/{code} get the app's page.
func TestServeWebApp(t *testing.T) {
	m := startInProcess(t, false)
	for path, want := range map[string]string{
		"/":           "text/html; charset=utf-8",
		"/c/abcdefgh": "text/html; charset=utf-8",
		"/js/app.js":  "text/javascript; charset=utf-8",
		"/app.css":    "text/css; charset=utf-8",
	} {
		resp, err := http.Get(m.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: %d %s, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if want == "text/html; charset=utf-8" && !strings.Contains(string(body), `src="/js/app.js"`) {
			t.Errorf("GET %s: not the app's page", path)
		}
	}
	// The API keeps its own 404s.
	resp, err := http.Get(m.URL + "/api/v1/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("GET /api/v1/nope: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
