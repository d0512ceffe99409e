package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
)

// What a channel's admins do besides posting: edit the profile and its
// avatar, edit and delete updates, manage admins and the invite link, and
// search the directory. Each command is one or two API calls; --json
// prints the API's answer.

// channelEdit is herald channel edit ID [--name ...]: only the flags given
// change.
func channelEdit(ctx context.Context, a *app, args []string) error {
	const usage = "usage: herald channel edit [--name N] [--description D] [--handle H] [--category C] [--country CC] [--language L] [--reactions any|default|none] [--listed|--unlisted] ID"
	f := a.newCLIFlags("channel edit")
	var p client.ChannelPatch
	set := map[string]*string{}
	for _, o := range []struct{ name, help string }{
		{"name", "new name (1-100 characters)"}, {"description", "new description (\"\" clears it)"},
		{"handle", "new handle (\"\" removes it)"}, {"category", "new category id"}, {"country", "new ISO 3166-1 alpha-2 country code"},
		{"language", "new BCP 47 language tag"}, {"reactions", "any, default or none"},
	} {
		set[o.name] = f.String(o.name, o.help)
	}
	listed := f.Bool("listed", "list the channel in the directory")
	unlisted := f.Bool("unlisted", "keep the channel out of the directory")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 || *listed && *unlisted {
		return errors.New(usage)
	}
	// A flag given empty ("--description ''") clears; one not given keeps.
	given := map[string]bool{}
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if strings.HasPrefix(arg, "-") {
			given[name] = true
		}
	}
	for name, dst := range map[string]**string{"name": &p.Name, "description": &p.Description, "handle": &p.Handle,
		"category": &p.Category, "country": &p.Country, "language": &p.Language, "reactions": &p.Reactions} {
		if given[name] {
			*dst = set[name]
		}
	}
	if *listed || *unlisted {
		p.Listed = client.Ptr(*listed)
	}
	if p == (client.ChannelPatch{}) {
		return errors.New("nothing to change: " + usage)
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	ch, err := c.UpdateChannel(ctx, f.Arg(0), p)
	if err != nil {
		return err
	}
	return f.print(ch, ch.ID+" "+ch.Name)
}

