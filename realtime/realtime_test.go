package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/realtime/stream"
)

var transports = []string{"sse", "ws"}

// failAfter is a hang guard: tests wait for events, they don't time them.
const failAfter = 15 * time.Second

func dial(t testing.TB, url, tr, acc string, since herald.Cursor) *stream.Conn {
	t.Helper()
	c, err := stream.Dial(context.Background(), url, tr, stream.Options{Token: acc, Since: since})
	if err != nil {
		t.Fatalf("dial %s: %v", tr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(failAfter))
	return c
}

// read returns the next n events, skipping cursor messages.
func read(t testing.TB, c *stream.Conn, n int) []*stream.Event {
	t.Helper()
	var out []*stream.Event
	for len(out) < n {
		e, err := c.Next()
		if err != nil {
			t.Fatalf("after %d of %d events: %v", len(out), n, err)
		}
		if e.Type == stream.TypeCursor {
			continue
		}
		out = append(out, e)
	}
	return out
}

// ready waits for the first message (the cursor), which means the stream
// is subscribed and caught up.
func ready(t testing.TB, c *stream.Conn) herald.Cursor {
	t.Helper()
	e, err := c.Next()
	if err != nil || e.Type != stream.TypeCursor {
		t.Fatalf("first message: %+v %v", e, err)
	}
	return c.Cursor()
}

func texts(evs []*stream.Event) []string {
	var out []string
	for _, e := range evs {
		s := e.Type
		if e.Update != nil {
			s += ":" + e.Update.Text
		}
		out = append(out, s)
	}
	return out
}

func TestLiveDelivery(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{})
			ts.events.follow("alice", "ch1")
			ts.events.post("ch1", "before") // history before connecting is not replayed
			a := dial(t, ts.URL, tr, "alice", nil)
			b := dial(t, ts.URL, tr, "bob", nil) // follows nothing
			cur := ready(t, a)
			if cur["ch1"] != 1 || cur["@alice"] != 1 {
				t.Fatalf("start cursor %v", cur)
			}
			ready(t, b)

			ts.events.post("ch1", "hello")
			ts.events.append(herald.Event{Type: herald.EventUpdateEdited, ChannelID: "ch1", UpdateID: "u-hello", Update: &herald.Update{ID: "u-hello", Text: "hello, edited"}}, true)
			ts.events.append(herald.Event{Type: herald.EventUpdateReactions, ChannelID: "ch1", UpdateID: "u-hello", Counts: &herald.Counts{Reactions: map[string]int64{"👍": 41}}}, true)
			ts.events.append(herald.Event{Type: herald.EventUpdateDeleted, ChannelID: "ch1", UpdateID: "u-hello"}, true)
			evs := read(t, a, 4)
			got := strings.Join(texts(evs), "|")
			want := "update.created:hello|update.edited:hello, edited|update.reactions|update.deleted"
			if got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
			if evs[2].Counts == nil || evs[2].Counts.Reactions["👍"] != 41 {
				t.Fatalf("counts not delivered: %+v", evs[2].Counts)
			}
			for i, e := range evs {
				if e.ChannelID != "ch1" || e.Seq != int64(i+2) || e.Stream != "" {
					t.Fatalf("event %d: %+v", i, e.Event)
				}
			}
			if c := a.Cursor(); c["ch1"] != 5 {
				t.Fatalf("cursor after events: %v", c)
			}

			// Bob follows nothing: his next message is his own follow, with
			// nothing of ch1 before it.
			ts.events.follow("bob", "ch2")
			e := read(t, b, 1)[0]
			if e.Type != herald.EventChannelFollowed || e.Stream != "@bob" || e.ChannelID != "ch2" {
				t.Fatalf("bob got %+v", e.Event)
			}
		})
	}
}

