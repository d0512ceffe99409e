package media

import (
	"context"

	"github.com/heraldhq/herald"
)

// AllVariants are every rendition name processing makes: erasure deletes
// them all, whatever a record lists, so a crash between storing a file and
// recording it never leaves a file behind.
var AllVariants = []string{"original", "1280", "320", "poster", "128"}

// Erase removes the files of every media the store says must go (deleted
// or expired updates, deleted channels, stale unattached uploads), then
// forgets their records. A failure leaves the records for the next run.
// Safe on several nodes at once: deleting an absent file is no error.
func Erase(ctx context.Context, store herald.MediaStore, blobs herald.BlobStore) (int, error) {
	total := 0
	for {
		list, err := store.ErasableMedia(ctx, 500)
		if err != nil || len(list) == 0 {
			return total, err
		}
		keys := make([]string, 0, len(list)*len(AllVariants))
		ids := make([]string, 0, len(list))
		for _, m := range list {
			for _, v := range AllVariants {
				keys = append(keys, herald.BlobKey(m.ID, v))
			}
			ids = append(ids, m.ID)
		}
		if err := blobs.Delete(ctx, keys...); err != nil {
			return total, err
		}
		if err := store.ForgetMedia(ctx, ids); err != nil {
			return total, err
		}
		total += len(ids)
		if len(list) < 500 {
			return total, nil
		}
	}
}
