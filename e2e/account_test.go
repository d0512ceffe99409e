package e2e

import (
	"testing"
)

// The account page: rename, see the sessions (another device's can be
// signed out), change the password, then delete the account after
// confirming the channel it owns alone.
func TestAccountPage(t *testing.T) {
	requireChromium(t)
	s := startServer(t)
	b := newBrowser(t, "account", 1280, 900)
	signUpInBrowser(b, s.URL, "acct_anna", "Anna")

	// A second session from elsewhere (the API), and a channel Anna owns alone.
	other := &apiClient{t: t, base: s.URL}
	var login struct {
		Token string `json:"token"`
	}
	other.do("POST", "/sessions", map[string]any{"username": "acct_anna", "password": "correct horse battery staple"}, &login)
	other.token = login.Token
	other.do("POST", "/channels", map[string]any{"name": "Anna's Corner", "category": "news"}, nil)

	b.click("account link", `#account a.whoami`)
	b.waitJS("account page", `location.pathname === "/account" && document.querySelectorAll("#sessions .session-row").length === 2`)
	b.a11y("account")
	b.screenshot("account")

	b.do("rename", setValue("#account-name", "Anna B."), evalVoid(`document.querySelector("#account-name").form.requestSubmit()`))
	b.waitJS("renamed", `document.querySelector(".whoami")?.textContent === "Anna B."`)

	// Sign the other device out.
	b.click("end the other session", `#sessions .session-row button`)
	b.waitJS("one session left", `document.querySelectorAll("#sessions .session-row").length === 1`)
	if st := other.status("GET", "/me"); st != 401 {
		t.Fatalf("the signed-out device still works: %d", st)
	}

	b.waitJS("export link", `document.querySelector("#account-export")?.getAttribute("href") === "/api/v1/me/export"`)

	// Delete: the first press lists the channel owned alone, the second confirms.
	b.do("password", setValue("#account-delete-password", "correct horse battery staple"))
	b.click("delete", "#account-delete")
	b.waitJS("confirm dialog", `document.querySelector("#confirm")?.open`)
	b.click("confirm", "#confirm-ok")
	b.waitJS("channels listed", `document.querySelector("#account-delete-channels")?.textContent.includes("Anna's Corner")`)
	b.click("delete again", "#account-delete")
	b.waitJS("confirm dialog again", `document.querySelector("#confirm")?.open`)
	b.click("confirm again", "#confirm-ok")
	b.waitJS("deleted and signed out", `location.pathname === "/" && document.querySelector('#account a[href^="/signin"]')`)
	anon := &apiClient{t: t, base: s.URL}
	if st := anon.statusBody("POST", "/sessions", map[string]any{"username": "acct_anna", "password": "correct horse battery staple"}); st != 401 {
		t.Fatalf("login after deletion: %d", st)
	}
}
