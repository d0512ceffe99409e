package e2e

import (
	"context"
	"testing"

	"github.com/heraldhq/herald"
)

// The moderation flow in real browsers: a follower reports a channel, the
// operator suspends it from the console with a reason, the follower sees
// the notice instead of the history, the owner sees why and asks for a
// review, the operator lifts the suspension, and the history is back.
func TestModerationFlowInBrowser(t *testing.T) {
	requireChromium(t)
	s := startServer(t)
	owner := signUp(t, s.URL, "fake_bank")
	var ch herald.Channel
	owner.do("POST", "/channels", map[string]any{"name": "Totally Real Bank", "category": "news"}, &ch)
	owner.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": "Send us your password"}, nil)
	channelURL := s.URL + "/channels/" + ch.ID

	follower := newBrowser(t, "reporter", 1280, 900)
	signUpInBrowser(follower, s.URL, "careful_carl", "Carl")
	follower.open(channelURL)
	follower.click("follow", "#follow")
	follower.waitJS("followed", `document.querySelector("#follow")?.getAttribute("aria-pressed") === "true" && document.querySelectorAll("#feed .update").length === 1`)
	follower.click("report", "#report")
	follower.waitJS("report dialog", `document.querySelector("#report-dialog")?.open`)
	follower.do("reason", setValue("#report-reason", "scam"), setValue("#report-comment", "phishing for passwords"))
	follower.click("send report", "#report-send")
	follower.waitJS("report sent", `!document.querySelector("#report-dialog")`)

	op := newBrowser(t, "operator", 1280, 900)
	signUpInBrowser(op, s.URL, "olga_op", "Olga")
	if _, err := s.store.SetOperator(context.Background(), "olga_op", true); err != nil {
		t.Fatal(err)
	}
	op.open(s.URL + "/operator")
	op.waitJS("queue", `[...document.querySelectorAll("#op-queue .op-target")].some(a => a.textContent.includes("Totally Real Bank") && a.textContent.includes("phishing for passwords"))`)
	op.a11y("operator console")
	op.screenshot("operator-console")
	// The queue never names the reporter.
	op.waitJS("no reporter named", `!document.body.textContent.includes("careful_carl") && !document.body.textContent.includes("Carl")`)
	op.do("reason", setValue("#op-queue .op-target .op-reason", "impersonates a bank"))
	op.click("suspend", `#op-queue .op-target button.danger`)
	op.waitJS("audit", `document.querySelector("#op-audit")?.textContent.includes("suspend_channel")`)

	follower.open(channelURL)
	follower.waitJS("notice instead of history", `document.querySelector("#suspended-notice") && document.querySelectorAll("#feed .update").length === 0`)

	ownerB := newBrowser(t, "owner", 1280, 900)
	ownerB.open(s.URL + "/signin")
	ownerB.waitJS("sign-in form", `document.querySelector("input[name=password]")`)
	ownerB.typeInto("username", "input[name=username]", "fake_bank")
	ownerB.typeInto("password", "input[name=password]", "correct horse battery")
	ownerB.do("submit", evalVoid(`document.querySelector("form").requestSubmit()`))
	ownerB.waitJS("signed in", `document.querySelector("#signout")`)
	ownerB.open(channelURL)
	ownerB.waitJS("owner sees why", `document.querySelector("#moderation")?.textContent.includes("impersonates a bank") && document.querySelector("#review-send")`)
	ownerB.do("review", setValue("#review-reason", "misunderstood"), setValue("#review-text", "We are the bank's fan club"))
	ownerB.click("send review", "#review-send")
	ownerB.waitJS("review pending", `document.querySelector("#moderation .review-outcome")`)

	op.open(s.URL + "/operator")
	op.waitJS("review listed", `document.querySelector("#op-reviews .op-review")?.textContent.includes("fan club")`)
	op.do("review reason", setValue("#op-reviews .op-review .op-reason", "renamed, not impersonating"))
	op.click("lift", `#op-reviews .op-review button.primary`)
	op.waitJS("review gone", `document.querySelector("#op-reviews")?.textContent.includes("No open review requests")`)

	follower.open(channelURL)
	follower.waitJS("history back", `!document.querySelector("#suspended-notice") && document.querySelectorAll("#feed .update").length === 1`)
	ownerB.open(channelURL)
	ownerB.waitJS("owner sees the outcome", `document.querySelector("#moderation")?.textContent.includes("renamed, not impersonating")`)
}

