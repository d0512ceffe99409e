package dispatch

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/push"
)

func TestPreviewText(t *testing.T) {
	short := "Ciel clair, 14 °C"
	if got := previewText(short); got != short {
		t.Fatalf("short text changed: %q", got)
	}
	exact := strings.Repeat("é", PreviewRunes)
	if got := previewText(exact); got != exact {
		t.Fatal("a text of exactly PreviewRunes characters was cut")
	}
	words := strings.Repeat("orage ", 60) // 360 characters
	got := previewText(words)
	if n := utf8.RuneCountInString(got); n > PreviewRunes+1 || n < PreviewRunes*3/4 || !strings.HasSuffix(got, "orage…") {
		t.Fatalf("cut at a word: %q (%d characters)", got, n)
	}
	nospace := strings.Repeat("雨", 500)
	got = previewText(nospace)
	if !utf8.ValidString(got) || utf8.RuneCountInString(got) != PreviewRunes+1 || !strings.HasSuffix(got, "…") {
		t.Fatalf("cut without spaces: %d characters, valid %v", utf8.RuneCountInString(got), utf8.ValidString(got))
	}
}

func TestMessage(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	u := herald.PushUpdate{UpdateID: "abcdefghijklmnopqrstuvwxyz", ChannelID: "ch1", ChannelName: "Météo", Seq: 7,
		Text: "Orages", CreatedAt: now, ExpiresAt: now.Add(90*time.Minute + 500*time.Millisecond)}
	d := New(Config{Clock: herald.NewFakeClock(now)})
	m := d.message(u)
	if m.TTL != 90*time.Minute || m.Urgency != push.UrgencyHigh || m.Topic != u.UpdateID {
		t.Fatalf("headers: ttl %s urgency %q topic %q", m.TTL, m.Urgency, m.Topic)
	}
	if want := `{"type":"update.created","channel":{"id":"ch1","name":"Météo"},"update":{"id":"abcdefghijklmnopqrstuvwxyz","seq":7,"text":"Orages"}}`; string(m.Payload) != want {
		t.Fatalf("preview payload %s", m.Payload)
	}
	u.Edit = true
	m = New(Config{Clock: herald.NewFakeClock(now), Content: Minimal}).message(u)
	if want := `{"type":"update.edited","channel":{"id":"ch1"},"update":{"id":"abcdefghijklmnopqrstuvwxyz"}}`; string(m.Payload) != want {
		t.Fatalf("minimal payload %s", m.Payload)
	}
	// An expired update has TTL 0, never negative.
	if m := New(Config{Clock: herald.NewFakeClock(now.Add(2 * time.Hour))}).message(u); m.TTL != 0 {
		t.Fatalf("TTL after expiry %s", m.TTL)
	}
	// An id that is not a valid topic gives no topic rather than a refused push.
	u.UpdateID = "not/a+topic"
	if m := d.message(u); m.Topic != "" {
		t.Fatalf("topic %q", m.Topic)
	}
}
