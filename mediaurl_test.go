package herald

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMediaURLSigning(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 3, 1, 17, 30, 0, 0, time.UTC)
	p := SignedMediaPath(key, "m1", "original", now)
	// The same all day; it expires at the end of the next UTC day.
	if later := SignedMediaPath(key, "m1", "original", now.Add(6*time.Hour)); later != p {
		t.Fatalf("URL changed within the day: %q then %q", p, later)
	}
	exp := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	if !strings.HasPrefix(p, "/media/m1/original?expires="+strconv.FormatInt(exp.Unix(), 10)+"&sig=") {
		t.Fatalf("signed path %q", p)
	}
	sig := p[strings.Index(p, "&sig=")+5:]
	e := strconv.FormatInt(exp.Unix(), 10)
	if !VerifyMediaURL(key, "m1", "original", e, sig, now) || !VerifyMediaURL(key, "m1", "original", e, sig, exp.Add(-time.Second)) {
		t.Fatal("a valid signature refused")
	}
	for name, ok := range map[string]bool{
		"expired":       VerifyMediaURL(key, "m1", "original", e, sig, exp),
		"other variant": VerifyMediaURL(key, "m1", "320", e, sig, now),
		"other media":   VerifyMediaURL(key, "m2", "original", e, sig, now),
		"later expiry":  VerifyMediaURL(key, "m1", "original", strconv.FormatInt(exp.Unix()+86400, 10), sig, now),
		"other key":     VerifyMediaURL([]byte("another key, just as long as it"), "m1", "original", e, sig, now),
		"no key":        VerifyMediaURL(nil, "m1", "original", e, sig, now),
		"bad expiry":    VerifyMediaURL(key, "m1", "original", "soon", sig, now),
		"empty sig":     VerifyMediaURL(key, "m1", "original", e, "", now),
		"cut sig":       VerifyMediaURL(key, "m1", "original", e, sig[:20], now),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	m := Media{ID: "m1", Variants: []string{"original", "1280", "320"}}
	m.SignURLs(key, now)
	if m.URL != p || m.ThumbnailURL != SignedMediaPath(key, "m1", "320", now) {
		t.Fatalf("SignURLs: %q %q", m.URL, m.ThumbnailURL)
	}
}

// BenchmarkMediaSignURLs is the cost a store adds per unlisted media it
// returns (two HMAC-SHA256: original and thumbnail).
func BenchmarkMediaSignURLs(b *testing.B) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now()
	m := Media{ID: "01hzzzzzzzzzzzzzzzzzzzzzzz", Variants: []string{"original", "1280", "320"}}
	b.ReportAllocs()
	for b.Loop() {
		m.SignURLs(key, now)
	}
}

// BenchmarkMediaURLVerify is the cost of checking a signed URL on GET /media.
func BenchmarkMediaURLVerify(b *testing.B) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now()
	p := SignedMediaPath(key, "01hzzzzzzzzzzzzzzzzzzzzzzz", "original", now)
	e := p[strings.Index(p, "expires=")+8 : strings.Index(p, "&sig=")]
	sig := p[strings.Index(p, "&sig=")+5:]
	b.ReportAllocs()
	for b.Loop() {
		if !VerifyMediaURL(key, "01hzzzzzzzzzzzzzzzzzzzzzzz", "original", e, sig, now) {
			b.Fatal("refused")
		}
	}
}
