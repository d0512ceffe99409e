package herald

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel API keys (issue 15): a program publishes to one channel with a
// key instead of a person's session. A key acts on its channel only, with
// its scopes only; it never reads anything about followers and never
// manages admins, keys or the channel's profile.

// Key scopes.
const (
	ScopePost   = "post"
	ScopeEdit   = "edit"
	ScopeDelete = "delete"
	ScopeMedia  = "media"
)

// Scopes lists every key scope.
var Scopes = []string{ScopePost, ScopeEdit, ScopeDelete, ScopeMedia}

// Key limits.
const (
	KeyNameMaxLen     = 100
	MaxKeysPerChannel = 50
	// KeySecretPrefix starts every key secret, so that a secret is
	// recognisable (by people and by secret scanners) and never taken for a
	// session token.
	KeySecretPrefix = "hk_"
)

// keyActorPrefix marks the actor id of a store call made with a key:
// account ids never contain ':'.
const keyActorPrefix = "key:"

// KeyActor returns the actor id a store call made with key keyID passes:
// stores authorize it as an admin of the key's channel only, and a viewer
// with this id has no reaction or vote of its own.
// A revoked key is EUNAUTHORIZED ("invalid-token") in every store call:
// the check the HTTP layer's cache of key lookups relies on.
func KeyActor(keyID string) string { return keyActorPrefix + keyID }

// KeyOfActor returns the key id of an actor id made by KeyActor.
func KeyOfActor(actorID string) (string, bool) {
	id, ok := strings.CutPrefix(actorID, keyActorPrefix)
	return id, ok && id != ""
}

// ChannelKey is a channel's API key as admins see it: never its secret.
type ChannelKey struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"channel_id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsed is the day (UTC, YYYY-MM-DD) the key was last used, or nil:
	// to the day only, so the list tells whether a key is alive without
	// recording when a program runs.
	LastUsed *string `json:"last_used"`
}

// Normalize trims and checks a new key: a name of 1-100 characters, at
// least one known scope; scopes are sorted and deduplicated.
func (k *ChannelKey) Normalize() error {
	k.Name = strings.TrimSpace(k.Name)
	if !utf8.ValidString(k.Name) || hasControl(k.Name) {
		return KindErrorf(EINVALID, "invalid-key-name", "Key name contains invalid characters.")
	}
	if n := utf8.RuneCountInString(k.Name); n < 1 || n > KeyNameMaxLen {
		return KindErrorf(EINVALID, "invalid-key-name", "Key name must be 1 to %d characters.", KeyNameMaxLen)
	}
	if len(k.Scopes) == 0 || len(k.Scopes) > len(Scopes) {
		return KindErrorf(EINVALID, "invalid-scopes", "Give the key 1 to %d scopes among %v.", len(Scopes), Scopes)
	}
	for _, s := range k.Scopes {
		if !slices.Contains(Scopes, s) {
			return KindErrorf(EINVALID, "invalid-scopes", "Unknown scope %q: scopes are %v.", s, Scopes)
		}
	}
	slices.Sort(k.Scopes)
	k.Scopes = slices.Compact(k.Scopes)
	return nil
}

// Allows reports whether the key has scope.
func (k *ChannelKey) Allows(scope string) bool { return slices.Contains(k.Scopes, scope) }

// KeyDay is how a key's last use is recorded: its UTC day.
func KeyDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// KeyStore keeps channel API keys.
type KeyStore interface {
	// CreateChannelKey stores a new key (admins only) with the hash of its
	// secret; sets ID, ChannelID and CreatedAt. ECONFLICT past
	// MaxKeysPerChannel.
	CreateChannelKey(ctx context.Context, actorID, channelID string, k *ChannelKey, secretHash []byte) error
	// ListChannelKeys returns every key of the channel, oldest first, to its
	// admins (whoever created them).
	ListChannelKeys(ctx context.Context, actorID, channelID string) ([]*ChannelKey, error)
	// DeleteChannelKey revokes a key (admins only): from the commit on, no
	// request authenticates with it. ENOTFOUND for an unknown key.
	DeleteChannelKey(ctx context.Context, actorID, channelID, keyID string) error
	// FindChannelKey returns the key whose secret hashes to secretHash, and
	// records today as its last use. EUNAUTHORIZED if there is none.
	FindChannelKey(ctx context.Context, secretHash []byte) (*ChannelKey, error)
}

