package http_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
)

// TestReactionPrivacy acts as the channel's admins (and as followers) after
// followers reacted and voted, fetches every GET route the server has plus
// the channel's event history, and checks that no follower's id or username
// appears in any of it: counts are public, identities are not.
func TestReactionPrivacy(t *testing.T) {
	e := newEnv(t)
	s := e.reactionSetup(6, "")
	cid := s.ch.ID
	admin := e.signup("coadmin")
	if _, err := s.owner.AddAdmin(ctx, cid, admin.account.Username); err != nil {
		t.Fatal(err)
	}
	poll, err := s.owner.PostUpdate(ctx, cid, "Poll", &client.PollInput{Question: "Best day?", Options: []string{"Sat", "Sun", "Mon"}, Multiple: true})
	if err != nil {
		t.Fatal(err)
	}
	emoji := []string{"👍", "❤", "😂", "🇫🇷", "👍🏽", "🧑‍💻"}
	for i, f := range s.followers {
		if _, err := f.React(ctx, cid, s.upd.ID, emoji[i%len(emoji)]); err != nil {
			t.Fatal(err)
		}
		if _, err := f.React(ctx, cid, poll.ID, emoji[(i+1)%len(emoji)]); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Vote(ctx, cid, poll.ID, []int{i % 3}); err != nil {
			t.Fatal(err)
		}
	}
	// One follower withdraws, one changes: events for both.
	if _, err := s.followers[0].Unreact(ctx, cid, s.upd.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.followers[1].Vote(ctx, cid, poll.ID, []int{0, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}

	// secrets[i] are the strings that identify follower i.
	secrets := make([][]string, len(s.followers))
	for i, f := range s.followers {
		secrets[i] = []string{f.account.ID, f.account.Username}
	}
	check := func(who string, skip int, what string, body []byte) {
		t.Helper()
		for i, sec := range secrets {
			if i == skip {
				continue
			}
			for _, x := range sec {
				if strings.Contains(string(body), x) {
					t.Errorf("%s: %s reveals follower %d (%q): %s", who, what, i, x, body)
				}
			}
		}
	}

	// Every GET route, as each admin and as a follower (who may see only
	// themself).
	viewers := []struct {
		name string
		u    *user
		self int
	}{{"owner", s.owner, -1}, {"coadmin", admin, -1}, {"follower", s.followers[2], 2}}
	for _, v := range viewers {
		fetched := 0
		for _, p := range e.srv.Patterns() {
			method, path, _ := strings.Cut(p, " ")
			if method != "GET" || path == "/api/v1/events" || path == "/api/v1/ws" {
				continue // streams are covered by the event history below
			}
			for _, uid := range []string{s.upd.ID, poll.ID} {
				r := strings.NewReplacer("{id}", cid, "{uid}", uid, "{account_id}", v.u.account.ID).Replace(path)
				if strings.Contains(r, "{") {
					t.Logf("skipping %s: unknown path parameter", p)
					break
				}
				resp := e.do("GET", r, v.u.Token(), nil)
				if resp.status >= 500 {
					t.Errorf("%s GET %s: %d %s", v.name, r, resp.status, resp.body)
				}
				check(v.name, v.self, "GET "+r, resp.body)
				fetched++
			}
		}
		if fetched < 8 {
			t.Fatalf("%s fetched only %d routes", v.name, fetched)
		}
		// The answers to the viewer's own writes.
		for _, resp := range []struct {
			what string
			r    response
		}{
			{"PUT reaction", e.do("PUT", "/api/v1/channels/"+cid+"/updates/"+s.upd.ID+"/reaction", v.u.Token(), []byte(`{"emoji":"🎉"}`))},
			{"DELETE reaction", e.do("DELETE", "/api/v1/channels/"+cid+"/updates/"+s.upd.ID+"/reaction", v.u.Token(), nil)},
			{"PUT vote", e.do("PUT", "/api/v1/channels/"+cid+"/updates/"+poll.ID+"/vote", v.u.Token(), []byte(`{"options":[1]}`))},
			{"DELETE vote", e.do("DELETE", "/api/v1/channels/"+cid+"/updates/"+poll.ID+"/vote", v.u.Token(), nil)},
		} {
			if resp.r.status != 200 {
				t.Fatalf("%s %s: %d %s", v.name, resp.what, resp.r.status, resp.r.body)
			}
			check(v.name, v.self, resp.what, resp.r.body)
		}
	}

	// The channel's whole event history, as any follower's stream would get it.
	if _, err := e.db.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	events, ok, err := e.db.EventsAfter(ctx, cid, 0, 1000)
	if err != nil || !ok {
		t.Fatalf("events: %v, ok=%v", err, ok)
	}
	types := map[string]int{}
	for _, ev := range events {
		types[ev.Type]++
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		check("events", -1, "event "+ev.Type, b)
	}
	if types[herald.EventUpdateReactions] == 0 || types[herald.EventUpdatePoll] == 0 {
		t.Fatalf("event history has no count events: %v", types)
	}
	// The admins' own account streams.
	for _, a := range []*user{s.owner, admin} {
		evs, _, err := e.db.EventsAfter(ctx, herald.AccountStream(a.account.ID), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(evs)
		check("account stream", -1, "events", b)
	}
	// Metrics are public to whoever can reach them.
	check("metrics", -1, "/metrics", e.do("GET", "/metrics", "", nil).body)
}

// TestReactionCountsUnderLoad has 200 followers react, change, withdraw,
// vote, change and retract concurrently through the API, then checks that
// the public counts are exactly what their final choices add up to. Run it
// with -race.
func TestReactionCountsUnderLoad(t *testing.T) {
	const followers = 200
	const opsEach = 10
	e := newEnv(t)
	s := e.reactionSetup(followers, "")
	cid, uid := s.ch.ID, s.upd.ID
	poll, err := s.owner.PostUpdate(ctx, cid, "Poll", &client.PollInput{Question: "Days?", Options: []string{"Mon", "Tue", "Wed", "Thu"}, Multiple: true})
	if err != nil {
		t.Fatal(err)
	}
	single, err := s.owner.PostUpdate(ctx, cid, "Poll 2", &client.PollInput{Question: "One?", Options: []string{"a", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	// Pairs are two spellings of one emoji: both must land on one count.
	pool := []string{"👍", "❤", "❤️", "😂", "🎉", "🇫🇷", "👍🏽", "#⃣", "#️⃣"}
	canon := map[string]string{"❤": "❤️", "#⃣": "#️⃣"}

	type final struct {
		reaction string
		multi    []int
		single   int // -1: none
	}
	finals := make([]final, followers)
	errs := make(chan error, followers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, f := range s.followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			st := final{single: -1}
			<-start
			for range opsEach {
				var err error
				switch rng.IntN(6) {
				case 0, 1:
					e := pool[rng.IntN(len(pool))]
					_, err = f.React(ctx, cid, uid, e)
					if c, ok := canon[e]; ok {
						e = c
					}
					st.reaction = e
				case 2:
					_, err = f.Unreact(ctx, cid, uid)
					st.reaction = ""
				case 3:
					var opts []int
					for o := range 4 {
						if rng.IntN(2) == 0 {
							opts = append(opts, o)
						}
					}
					if len(opts) == 0 {
						_, err = f.Unvote(ctx, cid, poll.ID)
					} else {
						_, err = f.Vote(ctx, cid, poll.ID, opts)
					}
					st.multi = opts
				case 4:
					o := rng.IntN(3)
					_, err = f.Vote(ctx, cid, single.ID, []int{o})
					st.single = o
				case 5:
					_, err = f.Unvote(ctx, cid, single.ID)
					st.single = -1
				}
				if err != nil {
					errs <- fmt.Errorf("follower %d: %w", i, err)
					return
				}
			}
			finals[i] = st
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	wantR := map[string]int64{}
	wantMulti := make([]int64, 4)
	wantSingle := make([]int64, 3)
	var multiVoters, singleVoters int64
	for _, st := range finals {
		if st.reaction != "" {
			wantR[st.reaction]++
		}
		for _, o := range st.multi {
			wantMulti[o]++
		}
		if len(st.multi) > 0 {
			multiVoters++
		}
		if st.single >= 0 {
			wantSingle[st.single]++
			singleVoters++
		}
	}
	u, err := e.anon.GetUpdate(ctx, cid, uid)
	if err != nil {
		t.Fatal(err)
	}
	wantReactions(t, u, wantR)
	if u, err = e.anon.GetUpdate(ctx, cid, poll.ID); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, wantMulti, multiVoters)
	if u, err = e.anon.GetUpdate(ctx, cid, single.ID); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, u, wantSingle, singleVoters)

	// Each follower's own view matches what it last did.
	for i, f := range s.followers[:20] {
		u, err := f.GetUpdate(ctx, cid, uid)
		if err != nil {
			t.Fatal(err)
		}
		wantViewerReaction(t, u, finals[i].reaction)
		if u, err = f.GetUpdate(ctx, cid, poll.ID); err != nil {
			t.Fatal(err)
		}
		want := finals[i].multi
		if want == nil {
			want = []int{}
		}
		wantViewerVotes(t, u, want)
	}

	// The coalesced count events carry the same totals.
	if _, err := e.db.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	events, _, err := e.db.EventsAfter(ctx, cid, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var last *herald.Counts
	for _, ev := range events {
		if ev.Type == herald.EventUpdateReactions && ev.UpdateID == uid {
			last = ev.Counts
		}
	}
	if last == nil {
		t.Fatal("no update.reactions event for the hot update")
	}
	got := last.Reactions
	if got == nil {
		got = map[string]int64{}
	}
	if !maps.Equal(got, wantR) {
		t.Fatalf("update.reactions event counts %v, want %v", got, wantR)
	}
}
