package herald

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Account limits.
const (
	UsernameMinLen    = 3
	UsernameMaxLen    = 32
	PasswordMinLen    = 10
	PasswordMaxLen    = 1024 // bounds the argon2 input, not a policy
	DisplayNameMaxLen = 64
)

// Account is a person (or a bot) with a login. Followers and admins are both
// accounts; nothing in an Account says what it follows.
type Account struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"-"`
}

// Session is a login token's server-side record. Only the token's hash is
// stored, so a leaked database does not leak usable tokens.
type Session struct {
	TokenHash []byte
	AccountID string
	CreatedAt time.Time
	ExpiresAt time.Time
	UserAgent string // for the device label of the sessions list (TrimUserAgent)
}

// ValidateUsername checks a username: 3-32 characters of [a-z0-9_.].
func ValidateUsername(u string) error {
	if n := len(u); n < UsernameMinLen || n > UsernameMaxLen {
		return KindErrorf(EINVALID, "invalid-username", "Username must be %d to %d characters.", UsernameMinLen, UsernameMaxLen)
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return KindErrorf(EINVALID, "invalid-username", "Username may contain only lowercase letters, digits, '_' and '.'.")
		}
	}
	return nil
}

// ValidatePassword checks a new password's length.
func ValidatePassword(p string) error {
	if !utf8.ValidString(p) {
		return KindErrorf(EINVALID, "invalid-password", "Password must be valid UTF-8.")
	}
	if n := utf8.RuneCountInString(p); n < PasswordMinLen {
		return KindErrorf(EINVALID, "invalid-password", "Password must be at least %d characters.", PasswordMinLen)
	}
	if len(p) > PasswordMaxLen {
		return KindErrorf(EINVALID, "invalid-password", "Password must be at most %d bytes.", PasswordMaxLen)
	}
	return nil
}

// NormalizeDisplayName trims a display name and checks it; an empty one
// becomes the username.
func NormalizeDisplayName(name, username string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return username, nil
	}
	if !utf8.ValidString(name) || hasControl(name) {
		return "", KindErrorf(EINVALID, "invalid-display-name", "Display name contains invalid characters.")
	}
	if utf8.RuneCountInString(name) > DisplayNameMaxLen {
		return "", KindErrorf(EINVALID, "invalid-display-name", "Display name must be at most %d characters.", DisplayNameMaxLen)
	}
	return name, nil
}

// hasControl reports whether s has control characters other than newline and tab.
func hasControl(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			return true
		}
	}
	return false
}
