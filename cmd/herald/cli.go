package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
)

func init() {
	commands["account"] = accountCommand
	commandHelp["account"] = "account create: sign up and print a token"
	commands["login"] = loginCommand
	commandHelp["login"] = "sign in and print a token"
	commands["logout"] = logoutCommand
	commandHelp["logout"] = "end the session of --token"
	commands["channel"] = channelCommand
	commandHelp["channel"] = "channel create|show|delete"
	commands["post"] = postCommand
	commandHelp["post"] = "post an update: --channel ID [--poll-question Q --poll-option A ...] TEXT (- reads stdin)"
	commands["follow"] = followCommand
	commandHelp["follow"] = "follow a channel: herald follow ID"
	commands["unfollow"] = unfollowCommand
	commandHelp["unfollow"] = "unfollow a channel: herald unfollow ID"
	commands["updates"] = updatesCommand
	commandHelp["updates"] = "list a channel's updates: --channel ID [--limit N --before SEQ]"
}

// Stdio of the CLI commands, replaceable in tests.
var (
	stdin  io.Reader = os.Stdin
	stdout io.Writer = os.Stdout
)

// cliFlags is a flag set with the connection flags every CLI command shares.
type cliFlags struct {
	*flag.FlagSet
	server, token *string
	json          *bool
}

func newCLIFlags(name string) *cliFlags {
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	return &cliFlags{
		FlagSet: fs,
		server:  fs.String("server", envOr("HERALD_SERVER", "http://127.0.0.1:8080"), "server URL (HERALD_SERVER)"),
		token:   fs.String("token", envOr("HERALD_TOKEN", ""), "bearer token (HERALD_TOKEN)"),
		json:    fs.Bool("json", false, "print the full JSON answer"),
	}
}

func (f *cliFlags) client() *client.Client {
	return client.New(*f.server, *f.token, client.WithUserAgent("herald-cli/1"))
}

func (f *cliFlags) authed() (*client.Client, error) {
	if *f.token == "" {
		return nil, errors.New("no token: pass --token or set HERALD_TOKEN (see herald login)")
	}
	return f.client(), nil
}

// print writes v as indented JSON when --json is set, short otherwise.
func (f *cliFlags) print(v any, short string) error {
	if *f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintln(stdout, short)
	return err
}

// readPassword takes the password from --password, HERALD_PASSWORD, or
// the first line of stdin (so it stays out of shell history and ps).
func readPassword(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p := os.Getenv("HERALD_PASSWORD"); p != "" {
		return p, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", errors.New("no password: pass --password, set HERALD_PASSWORD or write it on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func accountCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: herald account create --username NAME [--display-name NAME] [--password P]")
	}
	f := newCLIFlags("account create")
	username := f.String("username", "", "username: 3-32 of a-z 0-9 _ .")
	display := f.String("display-name", "", "display name")
	pw := f.String("password", "", "password (else HERALD_PASSWORD or stdin)")
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	password, err := readPassword(*pw)
	if err != nil {
		return err
	}
	s, err := f.client().CreateAccount(ctx, *username, password, *display)
	if err != nil {
		return err
	}
	return f.print(s, s.Token)
}

func loginCommand(ctx context.Context, args []string) error {
	f := newCLIFlags("login")
	username := f.String("username", "", "username")
	pw := f.String("password", "", "password (else HERALD_PASSWORD or stdin)")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *username == "" && f.NArg() == 1 {
		*username = f.Arg(0)
	}
	password, err := readPassword(*pw)
	if err != nil {
		return err
	}
	s, err := f.client().Login(ctx, *username, password)
	if err != nil {
		return err
	}
	return f.print(s, s.Token)
}

