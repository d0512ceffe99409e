package storeutil

import (
	"strings"

	"github.com/heraldhq/herald"
)

// ErrNoPreview is removing the link preview of an update that has none.
var ErrNoPreview = herald.KindErrorf(herald.ENOTFOUND, "preview-not-found", "This update has no link preview.")

// PreviewImagePosition is the media position of a preview image: attached
// to its update (erased with it) but never listed among its media.
const PreviewImagePosition = -1

// PreviewCandidates clears the link previews of updates and returns the
// ids of those that may have one: only a text with a URL gets a preview,
// so a page without links costs no query.
func PreviewCandidates(updates []*herald.Update) []string {
	var ids []string
	for _, u := range updates {
		u.LinkPreview = nil
		if strings.Contains(u.Text, "http") && herald.FirstURL(u.Text) != "" {
			ids = append(ids, u.ID)
		}
	}
	return ids
}
