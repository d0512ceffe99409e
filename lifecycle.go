package herald

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
)

// The account lifecycle (issue 14): a person sees and ends their sessions,
// changes their password and display name, takes their data with them and
// erases their account.

// SessionIDLen is how many bytes of a session's token hash its public id
// shows: enough to name it among an account's sessions, never enough to
// stand for the token (the hash is of 256 random bits, and is not the token).
const SessionIDLen = 16

// SessionID returns the public id of the session whose token hash is given.
func SessionID(tokenHash []byte) string {
	if len(tokenHash) > SessionIDLen {
		tokenHash = tokenHash[:SessionIDLen]
	}
	return base64.RawURLEncoding.EncodeToString(tokenHash)
}

// UserAgentMaxLen bounds the User-Agent a session keeps for its device label.
const UserAgentMaxLen = 256

// TrimUserAgent bounds a User-Agent header before it is stored.
func TrimUserAgent(ua string) string {
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, ua)
	if len(ua) > UserAgentMaxLen {
		ua = ua[:UserAgentMaxLen]
	}
	return strings.ToValidUTF8(ua, "")
}

// SessionInfo is one of an account's sessions as its owner sees it.
type SessionInfo struct {
	ID        string    `json:"id"`
	UserAgent string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	// LastSeenAt is the day (00:00 UTC) the session was last used: no finer,
	// so the list is no activity log.
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"-"`
	TokenHash  []byte    `json:"-"`
}

// Interaction is one of an account's own reactions or votes, for its export
// and its erasure.
type Interaction struct {
	ChannelID string `json:"channel_id"`
	UpdateID  string `json:"update_id"`
	Reaction  string `json:"reaction,omitempty"`
	Votes     []int  `json:"votes,omitempty"`
}

// LifecycleStore is what the account lifecycle needs from a store.
type LifecycleStore interface {
	// ListSessions returns the account's live sessions, newest first.
	ListSessions(ctx context.Context, accountID string) ([]SessionInfo, error)
	// DeleteAccountSession ends one of the account's sessions by its public
	// id and returns its token hash. ENOTFOUND if the account has none such.
	DeleteAccountSession(ctx context.Context, accountID, sessionID string) ([]byte, error)
	// ChangePassword replaces the account's password hash and ends every
	// session but keep (a token hash; nil ends them all), in one transaction.
	ChangePassword(ctx context.Context, accountID, passwordHash string, keep []byte) error
	// SetDisplayName changes the display name (NormalizeDisplayName).
	SetDisplayName(ctx context.Context, accountID, name string) (*Account, error)
	// ListInteractions returns the account's own reactions and votes on live
	// updates, oldest update first.
	ListInteractions(ctx context.Context, accountID string) ([]Interaction, error)
	// DeleteAccount erases the account row and everything that cascades from
	// it (sessions, push devices, admin roles, follows, reactions, votes) and
	// its personal event stream. ECONFLICT (kind "owned-channels") while it
	// still owns a channel: the caller deletes or hands those over first
	// (storeutil.EraseAccount does all of it, keeping counts exact).
	DeleteAccount(ctx context.Context, accountID string) error
}

// ErrOwnsChannels is DeleteAccount's refusal while channels are still owned.
var ErrOwnsChannels = KindErrorf(ECONFLICT, "owned-channels", "The account still owns channels: delete them or transfer them first.")

// Day returns the start (00:00 UTC) of t's day: a session's last use is
// kept to the day.
func Day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
