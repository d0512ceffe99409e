package herald

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// LinkPreview is the card of a page an update links to, fetched once by the
// server off the request path (package preview), so followers' devices
// never contact the linked site: Image is a copy stored like media and
// served from /media. Fields are plain text. A preview is not signed: the
// server fetched it, the channel did not write it (docs/signatures.md).
type LinkPreview struct {
	URL          string `json:"url"`
	CanonicalURL string `json:"canonical_url,omitempty"`
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
	SiteName     string `json:"site_name,omitempty"`
	Image        *Media `json:"image,omitempty"`
	// ImageURL is the page's own image address, which the fetcher copies
	// into Image; never stored nor shown.
	ImageURL string `json:"-"`
}

// Link preview limits, in characters.
const (
	PreviewTitleMaxLen       = 300
	PreviewDescriptionMaxLen = 1000
	PreviewSiteNameMaxLen    = 100
	PreviewURLMaxLen         = 2048
)

// Link preview states, as stores keep them.
const (
	PreviewPending = "pending" // waiting for the fetcher
	PreviewReady   = "ready"   // fetched: shown with the update
	PreviewFailed  = "failed"  // nothing usable: not fetched again
	PreviewRemoved = "removed" // an admin removed it: not fetched again for this URL
)

// PreviewMaxAttempts is how many times a preview is claimed before it is
// given up (a fetcher that died mid-fetch leaves its lease to expire).
const PreviewMaxAttempts = 3

// PreviewJob is a link preview waiting to be fetched.
type PreviewJob struct {
	ChannelID string
	UpdateID  string
	URL       string
}

// PreviewStore keeps link previews with their updates. CreateUpdate (and a
// scheduled publish) queues a preview for the first http(s) URL of the text
// (FirstURL); EditUpdate queues a new one when that URL changes and drops
// the preview (image included) when the URL goes. A preview is erased with
// its update; its image is a media record attached to the update, erased by
// the media erase loop like any other.
type PreviewStore interface {
	// ClaimPreviews leases up to limit pending previews of live updates for
	// lease (several nodes never fetch the same one at once; a lease that
	// runs out is claimed again, at most PreviewMaxAttempts times).
	ClaimPreviews(ctx context.Context, limit int, lease time.Duration) ([]PreviewJob, error)
	// CreatePreviewImage records a preview image of a channel before its
	// files are stored, unattached (ready), as an upload is: a crash
	// before FinishPreview leaves a record the erase loop removes.
	CreatePreviewImage(ctx context.Context, channelID string, m *Media) error
	// FinishPreview stores a fetched preview (p.Image, if any, recorded by
	// CreatePreviewImage) or, with p nil, records that there is none. It
	// does nothing (and retires p.Image) if the update is gone or its
	// preview is no longer pending for job.URL. Appends update.edited when
	// a preview is stored.
	FinishPreview(ctx context.Context, job PreviewJob, p *LinkPreview) error
	// RemovePreview removes an update's preview (admins): it is not fetched
	// again unless an edit changes the URL. Appends update.edited.
	RemovePreview(ctx context.Context, actorID, channelID, updateID string) (*Update, error)
}

// FirstURL returns the first http or https URL of a text ("" for none):
// a word starting with http:// or https://, without trailing punctuation
// (a closing bracket is kept when the URL opened one), with a host, and
// at most PreviewURLMaxLen bytes.
func FirstURL(text string) string {
	for _, word := range strings.Fields(text) {
		i := strings.Index(word, "http://")
		if j := strings.Index(word, "https://"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			continue
		}
		if i > 0 && isURLChar(word[i-1]) {
			continue // inside another word ("xhttp://")
		}
		raw := trimURLEnd(word[i:])
		if len(raw) > PreviewURLMaxLen {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		return raw
	}
	return ""
}

func isURLChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// trimURLEnd drops punctuation that ends a sentence rather than the URL.
func trimURLEnd(s string) string {
	for s != "" {
		last := s[len(s)-1]
		switch last {
		case '.', ',', ';', ':', '!', '?', '\'', '"', '*':
			s = s[:len(s)-1]
			continue
		case ')', ']', '}', '>':
			open := map[byte]byte{')': '(', ']': '[', '}': '{', '>': '<'}[last]
			if strings.Count(s, string(open)) < strings.Count(s, string(last)) {
				s = s[:len(s)-1]
				continue
			}
		}
		if r := []rune(s); len(r) > 0 && strings.ContainsRune("»”’…", r[len(r)-1]) {
			s = string(r[:len(r)-1])
			continue
		}
		return s
	}
	return s
}
