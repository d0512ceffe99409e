package herald

import (
	"context"
	"time"
)

// EventUpdateViews carries an update's view count (Counts.Views), coalesced:
// at most one per update per flush (every 10 s), and only once the count
// has reached the insights threshold.
const EventUpdateViews = "update.views"

// DefaultInsightsThreshold is k: a figure computed from fewer people than
// this is never shown (a small count could single someone out).
const DefaultInsightsThreshold = 50

// MaxViewBatch bounds how many updates one view report names.
const MaxViewBatch = 100

// InsightsDays is how far back channel insights go (days).
const InsightsDays = 30

// ViewTarget is an update an account may view, as the view counter needs it:
// which key hashes the account (the update's creation day) and where the
// language of the viewer's app is counted (its channel).
type ViewTarget struct {
	UpdateID  string
	ChannelID string
	CreatedAt time.Time
}

// ViewDelta is what a node's view counter gathered for one update since its
// last flush: HyperLogLog registers over keyed hashes of the accounts that
// viewed it (never the accounts). Stores merge it into the update's sketch.
type ViewDelta struct {
	UpdateID string
	Sketch   []byte // nil: no signed-in views
	// Anonymous is how many times public pages and feeds showed the update
	// to someone not signed in (loads, not people).
	Anonymous int64
}

// LanguageDelta is, for one channel and day, the registers over keyed
// hashes of the accounts whose app used language Lang while viewing it.
type LanguageDelta struct {
	ChannelID string
	Day       time.Time // midnight UTC
	Lang      string    // a LanguageBuckets entry
	Sketch    []byte
}

// LanguageBuckets are the coarse languages insights report; every other
// language counts as "other".
var LanguageBuckets = []string{"ar", "de", "en", "es", "fr", "it", "ja", "nl", "pt", "ru", "zh", "other"}

// ChannelInsights is what a channel's admins learn about its reach. Every
// figure is daily and counts people in bulk; a figure under the threshold
// is nil (suppressed), never rounded or shown as zero.
type ChannelInsights struct {
	ChannelID string `json:"channel_id"`
	Threshold int64  `json:"threshold"`
	Followers int64  `json:"followers"`
	// NotificationShare is the share of followers with notifications on
	// (a push device, channel not muted), nil under the threshold.
	NotificationShare *float64        `json:"notification_share"`
	Days              []InsightsDay   `json:"days"`
	Updates           []UpdateInsight `json:"updates"`
	// Languages are the distinct viewers per app language, by day, each
	// bucket suppressed under the threshold.
	Languages []LanguageDay `json:"languages"`
}

// InsightsDay is one UTC day of a channel's audience.
type InsightsDay struct {
	Day       string `json:"day"` // YYYY-MM-DD
	Followers int64  `json:"followers"`
	Follows   int64  `json:"follows"`
	Unfollows int64  `json:"unfollows"`
	Net       int64  `json:"net"`
}

// UpdateInsight is one live update's reach.
type UpdateInsight struct {
	UpdateID  string    `json:"update_id"`
	Seq       int64     `json:"seq"`
	CreatedAt time.Time `json:"created_at"`
	Views     *int64    `json:"views"`
	// PublicViews counts loads of public pages and feeds showing the
	// update (anonymous, not deduplicated), nil under the threshold.
	PublicViews *int64 `json:"public_views"`
	// Reach is views / followers at the end of the day it was posted.
	Reach     *float64 `json:"reach"`
	Reactions int64    `json:"reactions"`
	// PollVoters is nil for an update without a poll.
	PollVoters *int64 `json:"poll_voters"`
}

// LanguageDay is one day's viewers by app language.
type LanguageDay struct {
	Day     string            `json:"day"`
	Viewers map[string]*int64 `json:"viewers"`
}

// InsightsStore keeps view sketches and the daily audience figures. No
// table it writes holds an account id: views arrive as sketches already.
type InsightsStore interface {
	// ViewableUpdates returns, of ids, the live updates accountID may read
	// (a followed, administered or listed channel). Unknown, expired and
	// hidden ids are left out without error.
	ViewableUpdates(ctx context.Context, accountID string, ids []string) ([]ViewTarget, error)
	// MergeViews merges sketches into their updates' (updates gone since
	// are skipped) and marks changed counts for FlushViews; it merges
	// language sketches likewise.
	MergeViews(ctx context.Context, views []ViewDelta, langs []LanguageDelta) error
	// FlushViews appends one update.views event per update whose count
	// changed since the last flush and has reached the threshold.
	FlushViews(ctx context.Context) (int, error)
	// ChannelInsights returns a channel's insights to one of its admins
	// (ENOTFOUND for a channel the account can't see, EFORBIDDEN for a
	// follower), figures under the store's threshold suppressed.
	ChannelInsights(ctx context.Context, accountID, channelID string) (*ChannelInsights, error)
}

// DayOf returns midnight UTC of t's day.
func DayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Suppress returns &n when n reaches k, else nil.
func Suppress(n, k int64) *int64 {
	if n < k {
		return nil
	}
	return &n
}
