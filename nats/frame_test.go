package nats

import (
	"bytes"
	"testing"

	"github.com/heraldhq/herald/realtime"
)

func TestFrameRoundTrip(t *testing.T) {
	m := &realtime.Message{Stream: "ch1", Seq: 1 << 40, Type: "update.created", ChannelID: "ch1", Data: []byte(`{"type":"update.created"}`)}
	got, err := unframe("ch1", frame(m))
	if err != nil {
		t.Fatal(err)
	}
	if got.Stream != m.Stream || got.Seq != m.Seq || got.Type != m.Type || got.ChannelID != m.ChannelID || !bytes.Equal(got.Data, m.Data) {
		t.Fatalf("got %+v, want %+v", got, m)
	}
	for _, bad := range [][]byte{nil, {}, {2}, {frameVersion}, {frameVersion, 1}, {frameVersion, 1, 5, 'a'}, {frameVersion, 1, 0, 0}} {
		if m, err := unframe("s", bad); err == nil {
			t.Errorf("unframe(%v) = %+v, want an error", bad, m)
		}
	}
}

// Whatever arrives on a subject, unframe returns an error or a message,
// never panics.
func FuzzUnframe(f *testing.F) {
	f.Add(frame(&realtime.Message{Seq: 3, Type: "update.deleted", ChannelID: "c", Data: []byte("{}")}))
	f.Add([]byte{frameVersion, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		if m, err := unframe("s", p); err == nil && (m.Seq < 0 || len(m.Data) == 0) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"nats://u:secret@h:4222":          "nats://REDACTED@h:4222",
		"nats://a:4222,nats://tok@b:4222": "nats://a:4222,nats://REDACTED@b:4222",
		"nats://127.0.0.1:4222":           "nats://127.0.0.1:4222",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
