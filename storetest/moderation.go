package storetest

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func init() {
	register("Moderation/Reports", testModerationReports)
	register("Moderation/Actions", testModerationActions)
	register("Moderation/Reviews", testModerationReviews)
}

// operator creates an account with operator rights.
func (h *Harness) operator() *herald.Account {
	h.T.Helper()
	a := h.Account("op")
	if _, err := h.Store.SetOperator(h.Ctx, a.Username, true); err != nil {
		h.T.Fatalf("SetOperator: %v", err)
	}
	return a
}

func testModerationReports(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	hidden := h.Channel(owner, Unlisted)
	u := h.Post(owner, ch, "Buy now!!!")
	r1, r2 := h.Account("reporter"), h.Account("reporter")

	NoErr(t, s.CreateReport(h.Ctx, r1.ID, &herald.Report{ChannelID: ch.ID, Reason: "scam", Comment: "  fake shop  "}), "report channel")
	WantKind(t, s.CreateReport(h.Ctx, r1.ID, &herald.Report{ChannelID: ch.ID, Reason: "spam"}), herald.ECONFLICT, "report-exists", "second open report")
	NoErr(t, s.CreateReport(h.Ctx, r1.ID, &herald.Report{ChannelID: ch.ID, UpdateID: u.ID, Reason: "spam"}), "report update")
	NoErr(t, s.CreateReport(h.Ctx, r2.ID, &herald.Report{ChannelID: ch.ID, Reason: "scam"}), "another person")
	WantKind(t, s.CreateReport(h.Ctx, r2.ID, &herald.Report{ChannelID: ch.ID, Reason: "boring"}), herald.EINVALID, "invalid-reason", "unknown reason")
	WantCode(t, s.CreateReport(h.Ctx, r2.ID, &herald.Report{ChannelID: hidden.ID, Reason: "spam"}), herald.ENOTFOUND, "unlisted channel")
	WantCode(t, s.CreateReport(h.Ctx, r2.ID, &herald.Report{ChannelID: ch.ID, UpdateID: "nope", Reason: "spam"}), herald.ENOTFOUND, "unknown update")
	WantCode(t, s.CreateReport(h.Ctx, r2.ID, &herald.Report{ChannelID: ch.ID, Reason: "spam", Comment: strings.Repeat("x", 1001)}), herald.EINVALID, "long comment")

	groups, err := s.OpenReports(h.Ctx, 10)
	NoErr(t, err, "OpenReports")
	if len(groups) != 2 || groups[0].ChannelID != ch.ID || groups[0].UpdateID != "" || groups[0].Count != 2 || groups[0].Reasons["scam"] != 2 ||
		len(groups[0].Comments) != 1 || groups[0].Comments[0] != "fake shop" || groups[1].UpdateID != u.ID || groups[1].Count != 1 {
		t.Fatalf("OpenReports = %s", JSON(t, groups))
	}
	for _, who := range []*herald.Account{r1, r2} {
		if strings.Contains(JSON(t, groups), who.ID) || strings.Contains(JSON(t, groups), who.Username) {
			t.Fatalf("the report queue names a reporter: %s", JSON(t, groups))
		}
	}

	// Dismissing closes the target's reports; the same person may report again.
	op := h.operator()
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionDismiss, ChannelID: ch.ID, Reason: "not a scam"})
	NoErr(t, err, "dismiss")
	groups, _ = s.OpenReports(h.Ctx, 10)
	if len(groups) != 1 || groups[0].UpdateID != u.ID {
		t.Fatalf("after dismissing the channel's reports: %s", JSON(t, groups))
	}
	NoErr(t, s.CreateReport(h.Ctx, r1.ID, &herald.Report{ChannelID: ch.ID, Reason: "scam"}), "report again after closing")
}

