// Package client is Herald's public Go client: typed methods for every API
// route, errors decoded into *Problem.
//
//	c := client.New("http://127.0.0.1:8080", token)
//	u, err := c.PostUpdate(ctx, channelID, "Storm warning until 18:00", nil)
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/heraldhq/herald"
)

// Client calls one Herald server. It is safe for concurrent use; copies
// made by WithToken share the connection pool.
type Client struct {
	base      string
	token     string
	http      *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client use hc instead of its own pooled client.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// NewTransport returns a transport tuned for many concurrent requests to
// one server: keep-alive connections are reused instead of churned.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		// A page of updates fits one read.
		ReadBufferSize:    32 << 10,
		ForceAttemptHTTP2: true,
	}
}

// New returns a client for the server at baseURL (e.g.
// "http://127.0.0.1:8080") authenticating with token ("" for anonymous).
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		base:      strings.TrimRight(baseURL, "/"),
		token:     token,
		userAgent: "herald-go-client/1",
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = &http.Client{Transport: NewTransport(), Timeout: time.Minute}
	}
	return c
}

// WithToken returns a copy of c that authenticates with token, sharing
// c's connection pool.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// Token returns the client's token.
func (c *Client) Token() string { return c.token }

// BaseURL returns the server URL the client calls.
func (c *Client) BaseURL() string { return c.base }

// HTTPClient returns the underlying *http.Client.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Problem is an RFC 9457 error answered by the server.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// RetryAfter is the server's Retry-After, for 429 and 503 answers.
	RetryAfter time.Duration `json:"-"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("herald: %d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("herald: %d %s", p.Status, p.Title)
}

// Kind returns the last segment of the problem type, e.g. "invalid-json".
func (p *Problem) Kind() string {
	if i := strings.LastIndexByte(p.Type, '/'); i >= 0 {
		return p.Type[i+1:]
	}
	return p.Type
}

// IsStatus reports whether err is a *Problem with the given HTTP status.
func IsStatus(err error, status int) bool {
	var p *Problem
	return errors.As(err, &p) && p.Status == status
}

// KindOf returns the problem kind of err, or "" if err is not a *Problem.
func KindOf(err error) string {
	var p *Problem
	if errors.As(err, &p) {
		return p.Kind()
	}
	return ""
}

// Do sends a request with a JSON body (if in is non-nil) and decodes a JSON
// answer into out (if non-nil). Non-2xx answers return a *Problem.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	var header http.Header
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, header = b, http.Header{"Content-Type": {"application/json"}}
	}
	return c.send(ctx, method, path, body, header, out)
}

// send is Do with a body already encoded and extra request headers.
func (c *Client) send(ctx context.Context, method, path string, in []byte, header http.Header, out any) error {
	var body io.Reader
	if in != nil {
		body = bytes.NewReader(in)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeProblem(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		// Drain so the connection goes back to the pool.
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	// The v2 decoder (the basis of encoding/json/v2) is about three times
	// faster than encoding/json's on update pages; unknown fields are
	// ignored so that newer servers stay compatible.
	if err := jsonv2.UnmarshalRead(resp.Body, out); err != nil {
		return fmt.Errorf("herald: decode %s %s: %w", method, path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

func decodeProblem(resp *http.Response) error {
	p := &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if len(b) > 0 {
		_ = json.Unmarshal(b, p)
		p.Status = resp.StatusCode
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			p.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return p
}

func esc(s string) string { return url.PathEscape(s) }

// Session is an account with a token, as account creation and login return.
type Session struct {
	Account herald.Account `json:"account"`
	Token   string         `json:"token"`
}

// CreateAccount signs up. The returned token is not installed in c: use
// c.WithToken(s.Token).
func (c *Client) CreateAccount(ctx context.Context, username, password, displayName string) (*Session, error) {
	var s Session
	err := c.Do(ctx, "POST", "/api/v1/accounts", map[string]string{
		"username": username, "password": password, "display_name": displayName,
	}, &s)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Login opens a session.
func (c *Client) Login(ctx context.Context, username, password string) (*Session, error) {
	var s Session
	err := c.Do(ctx, "POST", "/api/v1/sessions", map[string]string{"username": username, "password": password}, &s)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Logout kills the client's session: its token stops working.
func (c *Client) Logout(ctx context.Context) error {
	return c.Do(ctx, "DELETE", "/api/v1/sessions/current", nil, nil)
}

// Me returns the signed-in account.
func (c *Client) Me(ctx context.Context) (*herald.Account, error) {
	var out struct {
		Account *herald.Account `json:"account"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/me", nil, &out); err != nil {
		return nil, err
	}
	return out.Account, nil
}

