package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/heraldhq/herald"
)

// noScripts turns JavaScript off in the browser's page, as a reader with
// scripts disabled (or a crawler that runs none) has it.
func noScripts() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	}
}

// TestPublicPagesWithoutJavaScript reads a listed channel's public pages in
// real Chromium with JavaScript off, then checks that with scripts on the
// web app takes over the same URLs (an update's permalink highlighted).
func TestPublicPagesWithoutJavaScript(t *testing.T) {
	requireChromium(t)
	s := startServer(t)
	pub := signUp(t, s.URL, "publisher")
	var ch herald.Channel
	pub.do("POST", "/channels", map[string]any{"name": "Trafic Lyon", "handle": "traficlyon", "description": "Routes et transports de la métropole.",
		"category": "traffic", "country": "FR", "language": "fr"}, &ch)
	var first herald.Update
	pub.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": "Bouchon de 4 km sur le périphérique nord."}, &first)
	pub.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": "Tunnel de Fourvière rouvert."}, nil)
	// Text JSON escapes differently in Go and JavaScript unless both follow
	// RFC 8785: the browser's verification proves they agree.
	var tricky herald.Update
	pub.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": "Quotes \"x\", a \\ backslash,\ttab, </script> & <b>, emoji 🚧\nnew line"}, &tricky)
	pub.do("PATCH", "/channels/"+ch.ID+"/updates/"+tricky.ID, map[string]any{"text": "Edited: \"y\" 🚦\r\nend"}, nil)
	pub.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": "Poll", "poll": map[string]any{"question": "Route « A7 » ?", "options": []string{"Oui", "Non \"vraiment\""}}}, nil)
	var secret herald.Channel
	pub.do("POST", "/channels", map[string]any{"name": "Private roadworks", "handle": "privroad", "category": "traffic", "listed": false}, &secret)

	b := newBrowser(t, "nojs", 1000, 800)
	b.do("disable scripts", noScripts())
	for _, path := range []string{"/@traficlyon", "/channels/" + ch.ID} {
		b.open(s.URL + path)
		html := b.str("page HTML", `document.documentElement.outerHTML`)
		for _, want := range []string{"<title>Trafic Lyon (@traficlyon) · Herald</title>", `lang="fr"`, "Bouchon de 4 km sur le périphérique nord.", "Tunnel de Fourvière rouvert.",
			`property="og:title"`, `rel="canonical"`, `type="application/atom+xml"`, `class="public"`} {
			if !strings.Contains(html, want) {
				t.Fatalf("%s without JavaScript lacks %q:\n%s", path, want, html)
			}
		}
		// The app never ran: its modules run before the load event that
		// Navigate waits for, and the first thing they do is set <html
		// lang> to the reader's language ("en" here), and the channel view
		// would have replaced the page.
		if strings.Contains(html, `id="feed"`) {
			t.Fatalf("%s: the app ran with scripts disabled", path)
		}
		if got := b.str("visible text", `document.querySelector("main").innerText`); !strings.Contains(got, "Tunnel de Fourvière rouvert.") {
			t.Fatalf("%s: main shows %q", path, got)
		}
	}
	perma := "/channels/" + ch.ID + "/updates/" + strconv.FormatInt(first.Seq, 10)
	b.open(s.URL + perma)
	if html := b.str("permalink HTML", `document.documentElement.outerHTML`); !strings.Contains(html, "Bouchon de 4 km") || strings.Contains(html, "Tunnel de Fourvière") {
		t.Fatalf("permalink page:\n%s", html)
	}
	b.open(s.URL + "/@privroad")
	if html := b.str("unlisted HTML", `document.documentElement.outerHTML`); strings.Contains(html, "Private roadworks") || !strings.Contains(html, `content="noindex"`) {
		t.Fatalf("unlisted channel rendered:\n%s", html)
	}

	// A pinned update comes first, on the page and in the app.
	pub.do("PUT", "/channels/"+ch.ID+"/updates/"+first.ID+"/pin", nil, nil)
	b.open(s.URL + "/@traficlyon")
	if html := b.str("pinned HTML", `document.querySelector("main").outerHTML`); !strings.Contains(html, "public-pinned") ||
		strings.Index(html, "Bouchon de 4 km") > strings.Index(html, "Tunnel de Fourvière") {
		t.Fatalf("pinned update not first without JavaScript:\n%s", html)
	}

	// With scripts, the same URLs are the web app.
	app := newBrowser(t, "js", 1000, 800)
	app.open(s.URL + "/@traficlyon")
	app.waitJS("app takes over /@handle", `document.querySelector("#feed article.update") && !document.querySelector("main .public")`)
	app.waitJS("pinned strip", `!document.querySelector("#pinned").hidden && document.querySelector("#pinned a").textContent.includes("Bouchon de 4 km") &&
		!document.querySelector('#feed article.update[data-seq="1"] .pinned-label').hidden`)
	if l := app.str("lang", `document.documentElement.lang`); l != "en" {
		t.Fatalf("with scripts, <html lang> = %q, want the app's language en", l)
	}
	app.open(s.URL + perma)
	app.waitJS("permalink highlighted", `document.querySelector('#feed article.update.highlight[data-seq="`+strconv.FormatInt(first.Seq, 10)+`"]')`)
	if n := app.str("highlighted count", `String(document.querySelectorAll("article.update.highlight").length)`); n != "1" {
		t.Fatalf("%s updates highlighted, want 1", n)
	}
	app.waitJS("share button", `document.querySelector("article.update button.share")`)

	// Every update shows the verified-origin mark, checked by the browser.
	app.open(s.URL + "/@traficlyon")
	app.waitJS("all updates verified", `document.querySelectorAll("#feed article.update").length === 4 &&
		document.querySelectorAll('#feed article.update .origin[data-origin="verified"]').length === 4`)
	// A one-character change, or a changed seq, fails in the browser too.
	for _, change := range []string{`u.text = u.text.replace("4 km", "5 km")`, `u.seq = u.seq + 1`} {
		ctx, cancel := context.WithTimeout(app.ctx, 10*time.Second)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/v1/channels/`+ch.ID+`/updates/`+first.ID+`").then(r => r.json()).then(u =>
			import("/js/verify.js").then(async m => { const before = await m.verifyUpdate(u); `+change+`; return before + "/" + await m.verifyUpdate(u); }))`, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil || got != "true/false" {
			t.Fatalf("browser verification before/after %s: %s %v", change, got, err)
		}
	}
}
