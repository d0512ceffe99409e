package herald

import (
	"context"
	"time"
)

// Store is everything Herald persists. sqlite.DB and postgres.DB implement it
// and both pass the conformance suite in storetest/.
//
// Validation happens once, here: every method validates and normalizes its
// input with the rules of this package (Channel.Normalize, ChannelPatch.Apply,
// NormalizeUpdateText, Poll.Normalize, Poll.ValidateVote, ValidateUsername,
// NormalizeDisplayName) and package emoji, before or inside its transaction.
// Callers (the HTTP handlers) only decode requests and check their shape
// (required fields, path ids, size bounds that cap decoding work such as a
// vote's option count), and validate what never reaches a store: a
// password, which a store sees hashed.
//
// Conventions every implementation follows:
//   - Time comes from the store's Clock; an update is live while now < ExpiresAt
//     and is treated as absent (ENOTFOUND) once expired, even before pruning.
//   - actorID / viewerID is the calling account's id, or "" for anonymous.
//     Authorization is checked inside the same transaction as the write.
//   - Absent, deleted, expired and invisible objects are ENOTFOUND, never (nil, nil).
//   - Every write that followers must hear about appends an Event to the
//     affected stream's log in the same transaction, then hands the committed
//     events to the store's EventPublisher.
//   - Nothing returned ever names a follower, a reactor or a voter, and no
//     update names the admin who posted it. The one exception is
//     PushStore.PushTargets, the push sender's read of a channel's
//     followers' devices, which never leaves the server.
type Store interface {
	AccountStore
	ChannelStore
	UpdateStore
	EventStore
	DirectoryStore
	PushStore
	SigningStore
	MediaStore
	LifecycleStore
	ModerationStore
	KeyStore
	IdempotencyStore
	HandleStore
	ScheduleStore
	PushJobStore
	InsightsStore
	PreviewStore
	WebhookStore
	Close() error
}

// SigningStore keeps the channels' Ed25519 signing keys. A channel gets its
// key when created (channels older than keys, at their first update or
// rotation); CreateUpdate and EditUpdate sign with the current key
// (SignUpdate) in the same transaction, so every read returns Signature
// and KeyID. Private keys never leave the store.
type SigningStore interface {
	// SigningKeys returns a channel's public keys, the current one first,
	// then retired ones newest first, to whoever may see the channel
	// (ENOTFOUND otherwise). Empty for a channel that never signed.
	SigningKeys(ctx context.Context, viewerID, channelID string) ([]SigningKey, error)
	// RotateSigningKey retires the current key and makes a new one
	// (admins; EFORBIDDEN for followers). A retired key stays published
	// for the retention after it retired (every update it signed is live
	// at most that long), then PruneExpired erases it.
	RotateSigningKey(ctx context.Context, actorID, channelID string) (*SigningKey, error)
}

// AccountStore keeps accounts and login sessions.
type AccountStore interface {
	// CreateAccount inserts a validated account with an already-hashed
	// password; sets ID and CreatedAt. ECONFLICT if the username is taken.
	CreateAccount(ctx context.Context, a *Account, passwordHash string) error
	// FindAccountByUsername returns the account and its password hash. ENOTFOUND.
	FindAccountByUsername(ctx context.Context, username string) (*Account, string, error)
	// FindAccountByID returns an account. ENOTFOUND.
	FindAccountByID(ctx context.Context, id string) (*Account, error)
	// CreateSession stores a session keyed by the hash of its token.
	CreateSession(ctx context.Context, s *Session) error
	// FindAccountBySession returns the account of a live session. EUNAUTHORIZED
	// if the hash is unknown or the session expired.
	FindAccountBySession(ctx context.Context, tokenHash []byte) (*Account, error)
	// DeleteSession kills a session. Deleting an unknown session is not an error.
	DeleteSession(ctx context.Context, tokenHash []byte) error
}