func TestEncodeOnce(t *testing.T) {
	// The hub hands every recipient the same Message: its Data is the
	// one encoding of the event.
	ts := newTestServer(t, Config{})
	msgs := make(chan *Message, 10)
	if err := ts.bus.Subscribe("ch1", func(m *Message) { msgs <- m }); err != nil {
		t.Fatal(err)
	}
	ts.events.post("ch1", "x")
	var got []*Message
	select {
	case m := <-msgs:
		got = append(got, m)
	case <-time.After(failAfter):
		t.Fatal("the bus delivered nothing")
	}
	var e herald.Event
	if err := json.Unmarshal(got[0].Data, &e); err != nil || e.Update.Text != "x" || e.Seq != 1 || got[0].Stream != "ch1" {
		t.Fatalf("message %+v %v", got[0], err)
	}
	// One encoding for every follower carries nobody's own reaction or
	// votes: the update has no "viewer" part at all.
	var raw struct {
		Update map[string]json.RawMessage `json:"update"`
	}
	if err := json.Unmarshal(got[0].Data, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Update["viewer"]; ok {
		t.Fatalf("event update carries a viewer part: %s", got[0].Data)
	}
	for _, k := range []string{"id", "channel_id", "seq", "text", "created_at", "expires_at", "reactions"} {
		if _, ok := raw.Update[k]; !ok {
			t.Fatalf("event update lacks %q: %s", k, got[0].Data)
		}
	}
	// Nor does a channel carried by an event say anything of a viewer.
	m := encode(&herald.Event{Type: herald.EventChannelUpdated, ChannelID: "ch1", Seq: 2,
		Channel: &herald.Channel{ID: "ch1", Name: "Weather", Category: "weather", Listed: true}})
	var rawCh struct {
		Channel map[string]json.RawMessage `json:"channel"`
	}
	if err := json.Unmarshal(m.Data, &rawCh); err != nil {
		t.Fatal(err)
	}
	if _, ok := rawCh.Channel["viewer"]; ok || string(rawCh.Channel["name"]) != `"Weather"` {
		t.Fatalf("event channel: %s", m.Data)
	}
}

func TestFollowChangesOnOpenStream(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{})
			a := dial(t, ts.URL, tr, "alice", nil)
			ready(t, a)
			ts.events.post("ch2", "old")
			ts.events.follow("alice", "ch2")
			e := read(t, a, 1)[0]
			if e.Type != herald.EventChannelFollowed || e.ChannelID != "ch2" {
				t.Fatalf("got %+v", e.Event)
			}
			// The channel joins at its head: the next message is the cursor
			// naming it.
			e, err := a.Next()
			if err != nil || e.Type != stream.TypeCursor || a.Cursor()["ch2"] != 1 {
				t.Fatalf("join cursor: %+v %v (cursor %v)", e, err, a.Cursor())
			}
			ts.events.post("ch2", "new")
			if e := read(t, a, 1)[0]; e.Update == nil || e.Update.Text != "new" {
				t.Fatalf("got %+v", e.Event)
			}
			ts.events.unfollow("alice", "ch2")
			ts.events.post("ch2", "after unfollow")
			ts.events.follow("alice", "ch3") // barrier
			evs := read(t, a, 2)
			if evs[0].Type != herald.EventChannelUnfollowed || evs[1].Type != herald.EventChannelFollowed || evs[1].ChannelID != "ch3" {
				t.Fatalf("got %v", texts(evs))
			}
			// The unfollow asks the store off the broadcast path, so the
			// hub lets go of ch2 shortly after the event is written.
			for i := 0; ts.hub.subscribers("ch2") != 0; i++ {
				if i > 5000 {
					t.Fatalf("ch2 still has %d subscribers", ts.hub.subscribers("ch2"))
				}
				time.Sleep(time.Millisecond)
			}
			// channel.deleted ends the channel's subscription.
			read(t, a, 0)
			for ts.hub.subscribers("ch3") == 0 {
				time.Sleep(time.Millisecond)
			}
			ts.events.append(herald.Event{Type: herald.EventChannelDeleted, ChannelID: "ch3"}, true)
			if e := read(t, a, 1)[0]; e.Type != herald.EventChannelDeleted {
				t.Fatalf("got %+v", e.Event)
			}
			for i := 0; ts.hub.subscribers("ch3") != 0; i++ {
				if i > 5000 {
					t.Fatal("ch3 subscription not dropped")
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// Someone made an admin while connected gets the channel's events on the
// open stream from that moment, and loses them when the role is taken away
// (unless they follow the channel).
func TestAdminRoleChangesOnOpenStream(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{})
			ts.events.follow("carol", "ch2")
			a := dial(t, ts.URL, tr, "carol", nil)
			ready(t, a)
			ts.events.post("ch1", "before")
			ts.events.makeAdmin("carol", "ch1")
			if e := read(t, a, 1)[0]; e.Type != herald.EventChannelAdminAdded || e.ChannelID != "ch1" {
				t.Fatalf("got %+v", e.Event)
			}
			if e, err := a.Next(); err != nil || e.Type != stream.TypeCursor || a.Cursor()["ch1"] != 1 {
				t.Fatalf("join cursor: %+v %v (cursor %v)", e, err, a.Cursor())
			}
			ts.events.post("ch1", "as admin")
			if e := read(t, a, 1)[0]; e.Update == nil || e.Update.Text != "as admin" {
				t.Fatalf("admin got %+v", e.Event)
			}

			ts.events.removeAdmin("carol", "ch1")
			ts.events.post("ch1", "after removal")
			ts.events.post("ch2", "followed channel") // barrier
			evs := read(t, a, 2)
			if got := strings.Join(texts(evs), "|"); got != "channel.admin_removed|update.created:followed channel" {
				t.Fatalf("after removal got %s", got)
			}
			for deadline := time.Now().Add(5 * time.Second); ts.hub.subscribers("ch1") != 0; {
				if time.Now().After(deadline) {
					t.Fatal("ch1 subscription not dropped")
				}
				time.Sleep(time.Millisecond)
			}
			// A follower who loses an admin role keeps the channel.
			ts.events.makeAdmin("carol", "ch2")
			ts.events.removeAdmin("carol", "ch2")
			ts.events.post("ch2", "still followed")
			evs = read(t, a, 3)
			if got := strings.Join(texts(evs), "|"); got != "channel.admin_added|channel.admin_removed|update.created:still followed" {
				t.Fatalf("follower admin got %s", got)
			}
		})
	}
}

