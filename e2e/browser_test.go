package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// requireChromium skips the test when Debian's chromium is absent, unless
// HERALD_REQUIRE_SERVICES=1 (CI), where its absence is a failure.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
			t.Fatalf("chromium is required (HERALD_REQUIRE_SERVICES=1) but %s is missing: apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("skipping browser test: %s not found (apt-get install -y chromium)", chromiumPath)
	}
}

// browser is one headless chromium with its own profile directory, so two
// browsers have separate cookie jars: two different people.
type browser struct {
	t    *testing.T
	name string
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T, name string, width, height int) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(width, height),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{t: t, name: name, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		cancel()
		acancel()
		t.Fatalf("%s: starting chromium: %v", name, err)
	}
	// Any uncaught exception or console.error of the app fails the test.
	// Browser log entries (a 401 from /me when signed out) are not the app's.
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source == "") {
				b.mu.Lock()
				b.errs = append(b.errs, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		acancel()
	})
	return b
}

// do runs actions with a deadline, failing the test with the step's name.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v%s%s", b.name, step, err, b.errors(), b.debugShot())
	}
	b.checkErrors(step)
}

func (b *browser) errors() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errs) == 0 {
		return ""
	}
	return "\nbrowser errors:\n  " + strings.Join(b.errs, "\n  ")
}

func (b *browser) checkErrors(step string) {
	b.t.Helper()
	if e := b.errors(); e != "" {
		b.t.Fatalf("%s: after %s:%s", b.name, step, e)
	}
}

// evalJS evaluates a JavaScript expression into a T.
func evalJS[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// str evaluates a JavaScript expression to a string, failing the test on error.
func (b *browser) str(step, expr string) string {
	b.t.Helper()
	v, err := evalJS[string](b, expr)
	if err != nil {
		b.t.Fatalf("%s: %s: %v%s", b.name, step, err, b.errors())
	}
	return v
}

// waitJS polls a JavaScript boolean expression until it is true.
func (b *browser) waitJS(step, expr string) {
	b.t.Helper()
	// Generous: CI runs other packages' tests on the same two cores.
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ok, err := evalJS[bool](b, "!!("+expr+")")
		if err == nil && ok {
			b.checkErrors(step)
			return
		}
		if err != nil {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	page, _ := evalJS[string](b, `location.href + "\n" + (document.querySelector("main")?.innerText || "").slice(0, 1500)`)
	b.t.Fatalf("%s: %s: timed out waiting for %s (%s)\npage: %s%s%s", b.name, step, expr, last, page, b.errors(), b.debugShot())
}

// debugShot saves a screenshot of a failed step for whoever debugs it.
func (b *browser) debugShot() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return ""
	}
	p := filepath.Join(os.TempDir(), "herald-e2e-"+b.name+".png")
	if os.WriteFile(p, buf, 0o644) != nil {
		return ""
	}
	return "\nscreenshot: " + p
}

// click clicks the first element matching a CSS selector, once visible.
// The element is first centred in the viewport so that the mouse click
// can't land on the sticky top bar instead.
func (b *browser) click(step, sel string) {
	b.t.Helper()
	b.waitJS(step+" (present)", `document.querySelector(`+js(sel)+`)`)
	b.do(step, evalVoid(`document.querySelector(`+js(sel)+`).scrollIntoView({block: "center"})`), chromedp.Click(chromedp.CSS(sel)))
}

// typeInto types text into the element matching a CSS selector.
func (b *browser) typeInto(step, sel, text string) {
	b.t.Helper()
	b.do(step, chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *browser) open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	if os.Getenv("HERALD_SCREENSHOTS") != "1" {
		return
	}
	// A picture of the page itself: from the top, without the toasts of
	// the steps before, once transitions have settled.
	b.do("prepare screenshot "+name, evalVoid(`window.scrollTo(0, 0); document.getElementById("toasts").replaceChildren(); document.activeElement?.blur()`))
	time.Sleep(700 * time.Millisecond)
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, name, err)
	}
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote docs/screenshots/%s.png", name)
}

// js quotes s as a JavaScript string literal.
func js(s string) string { return fmt.Sprintf("%q", s) }

// a11y checks the current page for the basics a screen-reader or keyboard
// user needs: one h1, a name for every form control, button and link, alt
// text on images, and no positive tabindex.
func (b *browser) a11y(page string) {
	b.t.Helper()
	problems := b.str("a11y "+page, `(() => {
		const out = [];
		const name = e => (e.getAttribute("aria-label") || e.getAttribute("aria-labelledby") && document.getElementById(e.getAttribute("aria-labelledby"))?.textContent || e.textContent || e.title || "").trim();
		const h1s = document.querySelectorAll("h1");
		if (h1s.length !== 1) out.push(h1s.length + " h1 elements");
		for (const e of document.querySelectorAll("input, select, textarea")) {
			if (e.type === "hidden" || e.closest("[hidden]")) continue;
			if (!e.labels?.length && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby")) out.push("unlabelled " + e.outerHTML.slice(0, 80));
		}
		for (const e of document.querySelectorAll("button, a[href]")) {
			if (e.closest("[hidden]")) continue;
			if (!name(e)) out.push("nameless " + e.outerHTML.slice(0, 80));
		}
		for (const e of document.querySelectorAll("img")) if (!e.hasAttribute("alt")) out.push("no alt " + e.outerHTML.slice(0, 80));
		for (const e of document.querySelectorAll("[tabindex]")) if (e.tabIndex > 0) out.push("positive tabindex " + e.outerHTML.slice(0, 80));
		return out.join("\n");
	})()`)
	if problems != "" {
		b.t.Errorf("%s: accessibility problems on %s:\n%s", b.name, page, problems)
	}
}

// key sends key presses to the focused element.
func (b *browser) key(step, keys string) {
	b.t.Helper()
	b.do(step, chromedp.KeyEvent(keys))
}

// evalVoid runs JavaScript for its effect.
func evalVoid(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}

// setValue sets a form control's value and fires change/input, as a person
// choosing from a select would.
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	return evalVoid(`(() => { const e = document.querySelector(` + js(sel) + `); e.value = ` + js(value) +
		`; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); })()`)
}

func itoa(n int) string { return fmt.Sprint(n) }