// Idempotency (Idempotency-Key header, draft-ietf-httpapi-idempotency-key-header).
const (
	// IdempotencyTTL is how long a key's first answer is kept and replayed.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyLease is how long a claimed key stays "in flight" without
	// an answer: past it (the node that claimed it died), a retry may claim
	// it again.
	IdempotencyLease = time.Minute
	// IdempotencyKeyMaxLen bounds a client's key.
	IdempotencyKeyMaxLen = 255
)

// IdempotentResponse is the stored first answer to a request.
type IdempotentResponse struct {
	Status  int
	Headers map[string]string // only those worth replaying (Content-Type, Location)
	Body    []byte
	// ChannelID (the channel in the request's path) and ResourceID (the
	// "id" of what was created) let stores erase a kept answer with the
	// content it holds: when that update is deleted or expires, that
	// scheduled update is published or cancelled, that channel is deleted.
	ChannelID, ResourceID string
}

// IdempotencyStore remembers which requests were already answered, per
// principal and key, so that a retried POST creates nothing twice, on any
// node.
type IdempotencyStore interface {
	// ClaimIdempotencyKey claims (principal, key) for a request whose
	// fingerprint is given. It returns (nil, nil) when the caller now owns
	// the key and must run the request, then Complete or Release it; the
	// stored response when the same request was already answered;
	// EUNPROCESSABLE ("idempotency-key-reused") when the key was used for a
	// different request; ECONFLICT ("idempotency-in-flight") while the
	// first request is still running.
	ClaimIdempotencyKey(ctx context.Context, principal, key string, fingerprint []byte) (*IdempotentResponse, error)
	// CompleteIdempotencyKey stores the answer of a claimed key.
	CompleteIdempotencyKey(ctx context.Context, principal, key string, resp *IdempotentResponse) error
	// ReleaseIdempotencyKey forgets a claimed key whose request was not
	// answered with success, so that a retry runs it again.
	ReleaseIdempotencyKey(ctx context.Context, principal, key string) error
	// PruneIdempotencyKeys erases keys older than IdempotencyTTL.
	PruneIdempotencyKeys(ctx context.Context) (int, error)
}

// IdempotentWrite is an Idempotency-Key request that a store records in
// the transaction of the one write it makes (CreateUpdate, ScheduleUpdate
// when their context carries it): the claim, the write and the kept answer
// commit together, so a keyed post costs one transaction, not three. In
// that transaction, before writing, the store claims (Principal, Key) as
// ClaimIdempotencyKey does: an answered key returns *IdempotentReplay and
// writes nothing, another request's key ErrIdempotencyKeyReused, a
// running claim ErrIdempotencyInFlight (on PostgreSQL a concurrent
// duplicate waits for the first to commit, then is replayed).
type IdempotentWrite struct {
	Principal, Key string
	Fingerprint    []byte
	// Answer renders the answer to keep; the store calls it in the
	// transaction once the write succeeded (what it wrote filled in).
	Answer func() (*IdempotentResponse, error)
}

type idempotentWriteCtx struct{}

// WithIdempotentWrite returns ctx carrying w for the store write made with it.
func WithIdempotentWrite(ctx context.Context, w *IdempotentWrite) context.Context {
	return context.WithValue(ctx, idempotentWriteCtx{}, w)
}