func TestAdminKeepsChannelAfterUnfollow(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{})
			ts.events.administer("alice", "ch1")
			ts.events.follow("alice", "ch1")
			ts.events.follow("bob", "ch1")
			a := dial(t, ts.URL, tr, "alice", nil)
			b := dial(t, ts.URL, tr, "bob", nil)
			ready(t, a)
			ready(t, b)

			ts.events.unfollow("alice", "ch1")
			ts.events.unfollow("bob", "ch1")
			ts.events.post("ch1", "after unfollow")
			ts.events.follow("bob", "ch9") // barrier for bob

			// Alice still administers ch1: she gets the post, and her
			// cursor still names the channel.
			evs := read(t, a, 2)
			if got := strings.Join(texts(evs), "|"); got != "channel.unfollowed|update.created:after unfollow" {
				t.Fatalf("admin got %s", got)
			}
			if evs[1].ChannelID != "ch1" || evs[1].Seq != 1 {
				t.Fatalf("admin's post: %+v", evs[1].Event)
			}
			ts.events.post("ch1", "later")
			if e := read(t, a, 1)[0]; e.Update == nil || e.Update.Text != "later" {
				t.Fatalf("admin got %+v", e.Event)
			}
			// The cursor written when she joins another channel still
			// names ch1.
			ts.events.follow("alice", "ch8")
			if e := read(t, a, 1)[0]; e.Type != herald.EventChannelFollowed || e.ChannelID != "ch8" {
				t.Fatalf("admin got %+v", e.Event)
			}
			if e, err := a.Next(); err != nil || e.Type != stream.TypeCursor || a.Cursor()["ch1"] != 2 {
				t.Fatalf("admin's join cursor: %+v %v (cursor %v)", e, err, a.Cursor())
			}

			// Bob only followed: his stream drops ch1 and the post is not his.
			evs = read(t, b, 2)
			if got := strings.Join(texts(evs), "|"); got != "channel.unfollowed|channel.followed" || evs[1].ChannelID != "ch9" {
				t.Fatalf("follower got %s", got)
			}
			e, err := b.Next()
			if _, ok := b.Cursor()["ch1"]; err != nil || e.Type != stream.TypeCursor || ok {
				t.Fatalf("follower's join cursor: %+v %v (cursor %v)", e, err, b.Cursor())
			}
			// Only alice's connection is left on ch1 (bob's leaves once
			// its remove task ran).
			for i := 0; ts.hub.subscribers("ch1") != 1; i++ {
				if i > 5000 {
					t.Fatalf("ch1 has %d subscribers, want 1", ts.hub.subscribers("ch1"))
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

func TestUnfollowThenFollowAgain(t *testing.T) {
	// Whichever way the unfollow's check and the new follow interleave,
	// the follower ends up subscribed and receives what follows.
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{})
			ts.events.follow("bob", "ch1")
			b := dial(t, ts.URL, tr, "bob", nil)
			ready(t, b)
			for i := range 20 {
				ts.events.unfollow("bob", "ch1")
				ts.events.follow("bob", "ch1")
				text := fmt.Sprint("post ", i)
				ts.events.post("ch1", text)
				for {
					e := read(t, b, 1)[0]
					if e.Type == herald.EventUpdateCreated {
						if e.Update.Text != text {
							t.Fatalf("round %d: got %q", i, e.Update.Text)
						}
						break
					}
					if e.Type != herald.EventChannelUnfollowed && e.Type != herald.EventChannelFollowed {
						t.Fatalf("round %d: got %+v", i, e.Event)
					}
				}
			}
		})
	}
}