// MyChannels returns the channels the caller follows, most recently active first.
func (c *Client) MyChannels(ctx context.Context) ([]*herald.Channel, error) {
	var out struct {
		Channels []*herald.Channel `json:"channels"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/me/channels", nil, &out); err != nil {
		return nil, err
	}
	return out.Channels, nil
}

// ChannelInput is a new channel. Listed defaults to true, Reactions to "any".
type ChannelInput struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Handle      string `json:"handle,omitempty"`
	Category    string `json:"category"`
	Country     string `json:"country,omitempty"`
	Language    string `json:"language,omitempty"`
	Listed      *bool  `json:"listed,omitempty"`
	Reactions   string `json:"reactions,omitempty"`
}

// ChannelPatch changes some of a channel's fields; nil ones are unchanged.
type ChannelPatch struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Handle      *string `json:"handle,omitempty"`
	Category    *string `json:"category,omitempty"`
	Country     *string `json:"country,omitempty"`
	Language    *string `json:"language,omitempty"`
	Listed      *bool   `json:"listed,omitempty"`
	Reactions   *string `json:"reactions,omitempty"`
}

// Ptr returns a pointer to v, for ChannelInput and ChannelPatch fields.
func Ptr[T any](v T) *T { return &v }

// CreateChannel creates a channel owned by the caller.
func (c *Client) CreateChannel(ctx context.Context, in ChannelInput) (*herald.Channel, error) {
	var ch herald.Channel
	if err := c.Do(ctx, "POST", "/api/v1/channels", in, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// GetChannel returns a channel as the caller sees it.
func (c *Client) GetChannel(ctx context.Context, id string) (*herald.Channel, error) {
	var ch herald.Channel
	if err := c.Do(ctx, "GET", "/api/v1/channels/"+esc(id), nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// UpdateChannel patches a channel (admins).
func (c *Client) UpdateChannel(ctx context.Context, id string, p ChannelPatch) (*herald.Channel, error) {
	var ch herald.Channel
	if err := c.Do(ctx, "PATCH", "/api/v1/channels/"+esc(id), p, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// DeleteChannel erases a channel and everything in it (owner).
func (c *Client) DeleteChannel(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/api/v1/channels/"+esc(id), nil, nil)
}

// ListAdmins returns a channel's owner and admins (admins only).
func (c *Client) ListAdmins(ctx context.Context, channelID string) ([]herald.Admin, error) {
	var out struct {
		Admins []herald.Admin `json:"admins"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/channels/"+esc(channelID)+"/admins", nil, &out); err != nil {
		return nil, err
	}
	return out.Admins, nil
}

