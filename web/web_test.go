package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/heraldhq/herald/web"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContentTypes(t *testing.T) {
	h := web.Handler()
	for path, want := range map[string]string{
		"/":                     "text/html; charset=utf-8",
		"/app.css":              "text/css; charset=utf-8",
		"/js/app.js":            "text/javascript; charset=utf-8",
		"/js/i18n/fr.js":        "text/javascript; charset=utf-8",
		"/favicon.svg":          "image/svg+xml",
		"/sw.js":                "text/javascript; charset=utf-8",
		"/manifest.webmanifest": "application/manifest+json",
		"/icons/icon-512.png":   "image/png",
	} {
		r := get(t, h, "GET", path, nil)
		if r.StatusCode != 200 {
			t.Errorf("GET %s: status %d", path, r.StatusCode)
		}
		if got := r.Header.Get("Content-Type"); got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", path)
		}
	}
}

func TestSPAFallback(t *testing.T) {
	h := web.Handler()
	index := body(t, get(t, h, "GET", "/", nil))
	if !strings.Contains(index, `<script type="module" src="/js/app.js">`) {
		t.Fatalf("index.html does not load the app: %.200s", index)
	}
	if !strings.Contains(index, `<link rel="manifest" href="/manifest.webmanifest">`) {
		t.Error("index.html does not link the manifest")
	}
	for _, p := range []string{"/c/abcDEF123", "/channels/ch_1", "/channels/ch_1/settings", "/following", "/signin?next=/x", "/index.html"} {
		r := get(t, h, "GET", p, nil)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s: %d %s", p, r.StatusCode, r.Header.Get("Content-Type"))
			continue
		}
		if b := body(t, r); b != index {
			t.Errorf("GET %s: not index.html", p)
		}
	}
	// Missing assets and API routes are real 404s, as problem+json.
	for _, p := range []string{"/js/nope.js", "/api/v1/nope", "/api"} {
		r := get(t, h, "GET", p, nil)
		if r.StatusCode != 404 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s, want 404 problem", p, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}
	r := get(t, h, "POST", "/channels/x", nil)
	if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
	if r := get(t, h, "HEAD", "/app.css", nil); r.StatusCode != 200 || body(t, r) != "" {
		t.Errorf("HEAD /app.css: %d", r.StatusCode)
	}
}

func TestETag(t *testing.T) {
	h := web.Handler()
	r := get(t, h, "GET", "/js/app.js", nil)
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := get(t, h, "GET", "/js/app.js", map[string]string{"If-None-Match": etag}); r.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", r.StatusCode)
	}
}

// The page must run under the server's CSP (default-src 'self'): no inline
// scripts or styles, no style attributes, nothing loaded from elsewhere, and
// no innerHTML anywhere (user text goes in as text nodes).
func TestNoInlineCodeOrRemoteLoads(t *testing.T) {
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|https?://[a-z]`)
	err := filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := string(b)
		switch filepath.Ext(p) {
		case ".html":
			if m := inline.FindString(s); m != "" {
				t.Errorf("%s: inline code or remote URL %q", p, m)
			}
		case ".js":
			for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s uses %s", p, bad)
				}
			}
		case ".css":
			if strings.Contains(s, "@import") || strings.Contains(s, "url(http") {
				t.Errorf("%s loads a remote resource", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var keyRe = regexp.MustCompile(`(?m)^\s*'([a-z0-9_.]+)':`)

func dictKeys(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
		if keys[m[1]] {
			t.Errorf("%s: key %q twice", path, m[1])
		}
		keys[m[1]] = true
	}
	if len(keys) < 50 {
		t.Fatalf("%s: only %d keys parsed", path, len(keys))
	}
	return keys
}

// Both languages have the same keys, and every key the code asks for exists.
func TestTranslationsComplete(t *testing.T) {
	en := dictKeys(t, "static/js/i18n/en.js")
	fr := dictKeys(t, "static/js/i18n/fr.js")
	var diff []string
	for k := range en {
		if !fr[k] {
			diff = append(diff, "fr lacks "+k)
		}
	}
	for k := range fr {
		if !en[k] {
			diff = append(diff, "en lacks "+k)
		}
	}
	sort.Strings(diff)
	for _, d := range diff {
		t.Error(d)
	}
	use := regexp.MustCompile(`\b(t|tn)\('([a-z0-9_.]+)'`)
	err := filepath.WalkDir("static/js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "i18n/") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range use.FindAllStringSubmatch(string(b), -1) {
			key := m[2]
			if strings.HasSuffix(key, ".") {
				continue // built from a value, e.g. 'role.' + role
			}
			if m[1] == "tn" {
				if !en[key+".one"] || !en[key+".other"] {
					t.Errorf("%s: plural key %q lacks .one/.other", p, key)
				}
			} else if !en[key] {
				t.Errorf("%s: unknown key %q", p, key)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"role.owner", "role.admin", "form.reactions.any", "form.reactions.default", "form.reactions.none", "react.chip", "react.chip.mine"} {
		if !en[k] {
			t.Errorf("missing dynamic key %q", k)
		}
	}
}
