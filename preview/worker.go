package preview

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/media"
)

// Store is what the worker needs of a herald.Store.
type Store interface {
	herald.PreviewStore
	FinishMedia(ctx context.Context, m *herald.Media) error
}

// Worker fetches the link previews stores queue with updates, off the
// request path: it claims them (leased, so several nodes share the work
// and a fetch cut by a crash is taken again), fetches the page, copies its
// image through the media pipeline (re-encoded without metadata, stored
// like media and served from /media), and stores the result.
type Worker struct {
	Store   Store
	Fetcher *Fetcher
	// Blobs stores preview images; nil stores previews without images.
	Blobs herald.BlobStore
	// TempDir holds images while they are processed ("": os.TempDir()).
	TempDir string
	// MaxImageBytes bounds an image's download (0: DefaultMaxImageBytes).
	MaxImageBytes int64
	// Parallel is how many previews are fetched at once (0: 4).
	Parallel int
	Logger   *slog.Logger
	// Stored, if set, is called after a preview was stored (the server
	// drops its cached public pages).
	Stored func()
}

// lease is how long a claimed preview is reserved: one page, one image and
// their processing, with room to spare.
const lease = time.Minute

// RunOnce fetches every preview waiting now, a batch at a time, and
// returns how many it handled.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	parallel := w.Parallel
	if parallel <= 0 {
		parallel = 4
	}
	total := 0
	for {
		jobs, err := w.Store.ClaimPreviews(ctx, 4*parallel, lease)
		if err != nil || len(jobs) == 0 {
			return total, err
		}
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		stored := false
		for _, job := range jobs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				ok, err := w.one(ctx, job)
				mu.Lock()
				defer mu.Unlock()
				stored = stored || ok
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}()
		}
		wg.Wait()
		total += len(jobs)
		if stored && w.Stored != nil {
			w.Stored()
		}
		if firstErr != nil || len(jobs) < 4*parallel {
			return total, firstErr
		}
	}
}

// one fetches one preview. A page that gives nothing is recorded as no
// preview (fetched once, not retried); only a store error is returned.
func (w *Worker) one(ctx context.Context, job herald.PreviewJob) (stored bool, err error) {
	fctx, cancel := context.WithTimeout(ctx, lease/2)
	defer cancel()
	p, ferr := w.Fetcher.Fetch(fctx, job.URL)
	if ferr != nil {
		w.log().LogAttrs(ctx, slog.LevelInfo, "link preview: nothing fetched", slog.String("err", ferr.Error()))
		return false, w.Store.FinishPreview(ctx, job, nil)
	}
	if p.ImageURL != "" && w.Blobs != nil {
		img, ierr := w.image(fctx, job.ChannelID, p.ImageURL)
		if ierr != nil {
			// The card without its picture: still useful.
			w.log().LogAttrs(ctx, slog.LevelInfo, "link preview: no image", slog.String("err", ierr.Error()))
		}
		p.Image = img
	}
	if err := w.Store.FinishPreview(ctx, job, p); err != nil {
		return false, err
	}
	return true, nil
}

// image copies a preview image: downloaded to a temporary file, its type
// sniffed from its bytes (images only), re-encoded without metadata,
// recorded, stored.
func (w *Worker) image(ctx context.Context, channelID, raw string) (*herald.Media, error) {
	dir := w.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	tmp, err := os.CreateTemp(dir, "herald-preview-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := w.Fetcher.FetchImage(ctx, raw, tmp, w.MaxImageBytes)
	if err != nil {
		return nil, err
	}
	typ, mimeType, err := media.Sniff(tmp)
	if err != nil {
		return nil, err
	}
	if typ != herald.MediaImage {
		return nil, ErrNotImage
	}
	res, err := media.Image(ctx, tmp, mimeType, dir)
	if err != nil {
		return nil, err
	}
	defer res.Remove()
	m := &herald.Media{ID: herald.NewID(), Type: herald.MediaImage, MIME: mimeType, Size: n, State: herald.MediaProcessing}
	// The record first: a crash from here on leaves a record the erase
	// loop removes with whatever files were stored.
	if err := w.Store.CreatePreviewImage(ctx, channelID, m); err != nil {
		return nil, err
	}
	for _, f := range res.Files {
		fh, err := os.Open(f.Path)
		if err != nil {
			return nil, err
		}
		err = w.Blobs.Put(ctx, herald.BlobKey(m.ID, f.Variant), fh, f.Size, f.MIME)
		fh.Close()
		if err != nil {
			return nil, err
		}
		if f.Variant == "original" {
			m.Size = f.Size
		}
	}
	m.MIME, m.Width, m.Height, m.Blurhash = res.MIME, res.Width, res.Height, res.Blurhash
	m.Variants, m.State = res.Variants(), herald.MediaReady
	if err := w.Store.FinishMedia(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

func (w *Worker) log() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}
