package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/outbound"
)

// Store is what the worker needs: webhooks and the channels' event logs.
type Store interface {
	herald.WebhookStore
	StreamHeads(ctx context.Context, streams []string) (map[string]int64, error)
	EventsAfter(ctx context.Context, stream string, after int64, limit int) ([]herald.Event, bool, error)
}

// Config configures a Worker.
type Config struct {
	Store  Store
	Policy outbound.Policy // who may be posted to; re-checked on every delivery
	Clock  herald.Clock    // nil: SystemClock (a FakeClock drives backoff in tests)
	Logger *slog.Logger    // nil: slog.Default()
	// Workers is how many webhooks are delivered to at once (default 8);
	// each webhook is delivered to by one worker at a time, in order.
	Workers int
	// Lease is how long a claimed webhook stays held without progress
	// (default 20 s: more than Timeout, renewed after every delivery); Poll how often idle workers look for work besides
	// Notify (default 1 s); Timeout bounds one delivery (default 10 s).
	Lease, Poll, Timeout time.Duration
	// PageAge is how long events read from the log are sent before it is
	// read again (default 2 s): events are hydrated from current state, so
	// an update deleted or edited since is sent as it is now, or not at all.
	PageAge time.Duration
}

// Worker delivers events to webhooks. Run it on every node: webhooks are
// claimed with leases, so each event is delivered by one node, in order.
type Worker struct {
	cfg    Config
	client *http.Client
	wake   chan struct{}
}

// pageSize is how many events one read of a channel's log returns.
const pageSize = 100

// New returns a Worker.
func New(cfg Config) *Worker {
	if cfg.Clock == nil {
		cfg.Clock = herald.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 20 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.PageAge <= 0 {
		cfg.PageAge = 2 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Lease <= cfg.Timeout {
		// A delivery still running must not lose its webhook to another
		// node (herald serve refuses such options; this guards other callers).
		cfg.Lease = 2 * cfg.Timeout
	}
	p := cfg.Policy
	p.MaxRedirects = 0 // a redirect is an answer (a failure), never followed
	p.Timeout = cfg.Timeout
	return &Worker{cfg: cfg, client: outbound.NewClient(p), wake: make(chan struct{}, 1)}
}

// Notify tells idle workers that events were committed.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Publish makes the Worker a herald.EventPublisher that wakes on events
// of the channels' logs.
func (w *Worker) Publish(_ context.Context, events []herald.Event) {
	for _, ev := range events {
		if ev.Stream == ev.ChannelID {
			w.Notify()
			return
		}
	}
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	// One ticker for all: an idle node makes one claim attempt per Poll.
	wg.Go(func() {
		t := time.NewTicker(w.cfg.Poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.Notify()
			}
		}
	})
	for range w.cfg.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				worked, err := w.RunOnce(ctx)
				if err != nil && ctx.Err() == nil {
					w.cfg.Logger.Error("webhook delivery", "err", err)
				}
				if worked {
					// There may be more webhooks with work: wake an idle
					// worker for them while this one looks again.
					w.Notify()
					continue
				}
				select {
				case <-ctx.Done():
				case <-w.wake:
				}
			}
		})
	}
	wg.Wait()
}

// RunOnce claims one webhook with events to deliver and delivers them until
// it is caught up or an attempt fails. worked is false when there was
// nothing to do.
func (w *Worker) RunOnce(ctx context.Context) (worked bool, err error) {
	job, err := w.cfg.Store.ClaimWebhook(ctx, w.cfg.Lease)
	if err != nil || job == nil {
		return false, err
	}
	err = w.deliverJob(ctx, job)
	if errors.Is(err, herald.ErrWebhookLeaseLost) {
		return true, nil // another worker has it now, or it was disabled or deleted
	}
	return true, err
}

