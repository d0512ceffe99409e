package e2e

import "testing"

// TestWebAppInsights: a reader's web app reports the update it had on
// screen, the admin's open page sees the view count climb live, and the
// Insights page shows it with the audience figures.
func TestWebAppInsights(t *testing.T) {
	requireChromium(t)
	s := startServer(t)

	admin := newBrowser(t, "admin", 1280, 900)
	signUpInBrowser(admin, s.URL, "insights_ines", "Ines")
	admin.open(s.URL + "/channels/new")
	admin.waitJS("create form", `document.querySelector("#ch-name")`)
	admin.typeInto("name", "#ch-name", "Harbour Notices")
	admin.do("category", setValue("#ch-category", "news"))
	admin.click("create", "#create-submit")
	admin.waitJS("channel page", `document.querySelector("#composer")`)
	channelPath := admin.str("path", "location.pathname")
	post(admin, "Ferry to the islands runs on the winter timetable from Monday.")

	reader := newBrowser(t, "reader", 1000, 800)
	signUpInBrowser(reader, s.URL, "reader_rosa", "Rosa")
	reader.open(s.URL + channelPath)
	reader.waitJS("update shown", `[...document.querySelectorAll(".update-text")].some(e => e.textContent.includes("winter timetable"))`)
	reader.click("follow", "#follow")
	reader.waitJS("following", `document.querySelector("#follow")?.getAttribute("aria-pressed") === "true" && document.activeElement?.id === "follow"`)

	// After a second on screen and the next batch (5 s), the view is
	// counted; the admin's page hears it through update.views.
	admin.waitJS("views live", `document.querySelector(".update .admin-counts")?.textContent.includes("1 view")`)

	admin.click("insights", "#insights-link")
	admin.waitJS("insights page", `document.querySelector("#insights-updates tbody tr")`)
	if got := admin.str("views cell", `document.querySelector("#insights-updates tbody tr td:nth-child(2)").textContent`); got != "1" {
		t.Fatalf("views in the insights table: %q", got)
	}
	if got := admin.str("followers", `document.querySelector("#insights-followers strong").textContent`); got != "1" {
		t.Fatalf("followers: %q", got)
	}
	admin.waitJS("charts", `document.querySelectorAll("figure.chart-box svg").length === 3`)
	admin.waitJS("languages", `document.querySelector("#insights-languages li")?.textContent.includes("1")`)
	admin.a11y("insights")
	admin.screenshot("insights")
	admin.checkErrors("insights")
}
