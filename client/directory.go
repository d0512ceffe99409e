package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald"
)

// DirectoryQuery is a directory search; zero fields are left out.
type DirectoryQuery struct {
	Text     string
	Category string
	Country  string
	Language string
	Sort     string // relevance, popular, active or new
	Limit    int
	Cursor   string
}

// Directory searches listed channels (no account needed). Pass the page's
// NextCursor back in Cursor for the next page; it is empty on the last.
func (c *Client) Directory(ctx context.Context, q DirectoryQuery) (*herald.DirectoryPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Text, "category": q.Category, "country": q.Country,
		"language": q.Language, "sort": q.Sort, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/api/v1/directory"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out herald.DirectoryPage
	if err := c.Do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Category is a directory category with its name in the asked language.
type Category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Categories lists the fixed categories, named after acceptLanguage (an
// Accept-Language value such as "fr-FR,fr;q=0.9"; "" for English).
func (c *Client) Categories(ctx context.Context, acceptLanguage string) ([]Category, error) {
	var out struct {
		Categories []Category `json:"categories"`
	}
	body, _, err := c.get(ctx, "/api/v1/categories", map[string]string{"Accept-Language": acceptLanguage})
	if err != nil {
		return nil, err
	}
	if err := jsonUnmarshal(body, &out); err != nil {
		return nil, err
	}
	return out.Categories, nil
}

// Invite returns the public preview of the channel an invite code opens.
func (c *Client) Invite(ctx context.Context, code string) (*herald.Channel, error) {
	var out herald.Channel
	if err := c.Do(ctx, http.MethodGet, "/api/v1/invites/"+esc(code), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// FollowInvite follows the channel an invite code opens (listed or not).
func (c *Client) FollowInvite(ctx context.Context, code string) (*herald.Channel, error) {
	var out herald.Channel
	if err := c.Do(ctx, http.MethodPut, "/api/v1/invites/"+esc(code)+"/follow", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// InviteLink is a channel's invite code and the link to share.
type InviteLink struct {
	Code string `json:"invite_code"`
	URL  string `json:"invite_url"`
}

// RotateInvite replaces a channel's invite code (admins); the old one dies.
func (c *Client) RotateInvite(ctx context.Context, channelID string) (*InviteLink, error) {
	var out InviteLink
	if err := c.Do(ctx, http.MethodPost, "/api/v1/channels/"+esc(channelID)+"/invite", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// InviteQR returns the invite link as a QR code image, format "svg" or
// "png", and its content type.
func (c *Client) InviteQR(ctx context.Context, code, format string) ([]byte, string, error) {
	if format != "svg" && format != "png" {
		return nil, "", fmt.Errorf("herald: QR format %q: want svg or png", format)
	}
	return c.get(ctx, "/api/v1/invites/"+esc(code)+"/qr."+format, nil)
}

// get fetches path with extra headers and returns the body and its type.
func (c *Client) get(ctx context.Context, path string, headers map[string]string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, "", err
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, "", decodeProblem(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return b, resp.Header.Get("Content-Type"), err
}

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("herald: decode: %w", err)
	}
	return nil
}
