package storeutil

import (
	"slices"
	"strings"

	"github.com/heraldhq/herald"
)

// Errors both stores return; the conformance suite checks their codes and
// kinds.
var (
	ErrAccountNotFound = herald.KindErrorf(herald.ENOTFOUND, "account-not-found", "Account not found.")
	ErrChannelNotFound = herald.KindErrorf(herald.ENOTFOUND, "channel-not-found", "Channel not found.")
	ErrUpdateNotFound  = herald.KindErrorf(herald.ENOTFOUND, "update-not-found", "Update not found.")
	ErrInviteNotFound  = herald.KindErrorf(herald.ENOTFOUND, "invite-not-found", "Invite not found.")
	ErrAdminNotFound   = herald.KindErrorf(herald.ENOTFOUND, "admin-not-found", "No such admin.")
	ErrNoPoll          = herald.KindErrorf(herald.ENOTFOUND, "poll-not-found", "This update has no poll.")
	ErrNotAdmin        = herald.KindErrorf(herald.EFORBIDDEN, "not-admin", "Only the channel's admins may do this.")
	ErrNotOwner        = herald.KindErrorf(herald.EFORBIDDEN, "not-owner", "Only the channel's owner may do this.")
	ErrNotFollower     = herald.KindErrorf(herald.EFORBIDDEN, "not-follower", "Follow the channel to react or vote.")
	ErrNoActor         = herald.KindErrorf(herald.EUNAUTHORIZED, "unauthorized", "Sign in first.")
	ErrSessionNotFound = herald.KindErrorf(herald.ENOTFOUND, "session-not-found", "No such session.")
)

// Relation is one account's relation to a channel, read by a store with the
// channel's row; the access rules below are the same for every store.
type Relation struct {
	Role      string // herald.RoleOwner, herald.RoleAdmin, or "" for anyone else
	Following bool
	Muted     bool // only while Following
}

// IsAdmin reports whether the account is the channel's owner or an admin.
func (r Relation) IsAdmin() bool { return r.Role != "" }

// IsOwner reports whether the account owns the channel.
func (r Relation) IsOwner() bool { return r.Role == herald.RoleOwner }

// CanSee reports whether the account may see a channel at all: a listed
// one, or one it follows or administers. Anything else is ENOTFOUND.
func (r Relation) CanSee(listed bool) bool { return listed || r.IsAdmin() || r.Following }

// Admin checks an admin-only action by actorID on a channel it can see.
func (r Relation) Admin(actorID string) error {
	if actorID == "" {
		return ErrNoActor
	}
	if !r.IsAdmin() {
		return ErrNotAdmin
	}
	return nil
}

// Owner checks an owner-only action by actorID on a channel it can see.
func (r Relation) Owner(actorID string) error {
	if actorID == "" {
		return ErrNoActor
	}
	if !r.IsOwner() {
		return ErrNotOwner
	}
	return nil
}

// Interact checks a reaction or vote: followers and admins only.
func (r Relation) Interact() error {
	if !r.Following && !r.IsAdmin() {
		return ErrNotFollower
	}
	return nil
}

// View returns ch (as stored: no invite, no viewer) as the account sees it:
// its own relation, and the invite code if it administers the channel.
func (r Relation) View(ch herald.Channel, invite string) *herald.Channel {
	ch.InviteCode = ""
	ch.Viewer = herald.ChannelViewer{Following: r.Following, Muted: r.Following && r.Muted}
	if r.IsAdmin() {
		role := r.Role
		ch.Viewer.Role = &role
		ch.InviteCode = invite
	}
	return &ch
}

// AllowReaction checks emoji (already validated and normalized) against a
// channel's reaction setting.
func AllowReaction(setting, emoji string) error {
	switch setting {
	case herald.ReactionsNone:
		return herald.KindErrorf(herald.EFORBIDDEN, "reactions-disabled", "This channel does not accept reactions.")
	case herald.ReactionsDefault:
		if !slices.Contains(herald.DefaultReactions, emoji) {
			return herald.KindErrorf(herald.EFORBIDDEN, "reaction-not-allowed", "This channel accepts only %v.", herald.DefaultReactions)
		}
	}
	return nil
}

// Moderation errors, the same from both stores.
var (
	ErrReportExists   = herald.KindErrorf(herald.ECONFLICT, "report-exists", "You have already reported this; it is being looked at.")
	ErrNotOperator    = herald.KindErrorf(herald.EFORBIDDEN, "not-operator", "Only operators may do this.")
	ErrNothingToDo    = herald.KindErrorf(herald.ECONFLICT, "nothing-to-do", "That is already the case.")
	ErrUnknownAction  = herald.KindErrorf(herald.EINVALID, "invalid-action", "Unknown action.")
	ErrReviewNotFound = herald.KindErrorf(herald.ENOTFOUND, "review-not-found", "No such open review request.")
	ErrNotSuspended   = herald.KindErrorf(herald.ECONFLICT, "not-suspended", "The channel is not suspended.")
	ErrReviewOpen     = herald.KindErrorf(herald.ECONFLICT, "review-open", "A review request is already open.")
)

// NormalizeReview checks a review request's reason and text.
func NormalizeReview(rr *herald.ReviewRequest) error {
	if !slices.Contains(herald.ReviewReasons, rr.Reason) {
		return herald.KindErrorf(herald.EINVALID, "invalid-reason", "Reason must be one of %s.", strings.Join(herald.ReviewReasons, ", "))
	}
	t, err := herald.NormalizeModerationReason(rr.Text)
	if err != nil {
		return herald.KindErrorf(herald.EINVALID, "invalid-text", "Say why the channel should be reviewed (at most %d characters).", herald.ModerationReasonMax)
	}
	rr.Text = t
	return nil
}