func testModerationActions(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	f := h.Follower(ch)
	u := h.Post(owner, ch, "bad link")
	keep := h.Post(owner, ch, "fine")
	op := h.operator()
	nobody := h.Account("nobody")

	ok, err := s.IsOperator(h.Ctx, op.ID)
	if err != nil || !ok {
		t.Fatalf("IsOperator(op) = %v, %v", ok, err)
	}
	if ok, _ := s.IsOperator(h.Ctx, nobody.ID); ok {
		t.Fatal("a plain account is an operator")
	}
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: nobody.ID, Action: herald.ActionSuspendChannel, ChannelID: ch.ID, Reason: "x"})
	WantKind(t, err, herald.EFORBIDDEN, "not-operator", "a plain account moderating")
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionSuspendChannel, ChannelID: ch.ID, Reason: "  "})
	WantKind(t, err, herald.EINVALID, "invalid-reason", "no reason")

	// Remove an update: gone for everyone, the admins told why.
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionRemoveUpdate, ChannelID: ch.ID, UpdateID: u.ID, Reason: "malware link"})
	NoErr(t, err, "remove update")
	_, err = s.FindUpdate(h.Ctx, f.ID, ch.ID, u.ID)
	WantCode(t, err, herald.ENOTFOUND, "removed update")

	// Suspend: unlisted, invite dead, posting and settings refused.
	invite := ch.InviteCode
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionSuspendChannel, ChannelID: ch.ID, Reason: "scam channel"})
	NoErr(t, err, "suspend")
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionSuspendChannel, ChannelID: ch.ID, Reason: "again"})
	WantKind(t, err, herald.ECONFLICT, "nothing-to-do", "suspending twice")
	susp, err := s.ChannelSuspension(h.Ctx, ch.ID)
	NoErr(t, err, "ChannelSuspension")
	if susp == nil || susp.Reason != "scam channel" {
		t.Fatalf("suspension = %+v", susp)
	}
	// The owner heard of both actions on their own stream; a follower did not.
	var heard []string
	mine, _, err := s.EventsAfter(h.Ctx, herald.AccountStream(owner.ID), 0, 100)
	NoErr(t, err, "owner's stream")
	for _, ev := range mine {
		if ev.Type == herald.EventChannelModerated {
			if ev.ChannelID != ch.ID || ev.Channel == nil {
				t.Fatalf("channel.moderated = %+v", ev)
			}
			heard = append(heard, ev.UpdateID)
		}
	}
	if len(heard) != 2 || heard[0] != u.ID || heard[1] != "" {
		t.Fatalf("the owner's channel.moderated events: %q", heard)
	}
	theirs, _, err := s.EventsAfter(h.Ctx, herald.AccountStream(f.ID), 0, 100)
	NoErr(t, err, "follower's stream")
	for _, ev := range theirs {
		if ev.Type == herald.EventChannelModerated {
			t.Fatal("a follower heard of a moderation action")
		}
	}
	page, err := s.SearchDirectory(h.Ctx, "", herald.DirectoryQuery{Limit: 10})
	NoErr(t, err, "SearchDirectory")
	for _, c := range page.Channels {
		if c.ID == ch.ID {
			t.Fatal("a suspended channel is still in the directory")
		}
	}
	_, err = s.FindChannelByInvite(h.Ctx, "", invite)
	WantCode(t, err, herald.ENOTFOUND, "the old invite")
	WantKind(t, s.CreateUpdate(h.Ctx, owner.ID, ch.ID, &herald.Update{Text: "still here"}), herald.EFORBIDDEN, "channel-suspended", "posting while suspended")
	listed := true
	_, err = s.UpdateChannel(h.Ctx, owner.ID, ch.ID, herald.ChannelPatch{Listed: &listed})
	WantKind(t, err, herald.EFORBIDDEN, "channel-suspended", "relisting while suspended")
	_, err = s.RotateInvite(h.Ctx, owner.ID, ch.ID)
	WantKind(t, err, herald.EFORBIDDEN, "channel-suspended", "new invite while suspended")
	// Followers still reach the channel (to see the notice); operators look it up.
	_, err = s.FindChannel(h.Ctx, f.ID, ch.ID)
	NoErr(t, err, "follower's view")
	got, gs, err := s.LookupChannel(h.Ctx, ch.ID)
	NoErr(t, err, "LookupChannel")
	if got.ID != ch.ID || gs == nil {
		t.Fatalf("LookupChannel = %+v, %+v", got, gs)
	}

	notices, err := s.Notices(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "Notices")
	if len(notices) != 2 || notices[0].Action != herald.ActionSuspendChannel || notices[0].Reason != "scam channel" ||
		notices[1].Action != herald.ActionRemoveUpdate || notices[1].UpdateID != u.ID || notices[1].Reason != "malware link" {
		t.Fatalf("notices = %s", JSON(t, notices))
	}
	_, err = s.Notices(h.Ctx, f.ID, ch.ID)
	WantCode(t, err, herald.EFORBIDDEN, "a follower reading notices")

	// Lift: listed again, posting again.
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionLiftChannel, ChannelID: ch.ID, Reason: "fixed"})
	NoErr(t, err, "lift")
	if susp, _ := s.ChannelSuspension(h.Ctx, ch.ID); susp != nil {
		t.Fatalf("still suspended: %+v", susp)
	}
	c, err := s.FindChannel(h.Ctx, "", ch.ID)
	NoErr(t, err, "listed again")
	if !c.Listed {
		t.Fatal("the lift did not restore the listing")
	}
	h.Post(owner, ch, "back")
	if _, err := s.FindUpdate(h.Ctx, f.ID, ch.ID, keep.ID); err != nil {
		t.Fatalf("an update survived the suspension: %v", err)
	}

	// Verify.
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionVerify, ChannelID: ch.ID, Reason: "official"})
	NoErr(t, err, "verify")
	if c, _ := s.FindChannel(h.Ctx, "", ch.ID); !c.Verified {
		t.Fatal("not verified")
	}

	// Suspend an account: its sessions end, an operator can't suspend themselves.
	sess := session(h, f, "f", "phone")
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionSuspendAccount, AccountID: f.ID, Reason: "bot"})
	NoErr(t, err, "suspend account")
	_, err = s.FindAccountBySession(h.Ctx, sess.TokenHash)
	WantCode(t, err, herald.EUNAUTHORIZED, "a suspended account's session")
	if sus, _ := s.AccountSuspended(h.Ctx, f.ID); !sus {
		t.Fatal("AccountSuspended = false")
	}
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionSuspendAccount, AccountID: op.ID, Reason: "oops"})
	WantCode(t, err, herald.ECONFLICT, "suspending oneself")
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionLiftAccount, AccountID: f.ID, Reason: "appeal"})
	NoErr(t, err, "lift account")

	// Every action is in the audit log, newest first, with no follower named.
	log, err := s.AuditLog(h.Ctx, 0, 100)
	NoErr(t, err, "AuditLog")
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+":"+e.TargetKind)
		if e.OperatorID != op.ID || e.Operator != op.Username || e.Reason == "" || e.CreatedAt.IsZero() {
			t.Fatalf("audit entry %+v", e)
		}
	}
	want := "lift_account:account suspend_account:account verify:channel lift_channel:channel suspend_channel:channel remove_update:update"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit log = %s, want %s", strings.Join(actions, " "), want)
	}
	older, err := s.AuditLog(h.Ctx, log[1].Seq, 2)
	NoErr(t, err, "AuditLog page")
	if len(older) != 2 || older[0].Seq != log[2].Seq {
		t.Fatalf("AuditLog(before %d) = %+v", log[1].Seq, older)
	}
	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, ch.ID), "delete the channel")
	if after, _ := s.AuditLog(h.Ctx, 0, 100); len(after) != len(log) {
		t.Fatalf("the audit log lost entries with the channel: %d, want %d", len(after), len(log))
	}
}