// ChannelStore keeps channels, their admins, invites and follows.
type ChannelStore interface {
	// CreateChannel validates (Normalize) and inserts a channel owned by
	// ownerID; sets ID (random, opaque), InviteCode, CreatedAt, and Viewer.
	// ECONFLICT if the handle is taken.
	CreateChannel(ctx context.Context, ownerID string, ch *Channel) error
	// FindChannel returns a live channel as viewerID sees it. An unlisted
	// channel is ENOTFOUND to anyone who neither follows nor administers it.
	FindChannel(ctx context.Context, viewerID, channelID string) (*Channel, error)
	// FindChannelByHandle is FindChannel by handle (lower-cased first).
	// ENOTFOUND for an unknown handle.
	FindChannelByHandle(ctx context.Context, viewerID, handle string) (*Channel, error)
	// UpdateChannel applies a patch (admins only: EFORBIDDEN for followers,
	// ENOTFOUND if invisible) and appends channel.updated.
	UpdateChannel(ctx context.Context, actorID, channelID string, p ChannelPatch) (*Channel, error)
	// DeleteChannel erases a channel with all its updates, reactions, votes,
	// follows and events (owner only); appends channel.deleted for followers first.
	DeleteChannel(ctx context.Context, actorID, channelID string) error
	// SetVerified sets a channel's verified flag, listed or not, and appends
	// channel.updated. Operators only: no API route reaches it (the
	// `herald operator verify` command does, on the server's store).
	SetVerified(ctx context.Context, channelID string, verified bool) (*Channel, error)

	// ListAdmins returns the owner and admins (visible to admins only).
	ListAdmins(ctx context.Context, actorID, channelID string) ([]Admin, error)
	// AddAdmin makes username an admin (owner only; ECONFLICT past MaxAdmins
	// or if already an admin; EINVALID for a malformed username, ENOTFOUND
	// for an unknown one).
	AddAdmin(ctx context.Context, actorID, channelID, username string) (*Admin, error)
	// RemoveAdmin removes an admin (owner only, or an admin removing
	// themselves; the owner can't be removed: transfer first).
	RemoveAdmin(ctx context.Context, actorID, channelID, accountID string) error
	// TransferOwnership makes an existing admin the owner; the old owner stays
	// an admin (owner only).
	TransferOwnership(ctx context.Context, actorID, channelID, newOwnerID string) error

	// Follow makes accountID follow a listed channel (idempotent) and appends
	// channel.followed to the account's stream when it changed anything.
	// Unlisted channels can be followed only through FollowByInvite.
	Follow(ctx context.Context, accountID, channelID string) (*Channel, error)
	// Unfollow stops following (idempotent); appends channel.unfollowed when it changed anything.
	Unfollow(ctx context.Context, accountID, channelID string) error
	// SetMuted mutes or unmutes a followed channel (EINVALID-ish ECONFLICT if not following).
	SetMuted(ctx context.Context, accountID, channelID string, muted bool) (*Channel, error)
	// ListFollowedChannels returns the channels accountID follows, with
	// LastUpdateAt, most recently active first.
	ListFollowedChannels(ctx context.Context, accountID string) ([]*Channel, error)
	// ListManagedChannels returns the channels accountID owns or administers,
	// seen as their admin (Viewer.Role and InviteCode filled), with
	// LastUpdateAt, most recently active first. Admins need not follow their
	// channels, so this is how they find them again.
	ListManagedChannels(ctx context.Context, accountID string) ([]*Channel, error)

	// RotateInvite replaces the channel's invite code (admins); the old code is dead at once.
	RotateInvite(ctx context.Context, actorID, channelID string) (string, error)
	// FindChannelByInvite returns the channel an invite code opens. ENOTFOUND.
	FindChannelByInvite(ctx context.Context, viewerID, code string) (*Channel, error)
	// FollowByInvite follows the channel an invite opens (listed or not).
	FollowByInvite(ctx context.Context, accountID, code string) (*Channel, error)
}

