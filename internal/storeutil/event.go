package storeutil

import "github.com/heraldhq/herald"

// NeedsUpdate reports whether an event of type typ is hydrated with its
// update when read back.
func NeedsUpdate(typ string) bool {
	switch typ {
	case herald.EventUpdateCreated, herald.EventUpdateEdited, herald.EventUpdatePinned, herald.EventUpdateReactions, herald.EventUpdatePoll, herald.EventUpdateViews:
		return true
	}
	return false
}

// UpdateIDs returns, once each, the ids of the updates that events read
// back from a log must be hydrated with.
func UpdateIDs(evs []herald.Event) []string {
	var ids []string
	seen := map[string]bool{}
	for _, ev := range evs {
		if NeedsUpdate(ev.Type) && !seen[ev.UpdateID] {
			seen[ev.UpdateID] = true
			ids = append(ids, ev.UpdateID)
		}
	}
	return ids
}

// Hydrate fills the payloads of events read back from a log (which stores
// ids only) from current state, the one rule both stores follow: updates
// holds the live updates among UpdateIDs(evs), as everyone sees them (no
// viewer part); channel returns a channel's public view, or nil once it is
// deleted, and is called once per channel. Events of updates that are gone
// (deleted or expired) are dropped, and so are channel.updated events of
// deleted channels; other channel events keep a nil Channel.
func Hydrate(evs []herald.Event, updates map[string]*herald.Update, channel func(id string) (*herald.Channel, error)) ([]herald.Event, error) {
	channels := map[string]*herald.Channel{}
	out := make([]herald.Event, 0, len(evs))
	for _, ev := range evs {
		switch ev.Type {
		case herald.EventUpdateCreated, herald.EventUpdateEdited, herald.EventUpdatePinned:
			u := updates[ev.UpdateID]
			if u == nil {
				continue
			}
			ev.Update = u
		case herald.EventUpdateReactions, herald.EventUpdatePoll:
			u := updates[ev.UpdateID]
			if u == nil {
				continue
			}
			ev.Counts = CountsOf(u, ev.Type)
		case herald.EventUpdateViews:
			// Views under the threshold are never shown (u.Views is nil).
			u := updates[ev.UpdateID]
			if u == nil || u.Views == nil {
				continue
			}
			ev.Counts = CountsOf(u, ev.Type)
		case herald.EventChannelUpdated, herald.EventChannelFollowed, herald.EventChannelUnfollowed,
			herald.EventChannelAdminAdded, herald.EventChannelAdminRemoved, herald.EventChannelModerated:
			c, ok := channels[ev.ChannelID]
			if !ok {
				var err error
				if c, err = channel(ev.ChannelID); err != nil {
					return nil, err
				}
				channels[ev.ChannelID] = c
			}
			if c == nil && ev.Type == herald.EventChannelUpdated {
				continue
			}
			ev.Channel = c
		}
		out = append(out, ev)
	}
	return out, nil
}

// CountsOf returns the public counts an update.reactions, update.poll or
// update.views event carries (views: only for an update whose Views is set): a copy of the reaction counts, or the per-option votes and
// voter total (Votes is never nil, so it encodes as [] rather than null).
func CountsOf(u *herald.Update, typ string) *herald.Counts {
	if typ == herald.EventUpdateViews {
		v := *u.Views
		return &herald.Counts{Views: &v}
	}
	if typ == herald.EventUpdateReactions {
		m := make(map[string]int64, len(u.Reactions))
		for k, v := range u.Reactions {
			m[k] = v
		}
		return &herald.Counts{Reactions: m}
	}
	c := &herald.Counts{Votes: []int64{}}
	if u.Poll != nil {
		for _, o := range u.Poll.Options {
			c.Votes = append(c.Votes, o.Votes)
		}
		v := u.Poll.Voters
		c.Voters = &v
	}
	return c
}
