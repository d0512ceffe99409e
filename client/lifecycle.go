package client

import (
	"context"
	"encoding/json"
	"time"

	"github.com/heraldhq/herald"
)

// SessionInfo is one of the caller's sessions.
type SessionInfo struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenOn string    `json:"last_seen_on"`
	Current    bool      `json:"current"`
}

// Sessions lists the caller's live sessions, newest first.
func (c *Client) Sessions(ctx context.Context) ([]SessionInfo, error) {
	var out struct {
		Sessions []SessionInfo `json:"sessions"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/me/sessions", nil, &out); err != nil {
		return nil, err
	}
	return out.Sessions, nil
}

// RevokeSession ends one of the caller's sessions.
func (c *Client) RevokeSession(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/api/v1/me/sessions/"+esc(id), nil, nil)
}

// ChangePassword changes the caller's password; every other session ends.
func (c *Client) ChangePassword(ctx context.Context, current, next string) error {
	return c.Do(ctx, "PUT", "/api/v1/me/password", map[string]string{"current_password": current, "new_password": next}, nil)
}

// SetDisplayName changes the caller's display name.
func (c *Client) SetDisplayName(ctx context.Context, name string) (*herald.Account, error) {
	var out struct {
		Account *herald.Account `json:"account"`
	}
	if err := c.Do(ctx, "PATCH", "/api/v1/me", map[string]string{"display_name": name}, &out); err != nil {
		return nil, err
	}
	return out.Account, nil
}

// DeleteAccount erases the caller's account. deleteChannels must list the
// channels it owns alone (a 409 Problem lists them otherwise).
func (c *Client) DeleteAccount(ctx context.Context, password string, deleteChannels []string) error {
	if deleteChannels == nil {
		deleteChannels = []string{}
	}
	return c.Do(ctx, "DELETE", "/api/v1/me", map[string]any{"password": password, "delete_channels": deleteChannels}, nil)
}

// Export returns the JSON document of everything the server holds about the caller.
func (c *Client) Export(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	if err := c.Do(ctx, "GET", "/api/v1/me/export", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}
