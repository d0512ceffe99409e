package client

import (
	"context"

	"github.com/heraldhq/herald"
)

// ReportViews tells the server that updates were displayed to the caller
// (up to herald.MaxViewBatch ids; each account counts once per update).
// lang is the app's language (a BCP 47 tag, "" for none); only a coarse
// bucket of it is kept.
func (c *Client) ReportViews(ctx context.Context, updateIDs []string, lang string) error {
	body := map[string]any{"updates": updateIDs}
	if lang != "" {
		body["lang"] = lang
	}
	return c.Do(ctx, "POST", "/api/v1/views", body, nil)
}

// ChannelInsights returns a channel's insights (its admins only).
func (c *Client) ChannelInsights(ctx context.Context, channelID string) (*herald.ChannelInsights, error) {
	var in herald.ChannelInsights
	if err := c.Do(ctx, "GET", "/api/v1/channels/"+esc(channelID)+"/insights", nil, &in); err != nil {
		return nil, err
	}
	return &in, nil
}