func TestResume(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{})
			ts.events.follow("alice", "ch1")
			ts.events.follow("alice", "ch2")
			a := dial(t, ts.URL, tr, "alice", nil)
			ready(t, a)
			ts.events.post("ch1", "1")
			ts.events.post("ch2", "2")
			read(t, a, 2)
			cur := a.Cursor()
			a.Close()

			// Missed while away.
			ts.events.post("ch1", "3")
			ts.events.post("ch1", "4")
			ts.events.post("ch2", "5")
			// Publishing continues while the client reconnects: the seam
			// between history and live must hold.
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 6; i < 206; i++ {
					ts.events.post("ch1", fmt.Sprint(i))
				}
				close(stop)
			}()
			b := dial(t, ts.URL, tr, "alice", cur)
			<-stop
			wg.Wait()
			evs := read(t, b, 203)
			seen := map[string]bool{}
			var last = map[string]int64{"ch1": cur["ch1"], "ch2": cur["ch2"]}
			for _, e := range evs {
				if seen[e.Update.Text] {
					t.Fatalf("duplicate %s", e.Update.Text)
				}
				seen[e.Update.Text] = true
				if e.Seq != last[e.ChannelID]+1 {
					t.Fatalf("%s: seq %d after %d", e.ChannelID, e.Seq, last[e.ChannelID])
				}
				last[e.ChannelID] = e.Seq
			}
			for i := 3; i < 206; i++ {
				if !seen[fmt.Sprint(i)] {
					t.Fatalf("lost update %d", i)
				}
			}
			if c := b.Cursor(); c["ch1"] != 203 || c["ch2"] != 2 {
				t.Fatalf("cursor %v", c)
			}
			if ts.metrics.resumes.Value() != 1 {
				t.Fatalf("resume metric %v", ts.metrics.resumes.Value())
			}
		})
	}
}

