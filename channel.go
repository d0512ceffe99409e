package herald

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Channel limits.
const (
	ChannelNameMaxLen        = 100
	ChannelDescriptionMaxLen = 2000
	HandleMinLen             = 3
	HandleMaxLen             = 32
	MaxAdmins                = 16 // owner included
)

// Roles of an account in a channel.
const (
	RoleOwner = "owner"
	RoleAdmin = "admin"
)

// Reaction settings of a channel.
const (
	ReactionsAny     = "any"     // any single emoji
	ReactionsDefault = "default" // only DefaultReactions
	ReactionsNone    = "none"    // reacting refused
)

// DefaultReactions is the small set allowed by the "default" reaction setting.
var DefaultReactions = []string{"👍", "❤️", "😂", "😮", "😢", "🙏"}

// Category is one of the fixed directory categories.
type Category struct {
	ID     string `json:"id"`
	NameEN string `json:"-"`
	NameFR string `json:"-"`
}

// Categories are the fixed category ids of PRODUCT.md, in display order.
var Categories = []Category{
	{"news", "News", "Actualités"},
	{"weather", "Weather", "Météo"},
	{"traffic", "Traffic", "Circulation"},
	{"cooking", "Cooking", "Cuisine"},
	{"sports", "Sports", "Sports"},
	{"business", "Business", "Économie"},
	{"entertainment", "Entertainment", "Divertissement"},
	{"lifestyle", "Lifestyle", "Art de vivre"},
	{"technology", "Technology", "Technologie"},
	{"science", "Science", "Sciences"},
	{"health", "Health", "Santé"},
	{"education", "Education", "Éducation"},
	{"travel", "Travel", "Voyage"},
	{"music", "Music", "Musique"},
	{"government", "Government", "Administration"},
	{"organizations", "Organizations", "Organisations"},
	{"people", "People", "Personnalités"},
}

// IsCategory reports whether id is a known category id.
func IsCategory(id string) bool {
	for _, c := range Categories {
		if c.ID == id {
			return true
		}
	}
	return false
}

// Channel is a broadcast channel. InviteCode is filled only for the channel's
// admins; Viewer describes the calling account's relation to the channel.
type Channel struct {
	ID            string    `json:"id"`
	Handle        string    `json:"handle,omitempty"`
	Name          string    `json:"name"`
	Description   string    `json:"description"`
	Category      string    `json:"category"`
	Country       string    `json:"country"`
	Language      string    `json:"language"`
	Listed        bool      `json:"listed"`
	Verified      bool      `json:"verified"`
	Reactions     string    `json:"reactions"`
	FollowerCount int64     `json:"follower_count"`
	CreatedAt     time.Time `json:"created_at"`
	// LastUpdateAt is the creation time of the newest live update, if any.
	LastUpdateAt *time.Time `json:"last_update_at"`
	// AvatarURL is the channel's picture (a square, /media/ID/original; the
	// "128" variant is a small one), empty without one.
	AvatarURL string `json:"avatar_url,omitempty"`
	// InviteCode is empty unless the viewer administers the channel.
	InviteCode string        `json:"invite_code,omitempty"`
	Viewer     ChannelViewer `json:"viewer"`
	// Suspended is set by the HTTP layer when operators suspended the
	// channel: its history is withheld from followers (moderation.go).
	Suspended bool `json:"suspended,omitempty"`
}

// ChannelViewer is the caller's own relation to a channel. Role is nil for
// anyone who is not an admin.
type ChannelViewer struct {
	Following bool    `json:"following"`
	Muted     bool    `json:"muted"`
	Role      *string `json:"role"`
}

// IsAdmin reports whether the viewer is the owner or an admin.
func (v ChannelViewer) IsAdmin() bool { return v.Role != nil }

// ChannelPatch lists the fields an admin may change; nil means unchanged.
type ChannelPatch struct {
	Name        *string
	Description *string
	Handle      *string
	Category    *string
	Country     *string
	Language    *string
	Listed      *bool
	Reactions   *string
}

// Admin is one of a channel's admins as shown to the other admins.
type Admin struct {
	Account Account   `json:"account"`
	Role    string    `json:"role"`
	AddedAt time.Time `json:"added_at"`
}

// Normalize trims the channel's text fields, fills defaults and validates it.
// It is called on create; Apply does the same for patches.
func (c *Channel) Normalize() error {
	c.Name = strings.TrimSpace(c.Name)
	c.Description = strings.TrimSpace(c.Description)
	c.Handle = strings.ToLower(strings.TrimSpace(c.Handle))
	c.Country = strings.ToUpper(strings.TrimSpace(c.Country))
	c.Language = strings.TrimSpace(c.Language)
	if c.Reactions == "" {
		c.Reactions = ReactionsAny
	}
	return c.Validate()
}

