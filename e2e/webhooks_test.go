package e2e

import "testing"

// TestWebAppWebhooks covers the Webhooks section of channel settings: a
// refused URL shows the server's reason, a registered one shows its secret
// once and is listed; disabling and deleting it.
func TestWebAppWebhooks(t *testing.T) {
	requireChromium(t)
	s := startServer(t)
	admin := newBrowser(t, "webhooks", 1280, 900)
	signUpInBrowser(admin, s.URL, "owner_wanda", "Wanda")
	admin.open(s.URL + "/channels/new")
	admin.waitJS("create form", `document.querySelector("#ch-name")`)
	admin.typeInto("name", "#ch-name", "Hooked News")
	admin.do("category", setValue("#ch-category", "news"))
	admin.click("create", "#create-submit")
	admin.waitJS("channel page", `document.querySelector("#composer")`)
	admin.click("manage", "#settings-link")
	admin.waitJS("webhooks section", `document.querySelector("#settings-webhooks")`)
	admin.waitJS("webhook list", `document.querySelector("#webhook-list li")`)

	submit := evalVoid(`document.querySelector("#webhook-url").form.requestSubmit()`)
	admin.typeInto("loopback url", "#webhook-url", "https://127.0.0.1/hook")
	admin.do("add refused", submit)
	admin.waitJS("refusal shown", `[...document.querySelectorAll(".form-error")].some(e => !e.hidden && e.textContent.includes("address"))`)

	admin.do("clear url", setValue("#webhook-url", ""))
	admin.typeInto("url", "#webhook-url", "https://cms.example.org/herald")
	admin.do("add", submit)
	admin.waitJS("secret shown", `!document.querySelector("#webhook-secret").hidden && document.querySelector("#webhook-secret input").value.startsWith("whsec_")`)
	admin.waitJS("webhook listed", `[...document.querySelectorAll("#webhook-list .webhook-row")].some(r => r.textContent.includes("https://cms.example.org/herald"))`)
	admin.do("scroll", evalVoid(`document.querySelector("#settings-webhooks").scrollIntoView()`))
	admin.a11y("webhooks")
	admin.screenshot("webhooks")

	admin.do("disable", evalVoid(`document.querySelector("#webhook-list .webhook-row button").click()`))
	admin.waitJS("disabled", `document.querySelector("#webhook-list .webhook-row .role-pill").textContent.includes("Disabled")`)
}