func TestResumeSkipsDeletedHistory(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.events.follow("alice", "ch1")
	a := dial(t, ts.URL, "sse", "alice", nil)
	cur := ready(t, a)
	a.Close()
	ts.events.post("ch1", "kept")
	ts.events.post("ch1", "deleted later")
	ts.events.mu.Lock()
	ts.events.hidden["ch1"] = map[int64]bool{2: true}
	ts.events.mu.Unlock()
	ts.events.post("ch1", "live")
	b := dial(t, ts.URL, "sse", "alice", cur)
	evs := read(t, b, 2)
	if got := strings.Join(texts(evs), "|"); got != "update.created:kept|update.created:live" {
		t.Fatalf("got %s", got)
	}
	ts.events.post("ch1", "next")
	if e := read(t, b, 1)[0]; e.Update.Text != "next" {
		t.Fatalf("got %+v", e.Event)
	}
}

func TestTooOldCursorResyncs(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{})
			ts.events.follow("alice", "ch1")
			for i := 0; i < 5; i++ {
				ts.events.post("ch1", fmt.Sprint(i))
			}
			ts.events.mu.Lock()
			ts.events.trimmed["ch1"] = 3 // retention pruned the log up to seq 3
			ts.events.mu.Unlock()
			a := dial(t, ts.URL, tr, "alice", herald.Cursor{"@alice": 1, "ch1": 1})
			e := read(t, a, 1)[0]
			if e.Type != herald.EventResync || e.ChannelID != "ch1" || e.Seq != 5 {
				t.Fatalf("got %+v", e.Event)
			}
			ts.events.post("ch1", "live")
			if e := read(t, a, 1)[0]; e.Update == nil || e.Update.Text != "live" || e.Seq != 6 {
				t.Fatalf("got %+v", e.Event)
			}
			if c := a.Cursor(); c["ch1"] != 6 {
				t.Fatalf("cursor %v", c)
			}
		})
	}
}

func TestLiveHoleIsRefilled(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.events.follow("alice", "ch1")
	a := dial(t, ts.URL, "ws", "alice", nil)
	ready(t, a)
	ts.events.post("ch1", "1")
	ts.events.append(herald.Event{Type: herald.EventUpdateCreated, ChannelID: "ch1", Update: &herald.Update{Text: "lost by the bus"}}, false)
	ts.events.post("ch1", "3")
	evs := read(t, a, 3)
	if got := strings.Join(texts(evs), "|"); got != "update.created:1|update.created:lost by the bus|update.created:3" {
		t.Fatalf("got %s", got)
	}
}

func TestSlowConsumerIsCut(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			// A modest send buffer bounds what the kernel absorbs for the stalled
			// client (loopback autotuning would take megabytes).
			ts := newTestServer(t, Config{QueueBytes: 16 << 10, SocketSendBuffer: 64 << 10, MaxStreamsPerAddr: -1})
			ts.events.follow("stalled", "ch1")
			const readers = 300
			for i := 0; i < readers; i++ {
				ts.events.follow(fmt.Sprint("r", i), "ch1")
			}
			// The stalled client has a tiny receive window and never reads.
			d := smallReceiveDialer()
			stalled, err := stream.Dial(context.Background(), ts.URL, tr, stream.Options{Token: "stalled", Dialer: d})
			if err != nil {
				t.Fatal(err)
			}
			defer stalled.Close()
			conns := make([]*stream.Conn, readers)
			for i := range conns {
				conns[i] = dial(t, ts.URL, tr, fmt.Sprint("r", i), nil)
				ready(t, conns[i])
			}
			// Readers keep up (the publisher waits for them every round);
			// the stalled client falls behind until it is cut.
			const events, round = 300, 4
			payload := strings.Repeat("x", 1000)
			var wg sync.WaitGroup
			errs := make(chan error, readers)
			progress := make([]atomic.Int64, readers)
			for i, c := range conns {
				wg.Add(1)
				go func(i int, c *stream.Conn) {
					defer wg.Done()
					for want := int64(1); want <= events; want++ {
						// A deadline per event, not for the whole run: 300
						// readers under -race on two cores take their time,
						// but each must make progress.
						c.SetReadDeadline(time.Now().Add(failAfter))
						data, err := c.NextData()
						if err != nil {
							errs <- err
							return
						}
						if seq := seqOf(data); seq != want {
							errs <- fmt.Errorf("seq %d, want %d: %.80s", seq, want, data)
							return
						}
						progress[i].Store(want)
					}
				}(i, c)
			}
			for i := 1; i <= events; i++ {
				ts.events.post("ch1", fmt.Sprint(i, payload))
				if i%round != 0 {
					continue
				}
				for r := range progress {
					for progress[r].Load() < int64(i) && len(errs) == 0 {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := ts.metrics.slowConsumers.Value(); n != 1 {
				t.Fatalf("slow consumer disconnects = %v, want 1", n)
			}
			// The stalled client finds its stream ended once it reads.
			stalled.SetReadDeadline(time.Now().Add(failAfter))
			for {
				_, err := stalled.Next()
				if err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatal("stalled stream was not closed")
					}
					break
				}
			}
		})
	}
}