// A reader reports one update from its feed; the operator console shows
// that update's text in the queue; the operator removes it and the owner's
// open app says so at once; the operator looks the poster's account
// up by username, suspends it with a reason (its sessions end), and lifts
// the suspension.
func TestReportUpdateAndSuspendAccountInBrowser(t *testing.T) {
	requireChromium(t)
	s := startServer(t)
	owner := signUp(t, s.URL, "spammy_sam")
	var ch herald.Channel
	owner.do("POST", "/channels", map[string]any{"name": "Deals Daily", "category": "news"}, &ch)
	owner.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": "Cheap watches at bit.ly/nope"}, nil)
	owner.do("POST", "/channels/"+ch.ID+"/updates", map[string]any{"text": "Good morning"}, nil)

	reader := newBrowser(t, "reader", 1280, 900)
	signUpInBrowser(reader, s.URL, "rita_reads", "Rita")
	reader.open(s.URL + "/channels/" + ch.ID)
	reader.waitJS("feed", `document.querySelectorAll("#feed .update .report-update").length === 2`)
	reader.do("report the watches", evalVoid(`[...document.querySelectorAll("#feed .update")].find(a => a.textContent.includes("Cheap watches")).querySelector(".report-update").click()`))
	reader.waitJS("update report dialog", `document.querySelector("#report-dialog")?.open && document.querySelector("#report-dialog").textContent.includes("Report this update")`)
	reader.do("reason", setValue("#report-reason", "spam"))
	reader.click("send report", "#report-send")
	reader.waitJS("report sent", `!document.querySelector("#report-dialog")`)

	op := newBrowser(t, "operator", 1280, 900)
	signUpInBrowser(op, s.URL, "otto_op", "Otto")
	if _, err := s.store.SetOperator(context.Background(), "otto_op", true); err != nil {
		t.Fatal(err)
	}
	op.open(s.URL + "/operator")
	op.waitJS("queue shows the update", `[...document.querySelectorAll("#op-queue .op-target")].some(a => a.querySelector(".op-content")?.textContent.includes("Cheap watches") && !a.textContent.includes("Good morning"))`)

	// The owner, signed in with the app open, hears at once that an
	// operator removed one of their updates.
	ownerB := newBrowser(t, "owner", 1280, 900)
	ownerB.open(s.URL + "/signin")
	ownerB.waitJS("sign-in form", `document.querySelector("input[name=password]")`)
	ownerB.typeInto("username", "input[name=username]", "spammy_sam")
	ownerB.typeInto("password", "input[name=password]", "correct horse battery")
	ownerB.do("submit", evalVoid(`document.querySelector("form").requestSubmit()`))
	ownerB.waitJS("signed in", `document.querySelector("#signout")`)
	ownerB.open(s.URL + "/channels/" + ch.ID)
	ownerB.waitJS("owner's feed", `document.querySelectorAll("#feed .update").length === 2`)
	op.do("removal reason", setValue("#op-queue .op-target .op-reason", "counterfeit goods"))
	op.click("remove update", `#op-queue .op-target button.danger`)
	op.waitJS("removed", `document.querySelector("#op-audit")?.textContent.includes("remove_update")`)
	ownerB.waitJS("live notice", `document.querySelector("#toasts")?.textContent.includes("Deals Daily")`)

	op.do("look up", setValue("#op-account", "spammy_sam"), evalVoid(`document.querySelector("#op-account").form.requestSubmit()`))
	op.waitJS("account shown", `document.querySelector("#op-account-state")?.textContent.includes("@spammy_sam") && document.querySelector("#op-account-result button.danger")`)
	op.a11y("operator account lookup")
	op.do("reason", setValue("#op-account-reason", "spam network"))
	op.click("suspend account", "#op-account-result button.danger")
	op.waitJS("suspended", `document.querySelector("#op-account-state")?.textContent.includes("suspended") && document.querySelector("#op-account-result button.primary")`)
	if got := owner.status("GET", "/me"); got != 401 {
		t.Fatalf("suspended account's session: GET /me = %d, want 401", got)
	}
	op.waitJS("audit", `document.querySelector("#op-audit")?.textContent.includes("suspend_account")`)
	op.do("lift reason", setValue("#op-account-reason", "appeal accepted"))
	op.click("lift", "#op-account-result button.primary")
	op.waitJS("lifted", `document.querySelector("#op-account-state")?.textContent.includes("active") && document.querySelector("#op-account-result button.danger")`)
	op.waitJS("audit lift", `document.querySelector("#op-audit")?.textContent.includes("lift_account")`)
}
