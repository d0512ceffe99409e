package preview

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/outbound"
)

const page = `<!doctype html>
<html><head>
<meta charset="utf-8">
<title>Plain &amp; title</title>
<meta property="og:title" content="Road &quot;A7&quot; closed">
<meta property="og:description" content="  Until noon,
 both ways. ">
<meta name="description" content="ignored: og:description wins">
<meta property="og:site_name" content="Lyon Traffic">
<meta property="og:image" content="/img/a7.jpg#top">
</head><body><meta property="og:title" content="not in head"></body></html>`

// site is a local test site; its handler records the User-Agent it saw.
func site(t *testing.T) (*httptest.Server, *string) {
	t.Helper()
	ua := new(string)
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		*ua = r.Header.Get("User-Agent")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	mux.HandleFunc("/titleonly", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<title>Just a title</title><p>text"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<title>Big</title>" + strings.Repeat("x", 2<<20)))
	})
	mux.HandleFunc("/bigchunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		for i := 0; i < 40; i++ { // no Content-Length: the limit is on what is read
			_, _ = w.Write([]byte(strings.Repeat("<!-- padding -->", 2048)))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<title>Slow"))
		w.(http.Flusher).Flush()
		select { // never finishes: the fetcher's timeout must end it
		case <-r.Context().Done():
		case <-done:
		}
	})
	mux.HandleFunc("/pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write([]byte("%PDF-1.4"))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { close(done); srv.Close() })
	return srv, ua
}

func resolveTo(addr string) func(context.Context, string) ([]netip.Addr, error) {
	return func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr(addr)}, nil
	}
}

func TestFetchReadsOpenGraph(t *testing.T) {
	srv, ua := site(t)
	f := New(Config{AllowHosts: []string{"127.0.0.1"}})
	p, err := f.Fetch(context.Background(), srv.URL+"/page")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != srv.URL+"/page" || p.Title != `Road "A7" closed` || p.Description != "Until noon, both ways." ||
		p.SiteName != "Lyon Traffic" || p.ImageURL != srv.URL+"/img/a7.jpg" {
		t.Fatalf("preview = %+v", p)
	}
	if *ua != DefaultUserAgent || !strings.HasPrefix(*ua, "Herald link preview (+https://") {
		t.Fatalf("User-Agent %q", *ua)
	}
	// <title> is the fallback; redirects (up to 3) are followed.
	p, err = f.Fetch(context.Background(), srv.URL+"/redirect?to="+url.QueryEscape(srv.URL+"/titleonly"))
	if err != nil || p.Title != "Just a title" || p.Description != "" || p.ImageURL != "" {
		t.Fatalf("title only: %+v %v", p, err)
	}
}

func TestFetchRefusals(t *testing.T) {
	srv, _ := site(t)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	allowed := New(Config{AllowHosts: []string{"127.0.0.1"}})
	// front.test is allowed (and resolves to the test site); no other name or address is.
	front := New(Config{AllowHosts: []string{"front.test"}, Lookup: resolveTo("127.0.0.1")})
	strict := New(Config{Lookup: resolveTo("127.0.0.1")})
	private := New(Config{Lookup: resolveTo("10.1.2.3"), Timeout: 2 * time.Second})
	fast := New(Config{AllowHosts: []string{"127.0.0.1"}, Timeout: 200 * time.Millisecond})
	small := New(Config{AllowHosts: []string{"127.0.0.1"}, MaxBytes: 64 << 10})
	var refusal outbound.Refusal
	isRefusal := func(err error) bool { return errors.As(err, &refusal) }
	isAddr := func(err error) bool { return errors.Is(err, outbound.ErrAddrRefused) }
	isTimeout := func(err error) bool {
		var ne net.Error
		return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	}
	for _, c := range []struct {
		name string
		f    *Fetcher
		url  string
		ok   func(error) bool
	}{
		{"loopback", strict, srv.URL + "/page", isRefusal},
		{"localhost", strict, "http://localhost:" + port + "/page", isRefusal},
		{"private", strict, "http://10.0.0.8/page", isRefusal},
		{"link-local", strict, "http://169.254.169.254/latest/meta-data", isRefusal},
		{"ipv6 loopback", strict, "http://[::1]:" + port + "/page", isRefusal},
		{"scheme", allowed, "ftp://127.0.0.1/page", isRefusal},
		{"file", allowed, "file:///etc/passwd", isRefusal},
		{"name resolving to loopback", strict, "http://evil.test:" + port + "/page", isAddr},
		{"name resolving to private", private, "http://evil.test:" + port + "/page", isAddr},
		{"redirect to loopback address", front, "http://front.test:" + port + "/redirect?to=" + url.QueryEscape(srv.URL+"/page"), isAddr},
		{"redirect to private name", front, "http://front.test:" + port + "/redirect?to=" + url.QueryEscape("http://inner.test:"+port+"/page"), isAddr},
		{"redirect to file", allowed, srv.URL + "/redirect?to=" + url.QueryEscape("file:///etc/passwd"), func(err error) bool { return err != nil }},
		{"oversize (Content-Length)", small, srv.URL + "/big", func(err error) bool { return errors.Is(err, ErrTooLarge) }},
		{"oversize (streamed)", small, srv.URL + "/bigchunked", func(err error) bool { return errors.Is(err, ErrTooLarge) }},
		{"oversize (default 1 MB)", allowed, srv.URL + "/big", func(err error) bool { return errors.Is(err, ErrTooLarge) }},
		{"slow", fast, srv.URL + "/slow", isTimeout},
		{"not HTML", allowed, srv.URL + "/pdf", func(err error) bool { return errors.Is(err, ErrNotHTML) }},
		{"not found", allowed, srv.URL + "/nope", func(err error) bool { return err != nil && strings.Contains(err.Error(), "404") }},
	} {
		p, err := c.f.Fetch(context.Background(), c.url)
		if p != nil || !c.ok(err) {
			t.Errorf("%s: %s: preview %+v, err %v", c.name, c.url, p, err)
		}
	}
}

func TestFetchRedirectLimit(t *testing.T) {
	srv, _ := site(t)
	f := New(Config{AllowHosts: []string{"127.0.0.1"}})
	to := srv.URL + "/page"
	for i := 0; i < 4; i++ { // four hops: one more than allowed
		to = srv.URL + "/redirect?to=" + url.QueryEscape(to)
	}
	if p, err := f.Fetch(context.Background(), to); p != nil || err == nil {
		t.Fatalf("4 redirects: %+v %v", p, err)
	}
}