func TestShutdownClosesStreams(t *testing.T) {
	ts := newTestServer(t, Config{})
	s := dial(t, ts.URL, "sse", "alice", nil)
	w := dial(t, ts.URL, "ws", "bob", nil)
	ready(t, s)
	ready(t, w)
	done := make(chan struct{})
	go func() { ts.Close(); close(done) }()
	e, err := s.Next()
	if err != nil || e.Type != stream.TypeError || e.Reason != "shutting down" {
		t.Fatalf("sse final: %+v %v", e, err)
	}
	_, err = w.Next()
	var ce *stream.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 {
		t.Fatalf("ws close: %v", err)
	}
	<-done
	if n := ts.OpenStreams(); n != 0 {
		t.Fatalf("%d streams open after Close", n)
	}
	_, err = stream.Dial(context.Background(), ts.URL, "sse", stream.Options{Token: "carol"})
	var se *stream.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
		t.Fatalf("after close: %v", err)
	}
}

func TestStreamLimits(t *testing.T) {
	ts := newTestServer(t, Config{MaxStreamsPerAccount: 2, MaxStreamsPerAddr: 3})
	a1 := dial(t, ts.URL, "sse", "alice", nil)
	dial(t, ts.URL, "ws", "alice", nil)
	_, err := stream.Dial(context.Background(), ts.URL, "sse", stream.Options{Token: "alice"})
	var se *stream.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusTooManyRequests || !strings.Contains(se.Body, "problems/too-many-streams") {
		t.Fatalf("third stream of alice: %v", err)
	}
	dial(t, ts.URL, "sse", "bob", nil)
	_, err = stream.Dial(context.Background(), ts.URL, "ws", stream.Options{Token: "carol"})
	if !errors.As(err, &se) || se.Status != http.StatusTooManyRequests {
		t.Fatalf("fourth stream from the address: %v", err)
	}
	ready(t, a1)
	a1.Close()
	for i := 0; ts.OpenStreams() != 2; i++ {
		if i > 5000 {
			t.Fatal("closed stream still counted")
		}
		time.Sleep(time.Millisecond)
	}
	dial(t, ts.URL, "sse", "alice", nil)

	// A request without an address (the HTTP layer exempts the client) is
	// not counted against the per-address limit.
	ts2 := newTestServer(t, Config{MaxStreamsPerAddr: 1})
	for _, acc := range []string{"a", "b", "c"} {
		c, err := stream.Dial(context.Background(), ts2.URL, "sse", stream.Options{Token: acc, Header: http.Header{"X-Test-Unlimited": {"1"}}})
		if err != nil {
			t.Fatalf("exempt stream of %s: %v", acc, err)
		}
		defer c.Close()
	}
	dial(t, ts2.URL, "sse", "d", nil) // the one counted slot
}

