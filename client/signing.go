package client

import (
	"context"

	"github.com/heraldhq/herald"
)

// SigningKeys returns a channel's public signing keys, the current one
// first (anonymous for a listed channel).
func (c *Client) SigningKeys(ctx context.Context, channelID string) ([]herald.SigningKey, error) {
	var out struct {
		Keys []herald.SigningKey `json:"keys"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/channels/"+esc(channelID)+"/keys/signing", nil, &out); err != nil {
		return nil, err
	}
	return out.Keys, nil
}

// RotateSigningKey retires the channel's signing key and returns the new
// one (admins).
func (c *Client) RotateSigningKey(ctx context.Context, channelID string) (*herald.SigningKey, error) {
	var k herald.SigningKey
	if err := c.Do(ctx, "POST", "/api/v1/channels/"+esc(channelID)+"/keys/signing/rotate", nil, &k); err != nil {
		return nil, err
	}
	return &k, nil
}
