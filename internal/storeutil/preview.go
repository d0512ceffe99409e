package storeutil

import "github.com/heraldhq/herald"

// ErrNoPreview is removing the link preview of an update that has none.
var ErrNoPreview = herald.KindErrorf(herald.ENOTFOUND, "preview-not-found", "This update has no link preview.")

// PreviewImagePosition is the media position of a preview image: attached
// to its update (erased with it) but never listed among its media.
const PreviewImagePosition = -1
