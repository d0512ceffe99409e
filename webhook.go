package herald

import (
	"context"
	"slices"
	"time"
)

// Outgoing webhooks (issue 15): a channel's admins register https URLs that
// receive the channel's public events, signed as Standard Webhooks do. A
// webhook is a cursor over the channel's durable event log, which holds no
// text: every delivery is read from current state, so nothing of an erased
// update waits in a queue, and deliveries to one webhook go out in log
// order, one at a time.

// WebhookEvents lists the event types a webhook may subscribe to.
var WebhookEvents = []string{EventUpdateCreated, EventUpdateEdited, EventUpdateDeleted,
	EventUpdateReactions, EventUpdatePoll, EventChannelUpdated}

// Webhook limits and delivery policy.
const (
	MaxWebhooksPerChannel = 10
	WebhookURLMaxLen      = 2048
	// WebhookRetryWindow is how long a webhook keeps failing (every
	// attempt, with exponential backoff) before it is disabled.
	WebhookRetryWindow = 24 * time.Hour
	// WebhookLogSize is how many deliveries a webhook's log keeps.
	WebhookLogSize = 100
	// WebhookSecretPrefix starts every signing secret (Standard Webhooks).
	WebhookSecretPrefix = "whsec_"
)

// ErrWebhookLeaseLost is the ECONFLICT a store returns when a claimed
// webhook is no longer held by the caller (its lease ended and another
// worker took it, or it was deleted or disabled).
var ErrWebhookLeaseLost = KindErrorf(ECONFLICT, "webhook-lease-lost", "The webhook is no longer held.")

// Webhook is a registered receiver as admins see it: never its secret.
type Webhook struct {
	ID        string   `json:"id"`
	ChannelID string   `json:"channel_id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Enabled   bool     `json:"enabled"`
	// DisabledReason says why the server disabled the webhook ("" when
	// enabled, or disabled by an admin).
	DisabledReason string `json:"disabled_reason,omitempty"`
	// FailingSince is when the current run of failed attempts began.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

// NormalizeWebhookEvents checks a subscription: 1 to len(WebhookEvents)
// known types, sorted and deduplicated.
func NormalizeWebhookEvents(events []string) ([]string, error) {
	if len(events) == 0 || len(events) > 2*len(WebhookEvents) {
		return nil, KindErrorf(EINVALID, "invalid-webhook-events", "Give the webhook 1 or more events among %v.", WebhookEvents)
	}
	out := slices.Clone(events)
	for _, e := range out {
		if !slices.Contains(WebhookEvents, e) {
			return nil, KindErrorf(EINVALID, "invalid-webhook-events", "Unknown event %q: events are %v.", e, WebhookEvents)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Subscribed reports whether the webhook receives events of type typ.
func (w *Webhook) Subscribed(typ string) bool { return slices.Contains(w.Events, typ) }

// WebhookPatch changes a webhook; nil fields stay.
type WebhookPatch struct {
	Events  []string `json:"events,omitempty"`
	Enabled *bool    `json:"enabled,omitempty"`
}

// WebhookDelivery is one attempt in a webhook's delivery log: never a
// payload, never anything about followers.
type WebhookDelivery struct {
	At        time.Time `json:"at"`
	EventType string    `json:"event_type"`
	Seq       int64     `json:"seq"`
	Attempt   int       `json:"attempt"` // 1 for the first try of an event
	Status    int       `json:"status"`  // the receiver's HTTP status, 0 without an answer
	LatencyMS int64     `json:"latency_ms"`
	Error     string    `json:"error,omitempty"` // why it failed, in a sentence
}

// WebhookJob is a claimed webhook: what the delivery worker needs.
type WebhookJob struct {
	Webhook
	Secret []byte // the HMAC key
	Lease  string // the claim's token
	Cursor int64  // the channel stream's seq delivered last
	// Floor is the channel log's floor: events up to it were pruned by
	// age. Above Cursor, the events between were lost to this webhook.
	Floor    int64
	Attempts int // failed attempts of the event after Cursor so far
}

// WebhookStore keeps webhooks, their cursors and delivery logs. Managing
// webhooks is for the channel's people admins (owner and admins), never
// API keys; deleting the channel erases them with their logs.
type WebhookStore interface {
	// CreateWebhook validates the events and stores a webhook with its
	// secret, starting after the channel's current last event; sets ID,
	// ChannelID, Enabled and CreatedAt. The URL was checked by the caller.
	// ECONFLICT past MaxWebhooksPerChannel.
	CreateWebhook(ctx context.Context, actorID, channelID string, w *Webhook, secret []byte) error
	// ListWebhooks returns the channel's webhooks, oldest first.
	ListWebhooks(ctx context.Context, actorID, channelID string) ([]*Webhook, error)
	// UpdateWebhook changes events and/or enabled. Enabling a disabled
	// webhook clears its failure state and starts it after the channel's
	// current last event. ENOTFOUND for an unknown webhook.
	UpdateWebhook(ctx context.Context, actorID, channelID, id string, p WebhookPatch) (*Webhook, error)
	// DeleteWebhook deletes a webhook and its log.
	DeleteWebhook(ctx context.Context, actorID, channelID, id string) error
	// RotateWebhookSecret replaces the signing secret; the next delivery
	// uses the new one.
	RotateWebhookSecret(ctx context.Context, actorID, channelID, id string, secret []byte) error
	// WebhookDeliveries returns the webhook's log, newest first (at most
	// WebhookLogSize).
	WebhookDeliveries(ctx context.Context, actorID, channelID, id string) ([]WebhookDelivery, error)

	// ClaimWebhook takes an enabled webhook that no one holds, whose next
	// attempt is due and whose channel has events after its cursor, and
	// holds it until now+lease; (nil, nil) when there is none. On
	// PostgreSQL concurrent claimers skip each other's rows (SKIP LOCKED).
	ClaimWebhook(ctx context.Context, lease time.Duration) (*WebhookJob, error)
	// AdvanceWebhook moves the cursor to seq (the events up to it were
	// delivered or are not subscribed), clears the failure state, appends
	// d to the log when not nil (keeping the last WebhookLogSize) and
	// extends the lease to now+lease. ErrWebhookLeaseLost when not held.
	AdvanceWebhook(ctx context.Context, id, leaseToken string, seq int64, d *WebhookDelivery, lease time.Duration) error
	// FailWebhook records a failed attempt: appends d, counts the attempt,
	// marks when failures began, and releases the webhook until retryAt;
	// with a non-empty disableReason it disables the webhook instead.
	// ErrWebhookLeaseLost when not held.
	FailWebhook(ctx context.Context, id, leaseToken string, d WebhookDelivery, retryAt time.Time, disableReason string) error
	// ReleaseWebhook gives a claimed webhook back (caught up, or the worker
	// stops). Releasing one no longer held is not an error.
	ReleaseWebhook(ctx context.Context, id, leaseToken string) error
}
