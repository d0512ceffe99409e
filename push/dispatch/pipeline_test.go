package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/push"
	"github.com/heraldhq/herald/push/pushtest"
)

// pagedStore is a Store holding one job over a list of devices, paged by
// index. At every recorded cursor it checks that each device before it has
// been delivered: pages overlap, but progress is only recorded past pages
// fully sent.
type pagedStore struct {
	herald.PushStore // the methods the test does not need: nil, never called
	herald.PushJobStore

	targets   []herald.PushSubscription
	delivered func() map[string]int // endpoint id -> pushes accepted

	mu       sync.Mutex
	claimed  bool
	reads    []string // the cursors PushTargets was called with
	cursors  []string // recorded by AdvancePushJob with a lease (renewals repeat one)
	finished bool
	errs     []string
}

func (s *pagedStore) ClaimPushJob(context.Context, time.Duration) (*herald.PushJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed {
		return nil, nil
	}
	s.claimed = true
	return &herald.PushJob{ID: "job", Lease: "lease", QueuedAt: time.Now(), PushUpdate: herald.PushUpdate{
		UpdateID: "abcdefghijklmnopqrstuvwxyz", ChannelID: "ch", ChannelName: "Alerts", Seq: 1, Text: "Storm",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}}, nil
}

func (s *pagedStore) PushTargets(_ context.Context, _ string, after string, limit int) ([]herald.PushSubscription, string, error) {
	s.mu.Lock()
	s.reads = append(s.reads, after)
	s.mu.Unlock()
	i := 0
	if after != "" {
		var err error
		if i, err = strconv.Atoi(after); err != nil {
			return nil, "", herald.ErrInvalidPushCursor
		}
	}
	end := min(i+limit, len(s.targets))
	next := ""
	if end < len(s.targets) {
		next = strconv.Itoa(end)
	}
	return s.targets[i:end], next, nil
}

// checkSent notes an error unless every device before index n was delivered.
func (s *pagedStore) checkSent(n int, what string) {
	got := s.delivered()
	for _, t := range s.targets[:n] {
		if got[t.ID] == 0 {
			s.mu.Lock()
			s.errs = append(s.errs, fmt.Sprintf("%s: device %s not yet delivered", what, t.ID))
			s.mu.Unlock()
			return
		}
	}
}

func (s *pagedStore) AdvancePushJob(_ context.Context, _, lease, cursor string, _ time.Duration) error {
	if lease != "lease" {
		return herald.ErrPushLeaseLost
	}
	n, _ := strconv.Atoi(cursor)
	s.checkSent(n, "cursor "+cursor+" recorded")
	s.mu.Lock()
	if len(s.cursors) == 0 || s.cursors[len(s.cursors)-1] != cursor {
		s.cursors = append(s.cursors, cursor)
	}
	s.mu.Unlock()
	return nil
}

func (s *pagedStore) FinishPushJob(context.Context, string, string) error {
	s.checkSent(len(s.targets), "job finished")
	s.mu.Lock()
	s.finished = true
	s.mu.Unlock()
	return nil
}

func (s *pagedStore) ClaimPushRetries(context.Context, int, time.Duration) ([]herald.PushRetry, error) {
	return nil, nil
}

func (s *pagedStore) SchedulePushRetry(context.Context, string, bool, string, string, int, time.Time) error {
	return errors.New("no retry expected")
}

// The dispatcher walks a job of 1,050 devices in pages of 100 with 16
// requests in flight: every device gets exactly one push, each page is read
// once and in order, and a cursor is recorded only when every device before
// it has been delivered (checked at each record), though pages overlap.
func TestJobPagesOverlapButRecordOnlyWhatWasSent(t *testing.T) {
	const n, page = 1050, 100
	ps := pushtest.NewServer(nil)
	t.Cleanup(ps.Close)
	sub := pushtest.NewSubscriber()
	store := &pagedStore{}
	for i := range n {
		ep := ps.SubscribeAs(sub)
		store.targets = append(store.targets, herald.PushSubscription{
			ID: ep[strings.LastIndexByte(ep, '/')+1:], AccountID: fmt.Sprintf("a%04d", i), Endpoint: ep, P256DH: sub.P256dh(), Auth: sub.Auth})
	}
	store.delivered = func() map[string]int {
		got := map[string]int{}
		for _, r := range ps.Received() {
			got[r.ID]++
		}
		return got
	}
	raw, err := push.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := push.ParseVAPIDKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := push.NewSigner(key, "mailto:ops@herald.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := New(Config{Store: store, Sender: &push.Sender{Client: ps.Client(), Signer: signer},
		Concurrency: 16, PageSize: page, Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	d.Wake()

	deadline := time.Now().Add(60 * time.Second)
	for {
		store.mu.Lock()
		finished := store.finished
		store.mu.Unlock()
		if finished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not finish: %d pushes accepted", ps.Accepted())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if fs := ps.Failures(); len(fs) > 0 {
		t.Fatalf("the push service refused requests: %q", fs)
	}
	reached, dups := ps.Tally()
	if reached != n || dups != 0 || ps.Accepted() != n {
		t.Fatalf("reached %d of %d devices, %d duplicates, %d accepted", reached, n, dups, ps.Accepted())
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.errs) > 0 {
		t.Fatalf("progress recorded too early: %q", store.errs)
	}
	var want []string
	for i := page; i < n; i += page {
		want = append(want, strconv.Itoa(i))
	}
	if got := strings.Join(store.cursors, ","); got != strings.Join(want, ",") {
		t.Fatalf("cursors recorded %s, want %s", got, strings.Join(want, ","))
	}
	if got := strings.Join(store.reads, ","); got != ","+strings.Join(want, ",") {
		t.Fatalf("pages read at %s", got)
	}
}
