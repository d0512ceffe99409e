package herald

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Event types sent to followers' streams.
const (
	EventUpdateCreated     = "update.created"
	EventUpdateEdited      = "update.edited"
	EventUpdateDeleted     = "update.deleted"
	EventUpdateReactions   = "update.reactions" // coalesced reaction counts
	EventUpdatePoll        = "update.poll"      // coalesced poll counts
	EventUpdatePinned      = "update.pinned"    // pinned or unpinned: the update says which
	EventChannelUpdated    = "channel.updated"
	EventChannelDeleted    = "channel.deleted"
	EventChannelFollowed   = "channel.followed"   // personal: the account followed a channel
	EventChannelUnfollowed = "channel.unfollowed" // personal: the account unfollowed a channel
	// personal: the account became an admin of a channel (its open streams
	// then carry the channel, followed or not)
	EventChannelAdminAdded = "channel.admin_added"
	// personal: the account is no longer an admin of a channel
	EventChannelAdminRemoved = "channel.admin_removed"
	// personal: an operator acted on a channel the account administers
	// (suspended it or lifted the suspension, removed one of its updates,
	// decided a review); the reason is in the channel's moderation notices
	EventChannelModerated = "channel.moderated"
	EventResync           = "resync" // the cursor can't be resumed: refetch
)

// UnfollowTrail is how long an account's stream keeps a channel.unfollowed
// event: long enough for the account's connected devices to hear it (they
// do at once) and for one briefly offline to resume past it. Then
// PruneExpired erases it together with the channel.followed events before
// it, so nothing in the log links the account to a channel it left, and
// raises the stream's floor to it: a device resuming from before gets a
// resync (it refetches its follows) instead of silently missing the
// unfollow. A deleted channel's events are erased from every account stream
// at once, with no floor: there is nothing left to resync to, and the
// channel's own stream tells devices it is gone.
const UnfollowTrail = 10 * time.Minute

// AccountStream returns the stream name of an account's personal events
// (follows and unfollows on any of its devices, admin roles given or taken). Channel streams are named by
// the channel id, which never starts with '@'.
func AccountStream(accountID string) string { return "@" + accountID }

// Event is one entry of a stream's durable, ordered log. Seq increases by one
// per event within a stream and survives restarts; the pair (Stream, Seq) is
// an event's resume position. The log itself stores no message text: the
// update, channel and counts are filled from current state when the event is
// read back, so deleting an update erases it from the history too.
type Event struct {
	Stream    string   `json:"stream,omitempty"`
	Type      string   `json:"type"`
	ChannelID string   `json:"channel_id"`
	Seq       int64    `json:"seq"`
	UpdateID  string   `json:"update_id,omitempty"`
	Update    *Update  `json:"update,omitempty"`
	Channel   *Channel `json:"channel,omitempty"`
	Counts    *Counts  `json:"counts,omitempty"`
	// ChannelSeq is for channel.followed and channel.admin_added: the
	// channel's stream position at that moment (its last seq, read in the
	// same transaction); the account's streams carry the channel's events
	// after it. Nil on other events.
	ChannelSeq *int64    `json:"channel_seq,omitempty"`
	CreatedAt  time.Time `json:"-"`
}

// Counts are an update's public reaction or poll counts, as carried by
// update.reactions and update.poll events. They never say who.
type Counts struct {
	Reactions map[string]int64 `json:"reactions,omitzero"` // {} when every reaction was withdrawn
	Votes     []int64          `json:"votes,omitzero"`
	Voters    *int64           `json:"voters,omitempty"`
	Views     *int64           `json:"views,omitempty"`
}

// EventPublisher receives events after the transaction that appended them
// committed. Stores call it; the real-time layer implements it.
type EventPublisher interface {
	Publish(ctx context.Context, events []Event)
}

// Cursor is a resume position over several streams: for each stream, the
// seq of the last event the client received.
type Cursor map[string]int64

// String encodes the cursor as "stream:seq" pairs joined by ',' in stream
// order, e.g. "@acc1:3,ch9:120". The empty cursor encodes as "".
func (c Cursor) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(c[k], 10))
	}
	return b.String()
}

// MaxCursorStreams bounds how many streams a cursor may name.
const MaxCursorStreams = 10000

// ParseCursor decodes a cursor made by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	c := Cursor{}
	if s == "" {
		return c, nil
	}
	bad := KindErrorf(EINVALID, "invalid-cursor", "Malformed resume cursor.")
	if len(s) > MaxCursorStreams*64 {
		return nil, bad
	}
	for _, part := range strings.Split(s, ",") {
		i := strings.LastIndexByte(part, ':')
		if i <= 0 {
			return nil, bad
		}
		seq, err := strconv.ParseInt(part[i+1:], 10, 64)
		if err != nil || seq < 0 {
			return nil, bad
		}
		stream := part[:i]
		for _, r := range stream {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '@' || r == '_' || r == '-') {
				return nil, bad
			}
		}
		c[stream] = seq
	}
	if len(c) > MaxCursorStreams {
		return nil, bad
	}
	return c, nil
}