func testModerationReviews(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	ch := h.Channel(owner)
	admin := h.Admin(owner, ch)
	op := h.operator()
	req := func(actor *herald.Account, reason, text string) (*herald.ReviewRequest, error) {
		rr := &herald.ReviewRequest{ChannelID: ch.ID, Reason: reason, Text: text}
		return rr, s.RequestReview(h.Ctx, actor.ID, rr)
	}
	_, err := req(owner, "unfair", "Please look again")
	WantKind(t, err, herald.ECONFLICT, "not-suspended", "review of a channel not suspended")
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionSuspendChannel, ChannelID: ch.ID, Reason: "impersonation"})
	NoErr(t, err, "suspend")
	_, err = req(admin, "unfair", "Please")
	WantCode(t, err, herald.EFORBIDDEN, "an admin (not the owner) asking")
	_, err = req(owner, "because", "Please")
	WantKind(t, err, herald.EINVALID, "invalid-reason", "unknown reason")
	rr, err := req(owner, "misunderstood", "We are the real one")
	NoErr(t, err, "RequestReview")
	_, err = req(owner, "unfair", "Again")
	WantKind(t, err, herald.ECONFLICT, "review-open", "a second open request")

	open, err := s.Reviews(h.Ctx, op.ID, "")
	NoErr(t, err, "Reviews (operator)")
	if len(open) != 1 || open[0].ID != rr.ID || open[0].Text != "We are the real one" {
		t.Fatalf("open reviews = %s", JSON(t, open))
	}
	_, err = s.Reviews(h.Ctx, owner.ID, "")
	WantKind(t, err, herald.EFORBIDDEN, "not-operator", "the queue to a non-operator")

	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionReviewUpheld, ReviewID: rr.ID, Reason: "still impersonating"})
	NoErr(t, err, "uphold")
	mine, err := s.Reviews(h.Ctx, owner.ID, ch.ID)
	NoErr(t, err, "Reviews (owner)")
	if len(mine) != 1 || mine[0].Outcome != "upheld" || mine[0].Decision != "still impersonating" || mine[0].DecidedAt == nil {
		t.Fatalf("owner's reviews = %s", JSON(t, mine))
	}
	rr2, err := req(owner, "other", "We changed the name")
	NoErr(t, err, "second request after the decision")
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionReviewLifted, ReviewID: rr2.ID, Reason: "renamed"})
	NoErr(t, err, "lift by review")
	if susp, _ := s.ChannelSuspension(h.Ctx, ch.ID); susp != nil {
		t.Fatal("the review lifted nothing")
	}
	_, err = s.Moderate(h.Ctx, herald.Moderation{OperatorID: op.ID, Action: herald.ActionReviewLifted, ReviewID: rr2.ID, Reason: "twice"})
	WantCode(t, err, herald.ENOTFOUND, "deciding twice")
	mine, _ = s.Reviews(h.Ctx, admin.ID, ch.ID)
	if len(mine) != 2 || mine[0].Outcome != "lifted" {
		t.Fatalf("reviews = %s", JSON(t, mine))
	}
}
