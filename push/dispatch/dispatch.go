// Package dispatch delivers Web Push notifications: it claims the durable
// push jobs the store creates with each update (herald.PushJobStore),
// walks the channel's devices page by page (herald.PushStore.PushTargets,
// never all at once), encrypts and sends each push with a bounded number of
// requests in flight, records the job's cursor after every page (a restart
// resumes there: at-least-once, no device skipped), and retries 429, 5xx
// and transport failures per device with backoff honouring Retry-After.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/push"
)

// Store is what the dispatcher reads and writes.
type Store interface {
	herald.PushStore
	herald.PushJobStore
}

// Content says what a notification carries.
type Content string

// The --push-content values.
const (
	// Preview: channel id and name, update id and seq, the first
	// PreviewRunes characters of the text.
	Preview Content = "preview"
	// Minimal: only the channel's and the update's ids (the app fetches
	// the text itself).
	Minimal Content = "minimal"
)

// PreviewRunes is how much of an update's text a preview carries.
const PreviewRunes = 200

// Defaults of Config's zero fields.
const (
	DefaultConcurrency = 128
	DefaultPageSize    = 500
	DefaultLease       = 15 * time.Second
	DefaultPoll        = time.Second
	maxJobs            = 4   // jobs one node walks at once (they share Concurrency)
	retryBatch         = 200 // retries claimed at once
	maxBackoff         = 10 * time.Minute
)

// Config configures a Dispatcher. Store and Sender are required.
type Config struct {
	Store       Store
	Sender      *push.Sender
	Content     Content       // default Preview
	Concurrency int           // requests in flight on this node
	PageSize    int           // devices per PushTargets page
	Lease       time.Duration // how long a claimed job is held without news; renewed by every page and every Lease/3
	Poll        time.Duration // how often the store is asked for jobs and due retries without a Wake
	Logger      *slog.Logger
	Clock       herald.Clock
}

// Dispatcher runs the push jobs of one node; several nodes may share a
// store (each job is walked by one of them at a time).
type Dispatcher struct {
	cfg  Config
	work chan func() // Concurrency workers take sends from here
	wake chan struct{}
}

// New returns a Dispatcher; Run starts it.
func New(cfg Config) *Dispatcher {
	if cfg.Content == "" {
		cfg.Content = Preview
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = herald.SystemClock{}
	}
	return &Dispatcher{cfg: cfg, work: make(chan func()), wake: make(chan struct{}, 1)}
}

// Wake tells the dispatcher a job may be waiting (an update was just
// posted on this node); it never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Publish implements herald.EventPublisher: a created or edited update
// wakes the dispatcher (its job was committed with it).
func (d *Dispatcher) Publish(_ context.Context, events []herald.Event) {
	for _, e := range events {
		if e.Type == herald.EventUpdateCreated || e.Type == herald.EventUpdateEdited {
			d.Wake()
			return
		}
	}
}