// TestCoderWebSocketClient checks the server's framing against an
// independent WebSocket implementation: messages, ping/pong, close.
func TestCoderWebSocketClient(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.events.follow("alice", "ch1")
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(ts.URL, "http", "ws", 1)+"/api/v1/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	typ, p, err := c.Read(ctx)
	if err != nil || typ != websocket.MessageText || !strings.Contains(string(p), `"type":"cursor"`) {
		t.Fatalf("first message %q %v", p, err)
	}
	for i := 0; i < 40; i++ {
		ts.events.post("ch1", fmt.Sprint(i))
	}
	got := 0
	for got < 40 {
		_, p, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(p), "\n") {
			var e herald.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			if e.Update.Text != fmt.Sprint(got) {
				t.Fatalf("got %q want %d", e.Update.Text, got)
			}
			got++
		}
	}
	// Ping needs a concurrent reader to collect the pong.
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx)
		readErr <- err
	}()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close: %v", err)
	}
	<-readErr
	for i := 0; ts.OpenStreams() != 0; i++ {
		if i > 5000 {
			t.Fatal("stream still open after client close")
		}
		time.Sleep(time.Millisecond)
	}
	_ = io.EOF
}

// seqOf extracts an event's seq without decoding the whole event.
func seqOf(data []byte) int64 {
	var e struct {
		Seq int64 `json:"seq"`
	}
	if i := strings.Index(string(data), `,"update_id"`); i > 0 {
		data = append([]byte(string(data[:i])), '}')
	}
	json.Unmarshal(data, &e)
	return e.Seq
}

func TestDeadWebSocketIsReaped(t *testing.T) {
	// A client that stops answering pings (a vanished phone) is dropped
	// after two heartbeats; one that answers stays.
	ts := newTestServer(t, Config{Heartbeat: 150 * time.Millisecond, WriteTimeout: 150 * time.Millisecond})
	dead := dial(t, ts.URL, "ws", "dead", nil)
	ready(t, dead)
	alive := dial(t, ts.URL, "ws", "alive", nil)
	ready(t, alive)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// Next answers pings as it reads them.
		for {
			select {
			case <-stop:
				return
			default:
			}
			alive.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := alive.NextData(); err != nil {
				if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
					return
				}
			}
		}
	}()
	for i := 0; ts.OpenStreams() != 1; i++ {
		if i > 10000 {
			t.Fatalf("%d streams open, want the dead one reaped", ts.OpenStreams())
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // several heartbeats later
	if n := ts.OpenStreams(); n != 1 {
		t.Fatalf("%d streams open, want only the live one", n)
	}
}

func TestSSEWithoutHijack(t *testing.T) {
	// Behind HTTP/2 (or any writer that can't be hijacked) SSE streams
	// through the ResponseWriter: same events, resume and shutdown.
	ts := newTestServer(t, Config{})
	ts.events.follow("alice", "ch1")
	h := http.Header{"X-Test-No-Hijack": {"1"}}
	c, err := stream.Dial(context.Background(), ts.URL, "sse", stream.Options{Token: "alice", Header: h})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(failAfter))
	ready(t, c)
	ts.events.post("ch1", "one")
	if e := read(t, c, 1)[0]; e.Update.Text != "one" {
		t.Fatalf("got %+v", e.Event)
	}
	cur := c.Cursor()
	c.Close()
	ts.events.post("ch1", "two")
	c2, err := stream.Dial(context.Background(), ts.URL, "sse", stream.Options{Token: "alice", Header: h, Since: cur})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetReadDeadline(time.Now().Add(failAfter))
	if e := read(t, c2, 1)[0]; e.Update.Text != "two" {
		t.Fatalf("got %+v", e.Event)
	}
	for i := 0; ts.OpenStreams() != 1; i++ {
		if i > 5000 {
			t.Fatalf("%d streams open, want 1 (the closed one must be gone)", ts.OpenStreams())
		}
		time.Sleep(time.Millisecond)
	}
	go ts.Close()
	e, err := c2.Next()
	if err != nil || e.Type != stream.TypeError || e.Reason != "shutting down" {
		t.Fatalf("final: %+v %v", e, err)
	}
}

