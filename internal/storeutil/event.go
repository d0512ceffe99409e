package storeutil

import "github.com/heraldhq/herald"

// NeedsUpdate reports whether an event of type typ is hydrated with its
// update when read back.
func NeedsUpdate(typ string) bool {
	switch typ {
	case herald.EventUpdateCreated, herald.EventUpdateEdited, herald.EventUpdateReactions, herald.EventUpdatePoll:
		return true
	}
	return false
}

// CountsOf returns the public counts an update.reactions or update.poll
// event carries: a copy of the reaction counts, or the per-option votes and
// voter total (Votes is never nil, so it encodes as [] rather than null).
func CountsOf(u *herald.Update, typ string) *herald.Counts {
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
