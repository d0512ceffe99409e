package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/heraldhq/herald"
)

// insightsCommand prints a channel's insights (its admins only): figures
// under the server's threshold print as "hidden".
func insightsCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("insights")
	channel := f.String("channel", "channel id")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *channel == "" {
		return errors.New("usage: herald insights --channel ID")
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	in, err := c.ChannelInsights(ctx, *channel)
	if err != nil {
		return err
	}
	if f.json {
		return f.print(in, "")
	}
	count := func(p *int64) string {
		if p == nil {
			return "hidden"
		}
		return strconv.FormatInt(*p, 10)
	}
	share := "hidden"
	if in.NotificationShare != nil {
		share = fmt.Sprintf("%.1f %%", 100**in.NotificationShare)
	}
	net := int64(0)
	for _, d := range in.Days {
		net += d.Net
	}
	fmt.Fprintf(a.stdout, "followers %d, net follows over %d days %+d, notifications on %s (figures from fewer than %d people are hidden)\n",
		in.Followers, len(in.Days), net, share, in.Threshold)
	fmt.Fprintf(a.stdout, "%-6s %-19s %8s %7s %8s %9s\n", "seq", "posted", "views", "reach", "public", "reactions")
	for _, u := range in.Updates {
		reach := "hidden"
		if u.Reach != nil {
			reach = fmt.Sprintf("%.0f%%", 100**u.Reach)
		}
		fmt.Fprintf(a.stdout, "#%-5d %-19s %8s %7s %8s %9d\n", u.Seq, u.CreatedAt.Local().Format("2006-01-02 15:04:05"),
			count(u.Views), reach, count(u.PublicViews), u.Reactions)
	}
	return nil
}

// viewsCommand reports that updates were read (as the web app does for
// updates on screen); each account counts once per update.
func viewsCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("views")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() < 1 || f.NArg() > herald.MaxViewBatch {
		return fmt.Errorf("usage: herald views UPDATE_ID... (1 to %d)", herald.MaxViewBatch)
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	ids := make([]string, f.NArg())
	for i := range ids {
		ids[i] = f.Arg(i)
	}
	if err := c.ReportViews(ctx, ids, ""); err != nil {
		return err
	}
	return f.print(map[string]int{"reported": len(ids)}, fmt.Sprintf("reported %d", len(ids)))
}
