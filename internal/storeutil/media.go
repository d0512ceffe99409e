package storeutil

import (
	"strings"

	"github.com/heraldhq/herald"
)

// Media errors both stores return.
var (
	ErrMediaNotFound = herald.KindErrorf(herald.ENOTFOUND, "media-not-found", "Media not found.")
	ErrMediaQuota    = herald.KindErrorf(herald.ERATELIMIT, "upload-quota", "This channel's daily upload quota is used up.")
)

// ErrMediaNotAttachable refuses a media id an update can't take.
func ErrMediaNotAttachable(id string) error {
	return herald.KindErrorf(herald.EINVALID, "invalid-media", "Media %q is not a recent, unattached upload of this channel.", id)
}

// ErrMediaNotOfUpdate refuses an alt text for a media the update lacks.
func ErrMediaNotOfUpdate(id string) error {
	return herald.KindErrorf(herald.EINVALID, "invalid-media", "Media %q is not part of this update.", id)
}

// JoinVariants and SplitVariants store a media's variant names in one column.
func JoinVariants(v []string) string { return strings.Join(v, ",") }

// SplitVariants is the inverse of JoinVariants.
func SplitVariants(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// GroupMedia assigns media (ordered by update, then position) to their
// updates, keyed by update id.
func GroupMedia(updates map[string]*herald.Update, media []herald.Media, updateIDs []string) {
	for i := range media {
		if u := updates[updateIDs[i]]; u != nil {
			u.Media = append(u.Media, media[i])
		}
	}
}
