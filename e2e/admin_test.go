package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
	"github.com/heraldhq/herald"
)

// TestWebAppAdmin covers the admin's tools: profile and settings, the
// reaction setting as followers see it, editing updates, admins, rotating
// the invite link, and a follower's unread markers and older pages.
func TestWebAppAdmin(t *testing.T) {
	requireChromium(t)
	s := startServer(t)

	admin := newBrowser(t, "admin", 1280, 900)
	signUpInBrowser(admin, s.URL, "owner_olga", "Olga")
	cohost := signUp(t, s.URL, "cohost_carl")
	reader := signUp(t, s.URL, "reader_rita")

	// A channel made through the API by the same account would need its
	// token; make it in the browser instead, then fill it through the API as
	// a co-admin once added.
	admin.open(s.URL + "/channels/new")
	admin.waitJS("create form", `document.querySelector("#ch-name")`)
	admin.typeInto("name", "#ch-name", "School Board News")
	admin.do("category", setValue("#ch-category", "education"))
	admin.click("create", "#create-submit")
	admin.waitJS("channel page", `document.querySelector("#composer")`)
	channelPath := admin.str("path", "location.pathname")
	channelID := channelPath[len("/channels/"):]

	// My channels lists the channels I manage, though I don't follow them.
	admin.click("my channels", `.nav a[href="/following"]`)
	admin.waitJS("managed channel listed", `[...document.querySelectorAll("#managed .following-row")].some(r => r.textContent.includes("School Board News") && r.textContent.includes("Owner"))`)
	admin.do("back to the channel", evalVoid(`document.querySelector("#managed .following-link").click()`))
	admin.waitJS("channel page again", `location.pathname === `+js(channelPath)+` && document.querySelector("#composer")`)

	// Settings: add a co-admin by username; the list shows both, with roles.
	admin.click("manage", "#settings-link")
	admin.waitJS("settings", `document.querySelector("#admin-list .admin-row")`)
	admin.typeInto("admin username", "#admin-username", "cohost_carl")
	admin.do("add admin", evalVoid(`document.querySelector(".add-admin").requestSubmit()`))
	admin.waitJS("co-admin listed", `[...document.querySelectorAll("#admin-list .admin-row")].some(r => r.textContent.includes("@cohost_carl") && r.textContent.includes("Admin"))`)
	admin.waitJS("owner listed", `[...document.querySelectorAll("#admin-list .admin-row")].some(r => r.textContent.includes("@owner_olga") && r.textContent.includes("Owner"))`)

	// Profile and settings: rename, describe, only the default reactions.
	admin.do("rename", setValue("#ch-name", "School Board Bulletin"), setValue("#ch-description", "Closures, meetings and menus. https://example.org/school"))
	admin.click("default reactions", "#ch-reactions-default")
	admin.click("save", "#settings-save")
	admin.waitJS("saved", `document.querySelector("h1").textContent === "Manage School Board Bulletin"`)
	var ch herald.Channel
	reader.do("GET", "/channels/"+channelID, nil, &ch)
	if ch.Name != "School Board Bulletin" || ch.Reactions != herald.ReactionsDefault || ch.Description == "" {
		t.Fatalf("settings not saved: %+v", ch)
	}

	// Rotate the invite link: the old one stops working at once.
	oldInvite := admin.str("invite", `document.querySelector("#invite-url").value`)
	admin.click("rotate", "#invite-rotate")
	admin.click("confirm rotate", "#confirm-ok")
	admin.waitJS("new invite", `document.querySelector("#invite-url").value !== `+js(oldInvite))
	admin.a11y("settings")
	admin.screenshot("settings")
	admin.open(oldInvite)
	admin.waitJS("old invite dead", `document.querySelector("h1")?.textContent === "This invite link does not work"`)
	admin.a11y("dead invite")

	// The co-admin posts 25 updates through the API (a bot would).
	for i := 1; i <= 25; i++ {
		cohost.do("POST", "/channels/"+channelID+"/updates", map[string]any{"text": "Bulletin number " + itoa(i)}, nil)
	}

	// The directory pages by cursor: 24 at a time, then "Load more".
	for i := 1; i <= 26; i++ {
		cohost.do("POST", "/channels", map[string]any{"name": "Parent association " + itoa(i), "category": "education"}, nil)
	}

	// A follower: first page of 20, then older ones.
	follower := newBrowser(t, "follower", 1280, 900)
	signUpInBrowser(follower, s.URL, "fred_follower", "Fred")
	follower.open(s.URL + "/?category=education")
	follower.waitJS("directory first page", `document.querySelectorAll("#dir-results .channel-card").length >= 24 && document.querySelector('.chip[data-category="education"]').getAttribute("aria-pressed") === "true"`)
	follower.do("scroll to the end", evalVoid(`window.scrollTo(0, document.body.scrollHeight)`))
	follower.waitJS("directory second page", `document.querySelectorAll("#dir-results .channel-card").length === 27 && document.querySelector("#dir-more").hidden`)
	follower.waitJS("each channel once", `new Set([...document.querySelectorAll("#dir-results .channel-card .channel-name")].map(e => e.textContent)).size === 27`)
	follower.open(s.URL + channelPath)
	follower.waitJS("first page", `document.querySelectorAll("#feed .update").length === 20 && !document.querySelector("#load-older").hidden`)
	// Scrolling down loads older updates by itself.
	follower.do("scroll to the end", evalVoid(`window.scrollTo(0, document.body.scrollHeight)`))
	follower.waitJS("all pages", `document.querySelectorAll("#feed .update").length === 25 && document.querySelector("#load-older").hidden`)
	follower.waitJS("order", `[...document.querySelectorAll("#feed .update-text")].map(e => e.textContent).join("|").startsWith("Bulletin number 25|Bulletin number 24|")`)
	follower.click("follow", "#follow")
	follower.waitJS("following", `document.querySelector("#follow")?.getAttribute("aria-pressed") === "true" && document.activeElement?.id === "follow"`)
	follower.waitJS("live stream open", `document.documentElement.dataset.live === "on"`)

	// Keyboard only: Enter opens the picker with focus on its first emoji,
	// Tab moves on, Enter reacts, and focus returns to the picker's button.
	follower.do("focus react button", evalVoid(`document.querySelector("#feed .update .react-add").focus()`))
	follower.key("open picker with Enter", kb.Enter)
	follower.waitJS("focus in picker", `document.activeElement?.classList.contains("emoji-btn") && document.activeElement.textContent === "👍"`)
	follower.key("arrow to next emoji", kb.ArrowRight)
	follower.waitJS("focus moved", `document.activeElement?.textContent === "❤️"`)
	follower.key("react with Enter", kb.Enter)
	follower.waitJS("reacted by keyboard", `document.querySelector('#feed .update .reaction[data-emoji="❤️"][aria-pressed="true"]') && document.activeElement?.classList.contains("react-add")`)
	follower.a11y("channel page (follower)")

	// Only the six default reactions are offered, without a free field.
	first := `document.querySelector("#feed .update")`
	follower.do("open picker", evalVoid(first+`.querySelector(".react-add").click()`))
	follower.waitJS("default set only", first+`.querySelectorAll(".picker .emoji-btn").length === 6 && !`+first+`.querySelector(".picker .emoji-free")`)
	follower.do("escape closes picker", evalVoid(first+`.querySelector(".picker").dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", bubbles: true}))`))
	follower.waitJS("picker closed", `!`+first+`.querySelector(".picker") && `+first+`.querySelector(".react-add").getAttribute("aria-expanded") === "false"`)

	// A poll with several answers: one vote, two options.
	var multi herald.Update
	cohost.do("POST", "/channels/"+channelID+"/updates", map[string]any{"text": "Which clubs should reopen first?",
		"poll": map[string]any{"question": "Which clubs should reopen first?", "options": []string{"Chess", "Robotics", "Choir"}, "multiple": true}}, &multi)
	mp := `document.querySelector('#u-` + multi.ID + `')`
	follower.waitJS("multi poll arrives", mp+` && `+mp+`.querySelectorAll('.poll input[type="checkbox"]').length === 3`)
	follower.waitJS("question said once", mp+`.querySelector(".update-text").offsetParent === null`)
	follower.do("choose two", evalVoid(mp+`.querySelector('input[value="0"]').click()`), evalVoid(mp+`.querySelector('input[value="2"]').click()`))
	follower.do("vote", evalVoid(mp+`.querySelector(".poll-form").requestSubmit()`))
	follower.waitJS("two options, one voter", mp+`.querySelector(".poll-voters").dataset.voters === "1" && [...`+mp+`.querySelectorAll(".poll-count")].map(e => e.dataset.votes).join() === "1,0,1"`)
	follower.do("retract", evalVoid(mp+`.querySelector(".poll-actions .btn.ghost").click()`))
	follower.waitJS("retracted", mp+`.querySelector(".poll-voters").dataset.voters === "0" && !`+mp+`.querySelector(".poll input:checked")`)

	// Mute and unmute.
	follower.click("mute", "#mute")
	follower.waitJS("muted", `document.querySelector("#mute").getAttribute("aria-pressed") === "true"`)
	follower.click("unmute", "#mute")
	follower.waitJS("unmuted", `document.querySelector("#mute").getAttribute("aria-pressed") === "false"`)

	// The admin edits an update; the follower sees the edit live, marked.
	admin.open(s.URL + channelPath)
	admin.waitJS("admin feed", `document.querySelectorAll("#feed .update").length === 20`)
	admin.do("edit", evalVoid(`document.querySelector("#feed .update .update-tools button").click()`))
	admin.do("new text", setValue("#feed .update .edit-text", "Bulletin number 25 (corrected): school closed Friday."))
	admin.do("save edit", evalVoid(`document.querySelector("#feed .update .edit-form").requestSubmit()`))
	admin.waitJS("edited for admin", first+`.querySelector(".update-text").textContent.includes("corrected") && !`+first+`.querySelector(".edited").hidden`)
	follower.waitJS("edit arrives live", first+`.querySelector(".update-text").textContent.includes("corrected") && !`+first+`.querySelector(".edited").hidden`)

	// My channels: an unread marker appears for a new update and clears
	// once the channel is read.
	follower.click("my channels", `.nav a[href="/following"]`)
	follower.waitJS("list", `document.querySelector("#following .following-row")`)
	follower.waitJS("read", `!document.querySelector("#following .following-row.unread")`)
	cohost.do("POST", "/channels/"+channelID+"/updates", map[string]any{"text": "Snow day tomorrow: all schools closed."}, nil)
	follower.waitJS("unread marker, live", `document.querySelector("#following .following-row.unread")?.textContent.includes("Snow day tomorrow")`)
	follower.a11y("my channels")
	follower.screenshot("my-channels")
	follower.do("open channel", evalVoid(`document.querySelector("#following .following-link").click()`))
	follower.waitJS("channel open", `document.querySelector("#feed .update-text")?.textContent.includes("Snow day")`)
	follower.click("back to list", `.nav a[href="/following"]`)
	follower.waitJS("marker cleared", `document.querySelector("#following .following-row") && !document.querySelector("#following .following-row.unread")`)

	// The admin deletes an update; it disappears for the follower.
	follower.open(s.URL + channelPath)
	follower.waitJS("feed", `document.querySelector("#feed .update-text")?.textContent.includes("Snow day")`)
	admin.open(s.URL + channelPath)
	admin.waitJS("admin feed", `document.querySelector("#feed .update-text")?.textContent.includes("Snow day")`)
	admin.do("delete", evalVoid(`document.querySelector("#feed .update .update-tools .danger-text").click()`))
	admin.click("confirm", "#confirm-ok")
	follower.waitJS("deleted live", `!document.querySelector("#feed .update-text")?.textContent.includes("Snow day")`)

	// The stream drops; an update is posted meanwhile. The app reconnects
	// on its own (with backoff), resumes from its last event id, and shows
	// the update exactly once.
	before := len(s.since())
	s.cutStreams()
	cohost.do("POST", "/channels/"+channelID+"/updates", map[string]any{"text": "Posted while you were offline."}, nil)
	follower.waitJS("missed update delivered", `[...document.querySelectorAll("#feed .update-text")].filter(e => e.textContent === "Posted while you were offline.").length === 1`)
	follower.waitJS("stream back", `document.documentElement.dataset.live === "on"`)
	time.Sleep(1500 * time.Millisecond) // room for a duplicate to show up, if any
	follower.waitJS("exactly once", `[...document.querySelectorAll("#feed .update-text")].filter(e => e.textContent === "Posted while you were offline.").length === 1`)
	reconnects := s.since()[before:]
	if len(reconnects) == 0 || reconnects[0] == "" {
		t.Errorf("the app reconnected without a resume cursor: %q", reconnects)
	}

	// The owner hands the channel over; the new owner deletes it, and the
	// follower's open page says so at once.
	admin.open(s.URL + channelPath + "/settings")
	admin.waitJS("settings", `[...document.querySelectorAll("#admin-list .admin-row")].some(r => r.textContent.includes("@cohost_carl"))`)
	admin.do("make owner", evalVoid(`[...document.querySelectorAll("#admin-list .admin-row")].find(r => r.textContent.includes("@cohost_carl")).querySelector("button").click()`))
	admin.click("confirm transfer", "#confirm-ok")
	admin.waitJS("now an admin", `[...document.querySelectorAll("#admin-list .admin-row")].some(r => r.textContent.includes("@cohost_carl") && r.textContent.includes("Owner")) && [...document.querySelectorAll("#admin-list .admin-row")].some(r => r.textContent.includes("@owner_olga") && r.textContent.includes("Admin")) && !document.querySelector(".danger-zone") && !document.querySelector("#admin-username")`)
	cohost.do("DELETE", "/channels/"+channelID, nil, nil)
	follower.waitJS("deletion shown live", `document.querySelector(".banner")?.textContent === "This channel has been deleted." && !document.querySelector("#feed .react-add")`)
	follower.waitJS("no interaction left", `![...document.querySelectorAll("#feed .poll input")].some(i => !i.disabled)`)
}
