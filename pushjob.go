package herald

import (
	"context"
	"time"
)

// PushEditWindow is how long after an update was posted (and pushed) an
// edit pushes it again, replacing the notification (same Topic).
const PushEditWindow = time.Hour

// MaxPushRetries bounds the attempts of one push to one device (429, 5xx,
// transport errors) before it is dropped.
const MaxPushRetries = 10

// ErrPushLeaseLost is the ECONFLICT a store returns when a push job or
// retry is no longer held by the caller's lease (it expired and another
// worker took it, or the job was dropped: its update was deleted).
var ErrPushLeaseLost = KindErrorf(ECONFLICT, "push-lease-lost", "The push job is no longer held.")

// PushUpdate is what a push says about an update: read when a job or retry
// is claimed, so it carries the update's current text.
type PushUpdate struct {
	UpdateID    string
	ChannelID   string
	ChannelName string
	Seq         int64
	Text        string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	Edit        bool // pushed again because it was edited within PushEditWindow
}

// PushJob is one update's push to every device of its channel's unmuted
// followers. Cursor is where the walk of PushTargets resumes ("" starts).
type PushJob struct {
	ID       string
	Lease    string // the claim's token: Advance and Finish need it
	Cursor   string
	QueuedAt time.Time // when the update was posted or edited
	PushUpdate
}

// PushRetry is one push to one device waiting to be tried again.
type PushRetry struct {
	ID       string
	Lease    string
	Attempts int // attempts so far
	Target   PushSubscription
	PushUpdate
}

// PushJobStore keeps the durable push jobs and per-device retries. A job is
// created by CreateUpdate (and by EditUpdate within PushEditWindow of the
// post) in the update's own transaction; deleting or pruning an update
// drops its jobs and retries, deleting a subscription its retries.
type PushJobStore interface {
	// ClaimPushJob takes the oldest job of a live update that no one holds
	// (never claimed, or its lease ended) and holds it until now+lease;
	// (nil, nil) when there is none. On PostgreSQL concurrent claimers
	// skip each other's rows (FOR UPDATE SKIP LOCKED).
	ClaimPushJob(ctx context.Context, lease time.Duration) (*PushJob, error)
	// AdvancePushJob records the job's cursor (after a page was sent) and
	// extends the lease to now+lease. ErrPushLeaseLost if the lease is not
	// the caller's any more.
	AdvancePushJob(ctx context.Context, id, leaseToken, cursor string, lease time.Duration) error
	// FinishPushJob deletes a job that was walked to its end.
	// ErrPushLeaseLost if the lease is not the caller's any more.
	FinishPushJob(ctx context.Context, id, leaseToken string) error
	// SchedulePushRetry records that the push of update (edit or not) to the
	// device (the account's subscription) must be tried again at due, after
	// attempts attempts.
	// One row per update, edit and device: scheduling again replaces it and
	// releases its lease. A subscription or update that is gone is not an
	// error (nothing is scheduled).
	SchedulePushRetry(ctx context.Context, updateID string, edit bool, accountID, subscriptionID string, attempts int, due time.Time) error
	// ClaimPushRetries takes up to limit due retries of live updates whose
	// device's account still follows the channel unmuted, held until
	// now+lease.
	ClaimPushRetries(ctx context.Context, limit int, lease time.Duration) ([]PushRetry, error)
	// FinishPushRetry deletes a retry (delivered, or given up). Finishing
	// one no longer held is not an error.
	FinishPushRetry(ctx context.Context, id, leaseToken string) error
}
