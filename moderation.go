package herald

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Trust and safety (issue 14): reports, operators and their actions, the
// audit log, and review requests. A report never names its reporter to
// anyone: the store keeps the reporter only to allow one open report per
// person and target, and to erase it with the account.

// Report reasons.
var ReportReasons = []string{"spam", "scam", "impersonation", "violence", "hate", "sexual",
	"child_safety", "illegal", "intellectual_property", "other"}

// Review request reasons.
var ReviewReasons = []string{"misunderstood", "follows_guidelines", "unfair", "other"}

// Moderation text limits.
const (
	ReportCommentMaxLen = 1000
	ModerationReasonMax = 1000
)

// Report is one person's report of a channel or one of its updates.
type Report struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"channel_id"`
	UpdateID  string    `json:"update_id,omitempty"`
	Reason    string    `json:"reason"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Normalize checks a report's reason and trims its comment.
func (r *Report) Normalize() error {
	if !slices.Contains(ReportReasons, r.Reason) {
		return KindErrorf(EINVALID, "invalid-reason", "Reason must be one of %s.", strings.Join(ReportReasons, ", "))
	}
	c, err := moderationText(r.Comment, ReportCommentMaxLen, "invalid-comment", "Comment")
	r.Comment = c
	return err
}

// moderationText trims and bounds a free text.
func moderationText(s string, max int, kind, what string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || hasControl(s) {
		return "", KindErrorf(EINVALID, kind, "%s contains invalid characters.", what)
	}
	if utf8.RuneCountInString(s) > max {
		return "", KindErrorf(EINVALID, kind, "%s must be at most %d characters.", what, max)
	}
	return s, nil
}

// NormalizeModerationReason checks the reason an operator gives for an
// action (required) or a review request's text.
func NormalizeModerationReason(s string) (string, error) {
	s, err := moderationText(s, ModerationReasonMax, "invalid-reason", "Reason")
	if err == nil && s == "" {
		err = KindErrorf(EINVALID, "invalid-reason", "Give a reason.")
	}
	return s, err
}

// ReportGroup is the open reports of one target (a channel, or an update of
// it), as operators see them: how many, why, and the comments; never who.
type ReportGroup struct {
	ChannelID string         `json:"channel_id"`
	UpdateID  string         `json:"update_id,omitempty"`
	Count     int            `json:"count"`
	Reasons   map[string]int `json:"reasons"`
	Comments  []string       `json:"comments"`
	LatestAt  time.Time      `json:"latest_at"`
}

// Operator actions.
const (
	ActionRemoveUpdate   = "remove_update"
	ActionSuspendChannel = "suspend_channel"
	ActionLiftChannel    = "lift_channel"
	ActionSuspendAccount = "suspend_account"
	ActionLiftAccount    = "lift_account"
	ActionVerify         = "verify"
	ActionUnverify       = "unverify"
	ActionDismiss        = "dismiss_reports"
	ActionReviewUpheld   = "review_upheld" // the suspension stays
	ActionReviewLifted   = "review_lifted" // the suspension is lifted
)

// Moderation is one operator action with its reason.
type Moderation struct {
	OperatorID string
	Action     string
	ChannelID  string // channel actions, remove_update, dismiss
	UpdateID   string // remove_update, dismiss of an update's reports
	AccountID  string // account actions
	ReviewID   string // review decisions
	Reason     string
}

// AuditEntry is one line of the append-only audit log: who (an operator),
// what, on what, why, when. It never names a follower or a reporter.
type AuditEntry struct {
	Seq        int64     `json:"seq"`
	OperatorID string    `json:"operator_id"`
	Operator   string    `json:"operator"` // username at the time
	Action     string    `json:"action"`
	TargetKind string    `json:"target_kind"` // channel, update, account, review
	TargetID   string    `json:"target_id"`
	ChannelID  string    `json:"channel_id,omitempty"`
	Reason     string    `json:"reason"`
	CreatedAt  time.Time `json:"created_at"`
}

// Suspension is a channel's suspension, as its admins and operators see it.
type Suspension struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"suspended_at"`
}

// Notice is what a channel's admins are told of an operator's action.
type Notice struct {
	Action    string    `json:"action"`
	UpdateID  string    `json:"update_id,omitempty"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// ReviewRequest is an owner's request to review a channel's suspension.
type ReviewRequest struct {
	ID        string     `json:"id"`
	ChannelID string     `json:"channel_id"`
	Reason    string     `json:"reason"`
	Text      string     `json:"text"`
	CreatedAt time.Time  `json:"created_at"`
	Outcome   string     `json:"outcome,omitempty"` // "", upheld, lifted
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Decision  string     `json:"decision_reason,omitempty"`
}

// ErrChannelSuspended refuses what a suspended channel may not do.
var ErrChannelSuspended = KindErrorf(EFORBIDDEN, "channel-suspended", "This channel is suspended.")

// ErrAccountSuspended refuses a suspended account's sign-in.
var ErrAccountSuspended = KindErrorf(EFORBIDDEN, "account-suspended", "This account is suspended.")

// ModerationStore keeps reports, operators, suspensions, the audit log,
// notices and review requests.
type ModerationStore interface {
	// SetOperator grants or revokes operator rights by username. ENOTFOUND.
	SetOperator(ctx context.Context, username string, on bool) (*Account, error)
	// IsOperator reports whether the account is an operator.
	IsOperator(ctx context.Context, accountID string) (bool, error)
	// CreateReport files a report (Report.Normalize) by reporterID on a
	// channel it can see (ENOTFOUND otherwise) or one of its live updates.
	// ECONFLICT (report-exists) while the same person's report on the same
	// target is open. Sets ID and CreatedAt.
	CreateReport(ctx context.Context, reporterID string, r *Report) error
	// OpenReports returns open reports grouped by target, the most
	// recently reported first, at most limit groups.
	OpenReports(ctx context.Context, limit int) ([]ReportGroup, error)
	// Moderate applies an operator action and appends it to the audit log in
	// the same transaction (EFORBIDDEN unless m.OperatorID is an operator;
	// the reason is required). Channel and update actions close the
	// target's open reports and leave a notice for the channel's admins.
	Moderate(ctx context.Context, m Moderation) (*AuditEntry, error)
	// AuditLog returns entries with Seq < before (0: the newest), newest
	// first, at most limit.
	AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error)
	// LookupChannel returns any live channel's public view, listed or not,
	// with its suspension (nil if none): operators' lookup.
	LookupChannel(ctx context.Context, channelID string) (*Channel, *Suspension, error)
	// LookupUpdate returns any live update as operators read it (counts,
	// no viewer). ENOTFOUND.
	LookupUpdate(ctx context.Context, channelID, updateID string) (*Update, error)
	// ChannelSuspension returns the channel's suspension, or nil.
	ChannelSuspension(ctx context.Context, channelID string) (*Suspension, error)
	// AccountSuspended reports whether an account is suspended.
	AccountSuspended(ctx context.Context, accountID string) (bool, error)
	// Notices returns what operators told the channel's admins, newest
	// first (admins only: EFORBIDDEN / ENOTFOUND otherwise).
	Notices(ctx context.Context, actorID, channelID string) ([]Notice, error)
	// RequestReview files the owner's request to review the channel's
	// suspension (owner only; ECONFLICT if not suspended or one is open).
	RequestReview(ctx context.Context, ownerID string, r *ReviewRequest) error
	// Reviews returns a channel's review requests to its admins (newest
	// first), or with channelID "" every open request to an operator.
	Reviews(ctx context.Context, actorID, channelID string) ([]ReviewRequest, error)
}