// IdempotentWriteOf returns the IdempotentWrite ctx carries, or nil.
func IdempotentWriteOf(ctx context.Context) *IdempotentWrite {
	w, _ := ctx.Value(idempotentWriteCtx{}).(*IdempotentWrite)
	return w
}

// IdempotentReplay is the error of a write whose Idempotency-Key was
// already answered: nothing was written, Response is the first answer.
type IdempotentReplay struct{ Response *IdempotentResponse }

func (e *IdempotentReplay) Error() string { return "idempotency key already answered" }

// Idempotency errors, the same from every store.
var (
	ErrIdempotencyKeyReused = KindErrorf(EUNPROCESSABLE, "idempotency-key-reused",
		"This Idempotency-Key was already used for a different request.")
	ErrIdempotencyInFlight = KindErrorf(ECONFLICT, "idempotency-in-flight",
		"A request with this Idempotency-Key is still being processed; retry later.")
)

// HandleStore resolves channel handles, so that "@handle" works wherever
// the API takes a channel id.
type HandleStore interface {
	// ChannelIDByHandle returns the id of the channel with this handle
	// (already lowercased). ENOTFOUND. The id alone reveals nothing: every
	// read or write with it checks access as for any id.
	ChannelIDByHandle(ctx context.Context, handle string) (string, error)
}

// Scheduled updates.
const (
	// MaxScheduleAhead is how far ahead an update may be scheduled.
	MaxScheduleAhead = 366 * 24 * time.Hour
	// MaxScheduledPerChannel bounds a channel's pending scheduled updates.
	MaxScheduledPerChannel = 1000
)

// ScheduledUpdate is an update waiting for its publication time. Only the
// channel's admins and keys see it; once published it is an Update like
// any other (its retention counts from publication).
type ScheduledUpdate struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"channel_id"`
	Text      string    `json:"text"`
	Poll      *Poll     `json:"poll,omitempty"`
	Media     []Media   `json:"media,omitempty"` // attached when scheduled, kept until published
	PublishAt time.Time `json:"publish_at"`
	CreatedAt time.Time `json:"created_at"`
}

// ValidatePublishAt checks a publication time: after now, at most
// MaxScheduleAhead ahead.
func ValidatePublishAt(at, now time.Time) error {
	if !at.After(now) {
		return KindErrorf(EINVALID, "invalid-publish-at", "publish_at must be in the future.")
	}
	if at.After(now.Add(MaxScheduleAhead)) {
		return KindErrorf(EINVALID, "invalid-publish-at", "publish_at must be at most a year ahead.")
	}
	return nil
}

// ScheduleStore keeps scheduled updates. Every method but PublishDue is
// for the channel's admins (and keys, which the HTTP layer limits by
// scope).
type ScheduleStore interface {
	// ScheduleUpdate validates (text, poll, media, publish_at) and stores a
	// scheduled update; sets ID, ChannelID and CreatedAt. ECONFLICT past
	// MaxScheduledPerChannel.
	ScheduleUpdate(ctx context.Context, actorID, channelID string, s *ScheduledUpdate) error
	// ListScheduled returns the channel's scheduled updates, soonest first.
	ListScheduled(ctx context.Context, actorID, channelID string) ([]*ScheduledUpdate, error)
	// EditScheduled changes the text and/or the time of a scheduled update.
	EditScheduled(ctx context.Context, actorID, channelID, id string, text *string, publishAt *time.Time) (*ScheduledUpdate, error)
	// CancelScheduled deletes a scheduled update. ENOTFOUND once published.
	CancelScheduled(ctx context.Context, actorID, channelID, id string) error
	// PublishScheduled publishes a scheduled update now.
	PublishScheduled(ctx context.Context, actorID, channelID, id string) (*Update, error)
	// PublishDue publishes, each exactly once even with several nodes
	// calling it, up to limit scheduled updates whose time has come,
	// soonest first, each in the transaction that removes it from the
	// schedule. Returns how many it published.
	PublishDue(ctx context.Context, limit int) (int, error)
}