func logoutCommand(ctx context.Context, args []string) error {
	f := newCLIFlags("logout")
	if err := f.Parse(args); err != nil {
		return err
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	return c.Logout(ctx)
}

func channelCommand(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: herald channel create|show|delete [flags] [ID]")
	}
	switch args[0] {
	case "create":
		f := newCLIFlags("channel create")
		var in client.ChannelInput
		f.StringVar(&in.Name, "name", "", "channel name (1-100 characters)")
		f.StringVar(&in.Description, "description", "", "description")
		f.StringVar(&in.Handle, "handle", "", "handle (optional)")
		f.StringVar(&in.Category, "category", "", "category id, e.g. weather, news, traffic")
		f.StringVar(&in.Country, "country", "", "ISO 3166-1 alpha-2 country code")
		f.StringVar(&in.Language, "language", "", "BCP 47 language tag")
		f.StringVar(&in.Reactions, "reactions", "", "any, default or none")
		unlisted := f.Bool("unlisted", false, "keep the channel out of the directory")
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if *unlisted {
			in.Listed = client.Ptr(false)
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		ch, err := c.CreateChannel(ctx, in)
		if err != nil {
			return err
		}
		return f.print(ch, ch.ID)
	case "show":
		f := newCLIFlags("channel show")
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if f.NArg() != 1 {
			return errors.New("usage: herald channel show ID")
		}
		ch, err := f.client().GetChannel(ctx, f.Arg(0))
		if err != nil {
			return err
		}
		*f.json = true
		return f.print(ch, "")
	case "delete":
		f := newCLIFlags("channel delete")
		if err := f.Parse(args[1:]); err != nil {
			return err
		}
		if f.NArg() != 1 {
			return errors.New("usage: herald channel delete ID")
		}
		c, err := f.authed()
		if err != nil {
			return err
		}
		return c.DeleteChannel(ctx, f.Arg(0))
	}
	return fmt.Errorf("unknown channel subcommand %q", args[0])
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func postCommand(ctx context.Context, args []string) error {
	f := newCLIFlags("post")
	channel := f.String("channel", "", "channel id")
	question := f.String("poll-question", "", "attach a poll with this question")
	var options stringList
	f.Var(&options, "poll-option", "a poll option (repeat 2-12 times)")
	multiple := f.Bool("poll-multiple", false, "allow several answers")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *channel == "" || f.NArg() != 1 {
		return errors.New("usage: herald post --channel ID TEXT (TEXT - reads stdin)")
	}
	text := f.Arg(0)
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
		if err != nil {
			return err
		}
		text = string(b)
	}
	var poll *client.PollInput
	if *question != "" || len(options) > 0 {
		poll = &client.PollInput{Question: *question, Options: options, Multiple: *multiple}
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	u, err := c.PostUpdate(ctx, *channel, text, poll)
	if err != nil {
		return err
	}
	return f.print(u, u.ID)
}

func followCommand(ctx context.Context, args []string) error {
	f := newCLIFlags("follow")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: herald follow CHANNEL_ID")
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	ch, err := c.Follow(ctx, f.Arg(0))
	if err != nil {
		return err
	}
	return f.print(ch, "following "+ch.Name)
}

func unfollowCommand(ctx context.Context, args []string) error {
	f := newCLIFlags("unfollow")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: herald unfollow CHANNEL_ID")
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	return c.Unfollow(ctx, f.Arg(0))
}

func updatesCommand(ctx context.Context, args []string) error {
	f := newCLIFlags("updates")
	channel := f.String("channel", "", "channel id")
	limit := f.Int("limit", 0, "how many (1-100, default 20)")
	before := f.Int64("before", 0, "only updates with seq below this")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *channel == "" {
		return errors.New("usage: herald updates --channel ID")
	}
	us, err := f.client().ListUpdates(ctx, *channel, client.ListOptions{Limit: *limit, Before: *before})
	if err != nil {
		return err
	}
	if *f.json {
		return f.print(us, "")
	}
	for _, u := range us {
		edited := ""
		if u.EditedAt != nil {
			edited = " (edited)"
		}
		fmt.Fprintf(stdout, "#%d %s%s\n%s\n\n", u.Seq, u.CreatedAt.Local().Format(time.DateTime), edited, u.Text)
	}
	return nil
}