// Run claims and walks jobs, and sends due retries, until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	// Long-lived workers rather than a goroutine per push: their stacks
	// have grown once (Send's is deep), and the bound is their number.
	for range d.cfg.Concurrency {
		wg.Go(func() {
			for {
				select {
				case f := <-d.work:
					f()
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Go(func() { d.retryLoop(ctx) })
	jobs := make(chan struct{}, maxJobs) // slots
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		// Claim while there are free slots and jobs.
		for {
			select {
			case jobs <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return
			}
			job, err := d.cfg.Store.ClaimPushJob(ctx, d.cfg.Lease)
			if err != nil && ctx.Err() == nil {
				d.cfg.Logger.Error("push: claiming a job", "err", err)
			}
			if job == nil {
				<-jobs
				break
			}
			wg.Go(func() {
				defer func() { <-jobs }()
				d.runJob(ctx, job)
				d.Wake() // a slot is free: look again at once
			})
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		case <-d.wake:
		}
	}
	wg.Wait()
}

// message builds the push of an update: the payload (the same bytes for
// every device; each device's copy is encrypted to it), TTL the time left
// until the update expires, Urgency high, Topic the update's id, so a later
// push of the same update (an edit) replaces the notification.
func (d *Dispatcher) message(u herald.PushUpdate) push.Message {
	type ref struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
		Seq  int64  `json:"seq,omitempty"`
		Text string `json:"text,omitempty"`
	}
	p := struct {
		Type    string `json:"type"`
		Channel ref    `json:"channel"`
		Update  ref    `json:"update"`
	}{Type: herald.EventUpdateCreated, Channel: ref{ID: u.ChannelID}, Update: ref{ID: u.UpdateID}}
	if u.Edit {
		p.Type = herald.EventUpdateEdited
	}
	if d.cfg.Content != Minimal {
		p.Channel.Name = u.ChannelName
		p.Update.Seq = u.Seq
		p.Update.Text = previewText(u.Text)
	}
	payload, _ := json.Marshal(p) // plain strings and numbers: cannot fail
	ttl := max(u.ExpiresAt.Sub(d.cfg.Clock.Now()).Truncate(time.Second), 0)
	return push.Message{Payload: payload, TTL: ttl, Urgency: push.UrgencyHigh, Topic: topic(u.UpdateID)}
}

// topic is the RFC 8030 Topic of an update's pushes: its id when that fits
// (ids are 26 lower-case base32 characters), else none.
func topic(updateID string) string {
	if push.ValidTopic(updateID) != nil {
		return ""
	}
	return updateID
}

// previewText returns the first PreviewRunes characters of text, cut at a
// space when one is near the end, with an ellipsis if anything was cut.
func previewText(text string) string {
	if utf8.RuneCountInString(text) <= PreviewRunes {
		return text
	}
	n, i := 0, 0
	for i = range text {
		if n == PreviewRunes {
			break
		}
		n++
	}
	cut := text[:i]
	if sp := strings.LastIndexAny(cut, " \n\t"); sp > len(cut)*3/4 {
		cut = cut[:sp]
	}
	return strings.TrimRight(cut, " \n\t") + "…"
}

// runJob walks a claimed job to its end, or until its lease is lost (the
// update was deleted, or this node was too slow and another took it).
//
// Pages overlap: once every device of a page has been handed to a worker,
// the next page is read and handed out while the first one's last requests
// finish, so the workers never drain at a page boundary. A page's cursor is
// recorded only when it and every page before it are done: a restart
// resumes after the last page fully sent (at-least-once, nothing skipped).
// At most two pages are held at once.
func (d *Dispatcher) runJob(ctx context.Context, job *herald.PushJob) {
	log := d.cfg.Logger.With("channel", job.ChannelID, "update", job.UpdateID)
	jobCtx, cancel := context.WithCancel(ctx)
	var running []*pageRun // handed out (at most two), oldest first, not yet recorded
	defer func() {
		cancel() // an abandoned page is sent again by whoever resumes at the cursor
		for _, p := range running {
			<-p.done
		}
	}()
	cursor := job.Cursor // recorded: every device before it has been sent to
	read := cursor       // where the next page starts
	for {
		targets, next, err := d.cfg.Store.PushTargets(ctx, job.ChannelID, read, d.cfg.PageSize)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("push: reading devices; the job resumes when its lease ends", "err", err)
			}
			return
		}
		cur := d.startPage(jobCtx, job.PushUpdate, d.message(job.PushUpdate), targets, next)
		running = append(running, cur)
		if len(running) == 2 {
			if !d.record(ctx, log, job, running[0], &cursor) {
				return
			}
			running = running[1:]
		}
		if next == "" {
			if d.record(ctx, log, job, cur, &cursor) {
				running = nil
				jobLag.Observe(d.cfg.Clock.Now().Sub(job.QueuedAt).Seconds())
			}
			return
		}
		// The next page is read once this one is all with workers.
		if lost := d.await(ctx, cur.handedOut, job, cursor); lost || ctx.Err() != nil {
			d.giveBack(ctx, lost, job, cursor)
			return
		}
		read = next
	}
}

// pageRun is one page being sent.
type pageRun struct {
	next      string        // the cursor after it ("" on the last page)
	handedOut chan struct{} // closed when every device is with a worker (or the job ended)
	done      chan struct{} // closed when every push of the page has ended
}

// startPage sends msg to every target, Concurrency at a time across the
// node, in the background.
func (d *Dispatcher) startPage(ctx context.Context, u herald.PushUpdate, msg push.Message, targets []herald.PushSubscription, next string) *pageRun {
	p := &pageRun{next: next, handedOut: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var wg sync.WaitGroup
		for _, t := range targets {
			wg.Add(1)
			if !d.submit(ctx, func() {
				defer wg.Done()
				d.deliver(ctx, u, msg, t, 0)
			}) {
				wg.Done()
				break
			}
		}
		close(p.handedOut)
		wg.Wait()
	}()
	return p
}

// record waits for page p (renewing the lease meanwhile), then records its
// cursor, or finishes the job after the last page. It reports whether that
// was recorded; if not, the job is handed back or left to its lease.
func (d *Dispatcher) record(ctx context.Context, log *slog.Logger, job *herald.PushJob, p *pageRun, cursor *string) bool {
	lost := d.await(ctx, p.done, job, *cursor)
	if lost || ctx.Err() != nil {
		d.giveBack(ctx, lost, job, *cursor)
		return false
	}
	var err error
	if p.next == "" {
		err = d.cfg.Store.FinishPushJob(ctx, job.ID, job.Lease)
	} else {
		err = d.cfg.Store.AdvancePushJob(ctx, job.ID, job.Lease, p.next, d.cfg.Lease)
	}
	switch {
	case errors.Is(err, herald.ErrPushLeaseLost):
		return false
	case err != nil:
		if ctx.Err() == nil {
			log.Error("push: recording progress; the job resumes when its lease ends", "err", err)
		}
		return false
	}
	*cursor = p.next
	return true
}

