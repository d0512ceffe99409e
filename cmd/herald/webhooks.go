package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// webhooksCommand manages a channel's outgoing webhooks: herald webhooks
// list|add|delete|log (owner and admins).
func webhooksCommand(ctx context.Context, a *app, args []string) error {
	const usage = "usage: herald webhooks add --channel ID --url URL [--event update.created ...] | list --channel ID | delete --channel ID WEBHOOK_ID | log --channel ID WEBHOOK_ID"
	if len(args) == 0 {
		return errors.New(usage)
	}
	f := a.newCLIFlags("webhooks " + args[0])
	channel := f.String("channel", "channel id (or @handle)")
	switch args[0] {
	case "add":
		url := f.String("url", "the https URL that receives the events")
		events := f.Repeated("event", strings.Join(herald.WebhookEvents, ", ")+" (repeat; default all)")
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if *channel == "" || *url == "" || f.NArg() != 0 {
			return errors.New(usage)
		}
		if len(*events) == 0 {
			*events = herald.WebhookEvents
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		w, err := c.CreateWebhook(ctx, *channel, *url, *events...)
		if err != nil {
			return err
		}
		return f.print(w, w.Secret+"\n(webhook "+w.ID+"; the signing secret is shown only now)")
	case "list":
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if *channel == "" || f.NArg() != 0 {
			return errors.New(usage)
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		hooks, err := c.ListWebhooks(ctx, *channel)
		if err != nil {
			return err
		}
		if f.json {
			return f.print(map[string]any{"webhooks": hooks}, "")
		}
		for _, w := range hooks {
			state := "enabled"
			if !w.Enabled {
				state = "disabled"
				if w.DisabledReason != "" {
					state += ": " + w.DisabledReason
				}
			} else if w.FailingSince != nil {
				state = "failing since " + w.FailingSince.Format(time.RFC3339)
			}
			fmt.Fprintf(a.stdout, "%s  %s  [%s]  %s\n", w.ID, w.URL, strings.Join(w.Events, ","), state)
		}
		return nil
	case "delete", "log":
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
		if args[0] == "delete" {
			return c.DeleteWebhook(ctx, *channel, f.Arg(0))
		}
		log, err := c.WebhookDeliveries(ctx, *channel, f.Arg(0))
		if err != nil {
			return err
		}
		if f.json {
			return f.print(map[string]any{"deliveries": log}, "")
		}
		for _, d := range log {
			status := fmt.Sprint(d.Status)
			if d.Status == 0 {
				status = "---"
			}
			fmt.Fprintf(a.stdout, "%s  %-16s  seq %d  attempt %d  %s  %d ms  %s\n",
				d.At.Format(time.RFC3339), d.EventType, d.Seq, d.Attempt, status, d.LatencyMS, d.Error)
		}
		return nil
	}
	return errors.New(usage)
}
