package herald

import (
	"context"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Media types.
const (
	MediaImage    = "image"
	MediaVideo    = "video"
	MediaAudio    = "audio"
	MediaDocument = "document"
)

// Media states: video and audio are processed off the request path.
const (
	MediaProcessing = "processing"
	MediaReady      = "ready"
	MediaFailed     = "failed"
)

// Media limits.
const (
	MaxUpdateMedia   = 10   // items of one update (an album)
	MediaAltMaxLen   = 1500 // characters of an alt text
	MediaNameMaxLen  = 255  // characters of a document's file name
	UnattachedMaxAge = 24 * time.Hour
)

// Media is an uploaded file after processing: what the API returns and
// updates carry. Variants name the stored renditions ("original", "1280",
// "320", "poster"); URL and ThumbnailURL are paths under /media.
type Media struct {
	ID           string   `json:"id"`
	ChannelID    string   `json:"channel_id"`
	Type         string   `json:"type"`
	MIME         string   `json:"mime"`
	Size         int64    `json:"size"`
	Width        int      `json:"width,omitempty"`
	Height       int      `json:"height,omitempty"`
	Duration     float64  `json:"duration,omitempty"` // seconds
	Blurhash     string   `json:"blurhash,omitempty"`
	URL          string   `json:"url"`
	ThumbnailURL string   `json:"thumbnail_url,omitempty"`
	Name         string   `json:"name,omitempty"`
	Alt          string   `json:"alt,omitempty"`
	State        string   `json:"state"`
	Variants     []string `json:"-"`
	// Unlisted is set by the stores for an unlisted channel's media: its
	// URLs are signed (SignURLs).
	Unlisted  bool      `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// MediaRef attaches an uploaded media to an update with its alt text.
type MediaRef struct {
	ID  string `json:"id"`
	Alt string `json:"alt"`
}

// SetURLs fills URL and ThumbnailURL from the id and variants.
func (m *Media) SetURLs() {
	m.URL = "/media/" + m.ID + "/original"
	m.ThumbnailURL = ""
	for _, v := range m.Variants {
		if v == "320" || v == "poster" {
			m.ThumbnailURL = "/media/" + m.ID + "/" + v
		}
	}
}

// HasVariant reports whether the media has a stored rendition named v.
func (m *Media) HasVariant(v string) bool {
	for _, have := range m.Variants {
		if have == v {
			return true
		}
	}
	return false
}

// AvatarURL is the path of an avatar media's picture ("" for none).
func AvatarURL(mediaID string) string {
	if mediaID == "" {
		return ""
	}
	return "/media/" + mediaID + "/original"
}

// BlobKey is where variant v of media id is stored.
func BlobKey(id, variant string) string { return id + "/" + variant }

// NormalizeAlt trims an alt text and checks its length and encoding.
func NormalizeAlt(alt string) (string, error) {
	alt = strings.TrimSpace(alt)
	if !utf8.ValidString(alt) || strings.ContainsRune(alt, 0) {
		return "", KindErrorf(EINVALID, "invalid-alt", "Alt text must be valid UTF-8 without NUL characters.")
	}
	if utf8.RuneCountInString(alt) > MediaAltMaxLen {
		return "", KindErrorf(EINVALID, "alt-too-long", "Alt text must be at most %d characters.", MediaAltMaxLen)
	}
	return alt, nil
}

// NormalizeMediaRefs checks an update's media list: at most MaxUpdateMedia
// distinct ids, alt texts normalized.
func NormalizeMediaRefs(refs []MediaRef) error {
	if len(refs) > MaxUpdateMedia {
		return KindErrorf(EINVALID, "too-many-media", "An update has at most %d media.", MaxUpdateMedia)
	}
	seen := make(map[string]bool, len(refs))
	for i := range refs {
		if refs[i].ID == "" || seen[refs[i].ID] {
			return KindErrorf(EINVALID, "invalid-media", "Each media id must be given once.")
		}
		seen[refs[i].ID] = true
		alt, err := NormalizeAlt(refs[i].Alt)
		if err != nil {
			return err
		}
		refs[i].Alt = alt
	}
	return nil
}

// MediaAccess is what serving a media needs to know besides the file.
type MediaAccess struct {
	Media  *Media
	Listed bool // the channel is listed: its live media are public
}

// MediaStore keeps media records; the files are in a BlobStore.
type MediaStore interface {
	// CreateMedia records an upload to a channel (admins only), unattached,
	// after checking the channel's daily quota (bytes uploaded in the last
	// 24 h, 0: none): ERATELIMIT past it. Sets ChannelID and CreatedAt.
	CreateMedia(ctx context.Context, actorID, channelID string, m *Media, dailyQuota int64) error
	// MediaUsage returns the bytes uploaded to a channel since a time.
	MediaUsage(ctx context.Context, channelID string, since time.Time) (int64, error)
	// FinishMedia records the result of processing (state, size, dimensions,
	// duration, variants) of a media. ENOTFOUND if it is gone.
	FinishMedia(ctx context.Context, m *Media) error
	// FindMedia returns a live media: unattached (visible to the channel's
	// admins only) or attached to a live update of a channel viewerID may
	// read. A listed channel's attached media need no viewer.
	FindMedia(ctx context.Context, viewerID, mediaID string) (*MediaAccess, error)
	// MediaURLKey returns the key signing unlisted channels' media URLs
	// (MediaURLSignature): made once, kept in the store, so every node
	// signs and checks with the same one.
	MediaURLKey(ctx context.Context) ([]byte, error)
	// FindSignedMedia is FindMedia for a request whose URL signature was
	// checked: a media of a live update, or an avatar, whoever asks.
	FindSignedMedia(ctx context.Context, mediaID string) (*MediaAccess, error)
	// SetMediaAlt replaces the alt texts of an update's media (admins) and
	// appends update.edited. Every ref must name a media of the update.
	SetMediaAlt(ctx context.Context, actorID, channelID, updateID string, refs []MediaRef) (*Update, error)
	// SetChannelAvatar makes an unattached image upload of the channel its
	// avatar, or removes the avatar when mediaID is "" (admins); the old
	// avatar's files become erasable at once. Appends channel.updated.
	SetChannelAvatar(ctx context.Context, actorID, channelID, mediaID string) (*Channel, error)
	// ErasableMedia returns up to limit media whose files must go: of a
	// deleted channel, of a deleted or expired update, or unattached for
	// longer than UnattachedMaxAge. ForgetMedia removes their records once
	// their files are gone.
	ErasableMedia(ctx context.Context, limit int) ([]*Media, error)
	ForgetMedia(ctx context.Context, ids []string) error
}

// Blob is a stored file opened for reading.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
}

// BlobStore holds media files by key (BlobKey): a directory or an
// S3-compatible bucket.
type BlobStore interface {
	// Put stores size bytes read from r under key, replacing any.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens a stored file. ENOTFOUND if absent.
	Get(ctx context.Context, key string) (Blob, error)
	// Delete removes files; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
}
