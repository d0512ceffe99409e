package e2e

import (
	"testing"

	"github.com/chromedp/chromedp/kb"
)

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
	follower.waitJS("following", `document.querySelector("#follow")?.getAttribute("aria-pressed") === "true" && document.activeElement?.id === "follow"`)

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

	// An album of two; the follower opens it in the lightbox: arrows move
	// within the album, Escape closes and gives focus back to the image.
	admin.do("attach two", evalVoid(`(async () => {
		const dt = new DataTransfer();
		for (const [name, colour] of [["green.jpg", "#3a3"], ["blue.jpg", "#33c"]]) {
			const c = document.createElement("canvas"); c.width = 320; c.height = 240;
			const g = c.getContext("2d"); g.fillStyle = colour; g.fillRect(0, 0, 320, 240);
			const blob = await new Promise(r => c.toBlob(r, "image/jpeg"));
			dt.items.add(new File([blob], name, { type: "image/jpeg" }));
		}
		const input = document.querySelector("#compose-file"); input.files = dt.files;
		input.dispatchEvent(new Event("change"));
	})()`))
	admin.waitJS("two uploaded", `document.querySelectorAll("#compose-attachments .attachment[data-id] img").length === 2`)
	admin.do("alt texts", evalVoid(`(() => {
		const alts = document.querySelectorAll("#compose-attachments .alt-text");
		alts[0].value = "A green square"; alts[0].dispatchEvent(new Event("input"));
		alts[1].value = "A blue square"; alts[1].dispatchEvent(new Event("input"));
	})()`))
	admin.click("publish album", "#compose-submit")
	follower.waitJS("album shown", `document.querySelector("#feed .update .album.n2 .album-item img")?.complete`)
	// The browser checks the signature, attachments (ids, alt texts) included.
	follower.waitJS("album verified", `document.querySelector("#feed .update .album.n2")?.closest("article.update").querySelector('.origin[data-origin="verified"]')`)
	follower.click("open the lightbox", "#feed .update .album.n2 .album-item")
	follower.waitJS("lightbox open", `document.querySelector("#lightbox")?.open && document.querySelector("#lightbox-img").alt === "A green square" &&
		document.querySelector("#lightbox-img").complete && document.querySelector("#lightbox-img").naturalWidth === 320`)
	if got := follower.str("labels", `[document.querySelector("#lightbox").getAttribute("aria-label"), document.querySelector("#lightbox-next").getAttribute("aria-label"), document.querySelector("#lightbox-position").textContent].join("|")`); got != "Image viewer|Next image|1 of 2" {
		t.Fatalf("lightbox labels = %q", got)
	}
	follower.a11y("lightbox")
	follower.key("next", kb.ArrowRight)
	follower.waitJS("second image", `document.querySelector("#lightbox-img").alt === "A blue square" && document.querySelector("#lightbox-position").textContent === "2 of 2"`)
	follower.key("wrap around", kb.ArrowRight)
	follower.waitJS("first again", `document.querySelector("#lightbox-img").alt === "A green square"`)
	follower.key("previous", kb.ArrowLeft)
	follower.waitJS("back to the second", `document.querySelector("#lightbox-img").alt === "A blue square"`)
	follower.screenshot("lightbox")
	follower.key("close", kb.Escape)
	follower.waitJS("closed", `!document.querySelector("#lightbox") && document.activeElement?.classList.contains("album-item")`)
	follower.checkErrors("lightbox")

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
