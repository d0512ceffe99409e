package e2e

import "testing"

// TestWebAppMedia: an admin attaches a photo in the composer (progress,
// preview, alt text), posts it, and a follower's open page shows it live,
// with its alt text, served by the server's media route.
func TestWebAppMedia(t *testing.T) {
	requireChromium(t)
	s := startServer(t)

	admin := newBrowser(t, "media-admin", 1280, 900)
	signUpInBrowser(admin, s.URL, "photo_pat", "Pat")
	admin.open(s.URL + "/channels/new")
	admin.waitJS("create form", `document.querySelector("#ch-name")`)
	admin.typeInto("name", "#ch-name", "Photo Desk")
	admin.do("category", setValue("#ch-category", "news"))
	admin.click("create", "#create-submit")
	admin.waitJS("channel page", `document.querySelector("#composer")`)
	channelPath := admin.str("path", "location.pathname")

	follower := newBrowser(t, "media-follower", 1280, 900)
	signUpInBrowser(follower, s.URL, "fan_fay", "Fay")
	follower.open(s.URL + channelPath)
	follower.waitJS("channel", `document.querySelector("#follow")`)
	follower.click("follow", "#follow")
	follower.waitJS("following", `document.querySelector("#follow")?.getAttribute("aria-pressed") === "true"`)

	// A 640 x 480 JPEG made by a canvas, given to the file input as a user's choice would be.
	admin.do("attach", evalVoid(`(async () => {
		const c = document.createElement("canvas"); c.width = 640; c.height = 480;
		const g = c.getContext("2d"); g.fillStyle = "#c33"; g.fillRect(0, 0, 640, 480);
		const blob = await new Promise(r => c.toBlob(r, "image/jpeg"));
		const dt = new DataTransfer(); dt.items.add(new File([blob], "red.jpg", { type: "image/jpeg" }));
		const input = document.querySelector("#compose-file"); input.files = dt.files;
		input.dispatchEvent(new Event("change"));
	})()`))
	admin.waitJS("uploaded", `document.querySelector("#compose-attachments .attachment[data-id] img")`)
	admin.typeInto("alt text", "#compose-attachments .alt-text", "A red square")
	admin.typeInto("text", "#compose-text", "Today's colour")
	admin.click("publish", "#compose-submit")
	admin.waitJS("posted", `document.querySelector("#feed .update .album img") && !document.querySelector("#compose-attachments .attachment")`)

	follower.waitJS("shown live", `[...document.querySelectorAll("#feed .update .album img")].some(i => i.alt === "A red square" && i.complete && i.naturalWidth === 640)`)
	follower.checkErrors("media")
	admin.checkErrors("media")
	follower.a11y("media")
	follower.screenshot("media")

	// The channel's picture, from the settings page; the channel page shows it.
	admin.click("manage", "#settings-link")
	admin.waitJS("avatar editor", `document.querySelector("#avatar-change")`)
	admin.do("choose a picture", evalVoid(`(async () => {
		const c = document.createElement("canvas"); c.width = 300; c.height = 200;
		const g = c.getContext("2d"); g.fillStyle = "#36c"; g.fillRect(0, 0, 300, 200);
		const blob = await new Promise(r => c.toBlob(r, "image/png"));
		const dt = new DataTransfer(); dt.items.add(new File([blob], "logo.png", { type: "image/png" }));
		const input = document.querySelector("#avatar-file"); input.files = dt.files;
		input.dispatchEvent(new Event("change"));
	})()`))
	admin.waitJS("avatar shown", `document.querySelector(".avatar-current img.avatar-img")?.naturalWidth === 200`)
	admin.a11y("avatar")
	admin.open(s.URL + channelPath)
	admin.waitJS("avatar on the channel page", `document.querySelector("img.avatar-img")?.complete && document.querySelector("img.avatar-img").naturalWidth > 0`)
	admin.checkErrors("avatar")
}
