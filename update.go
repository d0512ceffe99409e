package herald

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Update limits.
const (
	UpdateTextMaxLen    = 4096
	PollQuestionMaxLen  = 255
	PollOptionMaxLen    = 100
	PollMinOptions      = 2
	PollMaxOptions      = 12
	DefaultRetention    = 30 * 24 * time.Hour
	DefaultUpdatesLimit = 20
	MaxUpdatesLimit     = 100
	MaxPinned           = 3 // live pinned updates per channel
)

// Update is one post in a channel. It never names the admin who posted it.
// Reactions, Poll counts and Viewer are filled by reads; Viewer is the
// caller's own reaction and votes, never anyone else's.
type Update struct {
	ID        string           `json:"id"`
	ChannelID string           `json:"channel_id"`
	Seq       int64            `json:"seq"`
	Text      string           `json:"text"`
	CreatedAt time.Time        `json:"created_at"`
	EditedAt  *time.Time       `json:"edited_at"`
	ExpiresAt time.Time        `json:"expires_at"`
	Reactions map[string]int64 `json:"reactions"`
	Poll      *Poll            `json:"poll,omitempty"`
	// Pinned updates are shown first on the channel's page (at most MaxPinned).
	Pinned bool    `json:"pinned"`
	Media  []Media `json:"media,omitempty"`
	// Views is how many accounts displayed the update, once it reaches the
	// insights threshold (absent before).
	Views  *int64       `json:"views,omitempty"`
	Viewer UpdateViewer `json:"viewer"`
	// Signature is the channel's Ed25519 signature of CanonicalUpdate
	// (base64url), by the key KeyID; empty only for updates written
	// before channels had keys.
	Signature string `json:"signature,omitempty"`
	KeyID     string `json:"key_id,omitempty"`
	// LinkPreview is the card of the first URL of the text, once the
	// server has fetched it (absent before, and when there is none).
	LinkPreview *LinkPreview `json:"link_preview,omitempty"`
}

// UpdateViewer is the calling account's own interaction with an update.
type UpdateViewer struct {
	Reaction *string `json:"reaction"`
	Votes    []int   `json:"votes"`
}

// Poll is an update's poll with its public counts.
type Poll struct {
	Question string       `json:"question"`
	Multiple bool         `json:"multiple"`
	Options  []PollOption `json:"options"`
	Voters   int64        `json:"voters"`
}

// PollOption is one answer of a poll and how many voters chose it.
type PollOption struct {
	Text  string `json:"text"`
	Votes int64  `json:"votes"`
}

// NormalizeUpdateText trims the text and checks its length (1-4,096
// characters after trimming) and encoding.
func NormalizeUpdateText(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", KindErrorf(EINVALID, "invalid-text", "Text must be valid UTF-8.")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", KindErrorf(EINVALID, "invalid-text", "Text must not be empty.")
	}
	if utf8.RuneCountInString(text) > UpdateTextMaxLen {
		return "", KindErrorf(EINVALID, "text-too-long", "Text must be at most %d characters.", UpdateTextMaxLen)
	}
	if strings.ContainsRune(text, 0) {
		return "", KindErrorf(EINVALID, "invalid-text", "Text must not contain NUL characters.")
	}
	return text, nil
}

// Normalize trims and validates a new poll: a question of 1-255 characters,
// 2-12 distinct options of 1-100 characters. Counts are reset to zero.
func (p *Poll) Normalize() error {
	p.Question = strings.TrimSpace(p.Question)
	if !utf8.ValidString(p.Question) || hasControl(p.Question) {
		return KindErrorf(EINVALID, "invalid-poll", "Poll question contains invalid characters.")
	}
	if n := utf8.RuneCountInString(p.Question); n < 1 || n > PollQuestionMaxLen {
		return KindErrorf(EINVALID, "invalid-poll", "Poll question must be 1 to %d characters.", PollQuestionMaxLen)
	}
	if n := len(p.Options); n < PollMinOptions || n > PollMaxOptions {
		return KindErrorf(EINVALID, "invalid-poll", "A poll has %d to %d options.", PollMinOptions, PollMaxOptions)
	}
	seen := make(map[string]bool, len(p.Options))
	for i := range p.Options {
		o := strings.TrimSpace(p.Options[i].Text)
		if !utf8.ValidString(o) || hasControl(o) {
			return KindErrorf(EINVALID, "invalid-poll", "Poll option %d contains invalid characters.", i)
		}
		if n := utf8.RuneCountInString(o); n < 1 || n > PollOptionMaxLen {
			return KindErrorf(EINVALID, "invalid-poll", "Poll options must be 1 to %d characters.", PollOptionMaxLen)
		}
		if seen[o] {
			return KindErrorf(EINVALID, "invalid-poll", "Poll options must be different from each other.")
		}
		seen[o] = true
		p.Options[i] = PollOption{Text: o}
	}
	p.Voters = 0
	return nil
}

