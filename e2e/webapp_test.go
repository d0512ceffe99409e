package e2e

import (
	"strings"
	"testing"
)

// TestWebApp walks the web app as people would, in real browsers: an admin
// and a follower in separate browsers (separate cookie jars), then a
// newcomer arriving through an invite link.
func TestWebApp(t *testing.T) {
	requireChromium(t)
	s := startServer(t)
	seed(t, s)

	admin := newBrowser(t, "admin", 1280, 900)
	follower := newBrowser(t, "follower", 1280, 900)

	// Sign up.
	signUpInBrowser(admin, s.URL, "alice_admin", "Alice")

	// Create a channel.
	admin.click("nav to create", `a[href="/channels/new"]`)
	admin.waitJS("create form", `document.querySelector("#ch-name")`)
	admin.typeInto("channel name", "#ch-name", "Lyon Transit Alerts")
	admin.typeInto("channel description", "#ch-description", "Metro, tram and bus disruptions in Lyon, as they happen. Details: https://example.org/lyon")
	admin.do("category", setValue("#ch-category", "traffic"), setValue("#ch-country", "FR"), setValue("#ch-language", "en"))
	admin.click("create", "#create-submit")
	admin.waitJS("channel page", `location.pathname.startsWith("/channels/") && document.querySelector("#composer")`)
	channelPath := admin.str("channel path", "location.pathname")
	admin.waitJS("owner role shown", `document.querySelector(".profile .role-pill")?.textContent === "Owner"`)

	// Post an update (with a link, which must become a safe anchor).
	post(admin, "Line A is back to normal after the signal fault. Timetable: https://example.org/line-a.")
	admin.waitJS("update link", `[...document.querySelectorAll("#feed .update-text a")].some(a => a.getAttribute("href") === "https://example.org/line-a" && a.rel.includes("noopener") && a.target === "_blank")`)

	// User text is shown as text: markup in an update is never interpreted.
	post(admin, `Tip: <img src=x onerror="window.__xss=1"> and <b>bold</b> stay plain text.`)
	admin.waitJS("markup shown literally", `[...document.querySelectorAll("#feed .update-text")].some(e => e.textContent.includes("<img src=x")) && !document.querySelector("#feed img, #feed b") && !window.__xss`)
	admin.do("delete that update", evalVoid(`[...document.querySelectorAll("#feed .update")].find(e => e.textContent.includes("<img src=x")).querySelector(".update-tools .danger-text").click()`))
	admin.click("confirm delete", "#confirm-ok")
	admin.waitJS("update deleted", `![...document.querySelectorAll("#feed .update-text")].some(e => e.textContent.includes("<img src=x"))`)

	// Schedule an update: listed for admins, not in the feed; then cancel it.
	admin.do("scheduled text", setValue("#compose-text", "Tomorrow: works on line C."))
	admin.click("schedule option", "#compose-schedule")
	admin.waitJS("time prefilled", `document.querySelector("#compose-when").value !== "" && !document.querySelector("#compose-when").hidden`)
	admin.click("schedule it", "#compose-submit")
	admin.waitJS("scheduled listed", `!document.querySelector("#scheduled").hidden && document.querySelector("#scheduled-list .scheduled-text")?.textContent === "Tomorrow: works on line C."`)
	admin.waitJS("not in the feed", `![...document.querySelectorAll("#feed .update-text")].some(e => e.textContent.includes("works on line C"))`)
	admin.a11y("channel page (admin, scheduled list)")
	// Edit it in the list: new text, an hour later; the server's answer is shown.
	admin.click("edit scheduled", "#scheduled-list .scheduled-edit")
	admin.waitJS("edit form", `document.querySelector("#scheduled-list .scheduled-edit-text")?.value === "Tomorrow: works on line C."`)
	admin.a11y("channel page (admin, editing a scheduled update)")
	admin.do("scheduled new text", setValue("#scheduled-list .scheduled-edit-text", "Tomorrow: works on line C, 9:00-17:00."))
	admin.do("scheduled new time", evalVoid(`(() => { const e = document.querySelector("#scheduled-list .scheduled-edit-when");
		window.__before = document.querySelector("#scheduled-list .scheduled-when").getAttribute("datetime");
		const d = new Date(e.value); d.setHours(d.getHours() + 1);
		const p = n => String(n).padStart(2, "0");
		e.value = d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes()); })()`))
	admin.click("save scheduled", "#scheduled-list .scheduled-save")
	admin.waitJS("scheduled edited", `document.querySelector("#scheduled-list .scheduled-text")?.textContent === "Tomorrow: works on line C, 9:00-17:00." &&
		!document.querySelector("#scheduled-list form") &&
		new Date(document.querySelector("#scheduled-list .scheduled-when").getAttribute("datetime")) - new Date(window.__before) === 3600000`)
	admin.click("cancel it", "#scheduled-list .scheduled-cancel")
	admin.click("confirm cancel", "#confirm-ok")
	admin.waitJS("schedule empty", `document.querySelector("#scheduled").hidden`)

	// Post a poll.
	admin.click("open poll editor", "#compose-poll-toggle")
	admin.typeInto("poll question", "#poll-question", "How do you commute?")
	admin.typeInto("option 1", "#compose-poll .option-list li:nth-child(1) input", "Metro")
	admin.typeInto("option 2", "#compose-poll .option-list li:nth-child(2) input", "Tram")
	admin.click("add option", "#poll-add-option")
	admin.typeInto("option 3", "#compose-poll .option-list li:nth-child(3) input", "Bike")
	admin.typeInto("poll text", "#compose-text", "Quick survey for our timetable planning.")
	admin.a11y("channel page (admin, composer)")
	admin.screenshot("admin-composer")
	admin.click("publish poll", "#compose-submit")
	admin.waitJS("poll in feed", `[...document.querySelectorAll("#feed .poll-question")].some(l => l.textContent.includes("How do you commute?"))`)

	// A second person, in a second browser, follows the channel.
	signUpInBrowser(follower, s.URL, "bob_reader", "Bob")
	follower.open(s.URL + channelPath)
	follower.waitJS("channel loaded", `document.querySelector("#channel-name")?.textContent === "Lyon Transit Alerts"`)
	follower.waitJS("feed shows the poll", `document.querySelectorAll("#feed .update").length === 2`)
	follower.click("follow", "#follow")
	follower.waitJS("following", `document.querySelector("#follow")?.getAttribute("aria-pressed") === "true" && document.activeElement?.id === "follow"`)
	follower.waitJS("follower count", `document.querySelector("#follower-count")?.dataset.count === "1"`)
	// The live stream is open before the admin posts.
	follower.waitJS("live stream open", `document.documentElement.dataset.live === "on"`)

	// The admin posts; the follower sees it appear without reloading.
	follower.do("mark page", evalVoid(`window.__sameDocument = true`))
	post(admin, "Live: metro line B is stopped between Saxe-Gambetta and Gare de Vénissieux.")
	follower.waitJS("live update", `[...document.querySelectorAll("#feed .update-text")].some(e => e.textContent.includes("metro line B is stopped"))`)
	follower.waitJS("same document, no reload", `window.__sameDocument === true`)
	follower.waitJS("newest first", `document.querySelector("#feed .update .update-text")?.textContent.includes("metro line B is stopped")`)

	// The follower reacts with the picker, then changes the reaction.
	live := `[...document.querySelectorAll("#feed .update")].find(e => e.textContent.includes("metro line B is stopped"))`
	follower.do("open picker", evalVoid(live+`.querySelector(".react-add").click()`))
	follower.waitJS("picker open", live+`.querySelector(".picker .emoji-btn")`)
	follower.do("pick 😮", evalVoid(live+`.querySelector('.picker .emoji-btn[aria-label="React with 😮"]').click()`))
	follower.waitJS("reaction counted", live+`.querySelector('.reaction[data-emoji="😮"][aria-pressed="true"] .count')?.textContent === "1"`)
	follower.do("open picker again", evalVoid(live+`.querySelector(".react-add").click()`))
	follower.do("pick 🙏", evalVoid(live+`.querySelector('.picker .emoji-btn[aria-label="React with 🙏"]').click()`))
	follower.waitJS("reaction changed", live+`.querySelector('.reaction[data-emoji="🙏"][aria-pressed="true"]') && !`+live+`.querySelector('.reaction[data-emoji="😮"]')`)

	// Any single emoji can be typed in; text that isn't one is refused with a message.
	follower.do("open picker (free)", evalVoid(live+`.querySelector(".react-add").click()`))
	follower.do("type text", setValue(".picker .emoji-input", "abc"), evalVoid(`document.querySelector(".picker .emoji-free").requestSubmit()`))
	follower.waitJS("refused with a message", `document.querySelector(".toast-error")?.textContent.length > 0`)
	follower.do("open picker (free) again", evalVoid(live+`.querySelector(".react-add").click()`))
	follower.do("type an emoji", setValue(".picker .emoji-input", "🦄"), evalVoid(`document.querySelector(".picker .emoji-free").requestSubmit()`))
	follower.waitJS("free emoji counted", live+`.querySelector('.reaction[data-emoji="🦄"][aria-pressed="true"] .count')?.textContent === "1" && !`+live+`.querySelector('.reaction[data-emoji="🙏"]')`)
	follower.do("back to 🙏", evalVoid(live+`.querySelector(".react-add").click()`), evalVoid(live+`.querySelector('.picker .emoji-btn[aria-label="React with 🙏"]').click()`))
	follower.waitJS("🙏 again", live+`.querySelector('.reaction[data-emoji="🙏"][aria-pressed="true"]') && !`+live+`.querySelector('.reaction[data-emoji="🦄"]')`)

	// The follower votes in the poll.
	poll := `[...document.querySelectorAll("#feed .update")].find(e => e.querySelector(".poll"))`
	follower.do("choose Tram", evalVoid(poll+`.querySelector('input[value="1"]').click()`))
	follower.do("vote", evalVoid(poll+`.querySelector('.poll-form button[type="submit"]').click()`))
	follower.waitJS("vote counted", poll+`.querySelectorAll(".poll-count")[1].dataset.votes === "1" && `+poll+`.querySelector(".poll-voters").dataset.voters === "1"`)
	follower.waitJS("vote marked as mine", poll+`.querySelectorAll(".poll-option")[1].classList.contains("chosen")`)

	// The admin's page shows the counts move, without reloading (and never who).
	admin.do("mark admin page", evalVoid(`window.__sameDocument = true`))
	adminLive := live
	admin.waitJS("admin sees reaction count", adminLive+`?.querySelector('.reaction[data-emoji="🙏"] .count')?.textContent === "1"`)
	admin.waitJS("admin sees vote count", poll+`.querySelectorAll(".poll-count")[1].dataset.votes === "1"`)
	admin.waitJS("admin counts line", adminLive+`.querySelector(".admin-counts").textContent.includes("1 reaction")`)
	admin.waitJS("admin sees follower count", `document.querySelector("#follower-count")?.dataset.count === "1"`)
	admin.waitJS("admin page not reloaded", `window.__sameDocument === true`)
	if body := admin.str("admin page text", `document.body.innerText`); strings.Contains(body, "bob_reader") || strings.Contains(body, "Bob") {
		t.Errorf("the admin's page names the follower:\n%s", body)
	}

	// More followers react and vote through the API; the follower's page
	// shows the coalesced counts arrive live.
	channelID := strings.TrimPrefix(channelPath, "/channels/")
	liveID := follower.str("live update id", live+`.dataset.id`)
	pollID := follower.str("poll update id", poll+`.dataset.id`)
	for i, r := range []struct {
		emoji string
		vote  int
	}{{"👍", 0}, {"👍", 1}, {"❤️", 2}, {"🙏", 0}} {
		c := signUp(t, s.URL, "commuter"+itoa(i))
		c.do("PUT", "/channels/"+channelID+"/follow", nil, nil)
		c.do("PUT", "/channels/"+channelID+"/updates/"+liveID+"/reaction", map[string]any{"emoji": r.emoji}, nil)
		c.do("PUT", "/channels/"+channelID+"/updates/"+pollID+"/vote", map[string]any{"options": []int{r.vote}}, nil)
	}
	follower.waitJS("live reaction counts", live+`.querySelector('.reaction[data-emoji="👍"] .count')?.textContent === "2" && `+live+`.querySelector('.reaction[data-emoji="🙏"][aria-pressed="true"] .count')?.textContent === "2"`)
	follower.waitJS("live poll counts", poll+`.querySelector(".poll-voters").dataset.voters === "5" && [...`+poll+`.querySelectorAll(".poll-count")].map(e => e.dataset.votes).join() === "2,2,1"`)
	follower.waitJS("own vote kept", poll+`.querySelectorAll(".poll-option")[1].classList.contains("chosen")`)
	follower.screenshot("channel-feed")
	admin.waitJS("admin sees new counts", poll+`.querySelector(".poll-voters").dataset.voters === "5" && `+adminLive+`.querySelector(".admin-counts").textContent.includes("5 reactions")`)

	// Directory: "meteo" finds "Météo Lyon" as you type.
	follower.click("nav to directory", `.nav a[href="/"]`)
	follower.waitJS("directory", `document.querySelector("#dir-search") && document.querySelectorAll("#dir-results .channel-card").length > 3`)
	follower.typeInto("search", "#dir-search", "meteo")
	follower.waitJS("search results", `[...document.querySelectorAll("#dir-results .channel-card")].map(c => c.querySelector(".channel-name").textContent).join("|") === "Météo Lyon"`)
	follower.waitJS("query in URL", `location.search.includes("q=meteo")`)
	follower.do("clear search", setValue("#dir-search", ""), evalVoid(`document.querySelector("#dir-search").dispatchEvent(new Event("input"))`))
	follower.waitJS("all results back", `document.querySelectorAll("#dir-results .channel-card").length >= 7`)
	follower.a11y("directory")
	follower.screenshot("directory")
	follower.click("category chip", `.chip[data-category="weather"]`)
	follower.waitJS("weather only", `[...document.querySelectorAll("#dir-results .channel-card .channel-name")].map(e => e.textContent).join("|") === "Météo Lyon"`)

	// French: the switch translates the page and the categories, and is remembered.
	follower.do("switch to French", setValue("#lang-switch", "fr"))
	follower.waitJS("French page", `document.querySelector("h1")?.textContent === "Découvrir des chaînes" && document.documentElement.lang === "fr"`)
	follower.waitJS("French categories", `document.querySelector('.chip[data-category="weather"]')?.textContent === "Météo" && document.querySelector('.chip[data-category="business"]')?.textContent === "Économie"`)
	follower.open(s.URL + channelPath)
	follower.waitJS("French channel page", `document.querySelector("#follow")?.textContent.includes("Abonné") && document.querySelector("#feed-title")?.textContent === "Publications"`)
	follower.waitJS("French poll", `document.querySelector("#feed .poll-voters")?.textContent === "5 votants"`)
	follower.do("back to English", setValue("#lang-switch", "en"))
	follower.waitJS("English again", `document.querySelector("#feed-title")?.textContent === "Updates"`)

	// On a phone's width the same page is usable: nothing overflows sideways.
	phone := newBrowser(t, "phone", 390, 844)
	phone.open(s.URL + channelPath)
	phone.waitJS("phone channel", `document.querySelectorAll("#feed .update").length === 3`)
	phone.waitJS("no horizontal overflow", `document.documentElement.scrollWidth <= window.innerWidth`)
	phone.screenshot("phone-channel")
	// Someone without an account taps Follow: signs up, comes back, follows.
	phone.click("follow (signed out)", "#follow")
	phone.waitJS("sign-up form", `location.pathname === "/signup"`)
	phone.typeInto("username", "input[name=username]", "dave_on_phone")
	phone.typeInto("password", "input[name=password]", "a long enough password")
	phone.do("submit", evalVoid(`document.querySelector("form").requestSubmit()`))
	phone.waitJS("followed after signing up", `location.pathname === `+js(channelPath)+` && location.search === "" && document.querySelector("#follow")?.getAttribute("aria-pressed") === "true"`)

	// Invite: the admin's settings show the link and its QR code; a
	// newcomer opens it, sees the preview, signs up and follows.
	admin.open(s.URL + channelPath + "/settings")
	admin.waitJS("invite link", `document.querySelector("#invite-url")?.value.includes("/c/")`)
	admin.waitJS("qr loaded", `document.querySelector("#invite-qr")?.complete && document.querySelector("#invite-qr").naturalWidth > 0`)
	invite := admin.str("invite url", `document.querySelector("#invite-url").value`)

	newcomer := newBrowser(t, "newcomer", 1280, 900)
	newcomer.open(invite)
	newcomer.waitJS("preview", `document.querySelector("#invite-name")?.textContent === "Lyon Transit Alerts"`)
	newcomer.waitJS("preview followers", `document.querySelector("#invite-followers strong")?.textContent === "6"`)
	newcomer.waitJS("invite qr", `document.querySelector("#invite-qr")?.complete && document.querySelector("#invite-qr").naturalWidth > 0`)
	newcomer.a11y("invite")
	newcomer.screenshot("invite")
	newcomer.click("sign up and follow", "#invite-follow")
	newcomer.waitJS("signup form", `location.pathname === "/signup" && document.querySelector("input[name=username]")`)
	newcomer.typeInto("username", "input[name=username]", "carol")
	newcomer.typeInto("password", "input[name=password]", "a long enough password")
	newcomer.do("submit", evalVoid(`document.querySelector("form").requestSubmit()`))
	newcomer.waitJS("followed through the invite", `location.pathname === `+js(channelPath)+` && document.querySelector("#follow")?.getAttribute("aria-pressed") === "true"`)
	newcomer.waitJS("feed visible", `document.querySelectorAll("#feed .update").length === 3`)

	// My channels lists it with its latest update.
	newcomer.click("my channels", `.nav a[href="/following"]`)
	newcomer.waitJS("following list", `[...document.querySelectorAll("#following .following-row")].some(r => r.textContent.includes("Lyon Transit Alerts") && r.textContent.includes("metro line B is stopped"))`)

	// Sign out.
	newcomer.click("sign out", "#signout")
	newcomer.waitJS("signed out", `document.querySelector('#account a[href^="/signin"]')`)

	// Sign in: a wrong password is refused with a clear message, the right one works.
	newcomer.click("sign in link", `#account a[href^="/signin"]`)
	newcomer.waitJS("sign-in form", `location.pathname === "/signin" && document.querySelector("input[name=password]")`)
	newcomer.a11y("sign in")
	newcomer.typeInto("username", "input[name=username]", "carol")
	newcomer.typeInto("wrong password", "input[name=password]", "not my password")
	newcomer.do("submit", evalVoid(`document.querySelector("form").requestSubmit()`))
	newcomer.waitJS("refused", `document.querySelector(".form-error")?.textContent === "Wrong username or password." && !document.querySelector("#signout")`)
	newcomer.do("right password", setValue("input[name=password]", "a long enough password"), evalVoid(`document.querySelector("form").requestSubmit()`))
	newcomer.waitJS("signed in again", `document.querySelector("#signout") && document.querySelector(".whoami")?.textContent === "carol"`)
}

func signUpInBrowser(b *browser, base, username, display string) {
	b.t.Helper()
	b.open(base + "/signup")
	b.waitJS("signup form", `document.querySelector("input[name=username]")`)
	b.a11y("sign up")
	b.typeInto("username", "input[name=username]", username)
	b.typeInto("display name", "input[name=display_name]", display)
	b.typeInto("password", "input[name=password]", "correct horse battery staple")
	b.click("create account", `form button[type=submit]`)
	b.waitJS("signed in", `document.querySelector("#signout") && document.querySelector(".whoami")?.textContent === `+js(display))
}

func post(b *browser, text string) {
	b.t.Helper()
	n, err := evalJS[int](b, `document.querySelectorAll("#feed .update").length`)
	if err != nil {
		b.t.Fatal(err)
	}
	b.typeInto("compose", "#compose-text", text)
	b.click("publish", "#compose-submit")
	b.waitJS("posted", `document.querySelectorAll("#feed .update").length === `+itoa(n+1)+` && document.querySelector("#compose-text").value === ""`)
}
