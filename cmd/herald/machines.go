package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
)

// keysCommand manages a channel's API keys: herald keys create|list|revoke.
func keysCommand(ctx context.Context, a *app, args []string) error {
	const usage = "usage: herald keys create --channel ID --name NAME --scope post [--scope edit ...] | list --channel ID | revoke --channel ID KEY_ID"
	if len(args) == 0 {
		return errors.New(usage)
	}
	f := a.newCLIFlags("keys " + args[0])
	channel := f.String("channel", "channel id (or @handle)")
	switch args[0] {
	case "create":
		name := f.String("name", "what the key is for")
		scopes := f.Repeated("scope", "post, edit, delete or media (repeat)")
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if *channel == "" || *name == "" || len(*scopes) == 0 {
			return errors.New(usage)
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		k, err := c.CreateKey(ctx, *channel, *name, *scopes...)
		if err != nil {
			return err
		}
		return f.print(k, k.Secret+"\n(key "+k.ID+"; the secret is shown only now)")
	case "list":
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if *channel == "" {
			return errors.New(usage)
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		keys, err := c.ListKeys(ctx, *channel)
		if err != nil {
			return err
		}
		if f.json {
			return f.print(map[string]any{"keys": keys}, "")
		}
		for _, k := range keys {
			last := "never used"
			if k.LastUsed != nil {
				last = "last used " + *k.LastUsed
			}
			fmt.Fprintf(a.stdout, "%s  %s  [%s]  %s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), last)
		}
		return nil
	case "revoke":
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if *channel == "" || f.NArg() != 1 {
			return errors.New(usage)
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		return c.RevokeKey(ctx, *channel, f.Arg(0))
	}
	return errors.New(usage)
}

// scheduleCommand manages scheduled updates: herald schedule
// list|edit|cancel|publish (schedule one with herald post --at).
func scheduleCommand(ctx context.Context, a *app, args []string) error {
	const usage = "usage: herald schedule list --channel ID | edit --channel ID [--text T] [--at TIME] SCHEDULED_ID | cancel --channel ID SCHEDULED_ID | publish --channel ID SCHEDULED_ID"
	if len(args) == 0 {
		return errors.New(usage)
	}
	f := a.newCLIFlags("schedule " + args[0])
	channel := f.String("channel", "channel id (or @handle)")
	var text, at *string
	if args[0] == "edit" {
		text = f.String("text", "new text")
		at = f.String("at", "new time (RFC 3339)")
	}
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	wantArgs := 1
	if args[0] == "list" {
		wantArgs = 0
	}
	if *channel == "" || f.NArg() != wantArgs {
		return errors.New(usage)
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		list, err := c.ListScheduled(ctx, *channel)
		if err != nil {
			return err
		}
		if f.json {
			return f.print(map[string]any{"scheduled": list}, "")
		}
		for _, s := range list {
			fmt.Fprintf(a.stdout, "%s %s\n%s\n\n", s.ID, s.PublishAt.Local().Format(time.DateTime), s.Text)
		}
		return nil
	case "edit":
		var newText *string
		var newAt *time.Time
		if *text != "" {
			newText = text
		}
		if *at != "" {
			t, err := time.Parse(time.RFC3339, *at)
			if err != nil {
				return fmt.Errorf("--at: %w", err)
			}
			newAt = &t
		}
		s, err := c.EditScheduled(ctx, *channel, f.Arg(0), newText, newAt)
		if err != nil {
			return err
		}
		return f.print(s, s.ID+" scheduled for "+s.PublishAt.Local().Format(time.DateTime))
	case "cancel":
		return c.CancelScheduled(ctx, *channel, f.Arg(0))
	case "publish":
		u, err := c.PublishScheduled(ctx, *channel, f.Arg(0))
		if err != nil {
			return err
		}
		return f.print(u, u.ID)
	}
	return errors.New(usage)
}

// listenCommand prints the caller's live events until interrupted,
// resuming after a drop: herald listen [--since CURSOR] [--json].
func listenCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("listen")
	since := f.String("since", "resume from this cursor (the id of an event printed with --json)")
	if err := f.Parse(args); err != nil {
		return err
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	err = c.Listen(ctx, *since, func(m client.StreamMessage) error {
		if f.json {
			// One event per line: the API's JSON, then its cursor.
			_, err := fmt.Fprintf(a.stdout, "%s\n", m.Data)
			return err
		}
		var ev struct {
			Type      string `json:"type"`
			ChannelID string `json:"channel_id"`
			UpdateID  string `json:"update_id"`
			Update    *struct {
				Text string `json:"text"`
			} `json:"update"`
		}
		if json.Unmarshal(m.Data, &ev) != nil || ev.Type == "cursor" {
			return nil
		}
		line := ev.Type + " " + ev.ChannelID
		if ev.UpdateID != "" {
			line += " " + ev.UpdateID
		}
		if ev.Update != nil && ev.Type != "update.reactions" && ev.Type != "update.poll" {
			line += "\n" + ev.Update.Text
		}
		_, err := fmt.Fprintln(a.stdout, line)
		return err
	})
	if errors.Is(err, context.Canceled) {
		return nil // interrupted
	}
	return err
}
