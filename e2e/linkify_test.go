package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLinkify runs the app's link maker in the browser on tricky text: only
// http(s) URLs become links, sentence punctuation stays outside, and text
// that looks like markup stays text.
func TestLinkify(t *testing.T) {
	requireChromium(t)
	s := startServer(t)
	b := newBrowser(t, "linkify", 800, 600)
	b.open(s.URL + "/")
	b.waitJS("app loaded", `document.querySelector("#dir-search")`)

	cases := []struct {
		in   string
		want []string // the hrefs, in order
	}{
		{"See https://example.org/a.", []string{"https://example.org/a"}},
		{"(https://example.org/x)", []string{"https://example.org/x"}},
		{"https://en.wikipedia.org/wiki/Lyon_(disambiguation)", []string{"https://en.wikipedia.org/wiki/Lyon_(disambiguation)"}},
		{"www.example.org, then http://a.example/b?c=d&e=f!", []string{"https://www.example.org", "http://a.example/b?c=d&e=f"}},
		{"javascript:alert(1) data:text/html,<b>x</b> ftp://example.org", nil},
		{`<a href="https://evil.example">x</a>`, []string{`https://evil.example`}},
		{"no links here", nil},
	}
	for _, c := range cases {
		expr := `import("/js/dom.js").then(m => {
			const box = document.createElement("div");
			box.append(...m.linkify(` + js(c.in) + `));
			return JSON.stringify({
				text: box.textContent,
				hrefs: [...box.querySelectorAll("a")].map(a => a.getAttribute("href")),
				other: box.querySelectorAll("*:not(a)").length,
				safe: [...box.querySelectorAll("a")].every(a => a.rel.includes("noopener") && a.target === "_blank"),
			});
		})`
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Text  string
			Hrefs []string
			Other int
			Safe  bool
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.Text != c.in {
			t.Errorf("%q: text changed to %q", c.in, got.Text)
		}
		if len(got.Hrefs) != len(c.want) {
			t.Errorf("%q: links %q, want %q", c.in, got.Hrefs, c.want)
			continue
		}
		for i := range c.want {
			if got.Hrefs[i] != c.want[i] {
				t.Errorf("%q: link %d is %q, want %q", c.in, i, got.Hrefs[i], c.want[i])
			}
		}
		if got.Other != 0 || !got.Safe {
			t.Errorf("%q: %d non-link elements, safe=%v", c.in, got.Other, got.Safe)
		}
	}
}
