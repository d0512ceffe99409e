package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald"
)

// Key is a channel API key as created: Secret is set only in the answer
// to CreateKey (the server keeps a hash and never shows it again).
type Key struct {
	herald.ChannelKey
	Secret string `json:"secret,omitempty"`
}

// CreateKey creates an API key for a channel (admins) with the given
// scopes (herald.ScopePost, ScopeEdit, ScopeDelete, ScopeMedia). Use the
// secret as a token: client.New(server, key.Secret).
func (c *Client) CreateKey(ctx context.Context, channelID, name string, scopes ...string) (*Key, error) {
	var k Key
	in := map[string]any{"name": name, "scopes": scopes}
	return &k, c.Do(ctx, http.MethodPost, "/api/v1/channels/"+esc(channelID)+"/keys", in, &k)
}

// ListKeys lists a channel's API keys, without their secrets (admins).
func (c *Client) ListKeys(ctx context.Context, channelID string) ([]*herald.ChannelKey, error) {
	var out struct {
		Keys []*herald.ChannelKey `json:"keys"`
	}
	return out.Keys, c.Do(ctx, http.MethodGet, "/api/v1/channels/"+esc(channelID)+"/keys", nil, &out)
}

// RevokeKey revokes an API key at once (admins).
func (c *Client) RevokeKey(ctx context.Context, channelID, keyID string) error {
	return c.Do(ctx, http.MethodDelete, "/api/v1/channels/"+esc(channelID)+"/keys/"+esc(keyID), nil, nil)
}

// NewIdempotencyKey returns a random Idempotency-Key.
func NewIdempotencyKey() string { return rand.Text() }

// Post is a new update as Publish sends it.
type Post struct {
	Text string
	Poll *PollInput
	// Media are uploads (UploadMedia) the update carries, with alt texts.
	Media []herald.MediaRef
	// PublishAt, if set, schedules the update instead (see Publish).
	PublishAt time.Time
	// IdempotencyKey makes retries safe: the server creates the update at
	// most once per key (for 24 hours) and answers a retry with the first
	// answer. Publish sets a random one when it is empty.
	IdempotencyKey string
	// Retries is how many times a 429 (rate limited) is retried after its
	// Retry-After, with the same IdempotencyKey (0: none).
	Retries int
}

// Publish posts an update (or schedules it when p.PublishAt is set) with
// an Idempotency-Key, retrying rate-limited attempts after Retry-After.
// It returns the update, or, when scheduled, nil and the scheduled update.
func (c *Client) Publish(ctx context.Context, channelID string, p Post) (*herald.Update, *herald.ScheduledUpdate, error) {
	if p.IdempotencyKey == "" {
		p.IdempotencyKey = NewIdempotencyKey()
	}
	in := struct {
		Text      string            `json:"text"`
		Poll      *PollInput        `json:"poll,omitempty"`
		Media     []herald.MediaRef `json:"media,omitempty"`
		PublishAt string            `json:"publish_at,omitempty"`
	}{Text: p.Text, Poll: p.Poll, Media: p.Media}
	if !p.PublishAt.IsZero() {
		in.PublishAt = p.PublishAt.UTC().Format(time.RFC3339Nano)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, nil, err
	}
	header := http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {strconv.Quote(p.IdempotencyKey)}}
	var u herald.Update
	var sched herald.ScheduledUpdate
	var out any = &u
	if !p.PublishAt.IsZero() {
		out = &sched
	}
	for attempt := 0; ; attempt++ {
		err = c.send(ctx, http.MethodPost, "/api/v1/channels/"+esc(channelID)+"/updates", body, header, out)
		var prob *Problem
		if err == nil || attempt >= p.Retries || !errors.As(err, &prob) || prob.Status != http.StatusTooManyRequests {
			break
		}
		wait := time.Second
		if prob.RetryAfter > 0 {
			wait = prob.RetryAfter
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if !p.PublishAt.IsZero() {
		return nil, &sched, nil
	}
	return &u, nil, nil
}

// PostText posts text as a text/plain body, the simplest way to publish,
// with an optional Idempotency-Key ("" sends none).
func (c *Client) PostText(ctx context.Context, channelID, text, idempotencyKey string) (*herald.Update, error) {
	header := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	if idempotencyKey != "" {
		header.Set("Idempotency-Key", strconv.Quote(idempotencyKey))
	}
	var u herald.Update
	return &u, c.send(ctx, http.MethodPost, "/api/v1/channels/"+esc(channelID)+"/updates", []byte(text), header, &u)
}

// ListScheduled lists a channel's scheduled updates, soonest first.
func (c *Client) ListScheduled(ctx context.Context, channelID string) ([]*herald.ScheduledUpdate, error) {
	var out struct {
		Scheduled []*herald.ScheduledUpdate `json:"scheduled"`
	}
	return out.Scheduled, c.Do(ctx, http.MethodGet, "/api/v1/channels/"+esc(channelID)+"/scheduled", nil, &out)
}

// EditScheduled changes a scheduled update's text and/or time (nil keeps it).
func (c *Client) EditScheduled(ctx context.Context, channelID, id string, text *string, publishAt *time.Time) (*herald.ScheduledUpdate, error) {
	in := map[string]any{}
	if text != nil {
		in["text"] = *text
	}
	if publishAt != nil {
		in["publish_at"] = publishAt.UTC().Format(time.RFC3339Nano)
	}
	var s herald.ScheduledUpdate
	return &s, c.Do(ctx, http.MethodPatch, "/api/v1/channels/"+esc(channelID)+"/scheduled/"+esc(id), in, &s)
}

// CancelScheduled cancels a scheduled update.
func (c *Client) CancelScheduled(ctx context.Context, channelID, id string) error {
	return c.Do(ctx, http.MethodDelete, "/api/v1/channels/"+esc(channelID)+"/scheduled/"+esc(id), nil, nil)
}

// PublishScheduled publishes a scheduled update now.
func (c *Client) PublishScheduled(ctx context.Context, channelID, id string) (*herald.Update, error) {
	var u herald.Update
	return &u, c.Do(ctx, http.MethodPost, "/api/v1/channels/"+esc(channelID)+"/scheduled/"+esc(id)+"/publish", nil, &u)
}
