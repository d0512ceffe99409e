package preview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
)

// DefaultMaxImageBytes bounds a preview image's download.
const DefaultMaxImageBytes = 5 << 20

// ErrNotImage is a preview image that is not an image.
var ErrNotImage = errors.New("preview: the image is not an image")

// FetchImage downloads a page's preview image through the same policy as
// pages (http/https, no private address, redirects checked) into dst, at
// most max bytes (0: DefaultMaxImageBytes), and only if it is declared as
// an image (the caller sniffs the bytes and re-encodes them anyway).
func (f *Fetcher) FetchImage(ctx context.Context, raw string, dst *os.File, max int64) (int64, error) {
	if max <= 0 {
		max = DefaultMaxImageBytes
	}
	if err := f.policy.CheckURL(raw, "http", "https"); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", f.userAgent)
	req.Header.Set("Accept", "image/jpeg,image/png,image/webp,image/gif;q=0.9")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("preview: the image answered %s", resp.Status)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); !strings.HasPrefix(ct, "image/") {
		return 0, ErrNotImage
	}
	if resp.ContentLength > max {
		return 0, ErrTooLarge
	}
	n, err := io.Copy(dst, io.LimitReader(resp.Body, max+1))
	if err != nil {
		return n, err
	}
	if n > max {
		return n, ErrTooLarge
	}
	if n == 0 {
		return 0, ErrNotImage
	}
	return n, nil
}
