package client

import (
	"context"

	"github.com/heraldhq/herald"
)

// MyManagedChannels returns the channels the caller owns or administers,
// followed or not, most recently active first, each with its invite code
// and the caller's role.
func (c *Client) MyManagedChannels(ctx context.Context) ([]*herald.Channel, error) {
	var out struct {
		Channels []*herald.Channel `json:"channels"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/me/managed-channels", nil, &out); err != nil {
		return nil, err
	}
	return out.Channels, nil
}
