package client

import (
	"context"
	"io"
	"net/http"
	"net/url"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/heraldhq/herald"
)

// UploadMedia uploads a file to a channel (admins): the body is streamed
// from r, never read whole; name is kept for documents. The server
// recognises the type from the bytes. Video and audio come back in the
// "processing" state; the update they are posted in is edited (an
// update.edited event) when they are ready.
func (c *Client) UploadMedia(ctx context.Context, channelID string, r io.Reader, size int64, name string) (*herald.Media, error) {
	path := "/api/v1/channels/" + esc(channelID) + "/media"
	if name != "" {
		path += "?name=" + url.QueryEscape(name)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, r)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return nil, decodeProblem(resp)
	}
	var m herald.Media
	if err := jsonv2.UnmarshalRead(resp.Body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// PostMedia posts an update with media (up to 10, each with its alt text);
// text may be empty.
func (c *Client) PostMedia(ctx context.Context, channelID, text string, media []herald.MediaRef) (*herald.Update, error) {
	in := struct {
		Text  string            `json:"text"`
		Media []herald.MediaRef `json:"media"`
	}{text, media}
	var u herald.Update
	if err := c.Do(ctx, "POST", "/api/v1/channels/"+esc(channelID)+"/updates", in, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// EditAlt replaces alt texts of an update's media (admins).
func (c *Client) EditAlt(ctx context.Context, channelID, updateID string, media []herald.MediaRef) (*herald.Update, error) {
	in := struct {
		Media []herald.MediaRef `json:"media"`
	}{media}
	var u herald.Update
	if err := c.Do(ctx, "PATCH", updatePath(channelID, updateID), in, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// SetAvatar uploads an image as a channel's avatar (admins): the server
// crops it square and strips its metadata.
func (c *Client) SetAvatar(ctx context.Context, channelID string, r io.Reader, size int64) (*herald.Channel, error) {
	req, err := http.NewRequestWithContext(ctx, "PUT", c.base+"/api/v1/channels/"+esc(channelID)+"/avatar", r)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, decodeProblem(resp)
	}
	var ch herald.Channel
	if err := jsonv2.UnmarshalRead(resp.Body, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// DeleteAvatar removes a channel's avatar (admins).
func (c *Client) DeleteAvatar(ctx context.Context, channelID string) (*herald.Channel, error) {
	var ch herald.Channel
	if err := c.Do(ctx, "DELETE", "/api/v1/channels/"+esc(channelID)+"/avatar", nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}
