package client

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald"
)

// Webhook is a webhook as created: Secret ("whsec_...") is set only in the
// answer to CreateWebhook; receivers verify deliveries with it
// (webhook.Verify).
type Webhook struct {
	herald.Webhook
	Secret string `json:"secret,omitempty"`
}

// CreateWebhook registers an https URL for a channel's events (owner and
// admins; herald.WebhookEvents lists the types).
func (c *Client) CreateWebhook(ctx context.Context, channelID, url string, events ...string) (*Webhook, error) {
	var w Webhook
	in := map[string]any{"url": url, "events": events}
	return &w, c.Do(ctx, http.MethodPost, "/api/v1/channels/"+esc(channelID)+"/webhooks", in, &w)
}

// ListWebhooks lists a channel's webhooks, without their secrets.
func (c *Client) ListWebhooks(ctx context.Context, channelID string) ([]*herald.Webhook, error) {
	var out struct {
		Webhooks []*herald.Webhook `json:"webhooks"`
	}
	return out.Webhooks, c.Do(ctx, http.MethodGet, "/api/v1/channels/"+esc(channelID)+"/webhooks", nil, &out)
}

// UpdateWebhook changes a webhook's events and/or enables or disables it
// (enabling resumes with new events).
func (c *Client) UpdateWebhook(ctx context.Context, channelID, webhookID string, p herald.WebhookPatch) (*herald.Webhook, error) {
	var w herald.Webhook
	return &w, c.Do(ctx, http.MethodPatch, "/api/v1/channels/"+esc(channelID)+"/webhooks/"+esc(webhookID), p, &w)
}

// DeleteWebhook deletes a webhook and its delivery log.
func (c *Client) DeleteWebhook(ctx context.Context, channelID, webhookID string) error {
	return c.Do(ctx, http.MethodDelete, "/api/v1/channels/"+esc(channelID)+"/webhooks/"+esc(webhookID), nil, nil)
}

// RotateWebhookSecret replaces a webhook's signing secret and returns the
// new one (shown once).
func (c *Client) RotateWebhookSecret(ctx context.Context, channelID, webhookID string) (string, error) {
	var out struct {
		Secret string `json:"secret"`
	}
	return out.Secret, c.Do(ctx, http.MethodPost, "/api/v1/channels/"+esc(channelID)+"/webhooks/"+esc(webhookID)+"/rotate", nil, &out)
}

// WebhookDeliveries returns a webhook's last deliveries, newest first.
func (c *Client) WebhookDeliveries(ctx context.Context, channelID, webhookID string) ([]herald.WebhookDelivery, error) {
	var out struct {
		Deliveries []herald.WebhookDelivery `json:"deliveries"`
	}
	return out.Deliveries, c.Do(ctx, http.MethodGet, "/api/v1/channels/"+esc(channelID)+"/webhooks/"+esc(webhookID)+"/deliveries", nil, &out)
}