func TestLongAbsenceIsNotASlowConsumer(t *testing.T) {
	// Resuming after 2 MiB of missed history with a 64 KiB queue: the
	// history is queued as the client reads it, nothing is cut or lost.
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{QueueBytes: 64 << 10})
			ts.events.follow("alice", "ch1")
			text := strings.Repeat("y", 2000)
			for i := 0; i < 1000; i++ {
				ts.events.post("ch1", fmt.Sprint(i, text))
			}
			c := dial(t, ts.URL, tr, "alice", herald.Cursor{"@alice": 1, "ch1": 0})
			for i := 0; i < 1000; i++ {
				e := read(t, c, 1)[0]
				if e.Seq != int64(i+1) {
					t.Fatalf("seq %d, want %d", e.Seq, i+1)
				}
			}
			if n := ts.metrics.slowConsumers.Value(); n != 0 {
				t.Fatalf("%v slow-consumer cuts", n)
			}
		})
	}
}

func TestFollowJoinsWithoutLoss(t *testing.T) {
	// Posts right after a follow (before the open stream has joined the
	// channel) are delivered: the join starts at the channel position the
	// follow carries, not at the head it finds later.
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { testFollowJoinsWithoutLoss(t, tr) })
	}
}

func testFollowJoinsWithoutLoss(t *testing.T, tr string) {
	ts := newTestServer(t, Config{})
	a := dial(t, ts.URL, tr, "alice", nil)
	ready(t, a)
	for i := 0; i < 20; i++ {
		ch := fmt.Sprint("c", i)
		ts.events.post(ch, "before the follow")
		ts.events.follow("alice", ch)
		ts.events.post(ch, "right after")
	}
	got := map[string][]string{}
	for _, e := range read(t, a, 40) {
		if e.Type == herald.EventChannelFollowed {
			got[e.ChannelID] = append(got[e.ChannelID], "followed")
		} else if e.Update != nil {
			got[e.ChannelID] = append(got[e.ChannelID], e.Update.Text)
		}
	}
	for i := 0; i < 20; i++ {
		ch := fmt.Sprint("c", i)
		if g := strings.Join(got[ch], "|"); g != "followed|right after" {
			t.Fatalf("%s: %s", ch, g)
		}
	}
}

func TestFollowJoinsAtPositionDespiteSkew(t *testing.T) {
	// The follow's node clock runs an hour ahead, and its channel.followed
	// reaches the open stream only after three more posts: every one of
	// them is delivered, because the join starts at the channel position
	// the follow recorded, not at a time.
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ts := newTestServer(t, Config{})
			a := dial(t, ts.URL, tr, "alice", nil)
			ready(t, a)
			for i := 0; i < 3; i++ {
				ts.events.post("ch1", fmt.Sprint("before ", i))
			}
			followed := ts.events.followSkewed("alice", "ch1", time.Hour)
			var posts []herald.Event
			for i := 0; i < 3; i++ {
				posts = append(posts, ts.events.post("ch1", fmt.Sprint("after ", i)))
			}
			if followed.ChannelSeq == nil || *followed.ChannelSeq != 3 || !followed.CreatedAt.After(posts[2].CreatedAt) {
				t.Fatalf("setup: follow %+v is not skewed after %v", followed, posts[2].CreatedAt)
			}
			ts.Publish(context.Background(), []herald.Event{followed})
			ts.events.post("ch1", "live")
			evs := read(t, a, 5)
			if got := strings.Join(texts(evs), "|"); got != "channel.followed|update.created:after 0|update.created:after 1|update.created:after 2|update.created:live" {
				t.Fatalf("got %s", got)
			}
			if c := a.Cursor(); c["ch1"] != 7 {
				t.Fatalf("cursor %v, want ch1:7", c)
			}
		})
	}
}
