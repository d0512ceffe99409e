package nats

import (
	"bytes"
	"testing"
	"time"

	"github.com/heraldhq/herald"
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

// TestFrameCarriesFollowTime checks that a channel.followed message keeps
// its time across the wire (an open stream joins the channel from it), and
// that other messages keep the version 1 frame older nodes read.
func TestFrameCarriesFollowTime(t *testing.T) {
	at := time.Date(2026, 11, 25, 1, 2, 3, 456789, time.UTC).UnixNano()
	followed := &realtime.Message{Stream: "@acc1", Seq: 7, Type: herald.EventChannelFollowed, ChannelID: "ch1", Data: []byte(`{"type":"channel.followed"}`), At: at}
	p := frame(followed)
	if p[0] != frameVersionAt {
		t.Fatalf("followed frame version %d", p[0])
	}
	got, err := unframe("@acc1", p)
	if err != nil {
		t.Fatal(err)
	}
	if got.At != at || got.Seq != 7 || got.Type != followed.Type || got.ChannelID != "ch1" || !bytes.Equal(got.Data, followed.Data) {
		t.Fatalf("got %+v, want %+v", got, followed)
	}
	created := &realtime.Message{Stream: "ch1", Seq: 8, Type: herald.EventUpdateCreated, ChannelID: "ch1", Data: []byte(`{}`), At: at}
	if p := frame(created); p[0] != frameVersion {
		t.Fatalf("update frame version %d, want %d", p[0], frameVersion)
	}
	if got, err := unframe("ch1", frame(created)); err != nil || got.At != 0 || got.Seq != 8 {
		t.Fatalf("update: %+v %v", got, err)
	}
	for _, bad := range [][]byte{{frameVersionAt}, {frameVersionAt, 1}, {frameVersionAt, 1, 0xff}} {
		if m, err := unframe("s", bad); err == nil {
			t.Errorf("unframe(%v) = %+v, want an error", bad, m)
		}
	}
}

// TestFrameCarriesFollowPosition checks that the channel's position at a
// follow crosses the wire inside the event's JSON, in version 1 and 2
// frames alike (nodes of either version read it), and that a follow without
// it arrives without one (the receiver falls back to the time).
func TestFrameCarriesFollowPosition(t *testing.T) {
	pos := int64(41)
	ev := herald.Event{Stream: "@acc1", Type: herald.EventChannelFollowed, ChannelID: "ch1", Seq: 3, ChannelSeq: &pos,
		CreatedAt: time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)}
	withAt := realtime.Encode(&ev)
	if withAt.ChannelSeq == nil || *withAt.ChannelSeq != pos {
		t.Fatalf("Encode: ChannelSeq %v, want %d", withAt.ChannelSeq, pos)
	}
	noAt := *withAt
	noAt.At = 0
	for _, m := range []*realtime.Message{withAt, &noAt} {
		got, err := unframe("@acc1", frame(m))
		if err != nil {
			t.Fatal(err)
		}
		if got.ChannelSeq == nil || *got.ChannelSeq != pos || got.At != m.At || got.Seq != 3 {
			t.Fatalf("frame version %d: got ChannelSeq %v At %d, want %d and %d", frame(m)[0], got.ChannelSeq, got.At, pos, m.At)
		}
	}
	old := ev
	old.ChannelSeq = nil
	if got, err := unframe("@acc1", frame(realtime.Encode(&old))); err != nil || got.ChannelSeq != nil || got.At == 0 {
		t.Fatalf("follow without position: %+v %v", got, err)
	}
	// Only channel.followed is read for it.
	other := &realtime.Message{Stream: "ch1", Seq: 9, Type: herald.EventUpdateCreated, ChannelID: "ch1", Data: []byte(`{"channel_seq":5}`)}
	if got, err := unframe("ch1", frame(other)); err != nil || got.ChannelSeq != nil {
		t.Fatalf("update: %+v %v", got, err)
	}
}

// Whatever arrives on a subject, unframe returns an error or a message,
// never panics.
func FuzzUnframe(f *testing.F) {
	f.Add(frame(&realtime.Message{Seq: 3, Type: "update.deleted", ChannelID: "c", Data: []byte("{}")}))
	f.Add([]byte{frameVersion, 0xff, 0xff})
	f.Add(frame(&realtime.Message{Seq: 1, Type: herald.EventChannelFollowed, ChannelID: "c", Data: []byte("{}"), At: 1}))
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