// deliverJob delivers a claimed webhook's events in order.
func (w *Worker) deliverJob(ctx context.Context, job *herald.WebhookJob) error {
	release := func() {
		_ = w.cfg.Store.ReleaseWebhook(context.WithoutCancel(ctx), job.ID, job.Lease)
	}
	if err := w.cfg.Policy.CheckURL(job.URL, "https"); err != nil {
		now := w.cfg.Clock.Now().UTC()
		d := herald.WebhookDelivery{At: now, Seq: job.Cursor, Attempt: job.Attempts + 1, Error: "URL refused: " + err.Error()}
		return w.cfg.Store.FailWebhook(ctx, job.ID, job.Lease, d, now, "The server refuses this URL: "+err.Error())
	}
	if job.Floor > job.Cursor {
		// The log no longer holds the events after the cursor (pruned by
		// age): go on from the oldest it holds, and say so in the log.
		now := w.cfg.Clock.Now().UTC()
		d := &herald.WebhookDelivery{At: now, Seq: job.Floor, Attempt: 1, Error: "Older events are no longer kept; delivery resumes after them."}
		if err := w.cfg.Store.AdvanceWebhook(ctx, job.ID, job.Lease, job.Floor, d, w.cfg.Lease); err != nil {
			return err
		}
		job.Cursor = job.Floor
	}
	cursor, delivered := job.Cursor, job.Cursor
	for {
		// The head read first: once a page comes back short, every event
		// up to it was seen (commit order is seq order), so the cursor may
		// pass it even when the page's last events were erased updates.
		heads, err := w.cfg.Store.StreamHeads(ctx, []string{job.ChannelID})
		if err != nil {
			release()
			return err
		}
		head, known := heads[job.ChannelID]
		if !known {
			release() // the channel is being deleted, its webhooks with it
			return nil
		}
		evs, ok, err := w.cfg.Store.EventsAfter(ctx, job.ChannelID, cursor, pageSize)
		readAt := time.Now()
		if err != nil {
			release()
			return err
		}
		if !ok {
			// Pruned meanwhile: the next claim starts from the floor.
			release()
			return nil
		}
		stale := false
		for i, ev := range evs {
			if i > 0 && time.Since(readAt) > w.cfg.PageAge {
				// Read again: an update deleted since must not be sent.
				stale = true
				break
			}
			if !job.Subscribed(ev.Type) {
				cursor = ev.Seq
				continue
			}
			d, gone, err := w.deliver(ctx, job, ev)
			if err != nil && ctx.Err() != nil {
				release() // stopping: not the receiver's failure; another node may go on at once
				return nil
			}
			if err != nil {
				return w.fail(ctx, job, d, gone, err)
			}
			if err := w.cfg.Store.AdvanceWebhook(ctx, job.ID, job.Lease, ev.Seq, &d, w.cfg.Lease); err != nil {
				return err
			}
			job.Attempts, job.FailingSince = 0, nil
			cursor, delivered = ev.Seq, ev.Seq
		}
		if stale || len(evs) == pageSize {
			continue
		}
		cursor = max(cursor, head)
		if cursor > delivered {
			if err := w.cfg.Store.AdvanceWebhook(ctx, job.ID, job.Lease, cursor, nil, w.cfg.Lease); err != nil {
				return err
			}
		}
		release()
		return nil
	}
}

// Backoff is the wait before retry n (1-based): 5 s doubling, at most an
// hour; failures go on for herald.WebhookRetryWindow.
func Backoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// fail records a failed attempt: retried with backoff, or the webhook is
// disabled (410 Gone, or failing for the whole retry window).
func (w *Worker) fail(ctx context.Context, job *herald.WebhookJob, d herald.WebhookDelivery, gone bool, cause error) error {
	now := d.At
	reason := ""
	since := now
	if job.FailingSince != nil {
		since = *job.FailingSince
	}
	switch {
	case gone:
		reason = "The receiver answered 410 Gone."
	case now.Sub(since) >= herald.WebhookRetryWindow:
		reason = fmt.Sprintf("Every delivery failed for %s; the last one: %s", herald.WebhookRetryWindow, cause)
	}
	return w.cfg.Store.FailWebhook(ctx, job.ID, job.Lease, d, now.Add(Backoff(d.Attempt)), reason)
}

// Payload is the body of a delivery: the event as the channel's followers'
// streams carry it (Standard Webhooks' type, timestamp and data).
type Payload struct {
	Type      string       `json:"type"`
	Timestamp time.Time    `json:"timestamp"`
	Data      herald.Event `json:"data"`
}

// MessageID is the webhook-id of an event's delivery to a webhook: the same
// on every retry, so receivers can drop duplicates.
func MessageID(webhookID string, seq int64) string {
	return "msg_" + webhookID + "_" + strconv.FormatInt(seq, 10)
}

// deliver posts one event. err says why it failed; gone is a 410.
func (w *Worker) deliver(ctx context.Context, job *herald.WebhookJob, ev herald.Event) (d herald.WebhookDelivery, gone bool, err error) {
	start := w.cfg.Clock.Now().UTC()
	d = herald.WebhookDelivery{At: start, EventType: ev.Type, Seq: ev.Seq, Attempt: job.Attempts + 1}
	body, err := json.Marshal(Payload{Type: ev.Type, Timestamp: ev.CreatedAt.UTC(), Data: ev})
	if err != nil {
		return d, false, err
	}
	id := MessageID(job.ID, ev.Seq)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.URL, bytes.NewReader(body))
	if err != nil {
		d.Error = "Invalid URL."
		return d, false, errors.New(d.Error)
	}
	ts := start.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Herald-Webhooks/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(job.Secret, id, ts, body))
	t0 := time.Now()
	resp, err := w.client.Do(req)
	d.LatencyMS = time.Since(t0).Milliseconds()
	if err != nil {
		d.Error = describe(err)
		return d, false, errors.New(d.Error)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	d.Status = resp.StatusCode
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return d, false, nil
	}
	d.Error = "The receiver answered " + strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode) + "."
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		d.Error += " Redirects are not followed."
	}
	return d, resp.StatusCode == http.StatusGone, errors.New(d.Error)
}

// describe says why a request got no answer, without internal detail.
func describe(err error) string {
	switch {
	case errors.Is(err, outbound.ErrAddrRefused):
		return "The URL's host resolves to an address that may not be reached."
	case errors.Is(err, outbound.ErrHostRefused):
		return "The URL's host may not be reached."
	case errors.Is(err, context.DeadlineExceeded):
		return "No answer in time."
	}
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return "No answer in time."
	}
	return "Could not connect: " + err.Error()
}
