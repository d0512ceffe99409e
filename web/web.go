// Package web serves Herald's web app: plain HTML, CSS and JavaScript
// modules embedded in the binary, with no build step. Any path that is not a
// file (for example /channels/{id} or /c/{code}) gets index.html, and the
// app's router picks the view from the URL.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

//go:embed static
var static embed.FS

// contentTypes is fixed here rather than read from the host's mime.types so
// that the app is served identically on every machine (a wrong type for a
// module script makes the browser refuse it).
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".json":        "application/json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".webmanifest": "application/manifest+json",
}

type file struct {
	body  []byte
	ctype string
	etag  string
}

// Handler returns the web app's handler. Mount it at "/" behind the API's
// routes; it answers only GET and HEAD.
func Handler() http.Handler {
	files := map[string]*file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(b)
		files[strings.TrimPrefix(p, "static")] = &file{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		// The files are compiled in: failing to read them is a build bug.
		panic("web: reading embedded files: " + err.Error())
	}
	if err := fillServiceWorker(files); err != nil {
		panic("web: " + err.Error())
	}
	index := files["/index.html"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed", "The web app answers GET and HEAD only.")
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if p == "/api" || strings.HasPrefix(p, "/api/") {
			// An unknown API route must not look like a page to a client.
			problem(w, http.StatusNotFound, "not-found", "Not Found", "No such API route.")
			return
		}
		f, ok := files[p]
		if !ok || p == "/index.html" {
			if path.Ext(p) != "" && p != "/index.html" {
				// A missing asset is a 404, not the app: a typo in a script
				// path should fail loudly, not as a MIME error.
				problem(w, http.StatusNotFound, "not-found", "Not Found", "No such file.")
				return
			}
			f = index
		}
		// Files have no version in their names, so browsers revalidate them
		// on each load (a cheap 304 thanks to the ETag) and never run a stale
		// module against a newer one.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", f.ctype)
		w.Header().Set("ETag", f.etag)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	})
}

// problem writes an RFC 9457 error like the API's, so clients see one format.
func problem(w http.ResponseWriter, status int, kind, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":   herald.ProblemTypeBase + kind,
		"title":  title,
		"status": status,
		"detail": detail,
	})
}

// swBuild is the placeholder in sw.js that fillServiceWorker replaces.
const swBuild = `const BUILD = {"version":"dev","shell":["/index.html"]};`

// fillServiceWorker writes into /sw.js the list of files it precaches (all
// the others: the app shell) and a version hashed from their contents. A new
// release changes the worker's bytes, so browsers install it, and it
// replaces the previous release's cache.
func fillServiceWorker(files map[string]*file) error {
	sw := files["/sw.js"]
	if sw == nil || !bytes.Contains(sw.body, []byte(swBuild)) {
		return errors.New("sw.js lacks its BUILD line")
	}
	var shell []string
	for p := range files {
		if p != "/sw.js" {
			shell = append(shell, p)
		}
	}
	sort.Strings(shell)
	h := sha256.New()
	for _, p := range shell {
		// Length-prefixed, so that no two sets of files hash alike.
		fmt.Fprintf(h, "%d:%s%d:", len(p), p, len(files[p].body))
		h.Write(files[p].body)
	}
	build, err := json.Marshal(struct {
		Version string   `json:"version"`
		Shell   []string `json:"shell"`
	}{hex.EncodeToString(h.Sum(nil)[:8]), shell})
	if err != nil {
		return err
	}
	sw.body = bytes.Replace(sw.body, []byte(swBuild), []byte("const BUILD = "+string(build)+";"), 1)
	sum := sha256.Sum256(sw.body)
	sw.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	return nil
}
