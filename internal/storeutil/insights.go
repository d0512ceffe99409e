package storeutil

import (
	"time"

	"github.com/heraldhq/herald"
)

// InsightsUpdates bounds how many of a channel's newest live updates
// insights report.
const InsightsUpdates = 100

// Threshold is the store's k for insights.
func Threshold(cfg herald.StoreConfig) int64 {
	if cfg.InsightsThreshold > 0 {
		return cfg.InsightsThreshold
	}
	return herald.DefaultInsightsThreshold
}

// FollowDay is a row of a store's daily follow counts (Day in days since
// 1970-01-01 UTC; Followers the count after the day's last change).
type FollowDay struct {
	Day                           int64
	Follows, Unfollows, Followers int64
}

// UpdateRaw is what a store reads of one update for insights (PollVoters
// -1 without a poll).
type UpdateRaw struct {
	ID                           string
	Seq                          int64
	CreatedAt                    time.Time
	Views, Reactions, PollVoters int64
	Anonymous                    int64
}

// LanguageRaw is one day's estimate of viewers with one app language.
type LanguageRaw struct {
	Day     int64
	Lang    string
	Viewers int64
}

// InsightsRaw is everything a store reads for ChannelInsights, unsuppressed;
// Insights applies the one rule both stores follow.
type InsightsRaw struct {
	Followers int64 // now
	Notified  int64 // followers with a push device who did not mute the channel
	Days      []FollowDay
	Updates   []UpdateRaw
	Languages []LanguageRaw
}

// Insights turns raw figures into what an admin sees: the last
// herald.InsightsDays days ending today (a day number), follower counts
// walked back from today's by each day's net change (so they need no
// history older than the window), and every figure that counts people
// suppressed under k.
func (raw InsightsRaw) Insights(channelID string, today, k int64) *herald.ChannelInsights {
	out := &herald.ChannelInsights{ChannelID: channelID, Threshold: k, Followers: raw.Followers,
		Days: []herald.InsightsDay{}, Updates: []herald.UpdateInsight{}, Languages: []herald.LanguageDay{}}
	if raw.Followers >= k && raw.Notified >= k {
		share := float64(raw.Notified) / float64(raw.Followers)
		out.NotificationShare = &share
	}
	byDay := map[int64]FollowDay{}
	for _, d := range raw.Days {
		byDay[d.Day] = d
	}
	first := today - herald.InsightsDays + 1
	days := make([]herald.InsightsDay, herald.InsightsDays)
	followers := raw.Followers
	endOf := map[int64]int64{}
	for d := today; d >= first; d-- {
		fd := byDay[d]
		days[d-first] = herald.InsightsDay{Day: dayString(d), Followers: max(followers, 0),
			Follows: fd.Follows, Unfollows: fd.Unfollows, Net: fd.Follows - fd.Unfollows}
		endOf[d] = max(followers, 0)
		followers -= fd.Follows - fd.Unfollows
	}
	out.Days = days
	for _, u := range raw.Updates {
		ui := herald.UpdateInsight{UpdateID: u.ID, Seq: u.Seq, CreatedAt: u.CreatedAt, Reactions: u.Reactions,
			Views: herald.Suppress(u.Views, k), PublicViews: herald.Suppress(u.Anonymous, k)}
		if u.PollVoters >= 0 {
			v := u.PollVoters
			ui.PollVoters = &v
		}
		posted := herald.DayOf(u.CreatedAt).Unix() / 86400
		base, ok := endOf[posted]
		if !ok {
			base = endOf[first]
		}
		if ui.Views != nil && base > 0 {
			reach := float64(*ui.Views) / float64(base)
			ui.Reach = &reach
		}
		out.Updates = append(out.Updates, ui)
	}
	var cur *herald.LanguageDay
	for _, l := range raw.Languages {
		if cur == nil || cur.Day != dayString(l.Day) {
			out.Languages = append(out.Languages, herald.LanguageDay{Day: dayString(l.Day), Viewers: map[string]*int64{}})
			cur = &out.Languages[len(out.Languages)-1]
		}
		cur.Viewers[l.Lang] = herald.Suppress(l.Viewers, k)
	}
	return out
}

func dayString(d int64) string { return time.Unix(d*86400, 0).UTC().Format(time.DateOnly) }
