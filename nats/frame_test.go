package nats

import (
	"bytes"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/realtime"
)

func sameMessage(a, b *realtime.Message) bool {
	if (a.ChannelSeq == nil) != (b.ChannelSeq == nil) || a.ChannelSeq != nil && *a.ChannelSeq != *b.ChannelSeq {
		return false
	}
	return a.Stream == b.Stream && a.Seq == b.Seq && a.Type == b.Type && a.ChannelID == b.ChannelID && bytes.Equal(a.Data, b.Data)
}

func TestFrameRoundTrip(t *testing.T) {
	zero, pos := int64(0), int64(41)
	for _, m := range []*realtime.Message{
		{Stream: "ch1", Seq: 1 << 40, Type: herald.EventUpdateCreated, ChannelID: "ch1", Data: []byte(`{"type":"update.created"}`)},
		{Stream: "@acc1", Seq: 3, Type: herald.EventChannelFollowed, ChannelID: "ch1", Data: []byte(`{}`), ChannelSeq: &pos},
		{Stream: "@acc1", Seq: 4, Type: herald.EventChannelAdminAdded, ChannelID: "ch2", Data: []byte(`{}`), ChannelSeq: &zero},
	} {
		got, err := unframe(m.Stream, frame(m))
		if err != nil {
			t.Fatal(err)
		}
		if !sameMessage(got, m) {
			t.Fatalf("got %+v, want %+v", got, m)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2}, {frameVersion}, {frameVersion, 1}, {frameVersion, 1, 0}, {frameVersion, 1, 0, 5, 'a'}, {frameVersion, 1, 0, 0, 0}, {frameVersion, 1, 0xff}} {
		if m, err := unframe("s", bad); err == nil {
			t.Errorf("unframe(%v) = %+v, want an error", bad, m)
		}
	}
}

// Whatever arrives on a subject, unframe returns an error or a message,
// never panics; a message it accepts survives a round trip.
func FuzzUnframe(f *testing.F) {
	pos := int64(7)
	f.Add(frame(&realtime.Message{Seq: 3, Type: herald.EventUpdateDeleted, ChannelID: "c", Data: []byte("{}")}))
	f.Add(frame(&realtime.Message{Seq: 1, Type: herald.EventChannelFollowed, ChannelID: "c", Data: []byte("{}"), ChannelSeq: &pos}))
	f.Add([]byte{frameVersion, 0xff, 0xff})
	f.Add([]byte{frameVersion, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{2, 1, 1, 0, 0, '{'})
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := unframe("s", p)
		if err != nil {
			return
		}
		if m.Seq < 0 || len(m.Data) == 0 || m.ChannelSeq != nil && *m.ChannelSeq < 0 {
			t.Fatalf("accepted %+v", m)
		}
		again, err := unframe("s", frame(m))
		if err != nil || !sameMessage(again, m) {
			t.Fatalf("round trip of %+v: %+v, %v", m, again, err)
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
