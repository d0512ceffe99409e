package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// StreamMessage is one Server-Sent Event of the caller's live stream: Data
// is the event's JSON as the server sent it (its "type" says what it is);
// ID is the resume cursor after it.
type StreamMessage struct {
	ID   string
	Data json.RawMessage
}

// Listen follows the caller's live events (GET /api/v1/events, Server-Sent
// Events) from since ("" for now), calling fn for each, until ctx ends or
// fn returns an error. When the connection drops (a server restart, a
// network cut, a slow-consumer cut), it reconnects with backoff and
// resumes from the last cursor, so nothing is lost or repeated. It stops
// with the error of a refusal that retrying can't fix (401, 403, 400).
func (c *Client) Listen(ctx context.Context, since string, fn func(StreamMessage) error) error {
	cursor := since
	backoff := 250 * time.Millisecond
	for {
		got, err := c.listenOnce(ctx, cursor, func(m StreamMessage) error {
			cursor = m.ID
			return fn(m)
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var p *Problem
		if errors.As(err, &p) && (p.Status == 400 || p.Status == 401 || p.Status == 403) {
			return err
		}
		var fe fnError
		if errors.As(err, &fe) {
			return fe.err
		}
		if got {
			backoff = 250 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// fnError marks an error returned by Listen's callback.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// listenOnce reads one connection; got reports whether it delivered anything.
func (c *Client) listenOnce(ctx context.Context, cursor string, fn func(StreamMessage) error) (got bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/events", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if cursor != "" {
		req.Header.Set("Last-Event-ID", cursor)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// No client timeout: the stream is long-lived (the server pings).
	resp, err := (&http.Client{Transport: c.http.Transport}).Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, decodeProblem(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var id, event string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 && event == "" {
				got = true
				if err := fn(StreamMessage{ID: id, Data: json.RawMessage(data.String())}); err != nil {
					return got, fnError{err}
				}
			}
			event = ""
			data.Reset()
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "event: "):
			event = line[7:] // "error": the server closes the stream; we resume
		case strings.HasPrefix(line, "data: "):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(line[6:])
		}
	}
	if err := sc.Err(); err != nil {
		return got, err
	}
	return got, errors.New("herald: event stream ended")
}
