package client

import (
	"context"
	"encoding/base64"

	"github.com/heraldhq/herald"
)

// PushKey returns the server's VAPID public key (base64url), the
// applicationServerKey a browser subscribes with. No account needed.
func (c *Client) PushKey(ctx context.Context) (string, error) {
	var out struct {
		PublicKey string `json:"public_key"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/push/key", nil, &out); err != nil {
		return "", err
	}
	return out.PublicKey, nil
}

// Subscribe registers a device's Web Push subscription for the caller
// (again for the same endpoint: updates its keys) and returns it; only its
// id, endpoint and times come back.
func (c *Client) Subscribe(ctx context.Context, endpoint string, p256dh, auth []byte) (*herald.PushSubscription, error) {
	in := map[string]any{
		"endpoint": endpoint,
		"keys": map[string]string{
			"p256dh": base64.RawURLEncoding.EncodeToString(p256dh),
			"auth":   base64.RawURLEncoding.EncodeToString(auth),
		},
	}
	var s herald.PushSubscription
	if err := c.Do(ctx, "POST", "/api/v1/push/subscriptions", in, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PushSubscriptions lists the caller's own devices, oldest first.
func (c *Client) PushSubscriptions(ctx context.Context) ([]herald.PushSubscription, error) {
	var out struct {
		Subscriptions []herald.PushSubscription `json:"subscriptions"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/push/subscriptions", nil, &out); err != nil {
		return nil, err
	}
	return out.Subscriptions, nil
}

// Unsubscribe deletes one of the caller's devices.
func (c *Client) Unsubscribe(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/api/v1/push/subscriptions/"+esc(id), nil, nil)
}