// ValidateVote checks a vote's option indexes against the poll: at least one,
// exactly one unless the poll allows several, all existing, none repeated.
func (p *Poll) ValidateVote(options []int) error {
	if len(options) == 0 {
		return KindErrorf(EINVALID, "invalid-vote", "Choose at least one option (retract a vote with DELETE).")
	}
	if !p.Multiple && len(options) > 1 {
		return KindErrorf(EINVALID, "invalid-vote", "This poll allows one answer.")
	}
	seen := make(map[int]bool, len(options))
	for _, i := range options {
		if i < 0 || i >= len(p.Options) {
			return KindErrorf(EINVALID, "invalid-vote", "Option %d does not exist.", i)
		}
		if seen[i] {
			return KindErrorf(EINVALID, "invalid-vote", "Option %d is repeated.", i)
		}
		seen[i] = true
	}
	return nil
}

// ClampLimit turns a requested page size into one within [1, max], with def for 0.
func ClampLimit(limit, def, max int) (int, error) {
	if limit == 0 {
		return def, nil
	}
	if limit < 0 || limit > max {
		return 0, KindErrorf(EINVALID, "invalid-limit", "limit must be between 1 and %d.", max)
	}
	return limit, nil
}

// AsFreshPost leaves u as the answer to its post showed it, content
// aside: no counts (reactions, votes, views), no viewer's part, not
// pinned. A store answers a retried keyed post with it.
func (u *Update) AsFreshPost() {
	u.Reactions, u.Viewer, u.Views, u.Pinned = map[string]int64{}, UpdateViewer{Votes: []int{}}, nil, false
	if u.Poll != nil {
		u.Poll.Voters = 0
		for i := range u.Poll.Options {
			u.Poll.Options[i].Votes = 0
		}
	}
}

// Public returns the update as everyone may see it, as events carry it: a
// copy without the viewer's own reaction and votes that shares nothing
// with u (counts and poll are copied).
func (u *Update) Public() *Update {
	c := *u
	c.Viewer = UpdateViewer{}
	c.Reactions = make(map[string]int64, len(u.Reactions))
	for k, v := range u.Reactions {
		c.Reactions[k] = v
	}
	if u.Poll != nil {
		p := *u.Poll
		p.Options = append([]PollOption(nil), u.Poll.Options...)
		c.Poll = &p
	}
	c.Media = append([]Media(nil), u.Media...)
	if u.LinkPreview != nil {
		p := *u.LinkPreview
		if p.Image != nil {
			img := *p.Image
			p.Image = &img
		}
		c.LinkPreview = &p
	}
	return &c
}

// ErrPollWithMedia refuses an update with both a poll and media: as on
// Telegram, a poll is an update of its own.
var ErrPollWithMedia = KindErrorf(EINVALID, "poll-with-media", "An update can't carry both a poll and media: post them as two updates.")

// ErrEmptyText refuses an empty text for an update without media.
var ErrEmptyText = KindErrorf(EINVALID, "invalid-text", "Text must not be empty (only an update with media may have none).")

// NormalizeEditText checks an edit's new text as NormalizeUpdateText, except
// that it may be empty ("" returned): the store then accepts it only for
// an update with media (ErrEmptyText).
func NormalizeEditText(text string) (string, error) {
	if utf8.ValidString(text) && strings.TrimSpace(text) == "" {
		return "", nil
	}
	return NormalizeUpdateText(text)
}

// NormalizeUpdateContent checks a new update's text and media: the text as
// NormalizeUpdateText, except that an update with media may have none; the
// media as NormalizeMediaRefs. It returns the text and the media refs.
func NormalizeUpdateContent(text string, media []Media) (string, []MediaRef, error) {
	refs := make([]MediaRef, len(media))
	for i, m := range media {
		refs[i] = MediaRef{ID: m.ID, Alt: m.Alt}
	}
	if err := NormalizeMediaRefs(refs); err != nil {
		return "", nil, err
	}
	if len(refs) > 0 && strings.TrimSpace(text) == "" {
		return "", refs, nil
	}
	text, err := NormalizeUpdateText(text)
	return text, refs, err
}