// channelAvatar is herald channel avatar set ID FILE | remove ID.
func channelAvatar(ctx context.Context, a *app, args []string) error {
	const usage = "usage: herald channel avatar set ID FILE | remove ID"
	if len(args) == 0 || args[0] != "set" && args[0] != "remove" {
		return errors.New(usage)
	}
	f := a.newCLIFlags("channel avatar " + args[0])
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "set" && f.NArg() != 2 || args[0] == "remove" && f.NArg() != 1 {
		return errors.New(usage)
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	if args[0] == "remove" {
		ch, err := c.DeleteAvatar(ctx, f.Arg(0))
		if err != nil {
			return err
		}
		return f.print(ch, "avatar removed")
	}
	fh, err := os.Open(f.Arg(1))
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	ch, err := c.SetAvatar(ctx, f.Arg(0), fh, st.Size())
	if err != nil {
		return err
	}
	return f.print(ch, "avatar set")
}

// updateEdit and updateDelete are herald updates edit|delete.
func updateEdit(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("updates edit")
	channel := f.String("channel", "channel id (or @handle)")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *channel == "" || f.NArg() != 2 {
		return errors.New("usage: herald updates edit --channel ID UPDATE_ID TEXT (TEXT - reads stdin)")
	}
	text := f.Arg(1)
	if text == "-" {
		t, err := readAllText(a)
		if err != nil {
			return err
		}
		text = t
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	u, err := c.EditUpdate(ctx, *channel, f.Arg(0), text)
	if err != nil {
		return err
	}
	return f.print(u, u.ID+" edited")
}

func updateDelete(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("updates delete")
	channel := f.String("channel", "channel id (or @handle)")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *channel == "" || f.NArg() != 1 {
		return errors.New("usage: herald updates delete --channel ID UPDATE_ID")
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	return c.DeleteUpdate(ctx, *channel, f.Arg(0))
}

// adminsCommand manages a channel's admins: herald admins list|add|remove.
func adminsCommand(ctx context.Context, a *app, args []string) error {
	const usage = "usage: herald admins list --channel ID | add --channel ID USERNAME | remove --channel ID USERNAME"
	if len(args) == 0 {
		return errors.New(usage)
	}
	f := a.newCLIFlags("admins " + args[0])
	channel := f.String("channel", "channel id (or @handle)")
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	want := map[string]int{"list": 0, "add": 1, "remove": 1}
	n, ok := want[args[0]]
	if !ok || *channel == "" || f.NArg() != n {
		return errors.New(usage)
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		ad, err := c.AddAdmin(ctx, *channel, f.Arg(0))
		if err != nil {
			return err
		}
		return f.print(ad, ad.Account.Username+" is now "+ad.Role)
	case "remove":
		// By username: the API takes the account id, found among the admins.
		admins, err := c.ListAdmins(ctx, *channel)
		if err != nil {
			return err
		}
		for _, ad := range admins {
			if ad.Account.Username == f.Arg(0) || ad.Account.ID == f.Arg(0) {
				return c.RemoveAdmin(ctx, *channel, ad.Account.ID)
			}
		}
		return fmt.Errorf("%s is not an admin of this channel", f.Arg(0))
	}
	admins, err := c.ListAdmins(ctx, *channel)
	if err != nil {
		return err
	}
	if f.json {
		return f.print(nil, "")
	}
	for _, ad := range admins {
		fmt.Fprintf(a.stdout, "%s  %s  %s  since %s\n", ad.Account.Username, ad.Role, ad.Account.DisplayName, ad.AddedAt.Local().Format(time.DateOnly))
	}
	return nil
}

// inviteCommand shows or replaces a channel's invite link: a channel has
// one; rotating it creates a new one and revokes the old at once.
func inviteCommand(ctx context.Context, a *app, args []string) error {
	const usage = "usage: herald invite show --channel ID | rotate --channel ID"
	if len(args) == 0 {
		return errors.New(usage)
	}
	f := a.newCLIFlags("invite " + args[0])
	channel := f.String("channel", "channel id (or @handle)")
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	if *channel == "" || f.NArg() != 0 || args[0] != "show" && args[0] != "rotate" {
		return errors.New(usage)
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	if args[0] == "rotate" {
		l, err := c.RotateInvite(ctx, *channel)
		if err != nil {
			return err
		}
		return f.print(l, l.URL)
	}
	ch, err := c.GetChannel(ctx, *channel)
	if err != nil {
		return err
	}
	if ch.InviteCode == "" {
		return errors.New("no invite link: only the channel's admins see it (herald invite rotate makes one)")
	}
	if f.json {
		return f.print(nil, "") // the channel, as the API gave it
	}
	_, err = fmt.Fprintln(a.stdout, strings.TrimRight(f.server, "/")+"/c/"+ch.InviteCode)
	return err
}

// directoryCommand searches the directory of listed channels.
func directoryCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("directory")
	var q client.DirectoryQuery
	f.StringVar(&q.Category, "category", "only this category (e.g. weather, news, traffic)")
	f.StringVar(&q.Country, "country", "only this country (ISO 3166-1 alpha-2)")
	f.StringVar(&q.Language, "language", "only this language (BCP 47)")
	f.StringVar(&q.Sort, "sort", "relevance, popular, active or new")
	f.StringVar(&q.Cursor, "cursor", "the next page (printed last by the previous one)")
	limit := f.Int("limit", 0, 0, "channels per page (default 20)")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 1 {
		return errors.New("usage: herald directory [--category C --country CC --language L --sort S --limit N --cursor C] [TEXT]")
	}
	if f.NArg() == 1 {
		q.Text = f.Arg(0)
	}
	q.Limit = *limit
	page, err := f.client().Directory(ctx, q)
	if err != nil {
		return err
	}
	if f.json {
		return f.print(page, "")
	}
	for _, ch := range page.Channels {
		handle := ""
		if ch.Handle != "" {
			handle = " @" + ch.Handle
		}
		fmt.Fprintf(a.stdout, "%s  %s%s  (%s, %d followers)\n", ch.ID, ch.Name, handle, ch.Category, ch.FollowerCount)
	}
	if page.NextCursor != "" {
		fmt.Fprintf(a.stdout, "more: --cursor %s\n", page.NextCursor)
	}
	return nil
}

// readAllText reads an update's text from stdin (at most 1 MiB).
func readAllText(a *app) (string, error) {
	b, err := io.ReadAll(io.LimitReader(a.stdin, 1<<20))
	return string(b), err
}