// AddAdmin makes the account named username an admin (owner only).
func (c *Client) AddAdmin(ctx context.Context, channelID, username string) (*herald.Admin, error) {
	var a herald.Admin
	if err := c.Do(ctx, "POST", "/api/v1/channels/"+esc(channelID)+"/admins", map[string]string{"username": username}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// RemoveAdmin removes an admin (owner only, or an admin leaving).
func (c *Client) RemoveAdmin(ctx context.Context, channelID, accountID string) error {
	return c.Do(ctx, "DELETE", "/api/v1/channels/"+esc(channelID)+"/admins/"+esc(accountID), nil, nil)
}

// TransferOwnership makes an admin the owner (owner only).
func (c *Client) TransferOwnership(ctx context.Context, channelID, accountID string) error {
	return c.Do(ctx, "POST", "/api/v1/channels/"+esc(channelID)+"/owner", map[string]string{"account_id": accountID}, nil)
}

// Follow follows a channel (idempotent).
func (c *Client) Follow(ctx context.Context, channelID string) (*herald.Channel, error) {
	var ch herald.Channel
	if err := c.Do(ctx, "PUT", "/api/v1/channels/"+esc(channelID)+"/follow", nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Unfollow stops following a channel (idempotent).
func (c *Client) Unfollow(ctx context.Context, channelID string) error {
	return c.Do(ctx, "DELETE", "/api/v1/channels/"+esc(channelID)+"/follow", nil, nil)
}

// Mute mutes a followed channel.
func (c *Client) Mute(ctx context.Context, channelID string) (*herald.Channel, error) {
	var ch herald.Channel
	if err := c.Do(ctx, "PUT", "/api/v1/channels/"+esc(channelID)+"/mute", nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Unmute unmutes a followed channel.
func (c *Client) Unmute(ctx context.Context, channelID string) (*herald.Channel, error) {
	var ch herald.Channel
	if err := c.Do(ctx, "DELETE", "/api/v1/channels/"+esc(channelID)+"/mute", nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// PollInput is a poll attached to a new update.
type PollInput struct {
	Question string   `json:"question"`
	Options  []string `json:"options"`
	Multiple bool     `json:"multiple,omitempty"`
}

// PostUpdate posts an update, with an optional poll (admins).
func (c *Client) PostUpdate(ctx context.Context, channelID, text string, poll *PollInput) (*herald.Update, error) {
	in := struct {
		Text string     `json:"text"`
		Poll *PollInput `json:"poll,omitempty"`
	}{text, poll}
	var u herald.Update
	if err := c.Do(ctx, "POST", "/api/v1/channels/"+esc(channelID)+"/updates", in, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListOptions pages through updates: Limit (default 20, at most 100) updates
// with seq below Before (0: from the newest).
type ListOptions struct {
	Limit  int
	Before int64
}

// ListUpdates returns a channel's live updates, newest first.
func (c *Client) ListUpdates(ctx context.Context, channelID string, opt ListOptions) ([]*herald.Update, error) {
	q := url.Values{}
	if opt.Limit != 0 {
		q.Set("limit", strconv.Itoa(opt.Limit))
	}
	if opt.Before != 0 {
		q.Set("before", strconv.FormatInt(opt.Before, 10))
	}
	path := "/api/v1/channels/" + esc(channelID) + "/updates"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Updates []*herald.Update `json:"updates"`
	}
	if err := c.Do(ctx, "GET", path, nil, &out); err != nil {
		return nil, err
	}
	return out.Updates, nil
}

func updatePath(channelID, updateID string) string {
	return "/api/v1/channels/" + esc(channelID) + "/updates/" + esc(updateID)
}

// GetUpdate returns one live update with its counts and the caller's own reaction and votes.
func (c *Client) GetUpdate(ctx context.Context, channelID, updateID string) (*herald.Update, error) {
	var u herald.Update
	if err := c.Do(ctx, "GET", updatePath(channelID, updateID), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// EditUpdate replaces an update's text (admins).
func (c *Client) EditUpdate(ctx context.Context, channelID, updateID, text string) (*herald.Update, error) {
	var u herald.Update
	if err := c.Do(ctx, "PATCH", updatePath(channelID, updateID), map[string]string{"text": text}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteUpdate erases an update (admins).
func (c *Client) DeleteUpdate(ctx context.Context, channelID, updateID string) error {
	return c.Do(ctx, "DELETE", updatePath(channelID, updateID), nil, nil)
}

// RemovePreview removes an update's link preview (admins); it is not
// fetched again unless an edit changes the update's first URL.
func (c *Client) RemovePreview(ctx context.Context, channelID, updateID string) (*herald.Update, error) {
	var u herald.Update
	if err := c.Do(ctx, "DELETE", updatePath(channelID, updateID)+"/preview", nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// React sets the caller's one reaction to an update.
func (c *Client) React(ctx context.Context, channelID, updateID, emoji string) (*herald.Update, error) {
	var u herald.Update
	if err := c.Do(ctx, "PUT", updatePath(channelID, updateID)+"/reaction", map[string]string{"emoji": emoji}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Unreact removes the caller's reaction (idempotent).
func (c *Client) Unreact(ctx context.Context, channelID, updateID string) (*herald.Update, error) {
	var u herald.Update
	if err := c.Do(ctx, "DELETE", updatePath(channelID, updateID)+"/reaction", nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Vote sets the caller's vote in an update's poll (option indexes).
func (c *Client) Vote(ctx context.Context, channelID, updateID string, options []int) (*herald.Update, error) {
	if options == nil {
		options = []int{}
	}
	var u herald.Update
	if err := c.Do(ctx, "PUT", updatePath(channelID, updateID)+"/vote", map[string][]int{"options": options}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Unvote retracts the caller's vote (idempotent).
func (c *Client) Unvote(ctx context.Context, channelID, updateID string) (*herald.Update, error) {
	var u herald.Update
	if err := c.Do(ctx, "DELETE", updatePath(channelID, updateID)+"/vote", nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Healthz reports whether the server answers /healthz with 200.
func (c *Client) Healthz(ctx context.Context) error {
	return c.Do(ctx, "GET", "/healthz", nil, nil)
}