// Validate checks every client-settable field of the channel.
func (c *Channel) Validate() error {
	if !utf8.ValidString(c.Name) || hasControl(c.Name) || strings.ContainsAny(c.Name, "\n\t") {
		return KindErrorf(EINVALID, "invalid-name", "Channel name contains invalid characters.")
	}
	if n := utf8.RuneCountInString(c.Name); n < 1 || n > ChannelNameMaxLen {
		return KindErrorf(EINVALID, "invalid-name", "Channel name must be 1 to %d characters.", ChannelNameMaxLen)
	}
	if !utf8.ValidString(c.Description) || hasControl(c.Description) {
		return KindErrorf(EINVALID, "invalid-description", "Description contains invalid characters.")
	}
	if utf8.RuneCountInString(c.Description) > ChannelDescriptionMaxLen {
		return KindErrorf(EINVALID, "invalid-description", "Description must be at most %d characters.", ChannelDescriptionMaxLen)
	}
	if c.Handle != "" {
		if err := ValidateHandle(c.Handle); err != nil {
			return err
		}
	}
	if !IsCategory(c.Category) {
		return KindErrorf(EINVALID, "invalid-category", "Unknown category %q.", truncate(c.Category, 40))
	}
	if c.Country != "" && !IsCountry(c.Country) {
		return KindErrorf(EINVALID, "invalid-country", "Country must be an ISO 3166-1 alpha-2 code.")
	}
	if c.Language != "" && !IsLanguageTag(c.Language) {
		return KindErrorf(EINVALID, "invalid-language", "Language must be a BCP 47 tag such as \"fr\" or \"pt-BR\".")
	}
	switch c.Reactions {
	case ReactionsAny, ReactionsDefault, ReactionsNone:
	default:
		return KindErrorf(EINVALID, "invalid-reactions", "Reactions must be \"any\", \"default\" or \"none\".")
	}
	return nil
}

// Apply copies the patch's fields onto c, normalized, and validates the result.
func (p ChannelPatch) Apply(c *Channel) error {
	if p.Name != nil {
		c.Name = *p.Name
	}
	if p.Description != nil {
		c.Description = *p.Description
	}
	if p.Handle != nil {
		c.Handle = *p.Handle
	}
	if p.Category != nil {
		c.Category = *p.Category
	}
	if p.Country != nil {
		c.Country = *p.Country
	}
	if p.Language != nil {
		c.Language = *p.Language
	}
	if p.Listed != nil {
		c.Listed = *p.Listed
	}
	if p.Reactions != nil {
		c.Reactions = *p.Reactions
		if c.Reactions == "" {
			return KindErrorf(EINVALID, "invalid-reactions", "Reactions must be \"any\", \"default\" or \"none\".")
		}
	}
	return c.Normalize()
}

// ValidateHandle checks a channel handle: 3-32 characters of [a-z0-9_].
func ValidateHandle(h string) error {
	if n := len(h); n < HandleMinLen || n > HandleMaxLen {
		return KindErrorf(EINVALID, "invalid-handle", "Handle must be %d to %d characters.", HandleMinLen, HandleMaxLen)
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return KindErrorf(EINVALID, "invalid-handle", "Handle may contain only lowercase letters, digits and '_'.")
		}
	}
	return nil
}

// IsLanguageTag reports whether s is a well-formed BCP 47 tag of the common
// shape: a 2-3 letter primary language, then alphanumeric subtags of 1-8.
func IsLanguageTag(s string) bool {
	if len(s) > 35 {
		return false
	}
	parts := strings.Split(s, "-")
	if n := len(parts[0]); n < 2 || n > 3 || !isAlpha(parts[0]) {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 8 || !isAlnum(p) {
			return false
		}
	}
	return true
}

func isAlpha(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// IsCountry reports whether code is an officially assigned ISO 3166-1 alpha-2 code.
func IsCountry(code string) bool {
	if len(code) != 2 {
		return false
	}
	return strings.Contains(countryCodes, " "+code+" ")
}

const countryCodes = " AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ" +
	" CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR" +
	" GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP" +
	" KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT" +
	" MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW" +
	" SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG" +
	" UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "

// Public returns the channel as everyone may see it, as events carry it: a
// copy without the viewer's relation and without the invite code.
func (c *Channel) Public() *Channel {
	p := *c
	p.InviteCode, p.Viewer = "", ChannelViewer{}
	return &p
}