// UpdateStore keeps updates, reactions and poll votes.
type UpdateStore interface {
	// CreateUpdate posts an update (admins only). u.Text is normalized; u.Poll
	// is optional and normalized. Sets ID, ChannelID, Seq (next per channel),
	// CreatedAt and ExpiresAt (CreatedAt + retention); appends update.created.
	CreateUpdate(ctx context.Context, actorID, channelID string, u *Update) error
	// FindUpdate returns a live update with counts and the viewer's own reaction and votes.
	FindUpdate(ctx context.Context, viewerID, channelID, updateID string) (*Update, error)
	// ListUpdates returns live updates newest first, with seq < before when
	// before > 0, at most limit (already clamped by the caller).
	ListUpdates(ctx context.Context, viewerID, channelID string, before int64, limit int) ([]*Update, error)
	// EditUpdate replaces the text of a live update (admins); sets EditedAt; appends update.edited.
	// The text may be empty only if the update has media (else ErrEmptyText).
	EditUpdate(ctx context.Context, actorID, channelID, updateID, text string) (*Update, error)
	// DeleteUpdate erases an update with its reactions and votes (admins); appends update.deleted.
	DeleteUpdate(ctx context.Context, actorID, channelID, updateID string) error
	// SetPinned pins or unpins a live update (admins) and appends
	// update.pinned when it changed anything. ECONFLICT (too-many-pinned)
	// past MaxPinned live pinned updates.
	SetPinned(ctx context.Context, actorID, channelID, updateID string, pinned bool) (*Update, error)
	// ListPinned returns the channel's live pinned updates, most recently
	// pinned first, as viewerID sees them.
	ListPinned(ctx context.Context, viewerID, channelID string) ([]*Update, error)

	// SetReaction sets the account's one reaction (followers and admins;
	// EFORBIDDEN otherwise, or when the channel's setting refuses the emoji).
	// emoji must be exactly one emoji (EINVALID otherwise); it is stored in
	// its canonical form (emoji.Normalize).
	SetReaction(ctx context.Context, accountID, channelID, updateID, emoji string) (*Update, error)
	// RemoveReaction removes the account's reaction (idempotent).
	RemoveReaction(ctx context.Context, accountID, channelID, updateID string) (*Update, error)
	// Vote sets the account's vote in the update's poll (replacing any earlier one).
	Vote(ctx context.Context, accountID, channelID, updateID string, options []int) (*Update, error)
	// RetractVote removes the account's vote (idempotent).
	RetractVote(ctx context.Context, accountID, channelID, updateID string) (*Update, error)

	// FlushCounts appends one update.reactions / update.poll event per update
	// whose counts changed since the last flush and publishes them. Called
	// about once a second; safe to call from several nodes (work done once).
	FlushCounts(ctx context.Context) (int, error)
	// PruneExpired erases every expired update with its reactions, votes and
	// events, and events older than the retention. Returns updates erased.
	PruneExpired(ctx context.Context) (int, error)
}

// EventStore reads the durable per-stream event logs.
type EventStore interface {
	// StreamHeads returns the last seq of each named stream (0 for a stream
	// with no events yet). Unknown streams are omitted.
	StreamHeads(ctx context.Context, streams []string) (map[string]int64, error)
	// EventsAfter returns up to limit events of stream with Seq > after,
	// oldest first, hydrated from current state (events of updates since
	// deleted are dropped). ok is false when the history after `after` is no
	// longer (or not yet) complete: the caller must send a resync.
	EventsAfter(ctx context.Context, stream string, after int64, limit int) (events []Event, ok bool, err error)
	// FollowedStreams returns the ids of the channels accountID follows or
	// administers, each once: the streams its real-time connections subscribe
	// to, besides its own (an admin hears their channels without following).
	FollowedStreams(ctx context.Context, accountID string) ([]string, error)
}

// Directory sorts.
const (
	SortRelevance = "relevance"
	SortPopular   = "popular"
	SortActive    = "active"
	SortNew       = "new"
)

// Directory limits.
const (
	DefaultDirectoryLimit = 20
	MaxDirectoryLimit     = 100
	MaxQueryLen           = 200 // longer queries are truncated, not refused
)

// DirectoryQuery is a directory search. Empty fields don't filter.
type DirectoryQuery struct {
	Text     string
	Category string
	Country  string
	Language string
	Sort     string // "" means relevance with Text, popular without
	Limit    int
	Cursor   string
}

// DirectoryPage is one page of directory results.
type DirectoryPage struct {
	Channels   []*Channel `json:"channels"`
	NextCursor string     `json:"next_cursor"`
}

// DirectoryStore searches listed, live channels.
type DirectoryStore interface {
	// SearchDirectory returns one page of listed live channels matching q.
	// EINVALID for an unknown sort or category, or a malformed cursor.
	SearchDirectory(ctx context.Context, viewerID string, q DirectoryQuery) (*DirectoryPage, error)
}

// StoreConfig is what every store is built with: sqlite.Open and
// postgres.Open take it the same way.
type StoreConfig struct {
	Clock     Clock          // nil: SystemClock
	Retention time.Duration  // 0: DefaultRetention
	Publisher EventPublisher // may be nil
	// SyncCommits makes every commit durable against power loss, not only
	// against a crash of the process: SQLite then fsyncs its WAL on every
	// commit (synchronous=FULL instead of NORMAL), at a cost in write
	// throughput. PostgreSQL commits that way already (synchronous_commit=on
	// unless its URL says otherwise) and ignores it.
	SyncCommits bool
	// InsightsThreshold is k for insights and view counts (0:
	// DefaultInsightsThreshold).
	InsightsThreshold int64
}
