package storetest

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func init() {
	register("Public/FindByHandle", testFindChannelByHandle)
}

func testFindChannelByHandle(t *testing.T, h *Harness) {
	s := h.Store
	owner := h.Account("owner")
	listed := h.Channel(owner, func(c *herald.Channel) { c.Handle = "openweb" })
	hidden := h.Channel(owner, Unlisted, func(c *herald.Channel) { c.Handle = "hiddenweb" })

	got, err := s.FindChannelByHandle(h.Ctx, "", "OpenWeb")
	NoErr(t, err, "FindChannelByHandle (mixed case)")
	if got.ID != listed.ID || got.Handle != "openweb" || got.Viewer.Role != nil {
		t.Fatalf("FindChannelByHandle = %s %q role %v, want %s as anonymous", got.ID, got.Handle, got.Viewer.Role, listed.ID)
	}
	_, err = s.FindChannelByHandle(h.Ctx, "", "hiddenweb")
	WantCode(t, err, herald.ENOTFOUND, "unlisted channel by handle, anonymous")
	got, err = s.FindChannelByHandle(h.Ctx, owner.ID, "hiddenweb")
	NoErr(t, err, "unlisted channel by handle, owner")
	if got.ID != hidden.ID || got.Viewer.Role == nil {
		t.Fatalf("owner sees %s role %v, want %s as owner", got.ID, got.Viewer.Role, hidden.ID)
	}
	_, err = s.FindChannelByHandle(h.Ctx, "", "nosuchhandle")
	WantCode(t, err, herald.ENOTFOUND, "unknown handle")
	_, err = s.FindChannelByHandle(h.Ctx, "", strings.Repeat("x", 500))
	WantCode(t, err, herald.ENOTFOUND, "overlong handle")

	NoErr(t, s.DeleteChannel(h.Ctx, owner.ID, listed.ID), "DeleteChannel")
	_, err = s.FindChannelByHandle(h.Ctx, "", "openweb")
	WantCode(t, err, herald.ENOTFOUND, "deleted channel by handle")
}
