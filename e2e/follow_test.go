package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald"
)

// Following needs the person's own action: another site sending a signed-in
// person to an invite link or a channel page with ?follow=1 follows nothing;
// the page only offers the button.
func TestCrossSiteFollowRefused(t *testing.T) {
	requireChromium(t)
	s := startServer(t)
	pub := signUp(t, s.URL, "publisher")
	var ch herald.Channel
	pub.do("POST", "/channels", map[string]any{"name": "Target Channel", "category": "news"}, &ch)

	// Another site: it sends its visitor to Herald's invite link, then to
	// the channel page, both with ?follow=1.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := s.URL + "/c/" + ch.InviteCode + "?follow=1"
		if r.URL.Path == "/channel" {
			target = s.URL + "/channels/" + ch.ID + "?follow=1"
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><title>Win a prize</title><script>location.href = ` + js(target) + `;</script>`))
	}))
	defer evil.Close()

	b := newBrowser(t, "visitor", 1280, 900)
	signUpInBrowser(b, s.URL, "victim", "Victim")

	b.open(evil.URL + "/invite")
	// The view has run to its end (where it used to follow): the button has
	// the focus, the parameter is gone, and the person still doesn't follow.
	b.waitJS("invite page, not followed", `location.origin === `+js(s.URL)+` && location.search === "" && document.activeElement?.id === "invite-follow"`)

	b.open(evil.URL + "/channel")
	b.waitJS("channel page, not followed", `location.origin === `+js(s.URL)+` && location.search === "" && document.activeElement?.id === "follow" && document.querySelector("#follow").getAttribute("aria-pressed") === "false"`)

	var got herald.Channel
	pub.do("GET", "/channels/"+ch.ID, nil, &got)
	if got.FollowerCount != 0 {
		t.Fatalf("the cross-site visit followed: %d followers", got.FollowerCount)
	}
	// Pressing the button does follow.
	b.click("follow", "#follow")
	b.waitJS("followed by a click", `document.querySelector("#follow")?.getAttribute("aria-pressed") === "true"`)
	pub.do("GET", "/channels/"+ch.ID, nil, &got)
	if got.FollowerCount != 1 {
		t.Fatalf("followers after the click: %d", got.FollowerCount)
	}
}
