package herald

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Signed media URLs: an unlisted channel's media is served to a viewer's
// session or to a URL carrying an HMAC-SHA256 of the media id, the variant
// and an expiry, under a key the store keeps (every node signs and checks
// with the same one). The expiry is rounded to the UTC day, so a media's
// URL stays the same all day (caches keep it) and lives 24 to 48 hours.
const MediaURLPeriod = 24 * time.Hour

// MediaURLExpiry is the expiry of URLs signed at now: the end of the next
// UTC day.
func MediaURLExpiry(now time.Time) time.Time {
	return now.UTC().Truncate(MediaURLPeriod).Add(2 * MediaURLPeriod)
}

// MediaURLSignature is the signature of variant of media id until expires
// (Unix seconds): base64url, unpadded.
func MediaURLSignature(key []byte, id, variant string, expires int64) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write([]byte(variant))
	mac.Write([]byte{0})
	mac.Write(strconv.AppendInt(nil, expires, 10))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// SignedMediaPath is the path of a variant with its expiry and signature.
func SignedMediaPath(key []byte, id, variant string, now time.Time) string {
	exp := MediaURLExpiry(now).Unix()
	return "/media/" + id + "/" + variant + "?expires=" + strconv.FormatInt(exp, 10) + "&sig=" + MediaURLSignature(key, id, variant, exp)
}

// VerifyMediaURL reports whether expires and sig (as a URL carries them)
// sign variant of media id and have not expired at now.
func VerifyMediaURL(key []byte, id, variant, expires, sig string, now time.Time) bool {
	if len(key) == 0 || sig == "" {
		return false
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || now.Unix() >= exp {
		return false
	}
	want := MediaURLSignature(key, id, variant, exp)
	return hmac.Equal([]byte(want), []byte(sig))
}

// SignURLs replaces the media's URLs by signed ones (an unlisted channel's).
func (m *Media) SignURLs(key []byte, now time.Time) {
	if len(key) == 0 {
		m.SetURLs()
		return
	}
	m.URL, m.ThumbnailURL = SignedMediaPath(key, m.ID, "original", now), ""
	for _, v := range m.Variants {
		if v == "320" || v == "poster" {
			m.ThumbnailURL = SignedMediaPath(key, m.ID, v, now)
		}
	}
}

// SignAvatarURL signs an unlisted channel's avatar URL, so that an invite's
// visitors see the picture before they follow.
func (c *Channel) SignAvatarURL(key []byte, now time.Time) {
	if c.Listed || len(key) == 0 {
		return
	}
	id, ok := strings.CutPrefix(c.AvatarURL, "/media/")
	if id, ok2 := strings.CutSuffix(id, "/original"); ok && ok2 && id != "" && !strings.Contains(id, "/") {
		c.AvatarURL = SignedMediaPath(key, id, "original", now)
	}
}