// giveBack, when the node is stopping and still holds the job, hands it
// back now rather than when the lease ends (the pages in flight are sent
// again by whoever resumes at cursor).
func (d *Dispatcher) giveBack(ctx context.Context, lost bool, job *herald.PushJob, cursor string) {
	if lost || ctx.Err() == nil {
		return
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = d.cfg.Store.AdvancePushJob(rctx, job.ID, job.Lease, cursor, 0)
	rcancel()
}

// await waits for done (or ctx to end), renewing the job's lease at cursor
// meanwhile; it reports whether the lease was lost.
func (d *Dispatcher) await(ctx context.Context, done <-chan struct{}, job *herald.PushJob, cursor string) bool {
	t := time.NewTicker(d.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return false
		case <-ctx.Done():
			return false
		case <-t.C:
			err := d.cfg.Store.AdvancePushJob(ctx, job.ID, job.Lease, cursor, d.cfg.Lease)
			if errors.Is(err, herald.ErrPushLeaseLost) {
				return true
			}
		}
	}
}

// submit hands f to a worker; false if ctx ended first.
func (d *Dispatcher) submit(ctx context.Context, f func()) bool {
	select {
	case d.work <- f:
		return true
	case <-ctx.Done():
		return false
	}
}

// deliver sends one push and acts on the answer. attempts counts earlier
// attempts.
// It reports whether the retry row (if any) must be deleted.
func (d *Dispatcher) deliver(ctx context.Context, u herald.PushUpdate, msg push.Message, t herald.PushSubscription, attempts int) (finished bool) {
	res, err := d.cfg.Sender.Send(ctx, push.Subscription{Endpoint: t.Endpoint, P256dh: t.P256DH, Auth: t.Auth}, msg)
	if err != nil {
		if ctx.Err() != nil {
			return false // shutting down or page abandoned: the job or retry resumes
		}
		var he *herald.Error
		if errors.As(err, &he) {
			failed.WithLabelValues("invalid").Inc()
			d.cfg.Logger.Warn("push: message refused before sending", "kind", herald.ErrorKind(err))
			return true
		}
		failed.WithLabelValues("transport").Inc()
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL: the endpoint's path is the device's secret
		}
		d.cfg.Logger.Debug("push: transport error", "host", host(t.Endpoint), "err", err)
		return d.retry(ctx, u, t, attempts, 0)
	}
	switch res.Outcome {
	case push.Delivered:
		sent.Inc()
		return true
	case push.Gone:
		failed.WithLabelValues("gone").Inc()
		if err := d.cfg.Store.DeletePushSubscriptionByEndpoint(ctx, t.Endpoint); err != nil {
			d.cfg.Logger.Error("push: removing a gone subscription", "err", err)
			return true
		}
		removed.Inc()
		return true
	case push.RetryLater:
		failed.WithLabelValues("retry").Inc()
		return d.retry(ctx, u, t, attempts, res.RetryAfter)
	default:
		failed.WithLabelValues("rejected").Inc()
		d.cfg.Logger.Warn("push: rejected by the push service", "host", host(t.Endpoint), "status", res.Status)
		return true
	}
}

// retry schedules the next attempt: after Retry-After when given, else an
// exponential backoff with jitter; given up after herald.MaxPushRetries.
func (d *Dispatcher) retry(ctx context.Context, u herald.PushUpdate, t herald.PushSubscription, attempts int, after time.Duration) bool {
	attempts++
	if attempts >= herald.MaxPushRetries {
		failed.WithLabelValues("gave-up").Inc()
		return true
	}
	if after <= 0 {
		after = min(time.Second<<attempts, maxBackoff)
		after += time.Duration(rand.Int64N(int64(after/4) + 1))
	}
	due := d.cfg.Clock.Now().Add(after)
	if !due.Before(u.ExpiresAt) {
		failed.WithLabelValues("gave-up").Inc()
		return true
	}
	if err := d.cfg.Store.SchedulePushRetry(ctx, u.UpdateID, u.Edit, t.AccountID, t.ID, attempts, due); err != nil {
		d.cfg.Logger.Error("push: scheduling a retry", "err", err)
		return false
	}
	retried.Inc()
	return false // the row was replaced (or created): keep it
}

// retryLoop sends due retries.
func (d *Dispatcher) retryLoop(ctx context.Context) {
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for ctx.Err() == nil {
			rs, err := d.cfg.Store.ClaimPushRetries(ctx, retryBatch, d.cfg.Lease)
			if err != nil {
				if ctx.Err() == nil {
					d.cfg.Logger.Error("push: claiming retries", "err", err)
				}
				break
			}
			var wg sync.WaitGroup
			for _, r := range rs {
				wg.Add(1)
				if !d.submit(ctx, func() {
					defer wg.Done()
					if d.deliver(ctx, r.PushUpdate, d.message(r.PushUpdate), r.Target, r.Attempts) {
						if err := d.cfg.Store.FinishPushRetry(ctx, r.ID, r.Lease); err != nil && ctx.Err() == nil {
							d.cfg.Logger.Error("push: finishing a retry", "err", err)
						}
					}
				}) {
					wg.Done()
					break
				}
			}
			wg.Wait()
			if len(rs) < retryBatch {
				break
			}
		}
	}
}

// host is what logs may say about an endpoint: its host, never its path
// (the path is the device's capability).
func host(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
