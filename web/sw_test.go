package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
)

var buildRe = regexp.MustCompile(`(?m)^const BUILD = (\{.*\});$`)

type swBuildInfo struct {
	Version string   `json:"version"`
	Shell   []string `json:"shell"`
}

func readBuild(t *testing.T, sw []byte) swBuildInfo {
	t.Helper()
	m := buildRe.FindSubmatch(sw)
	if m == nil {
		t.Fatalf("no BUILD line in sw.js:\n%.300s", sw)
	}
	var b swBuildInfo
	if err := json.Unmarshal(m[1], &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// The served worker precaches every other embedded file (the shell) under a
// version hashed from them.
func TestServiceWorkerServed(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/sw.js", nil))
	res := rec.Result()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("GET /sw.js: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	body, _ := io.ReadAll(res.Body)
	b := readBuild(t, body)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(b.Version) {
		t.Errorf("version %q", b.Version)
	}
	for _, p := range []string{"/index.html", "/app.css", "/js/app.js", "/js/notifications.js", "/js/i18n/fr.js", "/manifest.webmanifest", "/icons/icon-192.png", "/favicon.svg"} {
		if !slices.Contains(b.Shell, p) {
			t.Errorf("shell lacks %s: %v", p, b.Shell)
		}
	}
	if slices.Contains(b.Shell, "/sw.js") {
		t.Error("the worker precaches itself")
	}
	// The ETag is the served bytes', not the file's with the placeholder.
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/sw.js", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	Handler().ServeHTTP(rec, req)
	if rec.Code != 304 {
		t.Errorf("revalidating /sw.js: %d", rec.Code)
	}
}

// A release that changes any file changes the worker's version, so the
// browser installs the new worker and drops the old cache.
func TestServiceWorkerVersion(t *testing.T) {
	sw := []byte("// worker\n" + swBuild + "\nconsole.log(BUILD);\n")
	fill := func(app string) swBuildInfo {
		files := map[string]*file{
			"/sw.js":      {body: bytes.Clone(sw)},
			"/index.html": {body: []byte("<!doctype html>")},
			"/js/app.js":  {body: []byte(app)},
		}
		if err := fillServiceWorker(files); err != nil {
			t.Fatal(err)
		}
		return readBuild(t, files["/sw.js"].body)
	}
	a, a2, b := fill("one"), fill("one"), fill("two")
	if a.Version != a2.Version {
		t.Errorf("same files, versions %s and %s", a.Version, a2.Version)
	}
	if a.Version == b.Version {
		t.Errorf("a changed file kept version %s", a.Version)
	}
	if !slices.Equal(a.Shell, []string{"/index.html", "/js/app.js"}) {
		t.Errorf("shell %v", a.Shell)
	}
	if err := fillServiceWorker(map[string]*file{"/sw.js": {body: []byte("no build line")}}); err == nil {
		t.Error("a worker without its BUILD line was accepted")
	}
}
